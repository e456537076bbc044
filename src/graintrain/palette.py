"""The colours of the grains and of the experts, one table for the figures, the lab and the pages."""

GRAIN_COLOURS = {"white": "#8a8f98", "brown": "#b5651d", "franken": "#6a3d9a", "half-bran": "#d4a017",
                 "round-white": "#4d9da6"}
# Experts, lines and any other classes, in order: the k-th expert is drawn in the k-th colour.
EXPERT_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#e377c2", "#7f7f7f"]


def palette() -> dict:
    """Both tables as JSON, for the front end (embedded in every page and served by the lab's API)."""
    return {"grains": GRAIN_COLOURS, "experts": EXPERT_COLOURS}

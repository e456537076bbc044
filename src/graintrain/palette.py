"""The colours of the grains and of the experts, one table for the figures, the lab and the pages."""

GRAIN_COLOURS = {"white": "#848a94", "brown": "#b5651d", "franken": "#6a3d9a", "half-bran": "#b08500",
                 "round-white": "#4a99a2"}
# Experts, lines and any other classes, in order: the k-th expert is drawn in the k-th colour.
# Every colour stands at least 3:1 from the light page (WCAG's minimum for graphics); the dark
# page lightens the few that do not (common.js, legible).
EXPERT_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#d96a0b", "#1797a8", "#d35fae", "#7f7f7f"]


def palette() -> dict:
    """Both tables as JSON, for the front end (embedded in every page and served by the lab's API)."""
    return {"grains": GRAIN_COLOURS, "experts": EXPERT_COLOURS}

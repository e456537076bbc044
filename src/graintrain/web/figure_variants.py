"""Chapter 9's figure of where the claim holds: attention on every data variant, ten seeds each."""

from __future__ import annotations

import plotly.graph_objects as go

from ..cache import Run
from ..metrics import match_experts, midpoint_mse, mse
from ..variants import VARIANTS, tolerance
from .figures import LINE_COLOURS, Figure, _json, _layout, figure

SEEDS = range(10)
RUNS = {label: [Run("attention", dataset, seed=s, data_options=tuple(sorted(options.items())))
                for s in SEEDS] for label, dataset, options in VARIANTS}


@figure("attention-variants", *(r for runs in RUNS.values() for r in runs))
def attention_variants(get) -> Figure:
    """For each data variant: seeds whose experts are all recovered, whose held-out error is at the
    floor, and where even the true lines with midpoint borders reach that floor."""
    counts: dict[str, list[int]] = {"recovered": [], "at the floor": [], "reachable": []}
    for (label, dataset, _), runs in zip(VARIANTS, RUNS.values()):
        trained = [get(r) for r in runs]
        floor = [1.3 * t.data.noise**2 for t in trained]
        near = [t.data.near for t in trained]
        counts["recovered"].append(sum(match_experts(t.model, t.data).error <= tolerance(dataset)
                                       for t in trained))
        counts["at the floor"].append(sum(mse(t.model, n) <= f for t, n, f in zip(trained, near, floor)))
        counts["reachable"].append(sum(midpoint_mse(t.data, n) <= f for t, n, f in zip(trained, near, floor)))
    labels = [label for label, _, _ in VARIANTS]
    fig = go.Figure()
    for (name, values), colour in zip(counts.items(), (LINE_COLOURS[2], LINE_COLOURS[0], "#999")):
        fig.add_trace(go.Bar(y=labels, x=values, name=name, orientation="h", marker_color=colour,
                             hovertemplate="%{y}: %{x} of " + str(len(SEEDS)) + "<extra>" + name + "</extra>"))
    _layout(fig, height=160 + 34 * len(labels), barmode="group", xaxis_title=f"seeds out of {len(SEEDS)}",
            xaxis_range=[0, len(SEEDS)], yaxis_autorange="reversed")
    fig.update_layout(margin=dict(l=10, r=10, t=30, b=45))
    fig.update_yaxes(automargin=True)
    runs = len(SEEDS) * len(labels)
    return Figure("attention-variants", _json(fig),
                  [("experts recovered", f"{sum(counts['recovered'])} of {runs} runs"),
                   ("held-out MSE ≤ 1.3σ²", f"{sum(counts['at the floor'])} of {runs} runs"),
                   ("reachable with midpoint borders", f"{sum(counts['reachable'])} of {runs} runs")],
                  [], {"data": labels, **counts},
                  lab="model=attention&dataset=switchboard&order=shuffled&selector_range=-40,-30")

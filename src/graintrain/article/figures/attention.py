"""Chapter 9: attention's weights and fit, the study and the data variants (the switchboard's
figures are in switchboard.py)."""

from __future__ import annotations

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ...runs import Run
from ...datasets import GRAINS
from ...metrics import gate_accuracy, match_experts, midpoint_mse, mse
from ...models import num_parameters
from ...study import MODEL_LABELS, StudyConfig
from ...variants import VARIANTS, tolerance
from . import Figure, figure
from .plot import COLOURS, FAR, LINE_COLOURS, _fit_table, _json, _layout, _scatter_grains, _values, replay
from .switches import ATTN3, DARK, _grain_line_frames, _grain_lines

# Chapter 9: attention --------------------------------------------------------------------------------

@figure("attention-weights", ATTN3)
def attention_weights(get) -> Figure:
    """Attention weights against darkness, one expert per grain."""
    t = get(ATTN3)
    match = match_experts(t.model, t.data)
    weights = lambda m: (m(torch.ones_like(DARK), DARK), m.weights)[1]  # (101, K) kept by the model
    w = weights(t.model)
    fig = go.Figure()
    for k, grain in enumerate(t.data.classes):
        fig.add_trace(go.Scatter(x=_values(DARK), y=_values(w[:, match.expert[k]]), mode="lines",
                                 name=f"expert {match.expert[k] + 1} (slope {match.slopes[k]:.2f})",
                                 line=dict(color=COLOURS[grain], width=3)))
    for k, grain in enumerate(t.data.classes):
        fig.add_vline(x=GRAINS[grain].darkness, line_dash="dot", line_color=COLOURS[grain],
                      annotation_text=grain)
    _layout(fig, xaxis_title="darkness (d)", yaxis_title="attention weight", yaxis_range=[-0.05, 1.05])
    return Figure("attention-weights", _json(fig),
                  [("experts", f"{t.model.value.out_features} ({num_parameters(t.model)} parameters)"),
                   ("matched slopes", ", ".join(f"{s:.3f}" for s in match.slopes) + " (true "
                    + ", ".join(f"{t.data.slopes[c].item():g}" for c in match.classes) + ")"),
                   ("weights pick the right grain", f"{gate_accuracy(t.model, t.data, t.data.test):.1%}"),
                   ("train MSE", f"{mse(t.model, t.data.train):.4f}")],
                  replay([t], lambda ms: {k: {"y": [_values(weights(ms[0])[:, match.expert[k]])]}
                                          for k in range(3)}),
                  {"darkness": _values(DARK), **{f"weight expert {j + 1}": _values(w[:, j])
                                                 for j in range(w.shape[1])}},
                  lab=ATTN3.query())


@figure("attention-fit", ATTN3)
def attention_fit(get) -> Figure:
    """The attention model's answer for each grain out to 10 cups."""
    t = get(ATTN3)
    fig = go.Figure()
    _scatter_grains(fig, t.data)
    _scatter_grains(fig, t.data, split="test", far=True, show=False)
    _grain_lines(fig, t, x=FAR)
    _layout(fig, xaxis_title="cups of grain (x)", yaxis_title="cups of water (y)")
    offset = len(fig.data) - 3
    far = t.data.far
    return Figure("attention-fit", _json(fig),
                  [("parameters", str(num_parameters(t.model))),
                   ("train MSE", f"{mse(t.model, t.data.train):.4f}"),
                   ("RMS error at 10 cups", f"{mse(t.model, far) ** 0.5:.3f}")],
                  replay([t], _grain_line_frames(t, offset, x=FAR)),
                  _fit_table(t, "attention"),
                  lab=ATTN3.query())


ARTICLE_STUDY = StudyConfig(lines=(2, 3, 5, 8), seeds=10)
STUDY_CELL = ARTICLE_STUDY.cell(5, 0)["attention"]  # the lab link opens one of the study's own runs


@figure("study-recovery", ARTICLE_STUDY, STUDY_CELL)
def study_recovery(get) -> Figure:
    """How often each attention recipe recovers the lines, and every model's slope error, by K."""
    summary = get(ARTICLE_STUDY)
    ks = sorted(int(k) for k in summary["by_K"])
    fig = make_subplots(rows=1, cols=2, subplot_titles=("every expert recovered (share of seeds)",
                                                        "slope error inside each line's region"))
    table: dict[str, list] = {"K": ks}
    for name, colour in (("attention", LINE_COLOURS[2]), ("attention-blended", LINE_COLOURS[1]),
                         ("mlp-1", LINE_COLOURS[0]), ("mlp-2", LINE_COLOURS[4])):
        for col, metric in ((1, "recovered"), (2, "slope_error")):
            cells = [summary["by_K"][str(k)][name].get(metric) for k in ks]
            if None in cells:
                continue
            table[f"{name} {metric}"] = [round(c["mean"], 4) for c in cells]
            fig.add_trace(go.Scatter(
                x=ks, y=[c["mean"] for c in cells], mode="lines+markers", name=MODEL_LABELS[name],
                legendgroup=name, showlegend=metric == "slope_error", line=dict(color=colour),
                error_y=dict(type="data", symmetric=False, array=[c["ci"][1] - c["mean"] for c in cells],
                             arrayminus=[c["mean"] - c["ci"][0] for c in cells])), row=1, col=col)
    _layout(fig, height=400)
    fig.update_xaxes(title_text="K, the number of hidden lines", tickvals=ks)
    fig.update_yaxes(range=[-0.05, 1.05], row=1, col=1)
    fig.update_yaxes(type="log", tickformat="~g", row=1, col=2)  # each tick says its value, not "5" for 0.05
    overall = summary["models"]
    return Figure("study-recovery", _json(fig),
                  [("switchboards", f"{len(ks)} values of K × {summary['seeds']} seeds"),
                   ("experts recovered", f"graintrain's recipe {overall['attention']['recovered']['mean']:.0%}, "
                                         f"plain recipe {overall['attention-blended']['recovered']['mean']:.0%}"),
                   ("slope error", "; ".join(f"{MODEL_LABELS[n]} {overall[n]['slope_error']['mean']:.3f}"
                                             for n in overall))],
                  [], table, lab=STUDY_CELL.query())


# Where the claim holds: every data variant, ten seeds each ---------------------------------------

VARIANT_SEEDS = range(10)
VARIANT_RUNS = {label: [Run(model="attention", dataset=dataset, seed=s, **options)
                for s in VARIANT_SEEDS] for label, dataset, options in VARIANTS}


@figure("attention-variants", *(r for runs in VARIANT_RUNS.values() for r in runs))
def attention_variants(get) -> Figure:
    """For each data variant: seeds whose experts are all recovered, whose held-out error is at the
    floor, and where even the true lines with midpoint borders reach that floor."""
    counts: dict[str, list[int]] = {"recovered": [], "at the floor": [], "reachable": []}
    for (label, dataset, _), runs in zip(VARIANTS, VARIANT_RUNS.values()):
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
                             hovertemplate="%{y}: %{x} of " + str(len(VARIANT_SEEDS)) + "<extra>" + name + "</extra>"))
    _layout(fig, height=160 + 34 * len(labels), barmode="group", xaxis_title=f"seeds out of {len(VARIANT_SEEDS)}",
            xaxis_range=[0, len(VARIANT_SEEDS)], yaxis_autorange="reversed")
    fig.update_layout(margin=dict(l=10, r=10, t=30, b=45))
    fig.update_yaxes(automargin=True)
    runs = len(VARIANT_SEEDS) * len(labels)
    return Figure("attention-variants", _json(fig),
                  [("experts recovered", f"{sum(counts['recovered'])} of {runs} runs"),
                   ("held-out MSE ≤ 1.3σ²", f"{sum(counts['at the floor'])} of {runs} runs"),
                   ("reachable with midpoint borders", f"{sum(counts['reachable'])} of {runs} runs")],
                  [], {"data": labels, **counts},
                  lab=VARIANT_RUNS["K=5 random, shuffled, z in [-40, -30]"][0].query())

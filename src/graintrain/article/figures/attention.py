"""Chapter 9: attention's weights and fit, the switchboard, blending or choosing, the study."""

from __future__ import annotations

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ...runs import Run
from ...datasets import GRAINS
from ...metrics import gate_accuracy, match_experts, midpoint_mse, mse
from ...models import num_parameters
from ...study import MODEL_LABELS, RECOVERED, StudyConfig
from ...variants import VARIANTS, tolerance
from . import Figure, figure
from .plot import (COLOURS, FAR, LINE_COLOURS, REPLAY, _fit_table, _json, _layout, _predict,
                   _scatter_grains, _values, replay)
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


SW = {"lines": 5}
SW_ATTN = Run(model="attention", dataset="switchboard", **SW, snapshots=REPLAY)
SW_MLP1 = Run(model="mlp", dataset="switchboard", **SW, hidden=(5,), snapshots=REPLAY)
SW_MLP2 = Run(model="mlp", dataset="switchboard", **SW, hidden=(3, 2), snapshots=REPLAY)
def _sw_grid(data) -> tuple[torch.Tensor, torch.Tensor]:
    """x out to ±2 (twice the training range) and z across the selector's own observed range."""
    z = data.train.z
    return torch.meshgrid(torch.linspace(-2, 2, 21), torch.linspace(z.min().item(), z.max().item(), 41),
                          indexing="xy")  # (41, 21) each


def _sw_surface(model, grid):
    sx, sz = grid
    z = _predict(model, sx.flatten(), sz.flatten()).reshape(sx.shape)
    return [[round(float(v), 4) for v in row] for row in z]


@figure("switchboard", SW_ATTN, SW_MLP1, SW_MLP2)
def switchboard(get) -> Figure:
    """Attention and two matched ReLU networks on a switchboard, side by side in 3D."""
    runs = [get(SW_ATTN), get(SW_MLP1), get(SW_MLP2)]
    titles = [f"attention, {num_parameters(r.model)} parameters" for r in runs[:1]] + [
        f"ReLU {h}, {num_parameters(r.model)} parameters" for h, r in zip(("5", "3-2"), runs[1:])]
    fig = make_subplots(rows=1, cols=3, specs=[[{"type": "scene"}] * 3], subplot_titles=titles)
    data = runs[0].data
    grid = _sw_grid(data)
    surfaces = []
    for col, r in enumerate(runs, 1):
        fig.add_trace(go.Scatter3d(x=_values(data.train.x), y=_values(data.train.z), z=_values(data.train.y),
                                   mode="markers", marker=dict(size=2, color=_values(data.train.label),
                                                               colorscale="Turbo"),
                                   name="samples", showlegend=col == 1), row=1, col=col)
        surfaces.append(len(fig.data))
        fig.add_trace(go.Surface(x=_values(grid[0][0]), y=_values(grid[1][:, 0]), z=_sw_surface(r.model, grid),
                                 opacity=0.6, showscale=False, name=titles[col - 1]), row=1, col=col)
    # A third of the column per scene: three ticks an axis, and the axes named once below the
    # panels, since a title inside a scene this small is either clipped or too small to read.
    axis = dict(nticks=3, tickfont=dict(size=12), title="")
    scene = dict(xaxis=axis, yaxis=axis, zaxis=axis, camera=dict(eye=dict(x=1.7, y=-1.9, z=0.9)),
                 aspectmode="cube")
    fig.add_annotation(text="axes: x to the front right, selector z to the back, y up",
                       x=0.5, y=-0.15, xref="paper", yref="paper", showarrow=False, font=dict(size=12))
    _layout(fig, scene=scene, scene2=scene, scene3=scene, height=340)
    near, far = data.near, data.far
    stats = [("parameters", " / ".join(str(num_parameters(r.model)) for r in runs)),
             ("test MSE, |x| ≤ 1", " / ".join(f"{mse(r.model, near):.3f}" for r in runs)),
             ("test MSE, 1 < |x| ≤ 2", " / ".join(f"{mse(r.model, far):.3f}" for r in runs)),
             ("attention experts matched", f"largest error {match_experts(runs[0].model, data).error:.3f}")]
    return Figure("switchboard", _json(fig), stats,
                  replay(runs[1:], lambda ms: {surfaces[1]: {"z": [_sw_surface(ms[0], grid)]},
                                               surfaces[2]: {"z": [_sw_surface(ms[1], grid)]}}),
                  {"x": _values(near.x), "z": _values(near.z), "y": _values(near.y),
                   **{n: _values(_predict(r.model, near.x, near.z))
                      for n, r in zip(("attention", "relu 5", "relu 3-2"), runs)}},
                  lab=SW_ATTN.query())


COMPARE_SEEDS = range(10)
SW_BLEND = [Run(model="attention-blended", dataset="switchboard", seed=s, **SW, snapshots=REPLAY)
            for s in COMPARE_SEEDS]
SW_CHOOSE = [Run(model="attention", dataset="switchboard", seed=s, **SW) for s in COMPARE_SEEDS]


def _typical(runs: list[Run], get) -> Run:
    """The run whose worst expert error is the median of the runs': the usual outcome of a recipe,
    neither its best seed nor its worst."""
    errors = [match_experts(get(r).model, get(r).data).error for r in runs]
    return runs[sorted(range(len(runs)), key=lambda i: errors[i])[len(runs) // 2]]


def _expert_frames(model, x, zs, first: int) -> dict:
    """A replay frame: each expert's line (trace first + 2j) and its gate over z (the next trace)."""
    with torch.no_grad():
        values = model.experts(x, torch.zeros_like(x))[1]  # (41, K)
        gates = model.experts(torch.zeros_like(zs), zs)[0].exp()  # (101, K)
    return {first + 2 * j + row: {"y": [_values(v[:, j])]} for j in range(values.shape[1])
            for row, v in enumerate((values, gates))}


@figure("blend-vs-compete", *SW_BLEND, *SW_CHOOSE)
def blend_vs_compete(get) -> Figure:
    """Each recipe's typical switchboard: its expert lines against the true ones, and its gates."""
    picked = {"blended": _typical(SW_BLEND, get), "graintrain": _typical(SW_CHOOSE, get)}
    x = torch.linspace(-2, 2, 41)  # (41,)
    fig = make_subplots(rows=2, cols=2, vertical_spacing=0.16, subplot_titles=(
        f"blended error (seed {picked['blended'].seed}): experts share",
        f"one expert per point (seed {picked['graintrain'].seed}): experts choose",
        "gates over z: overlapping gates blend experts", "gates over z: one expert at a time"))
    rows = {"x": _values(x)}
    for col, (label, run) in enumerate(picked.items(), 1):
        t = get(run)
        data = t.data
        for k in range(data.num_classes):
            y = data.slopes[k] * x + data.intercepts[k]
            fig.add_trace(go.Scatter(x=_values(x), y=_values(y), mode="lines",
                                     showlegend=col == 1 and k == 0, legendgroup="truth", name="true lines",
                                     line=dict(color="#999", width=6), opacity=0.35), row=1, col=col)
        zs = torch.linspace(float(data.train.z.min()), float(data.train.z.max()), 101)  # (101,)
        with torch.no_grad():
            _, values = t.model.experts(x, torch.zeros_like(x))  # (41, K)
            log_g, _ = t.model.experts(torch.zeros_like(zs), zs)  # (101, K)
        if col == 1:
            first_expert, blend_z = len(fig.data), zs
        for j in range(values.shape[1]):
            rows[f"{label} expert {j + 1}"] = _values(values[:, j])
            style = dict(name=f"expert {j + 1}", legendgroup=f"e{j}", line=dict(color=LINE_COLOURS[j], width=2))
            fig.add_trace(go.Scatter(x=_values(x), y=_values(values[:, j]), mode="lines",
                                     showlegend=col == 1, **style), row=1, col=col)
            fig.add_trace(go.Scatter(x=_values(zs), y=_values(log_g[:, j].exp()), mode="lines",
                                     showlegend=False, **style), row=2, col=col)
    _layout(fig, height=640, yaxis_range=[-6, 6], yaxis2_range=[-6, 6], yaxis3_range=[-0.05, 1.05],
            yaxis4_range=[-0.05, 1.05])
    fig.update_xaxes(title_text="x", row=1)
    fig.update_xaxes(title_text="selector z", row=2)
    found = lambda runs: sum(match_experts(get(r).model, get(r).data).error <= RECOVERED for r in runs)
    blend, choose = get(picked["blended"]), get(picked["graintrain"])
    worst = lambda t: match_experts(t.model, t.data).error
    return Figure("blend-vs-compete", _json(fig),
                  [("true experts found, seeds 0–9", f"blended {found(SW_BLEND)}/10, "
                                                    f"graintrain {found(SW_CHOOSE)}/10"),
                   ("typical seed, worst expert error", f"blended {worst(blend):.2f} (seed {blend.run.seed}), "
                                                        f"graintrain {worst(choose):.3f} (seed {choose.run.seed})"),
                   ("train MSE there", f"blended {mse(blend.model, blend.data.train):.4f}, "
                                       f"graintrain {mse(choose.model, choose.data.train):.4f}"),
                   ("noise floor σ²", f"{blend.data.noise ** 2:.4f}")],
                  replay([blend], lambda ms: _expert_frames(ms[0], x, blend_z, first_expert)),
                  rows, lab=picked["blended"].query())


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

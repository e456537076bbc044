"""Chapter 9's switchboard: which line each stretch of the selector picks, and blending or choosing."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ...metrics import match_experts, mse
from ...models import num_parameters
from ...runs import Run
from ...study import RECOVERED
from . import Figure, figure
from .plot import LINE_COLOURS, REPLAY, _json, _layout, _predict, _values, replay

SW = {"lines": 5}
SW_ATTN = Run(model="attention", dataset="switchboard", **SW, snapshots=REPLAY)
SW_MLP1 = Run(model="mlp", dataset="switchboard", **SW, hidden=(5,), snapshots=REPLAY)
SW_MLP2 = Run(model="mlp", dataset="switchboard", **SW, hidden=(3, 2), snapshots=REPLAY)


def cups(data) -> torch.Tensor:
    """41 cups from the fewest to the most the data holds, its far test set included: out there
    only the true lines stay right."""
    every = torch.cat([data.train.x, data.far.x])  # (n + n_far,)
    return torch.linspace(every.min().item(), every.max().item(), 41)  # (41,)


@torch.no_grad()
def regions(model, z: torch.Tensor) -> list[tuple[float, float, int]]:
    """The stretches of z, across the range of the readings ``z``, where one expert's attention
    weight is the largest, as (low, high, expert), in the order of z. Found from the trained keys,
    so nothing is assumed about how many stretches there are, how wide, or in which order."""
    grid = torch.linspace(z.min().item(), z.max().item(), 4001)  # (4001,)
    best = model.experts(torch.zeros_like(grid), grid)[0].argmax(1)  # (4001,)
    change = (best[1:] != best[:-1]).nonzero().flatten()  # (B,)
    edges = [grid[0].item(), *((grid[change] + grid[change + 1]) / 2).tolist(), grid[-1].item()]
    starts = [0, *(change + 1).tolist()]
    return [(edges[i], edges[i + 1], int(best[s])) for i, s in enumerate(starts)]


@figure("switchboard", SW_ATTN, SW_MLP1, SW_MLP2)
def switchboard(get) -> Figure:
    """One panel per stretch of z: its training points, the true line most of them lie on, the
    expert line attention picks there, and the two ReLU networks at the stretch's middle z."""
    runs = [get(SW_ATTN), get(SW_MLP1), get(SW_MLP2)]
    attention, data = runs[0].model, runs[0].data
    train = data.train
    X = cups(data)  # (41,)
    stretches = regions(attention, train.z)
    cols = min(3, len(stretches))
    rows = math.ceil(len(stretches) / cols)
    span = train.z.max().item() - train.z.min().item()
    digits = max(0, 2 - math.floor(math.log10(span))) if span > 0 else 3  # a hundredth of the range
    at = lambda v: f"{v:.{digits}f}"
    # A grid cell with no stretch gets no axes, which a phone's stacked layout would count as a panel.
    specs = [[{} if r * cols + c < len(stretches) else None for c in range(cols)] for r in range(rows)]
    fig = make_subplots(rows=rows, cols=cols, specs=specs, horizontal_spacing=0.09, vertical_spacing=0.16,
                        subplot_titles=[f"z {at(lo)} to {at(hi)}: expert {j + 1}" for lo, hi, j in stretches])
    value = lambda m, j: m.value.weight[j, 0].item() * X + m.value.bias[j].item()  # (41,) expert j's line
    experts, table = [], {"x": _values(X)}
    for i, (lo, hi, j) in enumerate(stretches):
        row, col = i // cols + 1, i % cols + 1
        inside = (train.z >= lo) & (train.z <= hi)  # (n,)
        line = int(train.label[inside].mode().values) if inside.any() else j
        show = i == 0
        truth = data.slopes[line] * X + data.intercepts[line]
        fig.add_trace(go.Scatter(x=_values(X), y=_values(truth), mode="lines", name="true line",
                                 legendgroup="truth", showlegend=show, opacity=0.35,
                                 line=dict(color="#999", width=7)), row=row, col=col)
        fig.add_trace(go.Scatter(x=_values(train.x[inside]), y=_values(train.y[inside]), mode="markers",
                                 customdata=_values(train.z[inside]), name="samples", legendgroup="samples",
                                 showlegend=show, marker=dict(size=4, color="#555"),
                                 hovertemplate="x %{x:.2f}, z %{customdata:.3g} → y %{y:.2f}<extra></extra>"),
                      row=row, col=col)
        experts.append((len(fig.data), j))
        fig.add_trace(go.Scatter(x=_values(X), y=_values(value(attention, j)), mode="lines",
                                 name="attention's expert", legendgroup="expert", showlegend=show,
                                 line=dict(color=LINE_COLOURS[2], width=3)), row=row, col=col)
        middle = torch.full_like(X, train.z[inside].median().item() if inside.any() else (lo + hi) / 2)
        for r, label, dash in ((runs[1], "ReLU 5", "dash"), (runs[2], "ReLU 3-2", "dot")):
            fig.add_trace(go.Scatter(x=_values(X), y=_values(_predict(r.model, X, middle)), mode="lines",
                                     name=label, legendgroup=label, showlegend=show,
                                     line=dict(color=LINE_COLOURS[0 if dash == "dash" else 1], width=2, dash=dash)),
                          row=row, col=col)
        table[f"true line, z {at(lo)} to {at(hi)}"] = _values(truth)
        table[f"expert {j + 1}"] = _values(value(attention, j))
    _layout(fig, height=300 * rows + 90)
    fig.update_xaxes(title_text="cups (x)")
    fig.update_yaxes(title_text="water (y)")
    near, far = data.near, data.far
    stats = [("parameters", " / ".join(str(num_parameters(r.model)) for r in runs)),
             ("test MSE, |x| ≤ 1", " / ".join(f"{mse(r.model, near):.3f}" for r in runs)),
             ("test MSE, 1 < |x| ≤ 2", " / ".join(f"{mse(r.model, far):.3f}" for r in runs)),
             ("attention experts matched", f"largest error {match_experts(attention, data).error:.3f}")]
    return Figure("switchboard", _json(fig), stats,
                  replay([runs[0]], lambda ms: {i: {"y": [_values(value(ms[0], j))]} for i, j in experts}),
                  table, lab=SW_ATTN.query())


COMPARE_SEEDS = range(10)
SW_BLEND = [Run(model="attention-blended", dataset="switchboard", seed=s, **SW, snapshots=REPLAY)
            for s in COMPARE_SEEDS]
SW_CHOOSE = [Run(model="attention", dataset="switchboard", seed=s, **SW, snapshots=REPLAY) for s in COMPARE_SEEDS]


def _typical(runs: list[Run], get) -> int:
    """The seed whose worst expert error is the median of the runs': the usual outcome of a recipe,
    neither its best seed nor its worst."""
    errors = [match_experts(get(r).model, get(r).data).error for r in runs]
    return runs[sorted(range(len(runs)), key=lambda i: errors[i])[len(runs) // 2]].seed


def _expert_frames(model, X, zs, first: int) -> dict:
    """A replay frame: each expert's line along the cups X (trace first + 2j) and its gate over z
    (the next trace)."""
    with torch.no_grad():
        values = model.experts(X, torch.zeros_like(X))[1]  # (41, K)
        gates = model.experts(torch.zeros_like(zs), zs)[0].exp()  # (101, K)
    return {first + 2 * j + row: {"y": [_values(v[:, j])]} for j in range(values.shape[1])
            for row, v in enumerate((values, gates))}


@figure("blend-vs-compete", *SW_BLEND, *SW_CHOOSE)
def blend_vs_compete(get) -> Figure:
    """Both recipes on one switchboard, the blended recipe's typical one: their expert lines against
    the true ones, and their gates. Both replay, snapshot by snapshot, side by side."""
    seed = _typical(SW_BLEND, get)
    picked = {"blended": get(SW_BLEND[seed]), "graintrain": get(SW_CHOOSE[seed])}
    fig = make_subplots(rows=2, cols=2, vertical_spacing=0.16, subplot_titles=(
        "blended error: experts share", "one expert per point: experts choose",
        "gates over z: overlapping gates blend experts", "gates over z: one expert at a time"))
    data = picked["blended"].data  # the same seed makes the same switchboard for both
    zs = torch.linspace(float(data.train.z.min()), float(data.train.z.max()), 101)  # (101,)
    X = cups(data)  # (41,)
    rows, firsts = {"x": _values(X)}, {}
    for col, (label, t) in enumerate(picked.items(), 1):
        for k in range(data.num_classes):
            fig.add_trace(go.Scatter(x=_values(X), y=_values(data.slopes[k] * X + data.intercepts[k]), mode="lines",
                                     showlegend=col == 1 and k == 0, legendgroup="truth", name="true lines",
                                     line=dict(color="#999", width=6), opacity=0.35), row=1, col=col)
        with torch.no_grad():
            _, values = t.model.experts(X, torch.zeros_like(X))  # (41, K)
            log_g, _ = t.model.experts(torch.zeros_like(zs), zs)  # (101, K)
        firsts[label] = len(fig.data)
        for j in range(values.shape[1]):
            rows[f"{label} expert {j + 1}"] = _values(values[:, j])
            style = dict(name=f"expert {j + 1}", legendgroup=f"e{j}", line=dict(color=LINE_COLOURS[j], width=2))
            fig.add_trace(go.Scatter(x=_values(X), y=_values(values[:, j]), mode="lines",
                                     showlegend=col == 1, **style), row=1, col=col)
            fig.add_trace(go.Scatter(x=_values(zs), y=_values(log_g[:, j].exp()), mode="lines",
                                     showlegend=False, **style), row=2, col=col)
    _layout(fig, height=640, yaxis_range=[-6, 6], yaxis2_range=[-6, 6], yaxis3_range=[-0.05, 1.05],
            yaxis4_range=[-0.05, 1.05])
    fig.update_xaxes(title_text="cups (x)", row=1)
    fig.update_yaxes(title_text="water (y)", row=1)
    fig.update_xaxes(title_text="selector z", row=2)
    found = lambda runs: sum(match_experts(get(r).model, get(r).data).error <= RECOVERED for r in runs)
    worst = lambda m: match_experts(m, data).error
    blend, choose = picked["blended"], picked["graintrain"]

    def stats(b, c):
        return [("true experts found, seeds 0–9", f"blended {found(SW_BLEND)}/10, graintrain {found(SW_CHOOSE)}/10"),
                (f"seed {seed}, worst expert error", f"blended {worst(b):.2f}, graintrain {worst(c):.3f}"),
                ("train MSE there", f"blended {mse(b, data.train):.4f}, graintrain {mse(c, data.train):.4f}"),
                ("noise floor σ²", f"{data.noise ** 2:.4f}")]
    # Each recipe keeps its own snapshots, spaced in log(step) over its own schedule; the replay shows
    # the i-th of each together, so both sides start from their first step and end trained.
    sides = [replay([t], lambda ms, f=firsts[label]: _expert_frames(ms[0], X, zs, f)) for label, t in picked.items()]
    frames = [{"step": b["step"], "loss": b["loss"], "traces": {**b["traces"], **c["traces"]},
               "steps": {"blended": b["step"], "graintrain": c["step"]}} for b, c in zip(*sides)]
    return Figure("blend-vs-compete", _json(fig), stats(blend.model, choose.model), frames, rows,
                  lab=SW_BLEND[seed].query())

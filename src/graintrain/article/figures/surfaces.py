"""Chapters 4 to 7: a plane, ReLU networks and the sigma-pi unit in 3D, and the franken-grain."""

from __future__ import annotations

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ...runs import Run
from ...datasets import FAR_CUPS, GRAINS
from ...metrics import mse
from ...models import num_parameters
from . import Figure, figure
from .plot import (COLOURS, CUPS, FAR, GX, GZ, LINE_COLOURS, REPLAY, _fit_table, _gd, _json,
                   _layout, _predict, _scatter3d, _scatter_grains, _scene, _surface, _values, replay, signed, SCENE_RATIO)

PLANE_GD = Run(model="plane", dataset="white+brown", **_gd(300), snapshots=REPLAY)


@figure("plane-3d", PLANE_GD)
def plane_3d(get) -> Figure:
    """The two rices in 3D and the best plane, which cannot follow them."""
    t = get(PLANE_GD)
    fig = go.Figure()
    _scatter3d(fig, t.data)
    fig.add_trace(go.Surface(x=_values(GX[0]), y=_values(GZ[:, 0]), z=_surface(t.model),
                             opacity=0.4, showscale=False, name="best plane",
                             colorscale=[[0, "#9ecae1"], [1, "#08519c"]]))
    # What the reader should see: one flat plane cannot hold both rices, so each rice's points
    # cross it, above it at one end of the cups and below it at the other. The eye sits low in
    # front, cups running across the page, so the plane is seen at a slant and the points apart
    # from it; a lighter plane lets the points beneath it keep their colour.
    _layout(fig, scene=_scene(eye=(0.42, -2.15, 0.5), aspect=(1.8, 0.9, 1.0), lift=0.22), height=440,
            meta=dict(sceneRatio=SCENE_RATIO))
    stats = lambda ms: [("plane", f"y = {ms[0].a.item():.2f}·x {signed(ms[0].b.item(), 2)}·d "
                                  f"{signed(ms[0].c.item(), 2)}"), ("parameters", f"{num_parameters(ms[0])}"),
                        ("train MSE", f"{mse(ms[0], t.data.train):.3f}"),
                        ("noise floor σ²", f"{t.data.noise ** 2:.3f}")]
    return Figure("plane-3d", _json(fig), stats([t.model]),
                  replay([t], lambda ms: {2: {"z": [_surface(ms[0])]}}, stats),
                  _fit_table(t, "plane"),
                  lab=PLANE_GD.query())


@figure("plane-slices", PLANE_GD)
def plane_slices(get) -> Figure:
    """The plane cut at each rice's darkness, against that rice's points: two parallel lines where
    the rices need two slopes."""
    t = get(PLANE_GD)
    fig = go.Figure()
    _scatter_grains(fig, t.data)
    grains = list(enumerate(t.data.classes))
    darkness = [float(t.data.train.z[t.data.train.label == k].mean()) for k, _ in grains]
    cut = lambda m, d: _predict(m, CUPS, torch.full_like(CUPS, d))  # (46,) the plane at darkness d
    first = len(fig.data)
    for (k, grain), d in zip(grains, darkness):
        fig.add_trace(go.Scatter(x=_values(CUPS), y=_values(cut(t.model, d)), mode="lines",
                                 name=f"plane at {grain}", line=dict(color=COLOURS[grain], width=3)))
    _layout(fig, xaxis_title="cups of rice (x)", yaxis_title="cups of water (y)")

    def stats(ms):
        out = []
        for (k, grain), d in zip(grains, darkness):
            line = cut(ms[0], d)
            slope = (line[-1] - line[0]) / (CUPS[-1] - CUPS[0])
            out.append((grain, f"plane's slope {slope.item():.2f}, true {GRAINS[grain].ratio:g}; MSE "
                               f"{mse(ms[0], t.data.train.subset(t.data.train.label == k)):.3f}"))
        return out
    return Figure("plane-slices", _json(fig), stats([t.model]),
                  replay([t], lambda ms: {first + i: {"y": [_values(cut(ms[0], d))]}
                                          for i, d in enumerate(darkness)}, stats),
                  {"cups": _values(CUPS), **{f"plane at {g}": _values(cut(t.model, d))
                                             for (_, g), d in zip(grains, darkness)}},
                  lab=PLANE_GD.query())


MLP2 = Run(model="mlp", dataset="white+brown", hidden=(2,), snapshots=REPLAY)
MLP10 = Run(model="mlp", dataset="white+brown", hidden=(10,), snapshots=REPLAY)
SIGMA_PI = Run(model="sigma-pi", dataset="bran", **_gd(300), snapshots=REPLAY)


@figure("relu-pieces", MLP10)
def relu_pieces(get) -> Figure:
    """The 10-unit ReLU network along x for white rice, with each unit's share."""
    t = get(MLP10)
    model = t.model
    x = torch.linspace(0, FAR_CUPS, 201)
    fig = go.Figure()

    def parts(m):
        y = _predict(m, x, torch.zeros_like(x))  # (201,)
        return y, m.hidden[-1] * m.layers[-1].weight[0].detach()  # (201, 10): each unit's share

    y, pieces = parts(model)
    for j in range(pieces.shape[1]):
        fig.add_trace(go.Scatter(x=_values(x), y=_values(pieces[:, j]), mode="lines",
                                 name=f"unit {j + 1}", line=dict(width=1, dash="dot"),
                                 showlegend=j == 0, legendgroup="units"))
    fig.data[0].name = "each unit's share"
    fig.add_trace(go.Scatter(x=_values(x), y=_values(y), mode="lines", name="network, white rice",
                             line=dict(color=LINE_COLOURS[0], width=3)))
    fig.add_trace(go.Scatter(x=[0, FAR_CUPS], y=[0, 2 * FAR_CUPS], mode="lines", name="true 2·x",
                             line=dict(color=COLOURS["white"], dash="dash")))
    fig.add_vrect(x0=0.5, x1=4.0, fillcolor="#888", opacity=0.12, line_width=0,
                  annotation_text="measured range", annotation_position="top left")
    _layout(fig, xaxis_title="cups of white rice (x), darkness 0", yaxis_title="cups of water")
    kinks = []
    first = model.layers[0]
    for j in range(first.out_features):
        wx, wd = first.weight[j].tolist()
        if abs(wx) > 1e-6:
            kinks.append(-first.bias[j].item() / wx)
    inside = sum(0 <= k <= FAR_CUPS for k in kinks)
    return Figure("relu-pieces", _json(fig),
                  [("hidden units", "10"), ("parameters", str(num_parameters(model))),
                   ("kinks between 0 and 10 cups", str(inside)),
                   ("water at 10 cups", f"{y[-1].item():.2f} (true 20)")],
                  replay([t], lambda ms: (lambda y, p: {**{j: {"y": [_values(p[:, j])]} for j in range(p.shape[1])},
                                                        p.shape[1]: {"y": [_values(y)]}})(*parts(ms[0]))),
                  {"cups": _values(x), "network": _values(y),
                   **{f"unit {j + 1}": _values(pieces[:, j]) for j in range(pieces.shape[1])}},
                  lab=MLP10.query())


@figure("relu-3d", MLP2, MLP10)
def relu_3d(get) -> Figure:
    """The 2- and 10-unit ReLU networks as surfaces, with held-out points."""
    two, ten = get(MLP2), get(MLP10)
    # One scene over the other: side by side, each had half the column, too narrow for its axis
    # titles at the slant that shows the surface.
    fig = make_subplots(rows=2, cols=1, specs=[[{"type": "scene"}], [{"type": "scene"}]], vertical_spacing=0.08,
                        subplot_titles=(f"2 hidden units, {num_parameters(two.model)} parameters",
                                        f"10 hidden units, {num_parameters(ten.model)} parameters"))
    for row, t in ((1, two), (2, ten)):
        _scatter3d(fig, t.data, row=row, col=1, show=row == 1)
        _scatter3d(fig, t.data, split="test", row=row, col=1, show=row == 1)
        fig.add_trace(go.Surface(x=_values(GX[0]), y=_values(GZ[:, 0]), z=_surface(t.model),
                                 opacity=0.45, showscale=False, name="network",
                                 colorscale=[[0, "#fcbba1"], [1, "#a50f15"]]), row=row, col=1)
    # What the reader should see: both surfaces run through both rices' points, the measured ones
    # and the held-out diamonds, which the plane could not do. The same slanted view as the plane's,
    # so the two chapters' pictures compare at a glance.
    scene = _scene(eye=(0.42, -2.15, 0.5), aspect=(1.8, 0.9, 1.0), lift=0.22)
    _layout(fig, scene=scene, scene2=scene, height=760, meta=dict(sceneRatio=SCENE_RATIO))
    surfaces = [i for i, d in enumerate(fig.data) if d.type == "surface"]
    near = two.data.near
    return Figure("relu-3d", _json(fig),
                  [("parameters", f"{num_parameters(two.model)} and {num_parameters(ten.model)}"),
                   ("train MSE", f"{mse(two.model, two.data.train):.4f} and {mse(ten.model, ten.data.train):.4f}"),
                   ("held-out MSE", f"{mse(two.model, near):.4f} and {mse(ten.model, near):.4f}"),
                   ("noise floor σ²", f"{two.data.noise ** 2:.4f}")],
                  replay([two, ten], lambda ms: {surfaces[0]: {"z": [_surface(ms[0])]},
                                                 surfaces[1]: {"z": [_surface(ms[1])]}}),
                  {"cups": _values(near.x), "darkness": _values(near.z), "water": _values(near.y),
                   "2 units": _values(_predict(two.model, near.x, near.z)),
                   "10 units": _values(_predict(ten.model, near.x, near.z))},
                  lab=MLP2.query())


@figure("relu-far", MLP2, MLP10, SIGMA_PI)
def relu_far(get) -> Figure:
    """ReLU networks and sigma-pi out to 10 cups, against the truth."""
    two, ten, sp = get(MLP2), get(MLP10), get(SIGMA_PI)
    fig = go.Figure()
    rows = {"cups": _values(FAR)}
    moving: list[tuple[int, int, float]] = []  # (trace, which network, darkness) for the replay
    for grain, dash in (("white", "solid"), ("brown", "dot")):
        d = torch.full_like(FAR, GRAINS[grain].darkness)
        for label, t, colour in (("2 units", two, LINE_COLOURS[1]), ("10 units", ten, LINE_COLOURS[0]),
                                 ("sigma-pi", sp, LINE_COLOURS[2])):
            y = _predict(t.model, FAR, d)
            rows[f"{label}, {grain}"] = _values(y)
            if t is not sp:
                moving.append((len(fig.data), 0 if t is two else 1, GRAINS[grain].darkness))
            fig.add_trace(go.Scatter(x=_values(FAR), y=_values(y), mode="lines",
                                     name=f"{label}, {grain}", line=dict(color=colour, dash=dash)))
        fig.add_trace(go.Scatter(x=[0, FAR_CUPS], y=[0, GRAINS[grain].ratio * FAR_CUPS], mode="lines",
                                 name=f"truth, {grain}", line=dict(color=COLOURS[grain], width=6),
                                 opacity=0.35))
    _scatter_grains(fig, two.data, split="test", far=True)
    fig.add_vrect(x0=0.5, x1=4.0, fillcolor="#888", opacity=0.12, line_width=0,
                  annotation_text="measured range", annotation_position="top left")
    _layout(fig, xaxis_title="cups of rice (x)", yaxis_title="cups of water (y)", height=460)
    far = two.data.far
    rms = lambda t: mse(t.model, far) ** 0.5
    return Figure("relu-far", _json(fig),
                  [("RMS error at 10 cups", f"2 units {rms(two):.2f}, 10 units {rms(ten):.2f}, "
                                            f"sigma-pi {rms(sp):.2f}"),
                   ("parameters", f"{num_parameters(two.model)}, {num_parameters(ten.model)} and "
                                  f"{num_parameters(sp.model)}")],
                  replay([two, ten], lambda ms: {i: {"y": [_values(_predict(ms[k], FAR, torch.full_like(FAR, d)))]}
                                                 for i, k, d in moving}),
                  rows, lab=MLP10.query())


@figure("sigma-pi-3d", SIGMA_PI)
def sigma_pi_3d(get) -> Figure:
    """The sigma-pi surface on both rices, and its prediction for half-bran rice."""
    t = get(SIGMA_PI)
    fig = go.Figure()
    _scatter3d(fig, t.data)
    _scatter3d(fig, t.data, split="test", only=("half-bran",))
    fig.add_trace(go.Surface(x=_values(GX[0]), y=_values(GZ[:, 0]), z=_surface(t.model),
                             opacity=0.45, showscale=False, name="sigma-pi",
                             colorscale=[[0, "#c7e9c0"], [1, "#006d2c"]]))
    # What the reader should see: the surface's slope along the cups grows with darkness, so its
    # front edge (white rice) climbs gently and its back edge steeply, and the half-bran diamonds
    # sit on it in between. From in front and a little to the side, both edges show as lines of
    # different steepness.
    _layout(fig, scene=_scene(eye=(0.65, -2.05, 0.5), aspect=(1.8, 0.9, 1.0), lift=0.22), height=440,
            meta=dict(sceneRatio=SCENE_RATIO))
    half = t.data.test.subset((t.data.test.label == t.data.classes.index("half-bran")) & ~t.data.test.far)

    def stats(ms):
        a, b, c = ms[0].a.item(), ms[0].b.item(), ms[0].c.item()
        return [("unit", f"y = {a:.3f}·x {signed(b, 3)}·x·d {signed(c, 3)}"),
                ("parameters", f"{num_parameters(ms[0])}"), ("train MSE", f"{mse(ms[0], t.data.train):.4f}"),
                ("half-bran ratio", f"{a + b * GRAINS['half-bran'].darkness:.3f} "
                                    f"(true {GRAINS['half-bran'].ratio:g})"),
                ("half-bran MSE", f"{mse(ms[0], half):.4f}")]
    return Figure("sigma-pi-3d", _json(fig), stats([t.model]),
                  replay([t], lambda ms: {3: {"z": [_surface(ms[0])]}}, stats),
                  {"cups": _values(half.x), "darkness": _values(half.z), "water": _values(half.y),
                   "sigma-pi": _values(_predict(t.model, half.x, half.z))},
                  lab=SIGMA_PI.query())


# Chapter 7: the franken-grain ----------------------------------------------------------------------

THREE = Run(model="line", dataset="three-grains")  # only its data is read


@figure("franken", SIGMA_PI)
def franken(get) -> Figure:
    """The sigma-pi unit asked about the franken-grain: about 4 cups per cup where 1 is right."""
    t = get(SIGMA_PI)
    three = THREE.data()
    fig = go.Figure()
    _scatter_grains(fig, three)
    for grain in ("white", "brown", "franken"):
        d = torch.full_like(CUPS, GRAINS[grain].darkness)
        fig.add_trace(go.Scatter(x=_values(CUPS), y=_values(_predict(t.model, CUPS, d)), mode="lines",
                                 name=f"sigma-pi, d = {GRAINS[grain].darkness}",
                                 line=dict(color=COLOURS[grain], width=3)))
    _layout(fig, xaxis_title="cups of grain (x)", yaxis_title="cups of water (y)")
    a, b = t.model.a.item(), t.model.b.item()
    fr = three.train.subset(three.train.label == three.classes.index("franken"))
    return Figure("franken", _json(fig),
                  [("asked for franken-grain", f"{a + b * GRAINS['franken'].darkness:.2f} cups per cup"),
                   ("it needs", "1 cup per cup"),
                   ("franken MSE", f"{mse(t.model, fr):.1f}")],
                  replay([t], lambda ms: {3 + k: {"y": [_values(_predict(
                      ms[0], CUPS, torch.full_like(CUPS, GRAINS[g].darkness)))]}
                      for k, g in enumerate(("white", "brown", "franken"))}),
                  {"cups": _values(fr.x), "water": _values(fr.y),
                   "sigma-pi": _values(_predict(t.model, fr.x, fr.z))},
                  lab=SIGMA_PI.query())

"""The article's figures, one registry by name. Each names the runs it needs and draws from them.

A builder gets ``get(run) -> Trained`` and returns a ``Figure``: a Plotly figure, the numbers to show
beside it, replay frames made from the trainer's snapshots, and a CSV of what it plots. Every value
comes from the trained models themselves (their forward pass, their kept attention weights).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Callable

import plotly.graph_objects as go
import plotly.io as pio
import torch
from plotly.subplots import make_subplots

from ..cache import Run, Trained
from ..datasets import GRAINS, FAR_CUPS
from ..metrics import accuracy, gate_accuracy, match_experts, mse
from ..models import hand_set, num_parameters
from ..study import RECOVERED, StudyConfig
from ..train import OBJECTIVES, Recipe, Stage, snapshot_model

REPLAY = 21  # snapshots per replay
COLOURS = {"white": "#8a8f98", "brown": "#b5651d", "franken": "#6a3d9a", "half-bran": "#d4a017"}
LINE_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#e377c2", "#7f7f7f"]


@dataclass
class Figure:
    """Everything the page shows for one figure."""

    name: str
    plot: dict  # Plotly figure as JSON-ready dict: data and layout
    stats: list[tuple[str, str]]  # label, value: shown beside the plot
    frames: list[dict] = field(default_factory=list)  # replay: {"step", "loss", "traces": {i: {...}}}
    table: dict[str, list] = field(default_factory=dict)  # column -> values, offered as CSV
    controls: dict | None = None  # extra interactive pieces for the front end
    lab: str = ""  # query string that opens the same model and data in the lab

    def csv(self) -> str:
        """The figure's data as CSV text: one column per plotted quantity."""
        out = io.StringIO()
        writer = csv.writer(out)
        columns = list(self.table)
        writer.writerow(columns)
        length = max((len(v) for v in self.table.values()), default=0)
        for i in range(length):
            writer.writerow([_cell(self.table[c], i) for c in columns])
        return out.getvalue()

    def payload(self) -> dict:
        """What the page embeds: plot, frames and controls."""
        return {"name": self.name, "plot": self.plot, "frames": self.frames,
                "controls": self.controls}


def _cell(values: list, i: int) -> str:
    if i >= len(values):
        return ""
    v = values[i]
    return f"{v:.6g}" if isinstance(v, float) else str(v)


@dataclass(frozen=True)
class FigureSpec:
    """A registry entry: the builder and the runs it needs trained first."""

    name: str
    build: Callable[[Callable[[Run], Trained]], Figure]
    runs: tuple[Run, ...]


FIGURES: dict[str, FigureSpec] = {}


def figure(name: str, *runs: Run):
    """Register a figure builder under ``name``, with the runs it reads."""
    def register(build):
        FIGURES[name] = FigureSpec(name, build, runs)
        return build
    return register


# Plot helpers ------------------------------------------------------------------------------------

def _json(fig: go.Figure) -> dict:
    return json.loads(pio.to_json(fig, validate=False))


def _layout(fig: go.Figure, **kw) -> go.Figure:
    fig.update_layout(margin=dict(l=50, r=20, t=30, b=45), legend=dict(orientation="h", y=-0.2),
                      hovermode="closest", uirevision="keep", **kw)
    return fig


def _values(t: torch.Tensor) -> list[float]:
    return [round(float(v), 5) for v in t.flatten()]


@torch.no_grad()
def _predict(model, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    return model(x, z)


def _fit_table(t: Trained, name: str) -> dict[str, list]:
    """The training points and the model's answer at each, as CSV columns."""
    x, z = t.data.train.x, t.data.train.z
    return {"cups": _values(x), "darkness": _values(z), "water": _values(t.data.train.y),
            name: _values(_predict(t.model, x, z))}


def replay(trained: list[Trained], draw: Callable[[list], dict]) -> list[dict]:
    """Frames from the snapshots of one or more runs with the same schedule: draw(models) per step."""
    first = trained[0]
    last = first.run.resolved_recipe().stages[-1]  # the loss shown is the one training lowered last
    frames = []
    for i, (step, _) in enumerate(first.fit.snapshots):
        models = [snapshot_model(t.fit, i) for t in trained]
        with torch.no_grad():
            loss = OBJECTIVES[last.objective](models[0], first.data.train, last).item()
        frames.append({"step": step, "loss": round(loss, 5),
                       "traces": {str(k): v for k, v in draw(models).items()}})
    return frames


def _scatter_grains(fig, data, split="train", row=None, col=None, far=False, show=True):
    points = getattr(data, split)
    for k, grain in enumerate(data.classes):
        mask = (points.label == k) & (points.far if far else ~points.far)
        if not mask.any():
            continue
        fig.add_trace(go.Scatter(
            x=_values(points.x[mask]), y=_values(points.y[mask]), mode="markers",
            name=f"{GRAINS[grain].name}{' (test)' if split == 'test' else ''}",
            marker=dict(color=COLOURS[grain], size=7, symbol="circle" if split == "train" else "x"),
            showlegend=show, hovertemplate="%{x:.2f} cups → %{y:.2f} water<extra>" + grain + "</extra>"),
            row=row, col=col)


def _gd(steps: int = 200, lr: float = 0.1) -> Recipe:
    """A plain Adam run on the squared error, slow enough for a replay to show it learning."""
    return Recipe((Stage("mse", "adam", steps=steps, lr=lr),))


CUPS = torch.linspace(0.0, 4.5, 46)  # x axis for 2D plots inside the measured range
FAR = torch.linspace(0.0, FAR_CUPS, 101)  # out to the big pot


# Chapter 1: a line ---------------------------------------------------------------------------------

WHITE_GD = Run("line", "white", recipe=_gd(), snapshots=REPLAY)


def _line_plot(t: Trained, name: str, rice: str = "rice"):
    """The run's points and its fitted line; returns the figure and line(model) for replays."""
    fig = go.Figure()
    _scatter_grains(fig, t.data)
    line = lambda m: _values(_predict(m, CUPS, torch.zeros_like(CUPS)))
    fig.add_trace(go.Scatter(x=_values(CUPS), y=line(t.model), mode="lines", name=name,
                             line=dict(color=LINE_COLOURS[0], width=3)))
    _layout(fig, xaxis_title=f"cups of {rice} (x)", yaxis_title="cups of water (y)")
    return fig, line


@figure("white-line", WHITE_GD)
def white_line(get) -> Figure:
    """White rice and the line gradient descent fits to it, with its replay."""
    t = get(WHITE_GD)
    fig, line = _line_plot(t, "fitted line", "white rice")
    w, b = t.model.w.item(), t.model.b.item()
    return Figure("white-line", _json(fig),
                  [("fitted line", f"y = {w:.3f}·x {b:+.3f}"), ("parameters", "2"),
                   ("train MSE", f"{mse(t.model, t.data.train):.4f}"),
                   ("noise floor σ²", f"{t.data.noise ** 2:.4f}"),
                   ("steps", f"{len(t.fit.losses)} Adam")],
                  replay([t], lambda ms: {1: {"y": [line(ms[0])]}}),
                  {"cups": _values(t.data.train.x), "water": _values(t.data.train.y),
                   "fitted": _values(_predict(t.model, t.data.train.x, t.data.train.z))},
                  lab="model=line&dataset=white")


@figure("line-refresher", WHITE_GD)
def line_refresher(get) -> Figure:
    """White rice and a line the reader sets by hand, with its mean squared error."""
    t = get(WHITE_GD)
    x, y = t.data.train.x, t.data.train.y
    fig = go.Figure()
    _scatter_grains(fig, t.data)
    fig.add_trace(go.Scatter(x=[0, 4.5], y=[0, 0], mode="lines", name="your line",
                             line=dict(color=LINE_COLOURS[1], width=3)))
    _layout(fig, xaxis_title="cups of white rice (x)", yaxis_title="cups of water (y)")
    w, b = t.model.w.item(), t.model.b.item()
    return Figure("line-refresher", _json(fig),
                  [("best slope w", f"{w:.3f}"), ("best intercept b", f"{b:.3f}"),
                   ("lowest MSE", f"{mse(t.model, t.data.train):.4f}")],
                  [],  # the reader moves this line; the replay lives in the figure above
                  {"cups": _values(x), "water": _values(y)},
                  controls={"kind": "refresher", "x": _values(x), "y": _values(y), "trace": 1,
                            "w": 1.0, "b": 0.5, "best": [round(w, 4), round(b, 4)]},
                  lab="model=line&dataset=white")


# Chapters 2 and 3: brown rice, and one line for both -----------------------------------------------

BROWN_GD = Run("line", "brown", recipe=_gd(), snapshots=REPLAY)
BOTH_GD = Run("line", "white+brown", recipe=_gd(), snapshots=REPLAY)


@figure("brown-line", WHITE_GD, BROWN_GD)
def brown_line(get) -> Figure:
    """Both rices, each with its own fitted line."""
    white, brown = get(WHITE_GD), get(BROWN_GD)
    fig = go.Figure()
    _scatter_grains(fig, white.data)
    _scatter_grains(fig, brown.data)
    line = lambda m: _values(_predict(m, CUPS, torch.zeros_like(CUPS)))
    fig.add_trace(go.Scatter(x=_values(CUPS), y=line(white.model), mode="lines",
                             name="white-rice line", line=dict(color=COLOURS["white"], width=3)))
    fig.add_trace(go.Scatter(x=_values(CUPS), y=line(brown.model), mode="lines",
                             name="brown-rice line", line=dict(color=COLOURS["brown"], width=3)))
    _layout(fig, xaxis_title="cups of rice (x)", yaxis_title="cups of water (y)")
    return Figure("brown-line", _json(fig),
                  [("white slope", f"{white.model.w.item():.3f}"),
                   ("brown slope", f"{brown.model.w.item():.3f}"),
                   ("parameters", "2 + 2"),
                   ("brown train MSE", f"{mse(brown.model, brown.data.train):.4f}")],
                  replay([brown], lambda ms: {3: {"y": [line(ms[0])]}}),
                  {"cups": _values(brown.data.train.x), "brown water": _values(brown.data.train.y),
                   "white water": _values(white.data.train.y)},
                  lab="model=line&dataset=brown")


@figure("one-line", BOTH_GD)
def one_line(get) -> Figure:
    """One line fitted to both rices: the compromise near 2.5 cups per cup."""
    t = get(BOTH_GD)
    fig, line = _line_plot(t, "one line for both")
    near = t.data.near
    return Figure("one-line", _json(fig),
                  [("slope", f"{t.model.w.item():.3f}"), ("intercept", f"{t.model.b.item():.3f}"),
                   ("parameters", "2"), ("train MSE", f"{mse(t.model, t.data.train):.3f}"),
                   ("noise floor σ²", f"{t.data.noise ** 2:.3f}"),
                   ("held-out MSE", f"{mse(t.model, near):.3f}")],
                  replay([t], lambda ms: {2: {"y": [line(ms[0])]}}),
                  _fit_table(t, "fitted"),
                  lab="model=line&dataset=white%2Bbrown")


# Chapters 4 to 6: a plane, ReLU networks and the sigma-pi unit, in 3D ------------------------------

GX, GZ = torch.meshgrid(torch.linspace(0, 4.5, 19), torch.linspace(0, 1, 21), indexing="xy")  # (21, 19)


def _surface(model) -> list[list[float]]:
    z = _predict(model, GX.flatten(), GZ.flatten()).reshape(GX.shape)  # (21, 19)
    return [[round(float(v), 4) for v in row] for row in z]


def _scatter3d(fig, data, split="train", far=False, row=None, col=None, show=True, only=None):
    points = getattr(data, split)
    for k, grain in enumerate(data.classes):
        if only is not None and grain not in only:
            continue
        mask = (points.label == k) & (points.far if far else ~points.far)
        if not mask.any():
            continue
        fig.add_trace(go.Scatter3d(
            x=_values(points.x[mask]), y=_values(points.z[mask]), z=_values(points.y[mask]),
            mode="markers", showlegend=show,
            name=f"{GRAINS[grain].name}{' (test)' if split == 'test' else ''}",
            marker=dict(color=COLOURS[grain], size=3 if split == "train" else 5,
                        symbol="circle" if split == "train" else "diamond")), row=row, col=col)


def _scene(title: str = "") -> dict:
    return dict(xaxis_title="cups (x)", yaxis_title="darkness (d)", zaxis_title="water (y)",
                camera=dict(eye=dict(x=1.6, y=-1.6, z=0.9)), aspectmode="cube")


PLANE_GD = Run("plane", "white+brown", recipe=_gd(300), snapshots=REPLAY)


@figure("plane-3d", PLANE_GD)
def plane_3d(get) -> Figure:
    """The two rices in 3D and the best plane, which cannot follow them."""
    t = get(PLANE_GD)
    fig = go.Figure()
    _scatter3d(fig, t.data)
    fig.add_trace(go.Surface(x=_values(GX[0]), y=_values(GZ[:, 0]), z=_surface(t.model),
                             opacity=0.55, showscale=False, name="best plane",
                             colorscale=[[0, "#9ecae1"], [1, "#08519c"]]))
    _layout(fig, scene=_scene(), height=480)
    a, b, c = (t.model.a.item(), t.model.b.item(), t.model.c.item())
    return Figure("plane-3d", _json(fig),
                  [("plane", f"y = {a:.2f}·x {b:+.2f}·d {c:+.2f}"), ("parameters", "3"),
                   ("train MSE", f"{mse(t.model, t.data.train):.3f}"),
                   ("noise floor σ²", f"{t.data.noise ** 2:.3f}")],
                  replay([t], lambda ms: {2: {"z": [_surface(ms[0])]}}),
                  _fit_table(t, "plane"),
                  lab="model=plane&dataset=white%2Bbrown")


MLP2 = Run("mlp", "white+brown", options=(("hidden", (2,)),), snapshots=REPLAY)
MLP10 = Run("mlp", "white+brown", options=(("hidden", (10,)),), snapshots=REPLAY)
SIGMA_PI = Run("sigma-pi", "bran", recipe=_gd(300), snapshots=REPLAY)


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
                  lab="model=mlp&dataset=white%2Bbrown&hidden=10")


@figure("relu-3d", MLP2, MLP10)
def relu_3d(get) -> Figure:
    """The 2- and 10-unit ReLU networks as surfaces, with held-out points."""
    two, ten = get(MLP2), get(MLP10)
    fig = make_subplots(rows=1, cols=2, specs=[[{"type": "scene"}, {"type": "scene"}]],
                        subplot_titles=("2 hidden units, 9 parameters", "10 hidden units, 41 parameters"))
    for col, t in ((1, two), (2, ten)):
        _scatter3d(fig, t.data, row=1, col=col, show=col == 1)
        _scatter3d(fig, t.data, split="test", row=1, col=col, show=col == 1)
        fig.add_trace(go.Surface(x=_values(GX[0]), y=_values(GZ[:, 0]), z=_surface(t.model),
                                 opacity=0.55, showscale=False, name="network",
                                 colorscale=[[0, "#fcbba1"], [1, "#a50f15"]]), row=1, col=col)
    _layout(fig, scene=_scene(), scene2=_scene(), height=460)
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
                  lab="model=mlp&dataset=white%2Bbrown&hidden=2")


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
                   ("parameters", "9, 41 and 3")],
                  replay([two, ten], lambda ms: {i: {"y": [_values(_predict(ms[k], FAR, torch.full_like(FAR, d)))]}
                                                 for i, k, d in moving}),
                  rows, lab="model=mlp&dataset=white%2Bbrown&hidden=10")


@figure("sigma-pi-3d", SIGMA_PI)
def sigma_pi_3d(get) -> Figure:
    """The sigma-pi surface on both rices, and its prediction for half-bran rice."""
    t = get(SIGMA_PI)
    fig = go.Figure()
    _scatter3d(fig, t.data)
    _scatter3d(fig, t.data, split="test", only=("half-bran",))
    fig.add_trace(go.Surface(x=_values(GX[0]), y=_values(GZ[:, 0]), z=_surface(t.model),
                             opacity=0.55, showscale=False, name="sigma-pi",
                             colorscale=[[0, "#c7e9c0"], [1, "#006d2c"]]))
    _layout(fig, scene=_scene(), height=480)
    a, b, c = t.model.a.item(), t.model.b.item(), t.model.c.item()
    half = t.data.test.subset((t.data.test.label == t.data.classes.index("half-bran")) & ~t.data.test.far)
    return Figure("sigma-pi-3d", _json(fig),
                  [("unit", f"y = {a:.3f}·x {b:+.3f}·x·d {c:+.3f}"), ("parameters", "3"),
                   ("train MSE", f"{mse(t.model, t.data.train):.4f}"),
                   ("half-bran ratio", f"{a + b * 0.25:.3f} (true 2.5)"),
                   ("half-bran MSE", f"{mse(t.model, half):.4f}")],
                  replay([t], lambda ms: {3: {"z": [_surface(ms[0])]}}),
                  {"cups": _values(half.x), "darkness": _values(half.z), "water": _values(half.y),
                   "sigma-pi": _values(_predict(t.model, half.x, half.z))},
                  lab="model=sigma-pi&dataset=bran")


# Chapter 7: the franken-grain ----------------------------------------------------------------------

THREE = Run("line", "three-grains")  # only its data is read


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
                  lab="model=sigma-pi&dataset=bran")


# Chapter 8: classifier, pipeline, ReLU switch ------------------------------------------------------

CLASSIFIER = Run("classifier", "three-grains", snapshots=REPLAY,
                 recipe=Recipe((Stage("cross-entropy", "adam", steps=300, lr=0.1),)))
PIPELINE = Run("pipeline", "three-grains", snapshots=REPLAY)
SWITCH = Run("relu-switch", "three-grains", snapshots=REPLAY)
DARK = torch.linspace(0, 1, 101)


@figure("classifier", CLASSIFIER)
def classifier(get) -> Figure:
    """The softmax classifier's probabilities against darkness."""
    t = get(CLASSIFIER)
    fig = go.Figure()
    probs = lambda m: m.probabilities(DARK).detach()  # (101, 3)
    p = probs(t.model)
    for k, grain in enumerate(t.data.classes):
        fig.add_trace(go.Scatter(x=_values(DARK), y=_values(p[:, k]), mode="lines",
                                 name=f"p({GRAINS[grain].name})", line=dict(color=COLOURS[grain], width=3)))
    for k, grain in enumerate(t.data.classes):
        mask = t.data.train.label == k
        fig.add_trace(go.Scatter(x=_values(t.data.train.z[mask]), y=[-0.05] * int(mask.sum()),
                                 mode="markers", name=f"{grain} samples", showlegend=False,
                                 marker=dict(color=COLOURS[grain], symbol="line-ns-open", size=10)))
    _layout(fig, xaxis_title="darkness (d)", yaxis_title="probability", yaxis_range=[-0.1, 1.05])
    return Figure("classifier", _json(fig),
                  [("parameters", str(num_parameters(t.model))),
                   ("test accuracy", f"{accuracy(t.model, t.data.test):.3f}")],
                  replay([t], lambda ms: {k: {"y": [_values(probs(ms[0])[:, k])]} for k in range(3)}),
                  {"darkness": _values(DARK), **{f"p {g}": _values(p[:, k]) for k, g in enumerate(t.data.classes)}},
                  lab="model=classifier&dataset=three-grains")


def _grain_lines(fig, t, x=CUPS):
    for k, grain in enumerate(t.data.classes):
        d = torch.full_like(x, GRAINS[grain].darkness)
        fig.add_trace(go.Scatter(x=_values(x), y=_values(_predict(t.model, x, d)), mode="lines",
                                 name=f"model, {grain}", line=dict(color=COLOURS[grain], width=3)))


def _grain_line_frames(t, offset: int, x=CUPS):
    return lambda ms: {offset + k: {"y": [_values(_predict(ms[0], x, torch.full_like(x, GRAINS[g].darkness)))]}
                       for k, g in enumerate(t.data.classes)}


@figure("pipeline", PIPELINE)
def pipeline(get) -> Figure:
    """The classify-then-switch pipeline's lines for the three grains."""
    t = get(PIPELINE)
    fig = go.Figure()
    _scatter_grains(fig, t.data)
    _grain_lines(fig, t)
    _layout(fig, xaxis_title="cups of grain (x)", yaxis_title="cups of water (y)")
    slopes = t.model.lines.weight[:, 0].tolist()
    return Figure("pipeline", _json(fig),
                  [("slopes", ", ".join(f"{s:.2f}" for s in slopes)),
                   ("parameters", str(num_parameters(t.model))),
                   ("train MSE", f"{mse(t.model, t.data.train):.4f}")],
                  replay([t], _grain_line_frames(t, 3)),
                  _fit_table(t, "pipeline"),
                  lab="model=pipeline&dataset=three-grains")


@figure("relu-switch", SWITCH)
def relu_switch(get) -> Figure:
    """The hand-wired ReLU switch: what each unit passes for beliefs the reader sets."""
    trained = get(SWITCH)
    wired = hand_set()
    # Every unit's output for a grid of probabilities (steps of 0.05) at a grid of cups, from the model.
    steps = 20
    grid = [(i / steps, j / steps, (steps - i - j) / steps)
            for i in range(steps + 1) for j in range(steps + 1 - i)]
    cups = [0.5, 1, 2, 3, 4, 6, 8, 10]
    p = torch.tensor(grid).repeat_interleave(len(cups), 0)  # (G·X, 3)
    x = torch.tensor(cups, dtype=torch.float32).repeat(len(grid))  # (G·X,)
    with torch.no_grad():
        wired.switch(x, p)
    passed = wired.passed.reshape(len(grid), len(cups), 3)  # (G, X, 3)
    names = [GRAINS[g].name for g in ("white", "brown", "franken")]
    fig = go.Figure(go.Bar(x=names + ["total"], y=[0, 0, 0, 0], name="passed",
                           marker_color=[COLOURS["white"], COLOURS["brown"], COLOURS["franken"], "#333"],
                           hovertemplate="%{x}: %{y:.2f} cups of water<extra></extra>"))
    _layout(fig, yaxis_title="cups of water passed", yaxis_range=[0, 32], showlegend=False)
    near = trained.data.train
    return Figure("relu-switch", _json(fig),
                  [("inhibitory weight", "−100"), ("parameters", str(num_parameters(wired))),
                   ("hand-set MSE on three grains", f"{mse(wired, near):.4f}"),
                   ("trained MSE on three grains", f"{mse(trained.model, near):.4f}")],
                  [],
                  {"p white": [g[0] for g in grid for _ in cups], "p brown": [g[1] for g in grid for _ in cups],
                   "p franken": [g[2] for g in grid for _ in cups], "cups": cups * len(grid),
                   **{f"{n} unit": _values(passed[:, :, k]) for k, n in enumerate(names)}},
                  controls={"kind": "switch", "steps": steps, "cups": cups, "grid": grid,
                            "passed": [[_values(passed[g, c]) for c in range(len(cups))]
                                       for g in range(len(grid))]},
                  lab="model=relu-switch&dataset=three-grains")


ATTN3 = Run("attention", "three-grains", snapshots=REPLAY)


@figure("diode-transistor", ATTN3)
def diode_transistor(get) -> Figure:
    """A ReLU unit shifted off by inhibition beside an attention expert scaled by its gate."""
    attn = get(ATTN3)
    wired = hand_set()
    x = torch.linspace(0, 10, 101)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("ReLU unit: inhibition shifts it off",
                                                        "attention: the gate scales it"))
    rows = {"cups": _values(x)}
    for share in (0.0, 0.1, 0.2, 0.4):
        p = torch.tensor([[1 - share, share, 0.0]]).expand(len(x), 3)  # some belief in brown
        with torch.no_grad():
            wired.switch(x, p)
        out = wired.passed[:, 0]
        rows[f"relu, p brown {share}"] = _values(out)
        fig.add_trace(go.Scatter(x=_values(x), y=_values(out), mode="lines",
                                 name=f"p(brown) = {share}"), row=1, col=1)
    expert = match_experts(attn.model, attn.data).expert[0]  # the white-rice expert
    with torch.no_grad():
        _, values = attn.model.experts(x, torch.zeros_like(x))
    for gate in (1.0, 0.75, 0.5, 0.25):
        out = gate * values[:, expert]
        rows[f"attention, gate {gate}"] = _values(out)
        fig.add_trace(go.Scatter(x=_values(x), y=_values(out), mode="lines", name=f"gate = {gate}"),
                      row=1, col=2)
    _layout(fig, height=380)
    fig.update_xaxes(title_text="cups of grain (x)")
    fig.update_yaxes(title_text="output (cups of water)", col=1)
    return Figure("diode-transistor", _json(fig),
                  [("ReLU unit", "white-rice unit of the hand-set switch"),
                   ("attention expert", "white-rice expert of the trained attention")],
                  [], rows, lab="model=attention&dataset=three-grains")


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
                  [("experts", "3 (12 parameters)"),
                   ("matched slopes", ", ".join(f"{s:.3f}" for s in match.slopes) + " (true 2, 3, 1)"),
                   ("weights pick the right grain", f"{gate_accuracy(t.model, t.data, t.data.test):.1%}"),
                   ("train MSE", f"{mse(t.model, t.data.train):.4f}")],
                  replay([t], lambda ms: {k: {"y": [_values(weights(ms[0])[:, match.expert[k]])]}
                                          for k in range(3)}),
                  {"darkness": _values(DARK), **{f"weight expert {j + 1}": _values(w[:, j])
                                                 for j in range(w.shape[1])}},
                  lab="model=attention&dataset=three-grains")


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
                  lab="model=attention&dataset=three-grains")


SW = (("relationships", 5),)
SW_ATTN = Run("attention", "switchboard", data_options=SW, snapshots=REPLAY)
SW_MLP1 = Run("mlp", "switchboard", data_options=SW, options=(("hidden", (5,)),), snapshots=REPLAY)
SW_MLP2 = Run("mlp", "switchboard", data_options=SW, options=(("hidden", (3, 2)),), snapshots=REPLAY)
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
    scene = dict(xaxis_title="x", yaxis_title="selector z", zaxis_title="y",
                 camera=dict(eye=dict(x=1.5, y=-1.7, z=0.8)), aspectmode="cube")
    _layout(fig, scene=scene, scene2=scene, scene3=scene, height=440)
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
                  lab="model=attention&dataset=switchboard")


COMPARE_SEEDS = range(10)
SW_BLEND = [Run("attention-blended", "switchboard", seed=s, data_options=SW, snapshots=REPLAY if s == 0 else 0)
            for s in COMPARE_SEEDS]
SW_CHOOSE = [Run("attention", "switchboard", seed=s, data_options=SW) for s in COMPARE_SEEDS]


@figure("blend-vs-compete", *SW_BLEND, *SW_CHOOSE)
def blend_vs_compete(get) -> Figure:
    """Expert lines after the post's plain recipe (blended error) and after graintrain's."""
    blend, choose = get(SW_BLEND[0]), get(SW_CHOOSE[0])
    data = blend.data
    x = torch.linspace(-2, 2, 41)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("blended error: experts cooperate",
                                                        "one expert per point: experts choose"))
    rows = {"x": _values(x)}
    for col, (label, t) in enumerate((("blended", blend), ("graintrain", choose)), 1):
        for k in range(data.num_classes):
            y = data.slopes[k] * x + data.intercepts[k]
            fig.add_trace(go.Scatter(x=_values(x), y=_values(y), mode="lines",
                                     showlegend=col == 1 and k == 0, legendgroup="truth",
                                     name="true lines",
                                     line=dict(color="#999", width=6), opacity=0.35), row=1, col=col)
        with torch.no_grad():
            _, values = t.model.experts(x, torch.zeros_like(x))
        if col == 1:
            first_expert = len(fig.data)
        for j in range(values.shape[1]):
            rows[f"{label} expert {j + 1}"] = _values(values[:, j])
            fig.add_trace(go.Scatter(x=_values(x), y=_values(values[:, j]), mode="lines",
                                     name=f"expert {j + 1}", showlegend=col == 1, legendgroup=f"e{j}",
                                     line=dict(color=LINE_COLOURS[j], width=2)), row=1, col=col)
    _layout(fig, height=420, yaxis_range=[-6, 6], yaxis2_range=[-6, 6])
    fig.update_xaxes(title_text="x")
    found = lambda runs: sum(match_experts(get(r).model, get(r).data).error <= RECOVERED for r in runs)
    return Figure("blend-vs-compete", _json(fig),
                  [("true experts found, seeds 0–9", f"blended {found(SW_BLEND)}/10, "
                                                    f"graintrain {found(SW_CHOOSE)}/10"),
                   ("train MSE, seed 0", f"blended {mse(blend.model, data.train):.4f}, "
                                         f"graintrain {mse(choose.model, data.train):.4f}"),
                   ("noise floor σ²", f"{data.noise ** 2:.4f}")],
                  replay([blend], lambda ms: {first_expert + j: {"y": [_values(v)]} for j, v in enumerate(
                      ms[0].experts(x, torch.zeros_like(x))[1].detach().T)}),
                  rows, lab="model=attention-blended&dataset=switchboard")


ARTICLE_STUDY = StudyConfig(experts=(2, 3, 5, 8), seeds=10)


@figure("study-recovery", ARTICLE_STUDY)
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
                x=ks, y=[c["mean"] for c in cells], mode="lines+markers", name=name,
                legendgroup=name, showlegend=metric == "slope_error", line=dict(color=colour),
                error_y=dict(type="data", symmetric=False, array=[c["ci"][1] - c["mean"] for c in cells],
                             arrayminus=[c["mean"] - c["ci"][0] for c in cells])), row=1, col=col)
    _layout(fig, height=400)
    fig.update_xaxes(title_text="K, the number of hidden lines", tickvals=ks)
    fig.update_yaxes(range=[-0.05, 1.05], row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=2)
    overall = summary["models"]
    return Figure("study-recovery", _json(fig),
                  [("switchboards", f"{len(ks)} values of K × {ARTICLE_STUDY.seeds} seeds"),
                   ("experts recovered", f"graintrain's recipe {overall['attention']['recovered']['mean']:.0%}, "
                                         f"plain recipe {overall['attention-blended']['recovered']['mean']:.0%}"),
                   ("slope error", ", ".join(f"{n} {overall[n]['slope_error']['mean']:.3f}" for n in overall))],
                  [], table, lab="model=attention&dataset=switchboard")


from . import figure_variants  # noqa: E402,F401  registers chapter 9's variants figure

"""Chapters 1 to 3: one line for white rice, one for brown, and one line for both."""

from __future__ import annotations

import plotly.graph_objects as go
import torch
from torch.func import functional_call, vmap

from ...cache import Trained
from ...runs import Run
from ...metrics import mse
from ...models import num_parameters
from ...train import snapshot_model
from . import Figure, figure
from .plot import (COLOURS, CUPS, LINE_COLOURS, REPLAY, _fit_table, _gd, _json, _layout, _predict,
                   _scatter_grains, _values, replay, signed)

# Chapter 1: a line ---------------------------------------------------------------------------------

WHITE_GD = Run(model="line", dataset="white", **_gd(), snapshots=REPLAY)


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
    stats = lambda ms: [("fitted line", f"y = {ms[0].w.item():.3f}·x {signed(ms[0].b.item(), 3)}"),
                        ("parameters", f"{num_parameters(ms[0])}"),
                        ("train MSE", f"{mse(ms[0], t.data.train):.4f}"),
                        ("noise floor σ²", f"{t.data.noise ** 2:.4f}"),
                        ("steps", f"{len(t.fit.losses)} Adam")]
    return Figure("white-line", _json(fig), stats([t.model]),
                  replay([t], lambda ms: {1: {"y": [line(ms[0])]}}, stats),
                  {"cups": _values(t.data.train.x), "water": _values(t.data.train.y),
                   "fitted": _values(_predict(t.model, t.data.train.x, t.data.train.z))},
                  lab=WHITE_GD.query())


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
                  lab=WHITE_GD.query())


@figure("mse-bowl", WHITE_GD)
def mse_bowl(get) -> Figure:
    """The squared error of every line (w, b) on the white rice, a bowl, with the path that
    gradient descent took down it, read from the run's snapshots."""
    t = get(WHITE_GD)
    x, z, y = t.data.train.x, t.data.train.z, t.data.train.y
    path = [snapshot_model(t.fit, i) for i in range(len(t.fit.snapshots))]
    ws = [m.w.item() for m in path]
    bs = [m.b.item() for m in path]
    around = lambda v: torch.linspace(min(v) - 0.5 - 0.3 * (max(v) - min(v)),
                                      max(v) + 0.5 + 0.3 * (max(v) - min(v)), 61)  # (61,) the path and a margin
    w_grid, b_grid = around(ws), around(bs)
    gw, gb = torch.meshgrid(w_grid, b_grid, indexing="xy")  # (61, 61): rows follow b

    def error(w, b):  # the model's own forward with these parameters: (w, b) -> MSE
        return (functional_call(t.model, {"w": w, "b": b}, (x, z)) - y).pow(2).mean()
    with torch.no_grad():
        bowl = vmap(error)(gw.flatten(), gb.flatten()).reshape(gw.shape)  # (61, 61)
    steps = [step for step, _ in t.fit.snapshots]
    losses = [t.fit.losses[s] if s < len(t.fit.losses) else t.fit.losses[-1] for s in steps]
    fig = go.Figure()
    fig.add_trace(go.Contour(x=_values(w_grid), y=_values(b_grid), z=bowl.log10().tolist(),
                             colorscale="Blues", reversescale=True, showscale=False, ncontours=24,
                             name="log₁₀ MSE", hovertemplate="w %{x:.2f}, b %{y:.2f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=ws, y=bs, mode="lines+markers", name="gradient descent",
                             line=dict(color=LINE_COLOURS[1], width=2), marker=dict(size=6),
                             text=[f"step {s}" for s in steps], hovertemplate="%{text}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[ws[-1]], y=[bs[-1]], mode="markers", name="this step",
                             marker=dict(color=LINE_COLOURS[3], size=14, symbol="x")))
    _layout(fig, xaxis_title="slope w", yaxis_title="intercept b", height=420)
    return Figure("mse-bowl", _json(fig),
                  [("start", f"w = {ws[0]:.2f}, b = {bs[0]:.2f}, MSE {losses[0]:.3f}"),
                   ("end", f"w = {ws[-1]:.3f}, b = {bs[-1]:.3f}, MSE {mse(t.model, t.data.train):.4f}")],
                  replay([t], lambda ms: {2: {"x": [[ms[0].w.item()]], "y": [[ms[0].b.item()]]}}),
                  {"step": steps, "w": ws, "b": bs}, lab=WHITE_GD.query())


# Chapters 2 and 3: brown rice, and one line for both -----------------------------------------------

BROWN_GD = Run(model="line", dataset="brown", **_gd(), snapshots=REPLAY)
BOTH_GD = Run(model="line", dataset="white+brown", **_gd(), snapshots=REPLAY)


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
    stats = lambda ms: [("white slope", f"{white.model.w.item():.3f}"),
                        ("brown slope", f"{ms[0].w.item():.3f}"),
                        ("parameters", f"{num_parameters(white.model)} + {num_parameters(ms[0])}"),
                        ("brown train MSE", f"{mse(ms[0], brown.data.train):.4f}")]
    return Figure("brown-line", _json(fig), stats([brown.model]),
                  replay([brown], lambda ms: {3: {"y": [line(ms[0])]}}, stats),
                  {"cups": _values(brown.data.train.x), "brown water": _values(brown.data.train.y),
                   "white water": _values(white.data.train.y)},
                  lab=BROWN_GD.query())


@figure("one-line", BOTH_GD)
def one_line(get) -> Figure:
    """One line fitted to both rices: the compromise near 2.5 cups per cup."""
    t = get(BOTH_GD)
    fig, line = _line_plot(t, "one line for both")
    near = t.data.near
    stats = lambda ms: [("slope", f"{ms[0].w.item():.3f}"), ("intercept", f"{ms[0].b.item():.3f}"),
                        ("parameters", f"{num_parameters(ms[0])}"),
                        ("train MSE", f"{mse(ms[0], t.data.train):.3f}"),
                        ("noise floor σ²", f"{t.data.noise ** 2:.3f}"),
                        ("held-out MSE", f"{mse(ms[0], near):.3f}")]
    return Figure("one-line", _json(fig), stats([t.model]),
                  replay([t], lambda ms: {2: {"y": [line(ms[0])]}}, stats),
                  _fit_table(t, "fitted"),
                  lab=BOTH_GD.query())

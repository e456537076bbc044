"""Chapter 8: the classifier, the pipeline, the ReLU switch, and the diode beside the transistor."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ...runs import Run
from ...datasets import GRAINS
from ...metrics import accuracy, match_experts, mse
from ...models import Attention, ReluSwitch, hand_set, num_parameters
from . import Figure, figure
from .plot import (COLOURS, CUPS, LINE_COLOURS, REPLAY, _fit_table, _json, _layout, _predict, _scatter_grains,
                   _values, replay)

# Chapter 8: classifier, pipeline, ReLU switch ------------------------------------------------------

CLASSIFIER = Run(model="classifier", dataset="three-grains", snapshots=REPLAY,
                 optimizer="adam", steps=300, lr=0.1)
PIPELINE = Run(model="pipeline", dataset="three-grains", snapshots=REPLAY)
SWITCH = Run(model="relu-switch", dataset="three-grains", snapshots=REPLAY)
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
                  lab=CLASSIFIER.query())


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
                  lab=PIPELINE.query())


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
                  lab=SWITCH.query())


ATTN3 = Run(model="attention", dataset="three-grains", snapshots=REPLAY)


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
                  [], rows, lab=ATTN3.query())


GRAIN_COUNTS = (3, 10, 100)  # kitchens with more and more kinds of grain


@figure("switch-cost", ATTN3)
def switch_cost(get) -> Figure:
    """Parameters of the ReLU switch (classifier plus inhibitory units) and of attention as the
    number of grains grows, counted from the models themselves."""
    counts = {"ReLU switch": [num_parameters(ReluSwitch(c)) for c in GRAIN_COUNTS],
              "attention": [num_parameters(Attention(c)) for c in GRAIN_COUNTS]}
    fig = go.Figure()
    for (name, values), colour in zip(counts.items(), (LINE_COLOURS[0], LINE_COLOURS[2])):
        fig.add_trace(go.Scatter(x=list(GRAIN_COUNTS), y=values, mode="lines+markers+text", name=name,
                                 text=[f"{v:,}" for v in values], textposition="top left", cliponaxis=False,
                                 line=dict(color=colour, width=3)))
    # Room on both axes (log10 units) for the counts written above and left of each point, so that
    # the largest, above the last point, and the first ones, left of the first, stay in the plot.
    every = [v for values in counts.values() for v in values]
    _layout(fig, height=340, xaxis_title="kinds of grain", yaxis_title="parameters",
            xaxis_type="log", yaxis_type="log", xaxis_tickvals=list(GRAIN_COUNTS),
            xaxis_range=[math.log10(min(GRAIN_COUNTS)) - 0.25, math.log10(max(GRAIN_COUNTS)) + 0.05],
            yaxis_range=[math.log10(min(every)) - 0.2, math.log10(max(every)) + 0.45],
            yaxis_tickformat="~g")  # a log axis would label 5,000 as "5"; this makes each tick say its value
    return Figure("switch-cost", _json(fig),
                  [(f"{c} grains", f"switch {s:,}, attention {a:,}")
                   for c, s, a in zip(GRAIN_COUNTS, counts["ReLU switch"], counts["attention"])],
                  [], {"grains": list(GRAIN_COUNTS), **counts}, lab=ATTN3.query())

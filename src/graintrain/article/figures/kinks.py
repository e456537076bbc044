"""Chapter 5: a curve is many short straight pieces. One-layer ReLU networks of growing width, each
trained on a grain whose water bends (``grains.curve``), drawn over the measured cups with their
kinks marked: the wider the network, the more pieces it lays along the curve, and the closer it
gets to it. The slider steps through the widths (``setupUnits`` in ``static/figure.js``)."""

from __future__ import annotations

import plotly.graph_objects as go
import torch

from ...datasets import CUPS
from ...grains import curve_water
from ...metrics import mse
from ...runs import Run
from . import Figure, figure
from .plot import LINE_COLOURS, _json, _layout, _predict, _values

# The widths the reader steps through. Training does not place every unit's kink inside the data
# (a unit may stay on everywhere and only add a slope), so the widths grow faster than the pieces.
UNITS = (1, 4, 20, 50, 100)
WIDTHS = [Run(model="mlp", dataset="curve", hidden=(h,)) for h in UNITS]
X = torch.linspace(0.0, CUPS[1] + 0.5, 901)  # (901,) fine enough that kinks 0.005 cups apart show apart
INSIDE = (X >= CUPS[0]) & (X <= CUPS[1])  # the measured cups, where the curve is judged


def _line(model) -> tuple[list[float], dict, float]:
    """A network's answer along X, its kinks (the grid steps where some unit switches), and its mean
    squared gap to the true curve over the measured cups."""
    y = _predict(model, X, torch.zeros_like(X))  # (901,) the model keeps its activations
    on = model.hidden[0] > 0  # (901, units)
    turn = (on[1:] != on[:-1]).any(1).nonzero().flatten() + 1  # (k,) first step after each switch
    gap = (y - curve_water(X))[INSIDE].pow(2).mean().item()
    return _values(y), {"x": _values(X[turn]), "y": _values(y[turn])}, gap


@figure("relu-kinks", *WIDTHS)
def relu_kinks(get) -> Figure:
    """The data, the true curve, and the widest network with its kinks; the slider swaps in each
    narrower one."""
    runs = [get(run) for run in WIDTHS]
    data = runs[0].data
    lines = [_line(t.model) for t in runs]
    inside = [sum(CUPS[0] <= x <= CUPS[1] for x in kinks["x"]) for _, kinks, _ in lines]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=_values(data.train.x), y=_values(data.train.y), mode="markers", name="measured pots",
                             marker=dict(color="#9ca3af", size=5, opacity=0.7,
                                         line=dict(width=0.5, color="#6b7280"))))
    fig.add_trace(go.Scatter(x=_values(X), y=_values(curve_water(X)), mode="lines", name="true water, x²/2",
                             line=dict(color="#6b7280", width=2, dash="dash")))
    first = len(fig.data)
    fig.add_trace(go.Scatter(x=_values(X), y=lines[-1][0], mode="lines", name="network",
                             line=dict(color=LINE_COLOURS[0], width=3)))
    fig.add_trace(go.Scatter(mode="markers", name="kinks", marker=dict(symbol="line-ns-open", size=14, line_width=2,
                                                                       color=LINE_COLOURS[3]), **lines[-1][1]))
    fig.add_vrect(x0=CUPS[0], x1=CUPS[1], fillcolor="#888", opacity=0.08, line_width=0)
    _layout(fig, xaxis_title="cups of grain (x)", yaxis_title="cups of water (y)")
    return Figure("relu-kinks", _json(fig),
                  [(f"{h} unit{'s' * (h > 1)}", f"{k} kink{'s' * (k != 1)} in the measured cups; gap to the curve {gap:.5f}, "
                                                f"train MSE {mse(t.model, t.data.train):.5f}")
                   for h, k, (_, _, gap), t in zip(UNITS, inside, lines, runs)],
                  [], {"cups": _values(X), "true water": _values(curve_water(X)),
                       **{f"{h} units": line for h, (line, _, _) in zip(UNITS, lines)}},
                  controls={"kind": "units", "units": list(UNITS), "curves": [[line] for line, _, _ in lines],
                            "kinks": [kinks for _, kinks, _ in lines], "first": first, "inside": inside,
                            "gaps": [gap for _, _, gap in lines]},
                  lab=WIDTHS[-1].query())

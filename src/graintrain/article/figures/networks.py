"""Chapters 8 and 9: the ReLU switch and attention drawn as networks, lit up by what flows through.

Each diagram is a Plotly figure: one marker per unit, one line per connection. For every input on a
grid of cups and darkness, the trained model's own forward pass gives each unit's value and each
connection's signal (weight times what it carries); the page picks the grid point nearest to the
sliders and sets the markers' brightness and the lines' widths from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import torch

from ...datasets import CUPS as MEASURED, FAR_CUPS, GRAINS
from ...metrics import match_experts, mse
from ...models import num_parameters
from . import Figure, figure
from .plot import COLOURS, _json, _layout, _values
from .switches import ATTN3, SWITCH

CUPS = torch.arange(MEASURED[0], FAR_CUPS + 1e-6, 0.5)  # (20,) slider stops, from the smallest pot measured to the big one
DARK = torch.linspace(0, 1, 21)  # (21,) slider stops across the meter's scale, white 0 to black 1
PLAIN = "#6b7280"  # inputs and the sum, which belong to no grain
EXCITE, INHIBIT, GATE = "#2563eb", "#dc2626", "#f59e0b"  # a positive signal, a negative one, a gate


@dataclass
class Unit:
    """A circle in the diagram: where it sits, what it says, and its colour when fully on."""

    label: str
    at: tuple[float, float]
    colour: str = PLAIN


@dataclass
class Wire:
    """A connection from one unit to another; a gate wire controls instead of carrying a signal."""

    source: int
    target: int
    gate: bool = False


def _diagram(units: list[Unit], wires: list[Wire], notes: list[tuple[str, float, float]]) -> go.Figure:
    """The static drawing: one trace per wire (so each gets its own width), then one for the units."""
    fig = go.Figure()
    for w in wires:
        (x0, y0), (x1, y1) = units[w.source].at, units[w.target].at
        fig.add_trace(go.Scatter(x=[x0, x1], y=[y0, y1], mode="lines", hoverinfo="skip", showlegend=False,
                                 line=dict(color=GATE if w.gate else EXCITE, width=1,
                                           dash="dot" if w.gate else "solid")))
    fig.add_trace(go.Scatter(
        x=[u.at[0] for u in units], y=[u.at[1] for u in units], mode="markers+text", showlegend=False,
        text=[u.label for u in units], textposition="bottom center", hoverinfo="text",
        marker=dict(size=24, color=[u.colour for u in units], line=dict(width=2, color=PLAIN))))
    for text, x, y in notes:
        fig.add_annotation(text=text, x=x, y=y, showarrow=False, font=dict(size=12))
    axis = dict(visible=False, range=[-0.35, 3.35], fixedrange=True)
    _layout(fig, height=460, xaxis=axis, yaxis=dict(axis, range=[-0.12, 1.14]))
    fig.update_layout(margin=dict(l=10, r=10, t=10, b=10))
    return fig


def _spread(count: int, top: float, bottom: float) -> list[float]:
    """Heights for a column of ``count`` circles, evenly from top to bottom (one: in the middle)."""
    return [(top + bottom) / 2] if count == 1 else [top - (top - bottom) * k / (count - 1) for k in range(count)]


def _grid() -> tuple[torch.Tensor, torch.Tensor]:
    x, d = torch.meshgrid(CUPS, DARK, indexing="ij")  # (20, 21) each
    return x.flatten(), d.flatten()  # (420,) cups-major, darkness-minor


def _controls(signals: torch.Tensor, on: torch.Tensor, labels: list[list[str]], wires: list[Wire],
              says: list[str]) -> dict:
    """What the page needs: per grid point, each unit's brightness and label, each wire's signal."""
    return {"kind": "network", "cups": _values(CUPS), "darkness": _values(DARK),
            "units": len(labels[0]), "wires": len(wires), "gates": [w.gate for w in wires],
            "on": [_values(row) for row in on], "labels": labels,
            "signals": [_values(row) for row in signals], "says": says,
            "widest": float(signals.abs().max())}


def _grain(name: str) -> str:
    return GRAINS[name].name


@figure("switch-network", SWITCH)
def switch_network(get) -> Figure:
    """The trained ReLU switch as a network: x and the classifier's beliefs drive three ReLU units."""
    t = get(SWITCH)
    model, classes = t.model, t.data.classes
    c = len(classes)
    with torch.no_grad():
        model(t.data.train.x, t.data.train.z)
        # Each unit is drawn in the colour of the grain it passes the most water for.
        owner = [classes[int(torch.stack([model.passed[t.data.train.label == k, j].mean()
                                          for k in range(c)]).argmax())] for j in range(c)]
        x, d = _grid()
        y = model(x, d)  # (G,)
        p, drive, passed = model.classifier.probabilities(d), model.drive, model.passed  # (G, C) each
    # The cups sit above the beliefs, so that their wires to the units cross no other circle.
    rows = _spread(c, 0.85, 0.15)
    units = ([Unit("x", (1, 1.03)), Unit("d", (0, 0.45))]
             + [Unit(f"p {g}", (1, y), COLOURS.get(g, PLAIN)) for g, y in zip(classes, _spread(c, 0.75, 0.15))]
             + [Unit(f"ReLU {k + 1}", (2, rows[k]), COLOURS.get(owner[k], PLAIN)) for k in range(c)]
             + [Unit("y", (3, 0.5))])
    P, H, OUT = 2, 2 + c, 2 + 2 * c  # where the beliefs, the ReLU units and the sum start
    wires = ([Wire(1, P + k) for k in range(c)]
             + [Wire(0, H + j) for j in range(c)]
             + [Wire(P + k, H + j) for j in range(c) for k in range(c)]
             + [Wire(H + j, OUT) for j in range(c)])
    weight = model.units.weight.detach()  # (C, 1 + C): unit j's weight on x, then on each belief
    score = model.classifier.score.weight.detach()[:, 0]  # (C,)
    signals = torch.cat([score * d.unsqueeze(-1),  # (G, C) what the darkness adds to each score
                         weight[:, 0] * x.unsqueeze(-1),  # (G, C) the cups into each unit
                         (p.unsqueeze(1) * weight[:, 1:]).flatten(1),  # (G, C·C) belief k into unit j
                         passed], dim=1)  # (G, C) what each unit lets through
    on = torch.cat([torch.ones(len(x), 2), p, (passed > 0).float(), torch.ones(len(x), 1)], dim=1)
    labels = [[f"{xi:.1f}", f"{di:.2f}"] + [f"{v:.2f}" for v in p_i]
              + [f"{h:.1f}" if h > 0 else f"off ({a:.0f})" for h, a in zip(h_i, a_i)] + [f"{yi:.2f}"]
              for xi, di, p_i, h_i, a_i, yi in zip(x.tolist(), d.tolist(), p.tolist(), passed.tolist(),
                                                     drive.tolist(), y.tolist())]
    says = [("Passing: " + " and ".join(f"ReLU {j + 1}" for j in range(c) if h_i[j] > 0)
             if any(v > 0 for v in h_i) else "Every unit is shut") + f"; water {yi:.2f} cups."
            for h_i, yi in zip(passed.tolist(), y.tolist())]
    notes = [("beliefs: softmax of the darkness's scores", 1, -0.08), ("diodes: shut below zero", 2, 1.08)]
    fig = _diagram(units, wires, notes)
    return Figure("switch-network", _json(fig),
                  [("parameters", str(num_parameters(model))),
                   ("inhibitory weights", f"{int((weight[:, 1:] < -1).sum())} of {c * c} below −1"),
                   ("train MSE", f"{mse(model, t.data.train):.4f}")],
                  [],
                  {"cups": _values(x), "darkness": _values(d),
                   **{f"drive of ReLU {j + 1}": _values(drive[:, j]) for j in range(c)}, "water": _values(y)},
                  controls=_controls(signals, on, labels, wires, says),
                  lab=SWITCH.query())


@figure("attention-network", ATTN3)
def attention_network(get) -> Figure:
    """Trained attention as a network: the darkness sets each gate, each gate scales one expert."""
    t = get(ATTN3)
    model, data = t.model, t.data
    match = match_experts(model, data)
    grain_of = {e: data.classes[k] for k, e in zip(match.classes, match.expert)}
    k_all = model.value.out_features
    with torch.no_grad():
        x, d = _grid()
        y = model(x, d)  # (G,)
        g = model.weights  # (G, K) the attention weights the forward pass kept
        _, v = model.experts(x, d)  # (G, K)
    # Gates in the upper band, experts in the lower: the two paths meet at each expert's ×.
    colour = [COLOURS.get(grain_of.get(k, ""), PLAIN) for k in range(k_all)]
    units = ([Unit("d", (0, 0.8)), Unit("x", (0, 0.2))]
             + [Unit(f"gate {k + 1}", (1, y), colour[k]) for k, y in enumerate(_spread(k_all, 1.02, 0.62))]
             + [Unit(f"expert {k + 1}", (1, y), colour[k]) for k, y in enumerate(_spread(k_all, 0.38, 0.0))]
             + [Unit(f"× {k + 1}", (2, y), colour[k]) for k, y in enumerate(_spread(k_all, 0.78, 0.22))]
             + [Unit("y", (3, 0.5))])
    G, V, M, OUT = 2, 2 + k_all, 2 + 2 * k_all, 2 + 3 * k_all
    wires = ([Wire(0, G + k) for k in range(k_all)] + [Wire(1, V + k) for k in range(k_all)]
             + [Wire(G + k, M + k, gate=True) for k in range(k_all)] + [Wire(V + k, M + k) for k in range(k_all)]
             + [Wire(M + k, OUT) for k in range(k_all)])
    signals = torch.cat([g, v, g, v, g * v], dim=1)  # (G, 5K): the gates, the values, gate and value into ×, the product
    on = torch.cat([torch.ones(len(x), 2), g, torch.ones_like(v), g, torch.ones(len(x), 1)], dim=1)
    labels = [[f"{di:.2f}", f"{xi:.1f}"] + [f"{a:.2f}" for a in g_i] + [f"{b:.1f}" for b in v_i]
              + [f"{a * b:.1f}" for a, b in zip(g_i, v_i)] + [f"{yi:.2f}"]
              for xi, di, g_i, v_i, yi in zip(x.tolist(), d.tolist(), g.tolist(), v.tolist(), y.tolist())]
    says = ["Gates: " + ", ".join(f"expert {k + 1} {a:.2f}" for k, a in enumerate(g_i)) + f"; water {yi:.2f} cups."
            for g_i, yi in zip(g.tolist(), y.tolist())]
    notes = [("transistors: gate × expert", 2.2, 1.1)]
    fig = _diagram(units, wires, notes)
    return Figure("attention-network", _json(fig),
                  [("parameters", str(num_parameters(model))),
                   ("experts", ", ".join(f"{k + 1}: {_grain(grain_of[k])}" for k in sorted(grain_of))),
                   ("train MSE", f"{mse(model, data.train):.4f}")],
                  [],
                  {"cups": _values(x), "darkness": _values(d),
                   **{f"gate {k + 1}": _values(g[:, k]) for k in range(k_all)}, "water": _values(y)},
                  controls=_controls(signals, on, labels, wires, says),
                  lab=ATTN3.query())

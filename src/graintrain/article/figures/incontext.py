"""Chapter 11: self-attention reads a recipe card. The card and three answers to it, error against
the card's length, the layer's weights beside the construction, and the lookup on a mixed card.

The two interactive figures ship the trained layers' weights (and each replay step's); the page
runs the same forward pass in the browser (``static/cards.js``) on the card the reader edits.
"""

from __future__ import annotations

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ...cards import RATIOS, best_step, gd_step, least_squares
from ...datasets import CUPS
from ...models import num_parameters
from ...runs import Run
from ...train import snapshot_model
from . import Figure, figure
from .plot import LINE_COLOURS, REPLAY, _json, _layout, _values, replay

CARD = Run(model="linear-self-attention", dataset="recipe-cards", snapshots=REPLAY)
MIXED = Run(model="self-attention", dataset="recipe-cards-mixed", snapshots=REPLAY)
LENGTHS = (1, 2, 4, 8, 16, 32)  # context lengths m of the sweep, each its own training run
SWEEP = {m: (Run(model="linear-self-attention", dataset="recipe-cards", m=m),
             Run(model="context-mlp", dataset="recipe-cards", m=m)) for m in LENGTHS}
ANSWERS = {"true water": "#6b7280", "the layer": LINE_COLOURS[0], "one GD step": LINE_COLOURS[1],
           "least squares": LINE_COLOURS[2]}
WIDE = dict(width=8, opacity=0.45)  # the layer's line, wide and pale, so that the GD step's shows on it
TOP = CUPS[1] + 0.5  # the plots' cups axis: the measured range and a little room


def _mse(answers: torch.Tensor, split) -> float:
    return (answers - split.y).pow(2).mean().item()


def _matrices(model) -> dict[str, list]:
    """A linear self-attention layer's four weights (rows as nn.Linear keeps them: out, in)."""
    return {name: getattr(model, name).weight.detach().tolist() for name in ("key", "query", "value", "project")}


@torch.no_grad()
def _layer_stats(model, near, eta: float) -> list[tuple[str, str]]:
    said = model(near.x, near.selector(model))  # (n,)
    gd = gd_step(near, eta)  # (n,)
    return [("held-out MSE, the layer", f"{_mse(said, near):.4f}"),
            ("held-out MSE, one GD step", f"{_mse(gd, near):.4f}"),
            ("held-out MSE, least squares", f"{_mse(least_squares(near), near):.5f}"),
            ("layer vs GD step: squared gap / spread", f"{((said - gd).pow(2).mean() / said.var()).item():.2%}")]


@figure("recipe-card", CARD)
def recipe_card(get) -> Figure:
    """One held-out card: its measured pairs (draggable on the page), the true line, and the
    answers of the trained layer, one GD step from w = 0 and least squares on the card."""
    t = get(CARD)
    data, near = t.data, t.data.near
    eta = best_step(data.train)
    card = near.subset(torch.arange(len(near)) == 0)  # the first held-out card
    xs, ys = card.context[0, :, 0], card.context[0, :, 1]  # (m,) each
    r = (card.y / card.x).item()  # the card's own ratio: its water is r·x_q, without noise
    with torch.no_grad():
        answers = {"true water": card.y, "the layer": t.model(card.x, card.selector(t.model)),
                   "one GD step": gd_step(card, eta), "least squares": least_squares(card)}
    fig = go.Figure()
    line = torch.tensor([0.0, TOP])
    for name, said in answers.items():  # each answer is a line through the origin: slope said / x_q
        slope = (said / card.x).item()
        fig.add_trace(go.Scatter(x=_values(line), y=_values(line * slope), mode="lines", name=name,
                                 line=dict(color=ANSWERS[name], width=WIDE["width"] if name == "the layer" else 2.5,
                                           dash="dash" if name == "true water" else "solid"),
                                 opacity=WIDE["opacity"] if name == "the layer" else 1))
    fig.add_trace(go.Scatter(x=[card.x.item()] * 4, y=[round(a.item(), 5) for a in answers.values()],
                             mode="markers", marker=dict(size=11, symbol="diamond", color=list(ANSWERS.values())),
                             name="answers for the query amount", showlegend=False))
    _layout(fig, height=420, dragmode=False)
    fig.update_xaxes(title_text="cups (x)", range=[0, TOP])
    fig.update_yaxes(title_text="water (y)", range=[0, RATIOS[1] * TOP])
    frames = replay([t], lambda ms: {}, lambda ms: _layer_stats(ms[0], near, eta))
    for i, frame in enumerate(frames):  # the page recomputes its lines from each step's weights
        frame["weights"] = _matrices(snapshot_model(t.fit, i))
    said = {name: f"{a.item():.3f}" for name, a in answers.items()}
    controls = {"kind": "card", "x": _values(xs), "noise": _values(ys - r * xs), "r": round(r, 5),
                "xq": round(card.x.item(), 5), "ratios": list(RATIOS), "cups": list(CUPS), "eta": round(eta, 6),
                "weights": _matrices(t.model), "answers": said}
    return Figure("recipe-card", _json(fig),
                  _layer_stats(t.model, near, eta)
                  + [("best GD step size η*", f"{eta:.4f}"), ("parameters", str(num_parameters(t.model))),
                     ("training cards", str(len(data.train)))],
                  frames,
                  {"cups": _values(xs), "water": _values(ys), "query cups": [_values(card.x)[0]],
                   **{f"{name} at the query": [float(v)] for name, v in said.items()}},
                  controls=controls, lab=CARD.query())


@figure("card-length", *(run for pair in SWEEP.values() for run in pair))
def card_length(get) -> Figure:
    """Held-out error against the card's length m, for queries in the measured range and at a pot
    of ten cups: the layer, one GD step, least squares and the ReLU network on the flat card."""
    names = ("the layer", "one GD step", "least squares", "ReLU network")
    rows: dict[str, list[float]] = {f"{n}, {w}": [] for w in ("in range", "10 cups") for n in names}
    gaps, sizes = [], {"layer": set(), "mlp": []}
    for m, (layer_run, mlp_run) in SWEEP.items():
        layer, mlp = get(layer_run), get(mlp_run)
        eta = best_step(layer.data.train)
        for where, split in (("in range", layer.data.near), ("10 cups", layer.data.far)):
            with torch.no_grad():
                said = layer.model(split.x, split.selector(layer.model))
                gd = gd_step(split, eta)
                net = mlp.model(split.x, split.selector(mlp.model))
            for name, a in zip(names, (said, gd, least_squares(split), net)):
                rows[f"{name}, {where}"].append(_mse(a, split))
            if where == "in range":
                gaps.append(((said - gd).pow(2).mean() / said.var()).item())
        sizes["layer"].add(num_parameters(layer.model))
        sizes["mlp"].append(num_parameters(mlp.model))
    colours = [*list(ANSWERS.values())[1:], LINE_COLOURS[3]]
    fig = make_subplots(rows=1, cols=2, subplot_titles=["queries in the measured range", "queries at 10 cups"],
                        horizontal_spacing=0.1)
    for col, where in enumerate(("in range", "10 cups"), 1):
        for name, colour in zip(names, colours):
            fig.add_trace(go.Scatter(x=list(LENGTHS), y=[round(v, 7) for v in rows[f"{name}, {where}"]],
                                     mode="lines+markers", name=name, legendgroup=name, showlegend=col == 1,
                                     line=dict(color=colour, width=WIDE["width"] if name == "the layer" else 2.5),
                                     opacity=WIDE["opacity"] if name == "the layer" else 1), row=1, col=col)
    _layout(fig, height=380)
    fig.update_xaxes(title_text="examples on the card (m)", type="log", tickvals=list(LENGTHS))
    fig.update_yaxes(type="log", tickformat="~g")  # each tick says its value, not "2" for 0.02
    fig.update_yaxes(title_text="held-out MSE", col=1)
    last = LENGTHS[-1]
    at = lambda name, where, d: f"{rows[f'{name}, {where}'][-1]:.{d}f}"  # noqa: E731
    return Figure("card-length", _json(fig),
                  [(f"m = {last}, in range: layer / GD step / least squares / network",
                    " / ".join(at(n, "in range", d) for n, d in zip(names, (3, 3, 5, 3)))),
                   (f"m = {last}, at 10 cups: layer / GD step / least squares / network",
                    " / ".join(at(n, "10 cups", d) for n, d in zip(names, (2, 2, 4, 2)))),
                   ("layer vs GD step, largest squared gap / spread", f"{max(gaps):.2%}"),
                   ("parameters: layer / network",
                    f"{'–'.join(map(str, sorted(sizes['layer'])))} / {sizes['mlp'][0]}–{sizes['mlp'][-1]}")],
                  [],
                  {"m": list(LENGTHS), **rows, "layer vs GD gap": gaps, "network parameters": sizes["mlp"]},
                  lab=SWEEP[last][0].query())


def _product_stats(model, eta: float) -> list[tuple[str, str]]:
    M = model.product()  # (2, 2)
    share = (M[0, 1] ** 2 + M[1, 0] ** 2) / M.square().sum()
    step = M[0, 1] + M[1, 0]
    return [("share of M in its x·y entries", f"{share.item():.1%}"),
            ("the layer's step, M_xy + M_yx", f"{step.item():.4f}"),
            ("its step over η*", f"{step.item() / eta:.2f}")]


@figure("card-weights", CARD)
def card_weights(get) -> Figure:
    """The layer's weights as the 2×2 matrix M that its answer reads, x_q·Σ_ab M_ab·mean_i(e_ia·e_ib),
    beside von Oswald et al.'s construction and its mirror image, which answer the same."""
    t = get(CARD)
    eta = best_step(t.data.train)
    names = ["xᵢ", "yᵢ"]
    made = torch.tensor([[0.0, 0.0], [eta, 0.0]])  # the value carries y, the key meets x_q with x
    panels = {"construction": made, "its mirror image": made.T, "trained layer": t.model.product()}
    fig = make_subplots(rows=1, cols=3, subplot_titles=list(panels), horizontal_spacing=0.08)
    top = 1.2 * max(eta, t.model.product().abs().max().item())
    for col, (title, M) in enumerate(panels.items(), 1):
        fig.add_trace(go.Heatmap(z=[_values(row) for row in M], x=names, y=names, zmin=-top, zmax=top,
                                 colorscale="RdBu", showscale=False, texttemplate="%{z:.3f}",
                                 hovertemplate="value carries %{y}, key reads %{x}: %{z:.4f}<extra>" + title + "</extra>"),
                      row=1, col=col)
    _layout(fig, height=300)
    fig.update_xaxes(title_text="the key reads", side="bottom")
    fig.update_yaxes(title_text="the value carries", col=1)
    fig.update_yaxes(autorange="reversed")
    learned = len(panels) - 1
    return Figure("card-weights", _json(fig),
                  _product_stats(t.model, eta) + [("best GD step size η*", f"{eta:.4f}")],
                  replay([t], lambda ms: {learned: {"z": [[_values(row) for row in ms[0].product()]]}},
                         lambda ms: _product_stats(ms[0], eta)),
                  {"value carries": names, **{f"{title}, key reads {b}": _values(M[:, j])
                                              for title, M in panels.items() for j, b in enumerate(names)}},
                  lab=CARD.query())

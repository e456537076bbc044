"""Chapter 11: the lookup. On a card that mixes grains, softmax self-attention puts its weight on the
examples of the grain the query asks about. The page recomputes the weights in the browser from the
model's five numbers (``static/cards.js``) as the reader moves the query's darkness and amount."""

from __future__ import annotations

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ...cards import SAME_GRAIN, least_squares, matching
from ...datasets import CUPS
from ...models import num_parameters
from ...train import snapshot_model
from . import Figure, figure
from .incontext import MIXED, TOP
from .plot import LINE_COLOURS, _json, _layout, _values, replay


def _groups(darkness: torch.Tensor) -> torch.Tensor:
    """(M,) each example's grain, numbered by darkness: a new grain wherever the sorted readings
    jump by more than two readings of one grain can differ (``cards.SAME_GRAIN``, as ``matching``)."""
    order = darkness.argsort()
    jumps = (darkness[order].diff() > SAME_GRAIN).long()  # (M-1,)
    group = torch.empty_like(order)
    group[order] = torch.cat([torch.zeros(1, dtype=torch.long), jumps.cumsum(0)])
    return group


def shown_card(near) -> int:
    """The held-out card the figure shows: the one whose grains' answers to its own question lie
    furthest apart, each grain's ratio read by least squares on its examples alone. On that card the
    darkness slider moves the answer the most, which is the figure's point."""
    spread = []
    for i in range(len(near)):
        x, y, d = near.context[i].unbind(-1)  # (M,) each
        group = _groups(d)
        ratios = torch.stack([(x * y)[group == g].sum() / x[group == g].square().sum()
                              for g in range(group.max().item() + 1)])  # (G,)
        spread.append((ratios.max() - ratios.min()) * near.x[i])
    return int(torch.stack(spread).argmax())


def _parameters(model) -> dict:
    return {"embed": model.embed.weight.detach().tolist(), "size": model.size.item()}


@torch.no_grad()
def _lookup_stats(model, near) -> list[tuple[str, str]]:
    said = model(near.x, near.selector(model))  # (n,) keeps the weights (n, M)
    own = matching(near)  # (n, M)
    on_own = (model.weights * own).sum(1)  # (n,)
    alone = least_squares(near, own)
    return [("held-out weight on the query's grain, mean", f"{on_own.mean().item():.2%}"),
            ("… on the worst card", f"{on_own.min().item():.2%}"),
            ("held-out MSE, self-attention", f"{(said - near.y).pow(2).mean().item():.5f}"),
            ("… least squares on the query's grain alone", f"{(alone - near.y).pow(2).mean().item():.5f}"),
            ("… least squares on the whole card", f"{(least_squares(near) - near.y).pow(2).mean().item():.3f}")]


@figure("card-lookup", MIXED)
def card_lookup(get) -> Figure:
    """A held-out mixed card (``shown_card``): each example sized by the weight the query gives it, the answer's
    line, and the weights as bars, examples in order of darkness."""
    t = get(MIXED)
    near = t.data.near
    card = near.subset(torch.arange(len(near)) == shown_card(near))
    xs, ys, ds = card.context[0].unbind(-1)  # (M,) each
    group = _groups(ds)  # (M,)
    order = ds.argsort()
    with torch.no_grad():
        said = t.model(card.x, card.selector(t.model))
    w = t.model.weights[0]  # (M,)
    colours = [LINE_COLOURS[g] for g in group.tolist()]
    fig = make_subplots(rows=2, cols=1, row_heights=[0.62, 0.38], vertical_spacing=0.16)
    fig.add_trace(go.Scatter(x=_values(xs), y=_values(ys), mode="markers", name="examples", showlegend=False,
                             marker=dict(color=colours, size=_values(6 + 30 * w.sqrt()), line=dict(width=1, color="#444")),
                             customdata=_values(ds), hovertemplate="%{x:.2f} cups → %{y:.2f} water, darkness %{customdata:.2f}<extra></extra>"),
                  row=1, col=1)
    slope = (said / card.x).item()
    fig.add_trace(go.Scatter(x=[0, TOP], y=[0, round(slope * TOP, 5)], mode="lines", name="its answer",
                             line=dict(color="#6b7280", width=2.5)), row=1, col=1)
    fig.add_trace(go.Scatter(x=[round(card.x.item(), 5)], y=[round(said.item(), 5)], mode="markers", name="query",
                             marker=dict(size=13, symbol="diamond", color="#6b7280")), row=1, col=1)
    fig.add_trace(go.Bar(x=list(range(1, len(order) + 1)), y=_values(w[order]), showlegend=False,
                         marker_color=[colours[i] for i in order.tolist()], name="weight"), row=2, col=1)
    _layout(fig, height=520)
    fig.update_xaxes(title_text="cups (x)", range=[0, TOP], row=1, col=1)
    fig.update_yaxes(title_text="water (y)", rangemode="tozero", row=1, col=1)
    fig.update_xaxes(title_text="examples, from palest to darkest", row=2, col=1)
    fig.update_yaxes(title_text="weight", range=[0, 1], row=2, col=1)
    frames = replay([t], lambda ms: {}, lambda ms: _lookup_stats(ms[0], near))
    for i, frame in enumerate(frames):
        frame["weights"] = _parameters(snapshot_model(t.fit, i))
    grains = group.max().item() + 1
    train_d = t.data.train.context[..., 2]  # the slider spans the darkness the training cards read
    controls = {"kind": "lookup", "x": _values(xs), "y": _values(ys), "d": _values(ds), "group": group.tolist(),
                "order": order.tolist(), "colours": LINE_COLOURS[:grains], "xq": round(card.x.item(), 5),
                "dq": round(card.z.item(), 5), "cups": list(CUPS),
                "darkness": [round(v, 2) for v in (train_d.min().item(), train_d.max().item())], "weights": _parameters(t.model),
                "answer": round(said.item(), 5)}
    return Figure("card-lookup", _json(fig),
                  _lookup_stats(t.model, near) + [("parameters", str(num_parameters(t.model))),
                                                  ("c, the weight of a bigger pot", f"{t.model.size.item():.3f}")],
                  frames,
                  {"cups": _values(xs), "water": _values(ys), "darkness": _values(ds), "grain": group.tolist(),
                   "weight": _values(w)},
                  controls=controls, lab=MIXED.query())

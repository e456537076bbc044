"""Recipe cards: each point is a whole task, a grain nobody has cooked before.

A card holds m measured pairs (x_i, y_i = r·x_i + noise) of one grain whose ratio r is drawn fresh
for every card, and a query amount x_q whose water r·x_q is the answer. No weight can store r: a
model must read it off the card, in context. In a Split, one task is one point: ``x`` is the query
amount, ``y`` the water it needs (without noise), ``context`` the card's pairs (n, m, 2), and
``z`` is 0. The mixed cards hold several grains of fresh ratios, each pair tagged with its darkness
(n, G·m, 3); the query's darkness, ``z``, says which grain is asked about, and ``label`` its rank
by darkness among the card's grains.

The baselines here need no training: least squares on the card, and one step of gradient descent
on it from w = 0, whose step size is chosen in closed form on the training tasks.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from .datasets import CUPS, FAR_CUPS, JITTER, Dataset, Split

RATIOS = (0.5, 4.0)  # each card's grain needs r ~ U(RATIOS) cups of water per cup
SAME_GRAIN = 2 * JITTER + 1e-6  # two readings this close may be of one grain; a card's grains lie further apart
NAN = float("nan")  # a card's ratio is its own: no true line is shared by the tasks


def _pairs(ratio: Tensor, shape: tuple[int, ...], noise: float, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """Amounts x ~ U(CUPS) and their measured water r·x + noise, for ratios broadcast over shape."""
    x = torch.empty(shape).uniform_(*CUPS, generator=gen)
    return x, ratio * x + noise * torch.randn(shape, generator=gen)


def _split(x: Tensor, y: Tensor, context: Tensor, far: bool, z: Tensor | None = None,
           label: Tensor | None = None) -> Split:
    n = len(x)
    return Split(x, torch.zeros(n) if z is None else z, y,
                 torch.zeros(n, dtype=torch.long) if label is None else label,
                 torch.full((n,), far), context=context)


def _tasks(n: int, near: int, far: int) -> list[tuple[int, bool]]:
    return [(n, False), (near, False), (far, True)]


def recipe_cards(n: int = 1000, noise: float = 0.1, seed: int = 0, m: int = 16) -> Dataset:
    """n cards of one grain each, r ~ U(0.5, 4): m pairs (x_i, r·x_i + noise), a query x_q ~ U(0.5, 4)
    and its water r·x_q. Held out: n/2 cards asked in range and n/4 asked about a pot of 10 cups."""
    gen = torch.Generator().manual_seed(seed)
    splits = []
    for count, far in _tasks(n, max(n // 2, 2), max(n // 4, 2)):
        r = torch.empty(count, 1).uniform_(*RATIOS, generator=gen)  # (count, 1)
        xi, yi = _pairs(r, (count, m), noise, gen)  # (count, m) each
        xq = torch.full((count,), FAR_CUPS) if far else torch.empty(count).uniform_(*CUPS, generator=gen)
        splits.append(_split(xq, r[:, 0] * xq, torch.stack([xi, yi], -1), far))  # context (count, m, 2)
    train, *test = splits
    return Dataset("recipe-cards", train, _join(test), noise, ("unknown grain",), torch.tensor([NAN]),
                   torch.zeros(1), {"m": m})


def recipe_cards_mixed(n: int = 1000, noise: float = 0.1, seed: int = 0, m: int = 8,
                       grains: int = 3) -> Dataset:
    """n cards, each with G grains of fresh ratios r_g ~ U(0.5, 4) and darkness d_g, one in each
    G-th of [0, 1] (never nearer than 1/(2G)); m pairs (x_i, y_i, d_i) of each grain, shuffled,
    readings jittered by ±0.01; the query x_q comes with a reading of one grain's darkness, and
    its water is that grain's r_g·x_q."""
    gen = torch.Generator().manual_seed(seed)
    g = grains
    splits = []
    for count, far in _tasks(n, max(n // 2, 2), max(n // 4, 2)):
        r = torch.empty(count, g).uniform_(*RATIOS, generator=gen)  # (count, G)
        d = (torch.arange(g) + torch.empty(count, g).uniform_(0.25, 0.75, generator=gen)) / g  # (count, G)
        owner = torch.arange(g).repeat(m)  # (G·m,) which grain each pair measures
        order = torch.rand(count, g * m, generator=gen).argsort(-1)  # (count, G·m) a shuffle per card
        owner = owner[order]  # (count, G·m)
        xi, yi = _pairs(r.gather(1, owner), (count, g * m), noise, gen)  # (count, G·m) each
        di = d.gather(1, owner) + torch.empty(count, g * m).uniform_(-JITTER, JITTER, generator=gen)
        asked = torch.randint(g, (count,), generator=gen)  # (count,) the query's grain
        xq = torch.full((count,), FAR_CUPS) if far else torch.empty(count).uniform_(*CUPS, generator=gen)
        zq = d[torch.arange(count), asked] + torch.empty(count).uniform_(-JITTER, JITTER, generator=gen)
        yq = r[torch.arange(count), asked] * xq  # (count,)
        splits.append(_split(xq, yq, torch.stack([xi, yi, di], -1), far, zq, asked))
    train, *test = splits
    return Dataset("recipe-cards-mixed", train, _join(test), noise,
                   tuple(f"grain {k + 1} by darkness" for k in range(g)), torch.full((g,), NAN),
                   torch.zeros(g), {"m": m, "grains": g})


def _join(splits: list[Split]) -> Split:
    names = [f.name for f in dataclasses.fields(Split)]
    return Split(*(None if getattr(splits[0], f) is None else torch.cat([getattr(s, f) for s in splits])
                   for f in names))


def matching(split: Split) -> Tensor:
    """(n, M) True where a mixed card's example is of the query's grain: its reading lies within
    the two readings' jitter of the query's (grains on one card are at least 1/(2G) apart)."""
    return (split.context[..., 2] - split.z[:, None]).abs() <= SAME_GRAIN


def least_squares(split: Split, mask: Tensor | None = None) -> Tensor:
    """(n,) each card's least-squares answer x_q·Σxy/Σx², on the examples where mask is True."""
    x, y = split.context[..., 0], split.context[..., 1]  # (n, M) each
    keep = torch.ones_like(x) if mask is None else mask.float()
    return split.x * (keep * x * y).sum(-1) / (keep * x * x).sum(-1)


def gd_step(split: Split, eta: float | Tensor) -> Tensor:
    """(n,) one step of gradient descent from w = 0 on the card's loss (1/2m)Σ(w·x_i − y_i)²:
    w = η·(1/m)Σ x_i·y_i, answered as w·x_q."""
    x, y = split.context[..., 0], split.context[..., 1]  # (n, m)
    return eta * (x * y).mean(-1) * split.x


def best_step(split: Split) -> float:
    """The step size η that makes one GD step's answers closest to the truth on these cards, in
    closed form: η = Σ g·y / Σ g², with g the answer of a unit step."""
    unit = gd_step(split, 1.0)  # (n,)
    return ((unit * split.y).sum() / unit.square().sum()).item()

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

from .datasets import CUPS, FAR_CUPS, JITTER, RATIO_RANGE, Dataset, Split

RATIOS = RATIO_RANGE.default  # each card's grain needs r ~ U(RATIOS) cups of water per cup, unless told
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


def recipe_cards(n: int, noise: float, seed: int, *, m: int,
                 ratios: tuple[float, float]) -> Dataset:
    """n cards of one grain each, r ~ U(ratios): m pairs (x_i, r·x_i + noise), a query x_q ~ U(0.5, 4)
    and its water r·x_q. Held out: n/2 cards asked in range and n/4 asked about a pot of 10 cups."""
    gen = torch.Generator().manual_seed(seed)
    splits = []
    for count, far in _tasks(n, max(n // 2, 2), max(n // 4, 2)):
        r = torch.empty(count, 1).uniform_(*ratios, generator=gen)  # (count, 1)
        xi, yi = _pairs(r, (count, m), noise, gen)  # (count, m) each
        xq = torch.full((count,), FAR_CUPS) if far else torch.empty(count).uniform_(*CUPS, generator=gen)
        splits.append(_split(xq, r[:, 0] * xq, torch.stack([xi, yi], -1), far))  # context (count, m, 2)
    train, *test = splits
    return Dataset("recipe-cards", train, _join(test), noise, ("unknown grain",), torch.tensor([NAN]),
                   torch.zeros(1), {"m": m})


def _shades(count: int, g: int, spacing: float | None, gen: torch.Generator) -> Tensor:
    """(count, G) each card's grains' darkness on the unit scale, darkest last: one in each G-th of
    [0, 1] (never nearer than 1/(2G)), or, given a spacing s, G grains s apart placed anywhere."""
    if spacing is None:
        return (torch.arange(g) + torch.empty(count, g).uniform_(0.25, 0.75, generator=gen)) / g
    span = (g - 1) * spacing
    if span > 1:
        raise ValueError(f"spacing {spacing:g} does not fit {g} grains on one scale: (grains − 1) × "
                         f"spacing must be at most 1, got {span:g}")
    return torch.empty(count, 1).uniform_(0, 1 - span, generator=gen) + spacing * torch.arange(g)


def recipe_cards_mixed(n: int, noise: float, seed: int, *, m: int, grains: int,
                       ratios: tuple[float, float], spacing: float | None, jitter: float,
                       readings: tuple[float, float]) -> Dataset:
    """n cards, each with G grains of fresh ratios r_g ~ U(ratios) and darkness d_g (``_shades``);
    m pairs (x_i, y_i, d_i) of each grain, shuffled, each reading jittered by ±jitter and given on the
    scale LOW..HIGH of ``readings``; the query x_q comes with a reading of one grain's darkness, and
    its water is that grain's r_g·x_q."""
    gen = torch.Generator().manual_seed(seed)
    g, (low, high) = grains, readings
    splits = []
    for count, far in _tasks(n, max(n // 2, 2), max(n // 4, 2)):
        r = torch.empty(count, g).uniform_(*ratios, generator=gen)  # (count, G)
        d = _shades(count, g, spacing, gen)  # (count, G)
        owner = torch.arange(g).repeat(m)  # (G·m,) which grain each pair measures
        order = torch.rand(count, g * m, generator=gen).argsort(-1)  # (count, G·m) a shuffle per card
        owner = owner[order]  # (count, G·m)
        xi, yi = _pairs(r.gather(1, owner), (count, g * m), noise, gen)  # (count, G·m) each
        di = d.gather(1, owner) + torch.empty(count, g * m).uniform_(-jitter, jitter, generator=gen)
        asked = torch.randint(g, (count,), generator=gen)  # (count,) the query's grain
        xq = torch.full((count,), FAR_CUPS) if far else torch.empty(count).uniform_(*CUPS, generator=gen)
        zq = d[torch.arange(count), asked] + torch.empty(count).uniform_(-jitter, jitter, generator=gen)
        yq = r[torch.arange(count), asked] * xq  # (count,)
        di, zq = low + (high - low) * di, low + (high - low) * zq  # on the meter's own scale
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
    the two readings' jitter of the query's. Exact on the default cards, whose grains are at least
    1/(2G) apart on a 0-to-1 scale; ``own_grain`` needs neither."""
    return (split.context[..., 2] - split.z[:, None]).abs() <= SAME_GRAIN


def own_grain(split: Split, grains: int) -> Tensor:
    """(n, M) True where a mixed card's example is of the query's grain, on any scale and at any
    jitter that keeps the grains' readings apart: sorted by reading, a card's examples come in G
    blocks of equal size, one per grain, and the query's label is its grain's rank by darkness."""
    rank = split.context[..., 2].argsort(-1).argsort(-1)  # (n, M) each example's place by reading
    return rank // (rank.shape[-1] // grains) == split.label[:, None]


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

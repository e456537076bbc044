"""The grain data: cups of grain measured against the water each needs, one kind of grain or several.

Every generator has the signature ``(n, noise, seed, **options) -> Dataset``; ``datasets.DATASETS``
names them.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .datasets import CUPS, FAR_CUPS, GRAINS, JITTER, Dataset, Split


def _grain_points(grains: list[str], darkness: dict[str, float], n: int, noise: float,
                  gen: torch.Generator, cups: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """n points shared evenly among grains, each grain cooked at the same amounts x ~ U(CUPS).

    Shared amounts keep a grain's share of big pots equal, so a single line lands between them.
    """
    label = torch.arange(n) % len(grains)  # (n,)
    if cups is None:
        amounts = torch.empty(-(-n // len(grains))).uniform_(*CUPS, generator=gen)  # (⌈n/C⌉,)
        cups = amounts.repeat_interleave(len(grains))[:n]  # (n,) each amount once per grain
    x = cups  # (n,)
    d0 = torch.tensor([darkness[g] for g in grains])[label]  # (n,)
    jitter = torch.empty(n).uniform_(-JITTER, JITTER, generator=gen)  # (n,)
    z = (d0 + jitter).clamp(0.0, 1.0)  # (n,)
    ratio = torch.tensor([GRAINS[g].ratio for g in grains])[label]  # (n,)
    y = ratio * x + noise * torch.randn(n, generator=gen)  # (n,)
    return x, z, y, label


def _grains(train_grains: list[str], test_grains: list[str], n: int, noise: float, seed: int,
            name: str, darkness: tuple[float, ...] | None = None) -> Dataset:
    """Train on some grains; test on fresh in-range points and at FAR_CUPS for each test grain.

    ``darkness`` gives each grain's meter reading, in the order train grains then new test grains;
    None keeps the grains' own.
    """
    classes = list(dict.fromkeys(train_grains + test_grains))  # train grains first, in order
    if darkness is None:
        darkness = tuple(GRAINS[g].darkness for g in classes)
    if len(darkness) != len(classes) or not all(0 <= d <= 1 for d in darkness):
        raise ValueError(f"darkness takes {len(classes)} readings from 0 to 1, one for each of "
                         f"{', '.join(classes)}; got {','.join(f'{d:g}' for d in darkness)}")
    reading = dict(zip(classes, darkness))
    gen = torch.Generator().manual_seed(seed)
    x, z, y, label = _grain_points(train_grains, reading, n, noise, gen)
    train = Split(x, z, y, label, torch.zeros(n, dtype=torch.bool))

    m = max(n // 2, 2 * len(test_grains))  # in-range test points
    far = 4 * len(test_grains)  # a few big pots per grain
    tx, tz, ty, tl = _grain_points(test_grains, reading, m, noise, gen)
    fx, fz, fy, fl = _grain_points(test_grains, reading, far, noise, gen, cups=torch.full((far,), FAR_CUPS))
    remap = torch.tensor([classes.index(g) for g in test_grains])  # test-grain index -> class index
    test = Split(torch.cat([tx, fx]), torch.cat([tz, fz]), torch.cat([ty, fy]),
                 remap[torch.cat([tl, fl])], torch.cat([torch.zeros(m), torch.ones(far)]).bool())
    ratios = torch.tensor([GRAINS[g].ratio for g in classes])
    d = torch.tensor(darkness)  # (C,)
    regions = torch.stack([(d - JITTER).clamp(0, 1), (d + JITTER).clamp(0, 1)], -1)  # (C, 2)
    options = {} if darkness == tuple(GRAINS[g].darkness for g in classes) else {"darkness": darkness}
    return Dataset(name, train, test, noise, tuple(classes), ratios, torch.zeros(len(classes)),
                   options, regions)


def white(n: int, noise: float, seed: int,
        *, darkness: tuple[float, ...] | None) -> Dataset:
    """White rice alone: y = 2x + noise."""
    return _grains(["white"], ["white"], n, noise, seed, "white", darkness)


def brown(n: int, noise: float, seed: int,
        *, darkness: tuple[float, ...] | None) -> Dataset:
    """Brown rice alone: y = 3x + noise."""
    return _grains(["brown"], ["brown"], n, noise, seed, "brown", darkness)


def white_brown(n: int, noise: float, seed: int,
        *, darkness: tuple[float, ...] | None) -> Dataset:
    """White and brown rice together, told apart only by their darkness."""
    return _grains(["white", "brown"], ["white", "brown"], n, noise, seed, "white+brown", darkness)


def bran(n: int, noise: float, seed: int,
        *, darkness: tuple[float, ...] | None) -> Dataset:
    """White and brown rice to train on; the half-bran rice (d = 0.25) appears only in the test set."""
    return _grains(["white", "brown"], ["white", "brown", "half-bran"], n, noise, seed, "bran", darkness)


def three_grains(n: int, noise: float, seed: int,
        *, darkness: tuple[float, ...] | None) -> Dataset:
    """White rice, brown rice and the franken-grain, whose ratio breaks the darkness trend."""
    grains = ["white", "brown", "franken"]
    return _grains(grains, grains, n, noise, seed, "three-grains", darkness)


def curve_water(x: Tensor) -> Tensor:
    """The water a made-up grain needs for x cups: x²/2, a curve that bends at every amount, so no
    line follows it and a ReLU network can only trace it with kinks spread over the measured cups."""
    return x.square() / 2


def curve(n: int, noise: float, seed: int) -> Dataset:
    """One made-up grain, darkness 0, whose water is ``curve_water``: n pots x ~ U(CUPS) to train,
    n/2 more held out in range and four at FAR_CUPS. The noise is small, so that every further
    straight piece a network adds can still be seen to bring it closer to the curve."""
    gen = torch.Generator().manual_seed(seed)
    near, far = max(n // 2, 2), 4
    x = torch.cat([torch.empty(n + near).uniform_(*CUPS, generator=gen), torch.full((far,), FAR_CUPS)])
    y = curve_water(x) + noise * torch.randn(len(x), generator=gen)
    z, label = torch.zeros(len(x)), torch.zeros(len(x), dtype=torch.long)
    beyond = torch.arange(len(x)) >= n + near  # the big pots
    train = Split(x[:n], z[:n], y[:n], label[:n], beyond[:n])
    test = Split(x[n:], z[n:], y[n:], label[n:], beyond[n:])
    return Dataset("curve", train, test, noise, ("curved grain",), torch.tensor([float("nan")]), torch.zeros(1))

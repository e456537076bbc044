"""The grain data and the switchboard data, in one registry by name.

Every generator has the signature ``(n, noise, seed, **options) -> Dataset``: ``n`` training points,
Gaussian noise of standard deviation ``noise`` on the water, and a seed that fixes every random draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import Tensor

from .options import Option, check_options

CUPS = (0.5, 4.0)  # the range of cups of grain measured for training
FAR_CUPS = 10.0  # a big pot, far outside the measured range: the extrapolation test
JITTER = 0.01  # half-width of the uniform wobble in a grain's measured darkness


@dataclass(frozen=True)
class Grain:
    """One kind of grain: its darkness d (0 white .. 1 black) and the cups of water it needs per cup."""

    name: str
    darkness: float
    ratio: float


GRAINS = {
    "white": Grain("white rice", 0.0, 2.0),
    "round-white": Grain("round white rice", 0.0, 1.5),  # white rice's look-alike to a darkness meter
    "half-bran": Grain("half-bran rice", 0.25, 2.5),
    "brown": Grain("brown rice", 0.5, 3.0),
    "franken": Grain("franken-grain", 0.95, 1.0),
}


@dataclass
class Split:
    """A set of points: cups x, selector z (darkness for grains), water y, the true class label, and
    for some data a photo of each point's grain."""

    x: Tensor  # (n,)
    z: Tensor  # (n,)
    y: Tensor  # (n,)
    label: Tensor  # (n,) int64 index into Dataset.classes
    far: Tensor  # (n,) bool: True where x lies outside the training range
    photo: Tensor | None = None  # (n, 3, H, W) colours from 0 to 1, or None: no camera
    context: Tensor | None = None  # (n, m, 2) or (n, m, 3): each task's measured (x_i, y_i[, d_i])

    def __len__(self) -> int:
        return len(self.x)

    def subset(self, mask: Tensor) -> "Split":
        """The points where ``mask`` is True."""
        photo = None if self.photo is None else self.photo[mask]
        context = None if self.context is None else self.context[mask]
        return Split(self.x[mask], self.z[mask], self.y[mask], self.label[mask], self.far[mask], photo,
                     context)

    def selector(self, model) -> Tensor:
        """What ``model`` chooses by: the photos for a model that reads them, the recipe card (the
        context's examples, then the query token) for one that reads in context, else the reading z."""
        reads = getattr(model, "reads", "z")
        if reads == "context":
            return self.card(type(model).__name__)
        if reads != "photo":
            return self.z
        if self.photo is None:
            raise ValueError(f"{type(model).__name__} reads photos of the grains; these points have none")
        return self.photo

    def card(self, reader: str = "this model") -> Tensor:
        """Each task's examples followed by its query token, (n, m + 1, C): (x_i, y_i[, d_i]) for
        i = 1..m, then (x_q, 0[, z_q]), whose water is the blank the model fills in."""
        if self.context is None:
            raise ValueError(f"{reader} reads a recipe card of measured examples; these points have none")
        query = torch.stack([self.x, torch.zeros_like(self.x), self.z][:self.context.shape[-1]], -1)  # (n, C)
        return torch.cat([self.context, query.unsqueeze(1)], 1)  # (n, m + 1, C)


@dataclass
class Dataset:
    """A training split, a test split (held-out points in range, plus far ones), and the truth."""

    name: str
    train: Split
    test: Split
    noise: float
    classes: tuple[str, ...]  # what each label means: a grain, or a switchboard line
    slopes: Tensor  # (C,) the true y-per-x of each class
    intercepts: Tensor  # (C,) the true y at x = 0 of each class
    options: dict = field(default_factory=dict)
    regions: Tensor | None = None  # (C, 2) the interval of z each class owns, low then high (NaN: unknown)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def near(self) -> Split:
        """The held-out points inside the training range."""
        return self.test.subset(~self.test.far)

    @property
    def far(self) -> Split:
        """The held-out points beyond it: the extrapolation test."""
        return self.test.subset(self.test.far)


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


def white(n: int = 40, noise: float = 0.1, seed: int = 0,
        darkness: tuple[float, ...] | None = None) -> Dataset:
    """White rice alone: y = 2x + noise."""
    return _grains(["white"], ["white"], n, noise, seed, "white", darkness)


def brown(n: int = 40, noise: float = 0.1, seed: int = 0,
        darkness: tuple[float, ...] | None = None) -> Dataset:
    """Brown rice alone: y = 3x + noise."""
    return _grains(["brown"], ["brown"], n, noise, seed, "brown", darkness)


def white_brown(n: int = 80, noise: float = 0.1, seed: int = 0,
        darkness: tuple[float, ...] | None = None) -> Dataset:
    """White and brown rice together, told apart only by their darkness."""
    return _grains(["white", "brown"], ["white", "brown"], n, noise, seed, "white+brown", darkness)


def bran(n: int = 80, noise: float = 0.1, seed: int = 0,
        darkness: tuple[float, ...] | None = None) -> Dataset:
    """White and brown rice to train on; the half-bran rice (d = 0.25) appears only in the test set."""
    return _grains(["white", "brown"], ["white", "brown", "half-bran"], n, noise, seed, "bran", darkness)


def three_grains(n: int = 120, noise: float = 0.1, seed: int = 0,
        darkness: tuple[float, ...] | None = None) -> Dataset:
    """White rice, brown rice and the franken-grain, whose ratio breaks the darkness trend."""
    grains = ["white", "brown", "franken"]
    return _grains(grains, grains, n, noise, seed, "three-grains", darkness)


REGIONS = ("equal", "random")
ORDERS = ("sorted", "shuffled")
MIN_WIDTH = 0.25  # with random widths, no region is narrower than this share of an equal one


def switchboard(n: int = 500, noise: float = 0.05, seed: int = 0, lines: int = 5,
                regions: str = "equal", order: str = "sorted",
                selector_range: tuple[float, float] = (0.0, 1.0), selector_noise: float = 0.0) -> Dataset:
    """K random lines y = s_k·x + c_k, s ~ U(-3, 3), c ~ U(-1, 1); z ~ U(low, high) picks the line
    whose region of z holds it. Regions are equal or of random width; the lines sit along z in
    order (line 1 lowest) or shuffled; the reading of z may carry Gaussian noise (its standard
    deviation a share of the range), so that near a border it can fall in the neighbour's region."""
    low, high = selector_range  # lines, regions, order and LOW < HIGH: checked by SWITCHBOARD_OPTIONS
    if high - low < 1e-4 * max(abs(low), abs(high)) or high - low < 1e-30:
        raise ValueError(f"selector_range {low:g},{high:g} is too narrow for its size: z is stored in "
                         "32-bit floats, which could not tell the regions apart")
    k = lines
    gen = torch.Generator().manual_seed(seed)
    slopes = torch.empty(k).uniform_(-3, 3, generator=gen)  # (K,)
    intercepts = torch.empty(k).uniform_(-1, 1, generator=gen)  # (K,)
    # Draws for the variants come from their own generator, so the standard switchboard's points
    # are the same as before the variants existed.
    shape = torch.Generator().manual_seed(seed + 7919)
    reading = torch.Generator().manual_seed(seed + 104729)
    if regions == "random":
        share = -torch.empty(k).uniform_(0, 1, generator=shape).log()  # (K,) Dirichlet(1) by gamma draws
        width = MIN_WIDTH / k + (1 - MIN_WIDTH) * share / share.sum()  # (K,)
    else:
        width = torch.full((k,), 1 / k)  # (K,)
    edges = torch.cat([torch.zeros(1), width.cumsum(0)]).clamp(max=1.0)  # (K+1,) on the unit scale
    edges[-1] = 1.0
    owner = torch.randperm(k, generator=shape) if order == "shuffled" else torch.arange(k)  # (K,)
    span = high - low

    def points(m: int, lo: float, hi: float, far_from: float | None = None) -> Split:
        x = torch.empty(m).uniform_(lo, hi, generator=gen)  # (m,)
        if far_from is not None:  # push x beyond ±far_from, keeping its sign
            x = x.sign() * (far_from + x.abs() * (hi - far_from) / hi)
        u = torch.rand(m, generator=gen)  # (m,) the selector on the unit scale
        slot = (torch.bucketize(u, edges[1:-1], right=True)).clamp(max=k - 1)  # (m,) region along z
        label = owner[slot]  # (m,)
        y = slopes[label] * x + intercepts[label] + noise * torch.randn(m, generator=gen)  # (m,)
        far = torch.full((m,), far_from is not None)
        if selector_noise > 0:
            u = u + selector_noise * torch.randn(m, generator=reading)  # (m,) what the meter reads
        return Split(x, low + span * u, y, label, far)

    train = points(n, -1.0, 1.0)
    near, out = points(max(n // 2, 2), -1.0, 1.0), points(max(n // 2, 2), -2.0, 2.0, far_from=1.0)
    test = Split(*(torch.cat([a, b]) for a, b in zip(
        (near.x, near.z, near.y, near.label, near.far), (out.x, out.z, out.y, out.label, out.far))))
    classes = tuple(f"line {i + 1}" for i in range(k))
    bounds = low + span * torch.stack([edges[:-1], edges[1:]], -1)  # (K, 2) region by position
    owned = torch.empty_like(bounds)
    owned[owner] = bounds  # (K, 2) region by line
    options = {"lines": k, "regions": regions, "order": order,
               "selector_range": (float(low), float(high)), "selector_noise": selector_noise}
    return Dataset("switchboard", train, test, noise, classes, slopes, intercepts, options, owned)


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry: the generator, one line that says what it holds, and its options."""

    make: Callable[..., Dataset]
    about: str
    options: tuple[Option, ...] = ()
    photos: bool = False  # each point comes with a photo of its grain
    context: int = 0  # each point is a task with a context of measured examples: their channels (2 or 3)


def _darkness(count: int, grains: str) -> Option:
    return Option("darkness", "floats", None, f"meter readings from 0 to 1 for {grains}, "
                  f"in that order (default: each grain's own)", low=0.0, high=1.0, length=count)


SWITCHBOARD_OPTIONS = (
    Option("lines", "int", 5, "number of hidden lines K", low=1, high=16),
    Option("regions", "choice", "equal", "width of each line's region of z: equal or random",
           choices=REGIONS),
    Option("order", "choice", "sorted", "where the lines sit along z: in order or shuffled",
           choices=ORDERS),
    Option("selector_range", "floats", (0.0, 1.0), "the range LOW,HIGH the selector z is read on",
           low=-1e6, high=1e6, length=2, increasing=True),
    Option("selector_noise", "float", 0.0, "noise on each reading of z, as a share of its range",
           low=0.0, high=1.0),
)

from .photos import grain_photos  # noqa: E402  photos.py builds on _grains above
from .cards import CARD_OPTIONS, MIXED_OPTIONS, recipe_cards, recipe_cards_mixed  # noqa: E402

DATASETS: dict[str, DatasetSpec] = {
    "white": DatasetSpec(white, "white rice only: 2 cups of water per cup", (_darkness(1, "white"),)),
    "brown": DatasetSpec(brown, "brown rice only: 3 cups of water per cup", (_darkness(1, "brown"),)),
    "white+brown": DatasetSpec(white_brown, "both rices, with their darkness",
                               (_darkness(2, "white, brown"),)),
    "bran": DatasetSpec(bran, "white+brown to train; half-bran rice (d=0.25) held out to test",
                        (_darkness(3, "white, brown, half-bran"),)),
    "three-grains": DatasetSpec(three_grains, "white, brown and the franken-grain (d=0.95, 1 cup)",
                                (_darkness(3, "white, brown, franken"),)),
    "grain-photos": DatasetSpec(grain_photos, "white, round white and brown rice, each with a 24×24 photo",
                                (_darkness(3, "white, round-white, brown"),), photos=True),
    "switchboard": DatasetSpec(switchboard, "K random lines; a selector z picks one by its region",
                               SWITCHBOARD_OPTIONS),
    "recipe-cards": DatasetSpec(recipe_cards, "each point a task: m measured pairs of a grain of fresh "
                                "ratio r ~ U(0.5, 4), then a query x", CARD_OPTIONS, context=2),
    "recipe-cards-mixed": DatasetSpec(recipe_cards_mixed, "each task mixes grains of fresh ratios, "
                                      "each pair tagged with its darkness; the query's darkness picks one",
                                      MIXED_OPTIONS, context=3),
}


# Every generated dataset takes these two; None leaves each dataset's own default.
DATA_OPTIONS = (
    Option("n", "int", None, "number of training points (default: the dataset's own)", low=4, high=20_000,
           label="points"),
    Option("noise", "float", None, "noise standard deviation on the water (default: the dataset's own)",
           low=0.0, high=5.0),
)


def dataset_options(name: str, options: dict) -> dict:
    """The options checked against the dataset's declarations; OptionError names any that do not apply."""
    return check_options(DATASETS, name, options, "dataset")


def make_dataset(name: str, n: int | None = None, noise: float | None = None, seed: int = 0,
                 **options) -> Dataset:
    """Build a registered dataset by name; n and noise default to the generator's own defaults."""
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    common = {o.name: o.check(v) for o, v in zip(DATA_OPTIONS, (n, noise)) if v is not None}
    return DATASETS[name].make(seed=seed, **common, **dataset_options(name, options))

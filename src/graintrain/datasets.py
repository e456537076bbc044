"""The grain data and the switchboard data, in one registry by name.

Every generator has the signature ``(n, noise, seed, **options) -> Dataset``: ``n`` training points,
Gaussian noise of standard deviation ``noise`` on the water, and a seed that fixes every random draw.
The registry names each generator by where it lives (grains.py, switchboard.py, photos.py,
cards.py), which is imported when a dataset is made: listing the datasets, or making the command
line's flags from their options, does not import PyTorch, which takes over a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .options import Option, check_options, load, with_defaults

if TYPE_CHECKING:
    from torch import Tensor

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


READS = ("z", "photo", "context")  # what a model's class may say it reads (Split.selector)


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
        context's examples, then the query token) for one that reads in context, else the reading z.
        Each model class declares which, as ``reads = "z"``, ``"photo"`` or ``"context"``."""
        reads = getattr(type(model), "reads", None)  # None: a class that does not say
        if reads not in READS:
            raise ValueError(f"{type(model).__name__} does not declare what it reads: give its class "
                             f"reads = one of {', '.join(map(repr, READS))}")
        if reads == "context":
            return self.card(type(model).__name__)
        if reads == "z":
            return self.z
        if self.photo is None:
            raise ValueError(f"{type(model).__name__} reads photos of the grains; these points have none")
        return self.photo

    def card(self, reader: str = "this model") -> Tensor:
        """Each task's examples followed by its query token, (n, m + 1, C): (x_i, y_i[, d_i]) for
        i = 1..m, then (x_q, 0[, z_q]), whose water is the blank the model fills in."""
        import torch  # here, so that the registry reads without PyTorch; a Split means it is loaded

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
    labelled: bool = True  # False: the points carry no class (an upload without labels), one "class" in all

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


REGIONS = ("equal", "random")
ORDERS = ("sorted", "shuffled")


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry: the generator, one line that says what it holds, and its options."""

    where: str  # the generator, as "module:function" in graintrain: "grains:white"
    about: str
    n: int  # training points, unless a run asks for another number
    noise: float  # the standard deviation of the noise on the water, unless a run asks for another
    options: tuple[Option, ...] = ()
    photos: bool = False  # each point comes with a photo of its grain
    context: int = 0  # each point is a task with a context of measured examples: their channels (2 or 3)

    @property
    def make(self) -> Callable[..., Dataset]:
        """The generator itself, imported now (with PyTorch)."""
        return load(self.where)


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


# The photos' options: photos.grain_photos takes its defaults from here.
PHOTO_OPTIONS = (
    Option("darkness", "floats", None, "meter readings from 0 to 1 for white, round-white, brown and half-bran "
           "rice, as many as there are grains (default: each grain's own)", low=0.0, high=1.0, most=4),
    Option("grains", "int", 3, "grains photographed: 2 the two white rices, 3 adds brown rice, 4 half-bran rice",
           low=2, high=4),
    Option("look", "floats", (5.0, 4.0), "round white rice's half-length,half-width in pixels of a 24-pixel "
           "photo (white rice is 8,2.8)", low=1.0, high=10.0, length=2, label="look-alike's shape"),
    Option("lighting", "float", 1.0, "how far each photo's brightness, light gradient, tint and pixel noise "
           "stray: 0 not at all, 1 the default, 2 twice as far", low=0.0, high=3.0),
    Option("size", "int", 24, "photo width and height in pixels; the grains scale with it", low=8, high=64,
           label="photo size"),
)


def _context_length(default: int, help: str) -> Option:
    """The context length m, one bound for both kinds of card."""
    return Option("m", "int", default, help, low=1, high=64, label="context length m")


RATIO_RANGE = Option("ratios", "floats", (0.5, 4.0), "the range LOW,HIGH each card's ratio r is drawn from",
                     low=0.0, high=100.0, length=2, increasing=True)
CARD_OPTIONS = (_context_length(16, "measured examples on each card (of each grain, for mixed cards)"),
                RATIO_RANGE)
MIXED_OPTIONS = (_context_length(8, "measured examples of each grain on each card"),
                 Option("grains", "int", 3, "grains on each mixed card", low=2, high=5),
                 RATIO_RANGE,
                 Option("spacing", "float", None, "darkness between neighbouring grains on a card, as a share "
                        "of the scale (default: one grain in each G-th of it)", low=0.0, high=1.0, low_open=True),
                 Option("jitter", "float", JITTER, "half-width of the wobble on each darkness reading, as a "
                        "share of the scale", low=0.0, high=0.25),
                 Option("readings", "floats", (0.0, 1.0), "the scale LOW,HIGH the darkness meter reads on",
                        low=-1e6, high=1e6, length=2, increasing=True))

DATASETS: dict[str, DatasetSpec] = {
    "white": DatasetSpec("grains:white", "white rice only: 2 cups of water per cup", 40, 0.1,
                         (_darkness(1, "white"),)),
    "brown": DatasetSpec("grains:brown", "brown rice only: 3 cups of water per cup", 40, 0.1,
                         (_darkness(1, "brown"),)),
    "white+brown": DatasetSpec("grains:white_brown", "both rices, with their darkness", 80, 0.1,
                               (_darkness(2, "white, brown"),)),
    "bran": DatasetSpec("grains:bran", "white+brown to train; half-bran rice (d=0.25) held out to test", 80, 0.1,
                        (_darkness(3, "white, brown, half-bran"),)),
    "three-grains": DatasetSpec("grains:three_grains", "white, brown and the franken-grain (d=0.95, 1 cup)",
                                120, 0.1, (_darkness(3, "white, brown, franken"),)),
    "curve": DatasetSpec("grains:curve", "one made-up grain whose water bends: x²/2 cups for x cups", 200, 0.02),
    "grain-photos": DatasetSpec("photos:grain_photos", "white, round white and brown rice (half-bran too with "
                                "--grains 4), each with a photo of its grain", 360, 0.1, PHOTO_OPTIONS, photos=True),
    "switchboard": DatasetSpec("switchboard:switchboard", "K random lines; a selector z picks one by its region",
                               500, 0.05, SWITCHBOARD_OPTIONS),
    "recipe-cards": DatasetSpec("cards:recipe_cards", "each point a task: m measured pairs of a grain of fresh "
                                "ratio r ~ U(0.5, 4), then a query x", 1000, 0.1, CARD_OPTIONS, context=2),
    "recipe-cards-mixed": DatasetSpec("cards:recipe_cards_mixed", "each task mixes grains of fresh ratios, "
                                      "each pair tagged with its darkness; the query's darkness picks one",
                                      1000, 0.1, MIXED_OPTIONS, context=3),
}


# Every generated dataset takes these two; None leaves each dataset's own default.
DATA_OPTIONS = (
    POINTS := Option("n", "int", None, "number of training points (default: the dataset's own)", low=4, high=20_000,
           label="points"),
    Option("noise", "float", None, "noise standard deviation on the water (default: the dataset's own)",
           low=0.0, high=5.0),
)


def dataset_options(name: str, options: dict) -> dict:
    """The options checked against the dataset's declarations; OptionError names any that do not apply."""
    return check_options(DATASETS, name, options, "dataset")


def make_dataset(name: str, n: int | None = None, noise: float | None = None, seed: int = 0,
                 **options) -> Dataset:
    """Build a registered dataset by name, its settings checked; n, noise and the options the run
    leaves out take the dataset's declared defaults."""
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    spec = DATASETS[name]
    n, noise = (spec_value if v is None else o.check(v)
                for o, v, spec_value in zip(DATA_OPTIONS, (n, noise), (spec.n, spec.noise)))
    return generate(name, n, noise, seed, **with_defaults(spec.options, dataset_options(name, options)))


def generate(name: str, n: int, noise: float, seed: int, **options) -> Dataset:
    """A registered dataset from settings already checked and filled (make_dataset, a run's plan)."""
    data = DATASETS[name].make(n=n, noise=noise, seed=seed, **options)
    data.options = {**options, **data.options}  # what it was made with, so a run can tell (Run.fit)
    return data

"""The grain data and the switchboard data, in one registry by name.

Every generator has the signature ``(n, noise, seed, **options) -> Dataset``: ``n`` training points,
Gaussian noise of standard deviation ``noise`` on the water, and a seed that fixes every random draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
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
    "half-bran": Grain("half-bran rice", 0.25, 2.5),
    "brown": Grain("brown rice", 0.5, 3.0),
    "franken": Grain("franken-grain", 0.95, 1.0),
}


@dataclass
class Split:
    """A set of points: cups x, selector z (darkness for grains), water y, and the true class label."""

    x: Tensor  # (n,)
    z: Tensor  # (n,)
    y: Tensor  # (n,)
    label: Tensor  # (n,) int64 index into Dataset.classes
    far: Tensor  # (n,) bool: True where x lies outside the training range

    def __len__(self) -> int:
        return len(self.x)

    def subset(self, mask: Tensor) -> "Split":
        """The points where ``mask`` is True."""
        return Split(self.x[mask], self.z[mask], self.y[mask], self.label[mask], self.far[mask])


@dataclass
class Dataset:
    """A training split, a test split (held-out points in range, plus far ones), and the truth."""

    name: str
    train: Split
    test: Split
    noise: float
    classes: tuple[str, ...]  # what each label means: a grain, or a switchboard relationship
    slopes: Tensor  # (C,) the true y-per-x of each class
    intercepts: Tensor  # (C,) the true y at x = 0 of each class
    options: dict = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def _grain_points(grains: list[str], n: int, noise: float, gen: torch.Generator,
                  cups: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """n points shared evenly among grains, each grain cooked at the same amounts x ~ U(CUPS).

    Shared amounts keep a grain's share of big pots equal, so a single line lands between them.
    """
    label = torch.arange(n) % len(grains)  # (n,)
    if cups is None:
        amounts = torch.empty(-(-n // len(grains))).uniform_(*CUPS, generator=gen)  # (⌈n/C⌉,)
        cups = amounts.repeat_interleave(len(grains))[:n]  # (n,) each amount once per grain
    x = cups  # (n,)
    d0 = torch.tensor([GRAINS[g].darkness for g in grains])[label]  # (n,)
    jitter = torch.empty(n).uniform_(-JITTER, JITTER, generator=gen)  # (n,)
    z = (d0 + jitter).clamp(0.0, 1.0)  # (n,)
    ratio = torch.tensor([GRAINS[g].ratio for g in grains])[label]  # (n,)
    y = ratio * x + noise * torch.randn(n, generator=gen)  # (n,)
    return x, z, y, label


def _grains(train_grains: list[str], test_grains: list[str], n: int, noise: float, seed: int,
            name: str) -> Dataset:
    """Train on some grains; test on fresh in-range points and at FAR_CUPS for each test grain."""
    gen = torch.Generator().manual_seed(seed)
    x, z, y, label = _grain_points(train_grains, n, noise, gen)
    train = Split(x, z, y, label, torch.zeros(n, dtype=torch.bool))

    classes = list(dict.fromkeys(train_grains + test_grains))  # train grains first, in order
    m = max(n // 2, 2 * len(test_grains))  # in-range test points
    far = 4 * len(test_grains)  # a few big pots per grain
    tx, tz, ty, tl = _grain_points(test_grains, m, noise, gen)
    fx, fz, fy, fl = _grain_points(test_grains, far, noise, gen, cups=torch.full((far,), FAR_CUPS))
    remap = torch.tensor([classes.index(g) for g in test_grains])  # test-grain index -> class index
    test = Split(torch.cat([tx, fx]), torch.cat([tz, fz]), torch.cat([ty, fy]),
                 remap[torch.cat([tl, fl])], torch.cat([torch.zeros(m), torch.ones(far)]).bool())
    ratios = torch.tensor([GRAINS[g].ratio for g in classes])
    return Dataset(name, train, test, noise, tuple(classes), ratios, torch.zeros(len(classes)))


def white(n: int = 40, noise: float = 0.1, seed: int = 0) -> Dataset:
    """White rice alone: y = 2x + noise."""
    return _grains(["white"], ["white"], n, noise, seed, "white")


def brown(n: int = 40, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Brown rice alone: y = 3x + noise."""
    return _grains(["brown"], ["brown"], n, noise, seed, "brown")


def white_brown(n: int = 80, noise: float = 0.1, seed: int = 0) -> Dataset:
    """White and brown rice together, told apart only by their darkness."""
    return _grains(["white", "brown"], ["white", "brown"], n, noise, seed, "white+brown")


def bran(n: int = 80, noise: float = 0.1, seed: int = 0) -> Dataset:
    """White and brown rice to train on; the half-bran rice (d = 0.25) appears only in the test set."""
    return _grains(["white", "brown"], ["white", "brown", "half-bran"], n, noise, seed, "bran")


def three_grains(n: int = 120, noise: float = 0.1, seed: int = 0) -> Dataset:
    """White rice, brown rice and the franken-grain, whose ratio breaks the darkness trend."""
    grains = ["white", "brown", "franken"]
    return _grains(grains, grains, n, noise, seed, "three-grains")


def switchboard(n: int = 500, noise: float = 0.05, seed: int = 0, relationships: int = 5) -> Dataset:
    """K random lines y = s_k·x + c_k, s ~ U(-3, 3), c ~ U(-1, 1); z ~ U(0, 1) picks line ⌊K·z⌋."""
    if relationships < 1:
        raise ValueError(f"relationships must be at least 1, got {relationships}")
    k = relationships
    gen = torch.Generator().manual_seed(seed)
    slopes = torch.empty(k).uniform_(-3, 3, generator=gen)  # (K,)
    intercepts = torch.empty(k).uniform_(-1, 1, generator=gen)  # (K,)

    def points(m: int, lo: float, hi: float, far_from: float | None = None) -> Split:
        x = torch.empty(m).uniform_(lo, hi, generator=gen)  # (m,)
        if far_from is not None:  # push x beyond ±far_from, keeping its sign
            x = x.sign() * (far_from + x.abs() * (hi - far_from) / hi)
        z = torch.rand(m, generator=gen)  # (m,)
        label = (z * k).long().clamp(max=k - 1)  # (m,)
        y = slopes[label] * x + intercepts[label] + noise * torch.randn(m, generator=gen)  # (m,)
        far = torch.full((m,), far_from is not None)
        return Split(x, z, y, label, far)

    train = points(n, -1.0, 1.0)
    near, out = points(max(n // 2, 2), -1.0, 1.0), points(max(n // 2, 2), -2.0, 2.0, far_from=1.0)
    test = Split(*(torch.cat([a, b]) for a, b in zip(
        (near.x, near.z, near.y, near.label, near.far), (out.x, out.z, out.y, out.label, out.far))))
    classes = tuple(f"line {i + 1}" for i in range(k))
    return Dataset("switchboard", train, test, noise, classes, slopes, intercepts,
                   {"relationships": k})


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry: the generator and one line that says what it holds."""

    make: Callable[..., Dataset]
    about: str


DATASETS: dict[str, DatasetSpec] = {
    "white": DatasetSpec(white, "white rice only: 2 cups of water per cup"),
    "brown": DatasetSpec(brown, "brown rice only: 3 cups of water per cup"),
    "white+brown": DatasetSpec(white_brown, "both rices, with their darkness"),
    "bran": DatasetSpec(bran, "white+brown to train; half-bran rice (d=0.25) held out to test"),
    "three-grains": DatasetSpec(three_grains, "white, brown and the franken-grain (d=0.95, 1 cup)"),
    "switchboard": DatasetSpec(switchboard, "K random lines; a selector z in [0,1] picks one"),
}


def make_dataset(name: str, n: int | None = None, noise: float | None = None, seed: int = 0,
                 **options) -> Dataset:
    """Build a registered dataset by name; n and noise default to the generator's own defaults."""
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    kwargs = {k: v for k, v in (("n", n), ("noise", noise)) if v is not None}
    return DATASETS[name].make(seed=seed, **kwargs, **options)


class CSVError(ValueError):
    """A CSV that cannot become a dataset; the message names the line and the column."""


CSV_COLUMNS = ("cups", "darkness", "water")  # required; "label" is optional
CSV_MAX_ROWS = 20_000  # the same bound as generated data
CSV_MAX_LABELS = 16  # classes become experts and units: more would make the models themselves huge


def from_csv(text: str, seed: int = 0, test_share: float = 0.2) -> Dataset:
    """A dataset from CSV text with columns cups, darkness, water and optionally label.

    Every row is checked before anything is built, so a bad file never yields half a dataset.
    A seeded share of the rows becomes the test split.
    """
    import csv
    import io
    import math

    rows = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(rows)]
    except StopIteration:
        raise CSVError("line 1: the file is empty; expected a header: cups,darkness,water[,label]") from None
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise CSVError(f"line 1: missing column {', '.join(missing)}; "
                       "expected a header with cups, darkness, water and optionally label")
    index = {c: header.index(c) for c in (*CSV_COLUMNS, "label") if c in header}
    values: dict[str, list[float]] = {c: [] for c in CSV_COLUMNS}
    labels: list[str] = []
    labels_seen: dict[str, int] = {}  # label -> class index, in order of first appearance
    for line, row in enumerate(rows, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(values["cups"]) == CSV_MAX_ROWS:
            raise CSVError(f"line {line}: more than {CSV_MAX_ROWS} data rows")
        if len(row) != len(header):
            raise CSVError(f"line {line}: expected {len(header)} values, found {len(row)}")
        for column in CSV_COLUMNS:
            cell = row[index[column]].strip()
            try:
                number = float(cell)
            except ValueError:
                raise CSVError(f"line {line}, column {column}: {cell!r} is not a number") from None
            if not math.isfinite(number):
                raise CSVError(f"line {line}, column {column}: {cell!r} is not a finite number")
            if column == "darkness" and not 0 <= number <= 1:
                raise CSVError(f"line {line}, column darkness: {cell} is outside 0 to 1")
            values[column].append(number)
        if "label" in index:
            label = row[index["label"]].strip()
            if not label:
                raise CSVError(f"line {line}, column label: empty label")
            labels.append(label)
            labels_seen.setdefault(label, len(labels_seen))
            if len(labels_seen) > CSV_MAX_LABELS:
                raise CSVError(f"line {line}, column label: more than {CSV_MAX_LABELS} different labels")
    n = len(values["cups"])
    if n < 4:
        raise CSVError(f"the file has {n} data rows; at least 4 are needed to train and test")
    classes = tuple(labels_seen) if labels else ("data",)
    label = torch.tensor([labels_seen[v] for v in labels] if labels else [0] * n)
    x, z, y = (torch.tensor(values[c], dtype=torch.float32) for c in CSV_COLUMNS)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    cut = max(1, round(n * test_share))
    test_rows, train_rows = order[:cut], order[cut:]
    split = lambda i: Split(x[i], z[i], y[i], label[i], torch.zeros(len(i), dtype=torch.bool))
    unknown = torch.full((len(classes),), float("nan"))  # the true lines of uploaded data are unknown
    return Dataset("upload", split(train_rows), split(test_rows), float("nan"), classes, unknown,
                   unknown.clone())

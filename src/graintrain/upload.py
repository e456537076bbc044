"""A dataset from the reader's own CSV: columns cups, darkness, water and optionally label."""

from __future__ import annotations

import csv
import io
import math

import torch

from .datasets import POINTS, Dataset, Split
from .models import EXPERTS


class CSVError(ValueError):
    """A CSV that cannot become a dataset; the message names the line and the column."""


UPLOAD = "upload"  # the dataset name a reader's own CSV goes by, in the lab and its API
CSV_COLUMNS = ("cups", "darkness", "water")  # required; "label" is optional
CSV_MAX_ROWS = POINTS.high  # as many points as generated data may have
CSV_MAX_LABELS = EXPERTS.high  # each class may become an expert: no more classes than attention takes experts
CSV_MAX_VALUE = 1e6  # beyond this, squared errors in 32-bit floats lose all precision or overflow


def from_csv(text: str, seed: int = 0, test_share: float = 0.2) -> Dataset:
    """A dataset from CSV text with columns cups, darkness, water and optionally label.

    Darkness may be read on any scale: the models that need it standardise it themselves.

    Every row is checked before anything is built, so a bad file never yields half a dataset.
    A seeded share of the rows becomes the test split.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))  # any line ends
    try:
        return _dataset(reader, seed, test_share)
    except csv.Error as err:  # a field past the csv module's size limit, a NUL byte, …
        raise CSVError(f"line {reader.line_num}: {err}") from None


def _dataset(rows, seed: int, test_share: float) -> Dataset:
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
                raise CSVError(f"line {line}, column {column}: {cell[:20]!r} is not a number") from None
            if not math.isfinite(number):
                raise CSVError(f"line {line}, column {column}: {cell[:20]!r} is not a finite number")
            if abs(number) > CSV_MAX_VALUE:
                raise CSVError(f"line {line}, column {column}: {number:g} is outside "
                               f"±{CSV_MAX_VALUE:,.0f}; rescale the column")
            values[column].append(number)
        if "label" in index:
            label = row[index["label"]].strip()[:100]
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
    regions = torch.stack([torch.stack([z[label == c].min(), z[label == c].max()])
                           for c in range(len(classes))])  # (C, 2) the darkness each label spans
    return Dataset("upload", split(train_rows), split(test_rows), float("nan"), classes, unknown,
                   unknown.clone(), regions=regions, labelled=bool(labels))

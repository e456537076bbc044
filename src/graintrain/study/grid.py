"""The study's grid: its settings, the ReLU sizes matched to attention, and their parameter counts."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..datasets import SWITCHBOARD_OPTIONS
from ..models import num_parameters
from ..options import with_defaults

if TYPE_CHECKING:  # runs.py brings PyTorch, which the command line's parser must not wait for
    from ..runs import Run

MODEL_NAMES = ("attention", "attention-blended", "mlp-1", "mlp-2")
MODEL_LABELS = {"attention": "attention, graintrain's recipe", "attention-blended": "attention, the post's recipe",
                "mlp-1": "ReLU network, 1 hidden layer", "mlp-2": "ReLU network, 2 hidden layers"}  # for readers
METRICS = ("test_mse", "extrapolation_mse", "slope_error", "num_parameters")
RECOVERED = 0.15  # every matched slope and intercept within this counts as recovered
# Models per stacked block: of 64, 96, 128 and 256, 128 and 96 trained fastest per model here, and
# 64 took 1.15x their time (benchmarks/stacked_speed.py prints the chunks side by side).
STACK_CHUNK = 128


QUICK = {"lines": (2, 5), "seeds": 3, "points": 300}  # `study --quick`: a grid that runs in well under a minute


@dataclass(frozen=True)
class StudyConfig:
    """The grid of the study and where it writes."""

    lines: tuple[int, ...] = (2, 3, 5, 8)  # K, the number of hidden lines (attention gets K experts)
    seeds: int = 20  # switchboards per K
    noise: float = 0.05
    points: int = 500  # training points per switchboard
    shape: tuple[tuple[str, object], ...] = ()  # other switchboard options, e.g. (("order", "shuffled"),)
    out: Path = Path("study")
    workers: int = os.cpu_count() or 1  # processes, one training thread each (local backend)
    backend: str = "local"  # local: a process pool here; ray: Ray tasks on a cluster
    address: str | None = None  # the Ray cluster to join; None starts a local one

    def __post_init__(self):
        # Each K once: --lines 2,2 counted every run of K = 2 twice.
        object.__setattr__(self, "lines", tuple(dict.fromkeys(self.lines)))

    def key(self) -> str:
        """A name that changes whenever anything that decides the numbers changes."""
        from .. import __version__
        text = repr((self.lines, self.seeds, self.noise, self.points, self.describe(), __version__))
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def cell(self, k: int, seed: int) -> dict[str, Run]:
        """The four runs of one cell of this grid, by study name."""
        return cell_runs(k, seed, self.noise, self.points, dict(self.shape))

    def describe(self) -> str:
        """The data in words, for the report: every switchboard option, given or default."""
        option = with_defaults(SWITCHBOARD_OPTIONS, dict(self.shape))
        low, high = (repr(float(v)).removesuffix(".0") for v in option["selector_range"])  # exact
        noise = repr(float(option["selector_noise"])).removesuffix(".0")
        return (f"regions of {option['regions']} width, lines in {option['order']} order along z, "
                f"z read on [{low}, {high}]" + (f" with noise {noise} of its range" if noise != "0" else ""))


def cell_runs(k: int, seed: int, noise: float, points: int, shape: dict | None = None) -> dict[str, Run]:
    """The four runs of one cell, by study name: one switchboard of K lines, four models on it."""
    data = dict(dataset="switchboard", seed=seed, n=points, noise=noise, lines=k, **(shape or {}))
    hidden = matched_hidden(k)
    from ..runs import Run
    return {"attention": Run(model="attention", experts=k, **data),
            "attention-blended": Run(model="attention-blended", experts=k, **data),
            "mlp-1": Run(model="mlp", hidden=hidden["mlp-1"], **data),
            "mlp-2": Run(model="mlp", hidden=hidden["mlp-2"], **data)}


def matched_hidden(k: int) -> dict[str, tuple[int, ...]]:
    """Hidden sizes for one and two layers whose parameter counts come closest to 4K."""
    target = 4 * k
    count = lambda sizes: sum((a + 1) * b for a, b in zip((2, *sizes), (*sizes, 1)))
    one = min(((h,) for h in range(1, 64)), key=lambda s: (abs(count(s) - target), s))
    two = min(((a, b) for a in range(1, 32) for b in range(1, 32)),
              key=lambda s: (abs(count(s) - target), s))
    return {"mlp-1": one, "mlp-2": two}


def count_table(lines: tuple[int, ...]) -> list[dict]:
    """Parameter counts of the four models for each K, with the mismatch against attention."""
    rows = []
    for k in lines:
        runs = cell_runs(k, seed=0, noise=0.05, points=8)
        data = runs["attention"].data()
        counts = {name: num_parameters(runs[name].build(data, start=False))  # a count needs no start
                  for name in ("attention", "mlp-1", "mlp-2")}
        rows.append({"K": k, **counts, "hidden": {n: list(h) for n, h in matched_hidden(k).items()},
                     "worst_mismatch": max(abs(c - counts["attention"]) / counts["attention"]
                                           for c in counts.values())})
    return rows

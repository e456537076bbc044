"""A run resolved once: what ``runs.Run`` becomes when it is made, and what everything after reads.

A ``Plan`` holds every setting of a run with the registries' defaults filled in: the model and its
options, the data it trains on (``DataSpec``), and the recipe with its steps counted. The Run checks
each setting once, by the registry that declares it; the command line, the lab's server and its
workers, the cache and the study then read the plan and train by it, and none of them checks,
rebuilds or fills in anything again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from .recipe import Recipe

if TYPE_CHECKING:
    from torch import nn

    from .datasets import Dataset
    from .train import Fit


@dataclass(frozen=True)
class DataSpec:
    """The data a run trains on, every setting filled: a registered dataset or the reader's CSV."""

    dataset: str  # a name in datasets.DATASETS, or upload.UPLOAD
    seed: int
    n: int | None = None  # None for an upload: the CSV has the points it has
    noise: float | None = None
    options: tuple[tuple[str, Any], ...] = ()  # the dataset's own options, declared defaults filled
    csv: str | None = None  # the CSV text of an upload

    def make(self) -> Dataset:
        """The dataset itself (PyTorch is imported here)."""
        from .datasets import generate
        from .upload import UPLOAD, from_csv

        if self.dataset == UPLOAD:
            return from_csv(self.csv or "", seed=self.seed)
        return generate(self.dataset, n=self.n, noise=self.noise, seed=self.seed, **dict(self.options))


@dataclass(frozen=True)
class Plan:
    """Everything a run does, decided: which model with which options, on which data, by which recipe."""

    model: str  # a name in models.MODELS
    options: tuple[tuple[str, Any], ...]  # the model's options, declared defaults filled
    data: DataSpec
    recipe: Recipe  # the registered recipe with the run's changes, seed and snapshots

    @property
    def total_steps(self) -> int:
        """Steps in the whole run, every start's."""
        return self.recipe.total_steps

    def build(self, data: Dataset, start: bool = True) -> nn.Module:
        """A fresh, untrained model for ``data`` (not started from it when ``start`` is False: for
        loading a saved state); a ValueError when the data lacks what the model reads."""
        from .models import build_model
        return build_model(self.model, data, start=start, **dict(self.options))

    def fit(self, data: Dataset, on_step: Callable[[int, int, float], None] | None = None,
            on_build: Callable[[nn.Module], None] | None = None) -> Fit:
        """Train by the recipe with the one trainer; ``on_build`` sees each start's model before it trains."""
        from .train import fit

        def build() -> nn.Module:
            model = self.build(data)
            if on_build is not None:
                on_build(model)
            return model
        return fit(build, data.train, self.recipe, on_step=on_step)

"""Trained runs kept on disk, so the article, the lab and the study train each model only once.

A run is named by everything that decides its numbers: model, dataset, options, recipe, seed and the
graintrain version. Files are written whole to a temporary name and then renamed, so a run killed
mid-write leaves no broken entry behind.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from urllib.parse import urlencode
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .datasets import Dataset, make_dataset
from .models import MODELS, make_model
from .train import SEEDING, Fit, Recipe, fit


def default_cache_dir() -> Path:
    """$GRAINTRAIN_CACHE, else $XDG_CACHE_HOME/graintrain, else ~/.cache/graintrain."""
    if os.environ.get("GRAINTRAIN_CACHE"):
        return Path(os.environ["GRAINTRAIN_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "graintrain"


@dataclass(frozen=True)
class Run:
    """What to train: a registered model on a registered dataset, by a recipe (the model's own if None)."""

    model: str
    dataset: str
    seed: int = 0
    options: tuple[tuple[str, object], ...] = ()  # model options, e.g. (("hidden", (2,)),)
    data_options: tuple[tuple[str, object], ...] = ()  # e.g. (("lines", 5),)
    recipe: Recipe | None = None
    snapshots: int = 0  # parameter snapshots for a replay, on top of the recipe

    def resolved_recipe(self) -> Recipe:
        """The recipe this run trains by, with its seed and snapshot count filled in."""
        recipe = self.recipe or MODELS[self.model].recipe
        return dataclasses.replace(recipe, seed=self.seed,
                                   snapshots=max(recipe.snapshots, self.snapshots))

    def key(self) -> str:
        """A file name that changes whenever anything that decides the numbers changes."""
        from . import __version__
        text = repr((self.model, self.dataset, self.seed, self.options, self.data_options,
                     self.resolved_recipe(), __version__))
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def query(self) -> str:
        """The lab's query string that trains exactly this run: its settings, and its recipe as the
        one stage the lab can set when it is not the model's own (replay snapshots aside)."""
        params: dict[str, object] = {"model": self.model, "dataset": self.dataset}
        if self.seed:
            params["seed"] = self.seed
        for name, value in (*self.options, *self.data_options):
            params[name] = ",".join(f"{v:g}" for v in value) if isinstance(value, tuple) else value
        own = MODELS[self.model].recipe
        if self.recipe is not None and (self.recipe.stages, self.recipe.restarts) != (own.stages, own.restarts):
            if len(self.recipe.stages) != 1:
                raise ValueError("the lab sets a recipe of one stage; this run has "
                                 f"{len(self.recipe.stages)}")
            stage = self.recipe.stages[0]
            params |= {"optimizer": stage.optimizer, "objective": stage.objective, "steps": stage.steps,
                       "lr": f"{stage.step_size:g}"}
            if self.recipe.restarts != own.restarts:
                params["restarts"] = self.recipe.restarts
        return urlencode(params)

    def data(self) -> Dataset:
        """The run's dataset, rebuilt from its seed."""
        return make_dataset(self.dataset, seed=self.seed, **dict(self.data_options))

    def build(self, data: Dataset) -> nn.Module:
        """A fresh, untrained model for this run."""
        return make_model(self.model, data, **dict(self.options))


@dataclass
class Trained:
    """A run with its data and its training record (``fit.model`` is the trained model)."""

    run: Run
    data: Dataset
    fit: Fit
    from_cache: bool = field(default=False)

    @property
    def model(self) -> nn.Module:
        return self.fit.model


class Cache:
    """A folder of trained runs; ``get`` trains a run the first time and loads it after that."""

    def __init__(self, folder: Path | str | None = None):
        self.folder = Path(folder) if folder is not None else default_cache_dir()

    def path(self, run: Run) -> Path:
        return self.folder / f"{run.key()}.pt"

    def has(self, run: Run) -> bool:
        return self.path(run).exists()

    def get(self, run: Run, on_step=None) -> Trained:
        """The trained run: loaded from disk, or trained now (with ``on_step`` progress) and saved."""
        data = run.data()
        path = self.path(run)
        if path.exists():
            try:
                saved = torch.load(path, weights_only=True)
                with SEEDING:  # building draws from the global RNG, which other threads may be seeding
                    model = run.build(data)
                model.load_state_dict(saved["state"])
                record = Fit(model, saved["losses"], [tuple(s) for s in saved["snapshots"]],
                             saved["final_losses"], saved["best"], saved["seconds"])
                return Trained(run, data, record, from_cache=True)
            except Exception:  # unreadable or from an older layout: train it again
                path.unlink(missing_ok=True)
        record = fit(lambda: run.build(data), data.train, run.resolved_recipe(), on_step=on_step)
        self._save(path, record)
        return Trained(run, data, record)

    def _save(self, path: Path, record: Fit) -> None:
        payload = {"state": record.model.state_dict(), "losses": record.losses,
                   "snapshots": [list(s) for s in record.snapshots],
                   "final_losses": record.final_losses, "best": record.best,
                   "seconds": record.seconds}
        self.write_atomic(path, lambda handle: torch.save(payload, handle))

    def load_json(self, name: str):
        """A JSON document kept beside the runs, or None if it is missing or unreadable."""
        try:
            return json.loads((self.folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def save_json(self, name: str, document) -> None:
        """Keep a JSON document beside the runs, written atomically."""
        text = json.dumps(document, separators=(",", ":")).encode()
        self.write_atomic(self.folder / name, lambda handle: handle.write(text))

    def write_atomic(self, path: Path, write) -> None:
        """Write a file whole or not at all: ``write(handle)`` fills a temporary file that is renamed."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)  # atomic: readers see the old file or the whole new one
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

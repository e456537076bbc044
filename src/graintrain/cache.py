"""Trained runs kept on disk, so the article, the lab and the study train each model only once.

A run (runs.Run) is named by everything that decides its numbers: model, dataset, options, recipe,
seed and the graintrain version. Files are written whole to a temporary name and then renamed, so a run killed
mid-write leaves no broken entry behind.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .datasets import Dataset
from .runs import Run
from .train import SEEDING, Fit


PARTIAL = ".tmp-"  # the name's prefix while a file is written, until it is renamed whole


def default_cache_dir() -> Path:
    """$GRAINTRAIN_CACHE, else $XDG_CACHE_HOME/graintrain, else ~/.cache/graintrain."""
    if os.environ.get("GRAINTRAIN_CACHE"):
        return Path(os.environ["GRAINTRAIN_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "graintrain"


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
        return self.path(run).is_file()

    def get(self, run: Run, on_step=None) -> Trained:
        """The trained run: loaded from disk, or trained now (with ``on_step`` progress) and saved."""
        data = run.data()
        path = self.path(run)
        _only_files(path)
        if path.exists():
            try:
                saved = torch.load(path, weights_only=True)
                with SEEDING:  # building draws from the global RNG, which other threads may be seeding
                    model = run.build(data, start=False)  # the saved state replaces any start
                model.load_state_dict(saved["state"])
                losses = saved["losses"]  # a tensor; older files hold a list
                record = Fit(model, losses.tolist() if torch.is_tensor(losses) else losses,
                             [tuple(s) for s in saved["snapshots"]],
                             saved["final_losses"], saved["best"], saved["seconds"])
                return Trained(run, data, record, from_cache=True)
            except Exception:  # unreadable or from an older layout: train it again
                path.unlink(missing_ok=True)
        record = run.plan.fit(data, on_step=on_step)
        self._save(path, record)
        return Trained(run, data, record)

    def _save(self, path: Path, record: Fit) -> None:
        # The losses as one float64 tensor (exact for Python floats): as a list of hundreds of
        # floats, torch.load's safe unpickler, written in Python, took most of a load's time.
        payload = {"state": record.model.state_dict(), "losses": torch.tensor(record.losses, dtype=torch.float64),
                   "snapshots": [list(s) for s in record.snapshots],
                   "final_losses": record.final_losses, "best": record.best,
                   "seconds": record.seconds}
        self.write_atomic(path, lambda handle: torch.save(payload, handle))

    def sweep(self, older_than: float = 3600.0) -> int:
        """Remove temporary files that writers killed mid-write left behind (a training process
        ends at once when the command that started it is stopped), if older than ``older_than``
        seconds, so that none is another writer's file in progress; returns how many."""
        now = time.time()
        removed = 0
        for path in self.folder.glob(f"{PARTIAL}*"):
            try:
                if now - path.stat().st_mtime > older_than:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # another process swept it first
                pass
        return removed

    def load_json(self, name: str):
        """A JSON document kept beside the runs, or None if it is missing or unreadable."""
        try:
            _only_files(self.folder / name)
            return json.loads((self.folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def save_json(self, name: str, document) -> None:
        """Keep a JSON document beside the runs, written atomically."""
        text = json.dumps(document, separators=(",", ":")).encode()
        self.write_atomic(self.folder / name, lambda handle: handle.write(text))

    def write_atomic(self, path: Path, write) -> None:
        """Write a file of the cache whole or not at all (``write_whole``)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        write_whole(path, write)


def write_whole(path: Path, write) -> None:
    """Write a file whole or not at all: ``write(handle)`` fills a temporary file beside it, which
    is then renamed over it, so that a reader sees the old file or the whole new one, and a writer
    stopped half-way leaves only a temporary file (``Cache.sweep`` clears those)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=PARTIAL)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _only_files(path: Path) -> None:
    """Clear what stands where a cached file belongs but is no file: reading a FIFO would wait
    forever (a figure hung on one, its training never said to have failed). A folder is not
    ours to remove: IsADirectoryError names it."""
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder where the cache keeps a file: move it away")
    if path.exists() and not path.is_file():
        path.unlink()


def train_into(folder: Path, run: Run) -> None:
    """In a pool worker: train one run into the cache at ``folder``, on one thread (the models are
    tiny, and the pool gives each core its own process)."""
    torch.set_num_threads(1)
    Cache(folder).get(run)

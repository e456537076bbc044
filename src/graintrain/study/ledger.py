"""A study's ``runs.jsonl``: one finished run a line, appended as each lands, read back to resume.

Two processes may share one folder: two servers on one cache train the article's study side by
side. Appends happen under a lock on the file, and skip any run the file already holds, so no run
is counted twice however many write to it. A command-line study holds its folder for its whole
run (``hold``): a second study on the same ``--out`` is told so at once instead of training it
all again beside the first.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
from pathlib import Path
from typing import Callable

from ..cache import write_whole
from .grid import METRICS, MODEL_NAMES, StudyConfig
from .jobs import Job, plan

ROW_KEYS = ("K", "seed", "model", *METRICS)  # what every line of runs.jsonl must hold


class StudyBusy(RuntimeError):
    """Another study is writing into the same folder."""


def _lines(path: Path) -> list:
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; the study keeps its runs in a file of that "
                                "name: move the folder away")
    out = []
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    out.append(None)
    return out


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_row(row) -> bool:
    """A whole run: every key there, K and seed whole numbers, the metrics numbers."""
    return (isinstance(row, dict) and all(k in row for k in ROW_KEYS)
            and all(isinstance(row[k], int) and not isinstance(row[k], bool) for k in ("K", "seed"))
            and row["model"] in MODEL_NAMES and all(_number(row[m]) for m in METRICS))


def _key(row: dict) -> tuple:
    return row["K"], row["seed"], row["model"]


def _sorted_out(lines: list) -> tuple[list[dict], int, int]:
    """The runs among the lines, each once; and how many lines held no run, or a run again."""
    rows, seen, repeated = [], set(), 0
    for row in filter(_is_row, lines):
        key = (*_key(row), json.dumps({k: v for k, v in row.items() if k not in ROW_KEYS}, sort_keys=True))
        if key in seen:
            repeated += 1
        else:
            seen.add(key)
            rows.append(row)
    return rows, len(lines) - len(rows) - repeated, repeated


def read_rows(path: Path) -> list[dict]:
    """The finished runs so far, each once. A line that holds no run (cut off mid-write, or edited
    into something else), or a run already read, is left out."""
    return _sorted_out(_lines(path))[0]


def append_row(path: Path, row: dict) -> None:
    """Add one finished run, flushed to disk before the next one starts."""
    with path.open("a") as handle:
        handle.write(json.dumps(row) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def _locked(path: Path, wait: bool = True):
    """An exclusive lock on ``path`` (made if missing) while the block runs; StudyBusy at once
    when it is held elsewhere and ``wait`` is False. The system lets go if the process dies."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise StudyBusy(f"another study is writing into {path.parent}: wait for it to end, "
                            "or choose another folder") from None
        yield


class Ledger:
    """A study's ``runs.jsonl``: the rows it keeps from earlier runs of the same set-up, the jobs
    still to run, and each finished job's rows appended the moment it lands, so that a study cut
    off resumes where it stopped. ``on_skipped(bad, repeated)`` hears of lines that hold no run,
    and of lines that hold a run again."""

    def __init__(self, config: StudyConfig, on_skipped: Callable[[int, int], None] | None = None):
        from .. import __version__
        if config.out.exists() and not config.out.is_dir():
            raise NotADirectoryError(f"{config.out} is a file; the study writes into a folder")
        config.out.mkdir(parents=True, exist_ok=True)
        self.config, self.path = config, config.out / "runs.jsonl"
        self._held: contextlib.ExitStack | None = None
        with _locked(self.path.with_name(".runs.lock")):
            lines = _lines(self.path)
            kept, bad, repeated = _sorted_out(lines)
            if (bad or repeated) and on_skipped:
                on_skipped(bad, repeated)
            if bad or repeated:  # one run a line, each line whole, so new rows start on their own
                text = "".join(json.dumps(r) + "\n" for r in kept).encode()
                write_whole(self.path, lambda handle: handle.write(text))
        self.stamp = {"noise": config.noise, "points": config.points, "version": __version__,
                      "data": config.describe()}  # rows from another set-up are not reused
        self.rows = [r for r in kept if self._ours(r)]
        self.done = {_key(r) for r in self.rows}
        self.total = len(config.lines) * config.seeds * len(MODEL_NAMES)  # runs
        self.settings = (config.noise, config.points, dict(config.shape))  # run_job's after the job

    def _ours(self, row: dict) -> bool:
        """Whether a row is a run of this study's set-up."""
        return (row["K"] in self.config.lines and 0 <= row["seed"] < self.config.seeds
                and _number(row.get("noise")) and math.isclose(row["noise"], self.config.noise)
                and all(row.get(k) == v for k, v in self.stamp.items() if k != "noise"))

    def hold(self) -> "Ledger":
        """Keep the folder for this study alone until ``release``: StudyBusy if another holds it."""
        self._held = contextlib.ExitStack()
        self._held.enter_context(_locked(self.path.with_name(".study.lock"), wait=False))
        return self

    def release(self) -> None:
        """Let another study have the folder."""
        if self._held is not None:
            self._held.close()
            self._held = None

    @property
    def finished(self) -> int:
        """Runs done so far, kept or new."""
        return len(self.done)

    def jobs(self, workers: int) -> list[Job]:
        """The runs still to do, as jobs cut for this many workers, longest first (jobs.py)."""
        return plan(self.config, self.done, workers) if self.finished < self.total else []

    def record(self, new_rows: list[dict]) -> None:
        """Append a finished job's rows to the file and to the rows, but for any run another
        process sharing the file has appended meanwhile."""
        with _locked(self.path.with_name(".runs.lock")):
            there = {_key(r) for r in read_rows(self.path) if self._ours(r)}
            for row in new_rows:
                row |= self.stamp
                if _key(row) not in there:
                    append_row(self.path, row)
                if _key(row) not in self.done:
                    self.rows.append(row)
                    self.done.add(_key(row))

"""The article's figures, one registry by name. Each names the runs it needs and draws from them.

A builder gets ``get(run) -> Trained`` and returns a ``Figure``: a Plotly figure, the numbers to show
beside it, replay frames made from the trainer's snapshots, and a CSV of what it plots. Every value
comes from the trained models themselves (their forward pass, their kept attention weights).

A figure lives in the module of its chapters: ``lines.py`` (chapters 1 to 3), ``surfaces.py`` (4 to
7, with chapter 5's ReLU networks of growing width in ``kinks.py``), ``switches.py`` (8) and
``attention.py`` (9, its switchboard in ``switchboard.py``), with the network diagrams of 8 and 9
in ``networks.py``, the camera of chapter 10 in ``camera.py``, and chapter 11's recipe cards in
``incontext.py`` and ``lookup.py``;
``plot.py`` holds the shared drawing helpers. To add one, write a builder there with
``@figure(name, *runs)`` and place it in a chapter with ``::: figure name``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Callable

from ...cache import Trained
from ...runs import Run


@dataclass
class Figure:
    """Everything the page shows for one figure."""

    name: str
    plot: dict  # Plotly figure as JSON-ready dict: data and layout
    stats: list[tuple[str, str]]  # label, value: shown beside the plot
    frames: list[dict] = field(default_factory=list)  # replay: {"step", "loss", "traces": {i: {...}}}
    table: dict[str, list] = field(default_factory=dict)  # column -> values, offered as CSV
    controls: dict | None = None  # extra interactive pieces for the front end
    lab: str = ""  # query string that opens the same model and data in the lab

    def csv(self) -> str:
        """The figure's data as CSV text: one column per plotted quantity."""
        out = io.StringIO()
        writer = csv.writer(out)
        columns = list(self.table)
        writer.writerow(columns)
        length = max((len(v) for v in self.table.values()), default=0)
        for i in range(length):
            writer.writerow([_cell(self.table[c], i) for c in columns])
        return out.getvalue()

    def payload(self) -> dict:
        """What the page embeds: plot, frames and controls."""
        return {"name": self.name, "plot": self.plot, "frames": self.frames,
                "controls": self.controls}


def _cell(values: list, i: int) -> str:
    if i >= len(values):
        return ""
    v = values[i]
    return f"{v:.6g}" if isinstance(v, float) else str(v)


@dataclass(frozen=True)
class FigureSpec:
    """A registry entry: the builder and the runs it needs trained first."""

    name: str
    build: Callable[[Callable[[Run], Trained]], Figure]
    runs: tuple[Run, ...]


FIGURES: dict[str, FigureSpec] = {}


def figure(name: str, *runs: Run):
    """Register a figure builder under ``name``, with the runs it reads."""
    def register(build):
        FIGURES[name] = FigureSpec(name, build, runs)
        return build
    return register


# The chapters' figures register themselves on import.
from . import (attention, camera, incontext, kinks, lines, lookup, networks, surfaces,  # noqa: E402,F401
               switchboard, switches)

"""Settings declared once, with their kind, default, bounds and help, for the CLI, the lab and the study.

Each registry declares its own: a dataset's entry lists its options, a model's entry its options,
and the trainer the recipe's. ``runs.Run`` gathers them into one validated description of a run;
the CLI makes its flags from them and the lab its form, so a bound is written in one place only.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Any, Callable

KINDS = ("int", "float", "choice", "floats", "ints")


class OptionError(ValueError):
    """A value an option refuses. It keeps the option's name apart from the complaint, so the CLI
    can name its flag (--hidden) and the lab its field (hidden)."""

    def __init__(self, name: str, complaint: str):
        super().__init__(f"{name} {complaint}")
        self.name, self.complaint = name, complaint


@dataclass(frozen=True)
class Option:
    """One setting: its name, kind (int, float, choice, floats, ints), default, bounds and help.

    ``floats`` and ``ints`` are lists written ``a,b,c``; ``length`` fixes how many, ``most`` caps
    them, and ``increasing`` asks that each be larger than the one before (a range LOW,HIGH is
    ``floats`` of length 2). ``low_open`` refuses ``low`` itself (a learning rate above 0).
    """

    name: str
    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    length: int | None = None
    increasing: bool = False
    most: int = 16
    low_open: bool = False
    label: str = ""  # what a form calls it, where the name is terse (n: "points")

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"option {self.name}: kind {self.kind!r} is not one of {', '.join(KINDS)}")

    @property
    def flag(self) -> str:
        """The command-line flag: --selector-range for selector_range."""
        return "--" + self.name.replace("_", "-")

    @property
    def is_list(self) -> bool:
        return self.kind in ("floats", "ints")

    def parse(self, text: str) -> Any:
        """The value written as text (a CLI argument or a link), checked; OptionError says what is wrong."""
        return self.check(self.read(text))

    def read(self, text: str) -> Any:
        """The value written as text, as a number or numbers, not yet checked against the bounds
        (a run checks it once, by the declaration of the dataset or model it is for)."""
        if self.kind == "choice":
            return text
        if self.is_list:
            return tuple(self._number(part, text) for part in text.split(","))
        return self._number(text, text)

    def _number(self, text: str, whole_text: str) -> float | int:
        whole = self.kind in ("int", "ints")
        try:
            return int(text) if whole else float(text)
        except ValueError:
            said = "whole numbers" if whole else "numbers"
            raise OptionError(self.name, f"takes {said}{' written a,b,c' if self.is_list else ''}, "
                                         f"got {whole_text!r}") from None

    def check(self, value: Any) -> Any:
        """The value if it is within bounds, in its canonical type; else OptionError naming the option."""
        if self.kind == "choice":
            if value not in self.choices:
                raise OptionError(self.name, f"is one of {', '.join(self.choices)}, got {value!r}")
            return value
        if self.is_list:
            if not isinstance(value, (list, tuple)):
                raise OptionError(self.name, f"takes a list of numbers, got {value!r}")
            values = tuple(self._one(v) for v in value)
            if self.length is not None and len(values) != self.length:
                plural = "number" if self.length == 1 else "numbers"
                raise OptionError(self.name, f"takes {self.length} {plural}, got {len(values)}")
            if not 1 <= len(values) <= self.most:
                raise OptionError(self.name, f"takes from 1 to {self.most} numbers, got {len(values)}")
            if self.increasing and any(b <= a for a, b in zip(values, values[1:])):
                raise OptionError(self.name, "must increase from one number to the next, got "
                                             f"{','.join(f'{v:g}' for v in values)}")
            return values
        return self._one(value)

    def _one(self, value: Any) -> float | int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise OptionError(self.name, f"takes finite numbers, got {value!r}")
        whole = self.kind in ("int", "ints")
        if whole and value != int(value):
            raise OptionError(self.name, f"takes whole numbers, got {value!r}")
        too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        if too_low or (self.high is not None and value > self.high):
            raise OptionError(self.name, f"must be {self.bounds()}, got {value:g}")
        return int(value) if whole else float(value)

    def bounds(self) -> str:
        """The bounds in words: 'from 1 to 16', 'above 0 and at most 10', 'at least 0'."""
        if self.low is not None and self.high is not None and not self.low_open:
            return f"from {self.low:g} to {self.high:g}"
        low = None if self.low is None else f"{'above' if self.low_open else 'at least'} {self.low:g}"
        high = None if self.high is None else f"at most {self.high:g}"
        return " and ".join(part for part in (low, high) if part)

    def schema(self) -> dict:
        """The declaration as JSON, for the lab's form."""
        return {"name": self.name, "label": self.label or self.name.replace("_", " "), "kind": self.kind, "default": self.default, "help": self.help,
                "low": self.low, "high": self.high, "low_open": self.low_open,
                "choices": list(self.choices), "length": self.length, "most": self.most,
                "increasing": self.increasing}


def takers(registry: dict, name: str) -> list[str]:
    """The registry entries (models or datasets) that declare an option of this name."""
    return [entry for entry, spec in registry.items() if any(o.name == name for o in spec.options)]


def with_defaults(declared: tuple[Option, ...], given: dict) -> dict:
    """Every declared option's value: the given one, else its declared default."""
    return {o.name: o.default for o in declared} | given


def check_options(registry: dict, entry: str, given: dict, what: str) -> dict:
    """The given options checked against ``registry[entry]``'s declarations (None values dropped);
    OptionError names any option that the entry does not take, and who takes it."""
    declared = {o.name: o for o in registry[entry].options}
    for key in given:
        if key not in declared:
            who = takers(registry, key)
            takes = f"it takes {', '.join(declared)}" if declared else "it takes no options"
            where = f"applies to {', '.join(who)}, not to {entry}" if who else f"is not an option of {what} {entry}"
            raise OptionError(key, f"{where} ({takes})")
    return {k: declared[k].check(v) for k, v in given.items() if v is not None}


def load(path: str) -> Callable:
    """The function a registry entry names as "module:function" in graintrain, imported now. The
    registries name their code this way so that they can be read without importing what it needs."""
    module, name = path.split(":")
    return getattr(importlib.import_module(f"graintrain.{module}"), name)

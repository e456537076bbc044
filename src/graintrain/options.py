"""Settings declared once, with their kind, default, bounds and help, for the CLI, the lab and the study.

A dataset's registry entry lists its options as ``Option`` objects. The CLI makes its flags from them,
the lab makes its form fields and its validation from them, and the study its grid, so a bound is
written in one place only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

KINDS = ("int", "float", "choice", "floats")


@dataclass(frozen=True)
class Option:
    """One setting: its name, kind (int, float, choice, floats), default, bounds and one line of help.

    ``floats`` is a list of numbers written ``a,b,c``; ``length`` fixes how many, and ``increasing``
    asks that each be larger than the one before (a range LOW,HIGH is ``floats`` of length 2).
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

    @property
    def flag(self) -> str:
        """The command-line flag: --selector-range for selector_range."""
        return "--" + self.name.replace("_", "-")

    def parse(self, text: str) -> Any:
        """The value written as text (a CLI argument), checked; ValueError says what is wrong."""
        if self.kind == "int":
            try:
                value: Any = int(text)
            except ValueError:
                raise ValueError(f"{self.name} takes a whole number, got {text!r}") from None
        elif self.kind == "float":
            value = self._number(text)
        elif self.kind == "floats":
            value = tuple(self._number(part) for part in text.split(","))
        else:
            value = text
        return self.check(value)

    def _number(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{self.name} takes numbers, got {text!r}") from None

    def check(self, value: Any) -> Any:
        """The value if it is within bounds, in its canonical type; else ValueError naming the option."""
        if self.kind == "choice":
            if value not in self.choices:
                raise ValueError(f"{self.name} is one of {', '.join(self.choices)}, got {value!r}")
            return value
        if self.kind == "floats":
            if not isinstance(value, (list, tuple)):
                raise ValueError(f"{self.name} takes a list of numbers, got {value!r}")
            values = tuple(self._bounded(v) for v in value)
            if self.length is not None and len(values) != self.length:
                plural = "number" if self.length == 1 else "numbers"
                raise ValueError(f"{self.name} takes {self.length} {plural}, got {len(values)}")
            if not values:
                raise ValueError(f"{self.name} takes at least one number")
            if self.increasing and any(b <= a for a, b in zip(values, values[1:])):
                raise ValueError(f"{self.name} must increase from one number to the next, got "
                                 f"{','.join(f'{v:g}' for v in values)}")
            return values
        number = self._bounded(value)
        if self.kind == "int" and number != int(number):
            raise ValueError(f"{self.name} takes a whole number, got {value!r}")
        return int(number) if self.kind == "int" else number

    def _bounded(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{self.name} takes finite numbers, got {value!r}")
        if self.low is not None and value < self.low:
            raise ValueError(f"{self.name} must be at least {self.low:g}{self._upto()}, got {value:g}")
        if self.high is not None and value > self.high:
            raise ValueError(f"{self.name} must be at most {self.high:g}, got {value:g}")
        return float(value)

    def _upto(self) -> str:
        return "" if self.high is None else f" (and at most {self.high:g})"

    def schema(self) -> dict:
        """The declaration as JSON, for the lab's form."""
        return {"name": self.name, "kind": self.kind, "default": self.default, "help": self.help,
                "low": self.low, "high": self.high, "choices": list(self.choices),
                "length": self.length, "increasing": self.increasing}

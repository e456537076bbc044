"""How a run's loss curve is drawn: the steps training took, not the points L-BFGS only tried."""

from __future__ import annotations

import math

from .recipe import Recipe, Stage


class Accepted:
    """The loss curve as a reader should see it, fed one step's loss at a time.

    An L-BFGS step here is one evaluation of the loss, and its line search tries points that it
    then passes over: a trial can land far uphill (20 where the run stands at 0.4), which drawn as a
    step looks as if training broke. Every step L-BFGS takes lowers the loss (the search's
    sufficient-decrease condition), so within an L-BFGS stage each step is drawn at the lowest loss
    of the stage so far: the point L-BFGS stands on. Adam's and SGD's steps are all taken, and are
    drawn as they are, rises included.
    """

    def __init__(self, stages: tuple[Stage, ...]):
        self.stages = [(s.steps, s.optimizer == "lbfgs") for s in stages]
        self.stage = self.left = 0
        self.lowest = math.inf
        self._next_stage()

    def _next_stage(self) -> None:
        while self.stage < len(self.stages) and self.stages[self.stage][0] == 0:
            self.stage += 1
        self.left = self.stages[self.stage][0] if self.stage < len(self.stages) else math.inf
        self.lowest = math.inf

    def __call__(self, loss: float) -> float:
        """The loss to draw for the next step, whose objective was ``loss``."""
        lbfgs = self.stage < len(self.stages) and self.stages[self.stage][1]
        self.lowest = min(self.lowest, loss) if lbfgs else loss
        self.left -= 1
        shown = self.lowest
        if self.left <= 0:
            self.stage += 1
            self._next_stage()
        return shown


def accepted(losses: list[float], recipe: Recipe) -> list[float]:
    """A run's losses (each start's, in turn) as its curve is drawn: see ``Accepted``."""
    per_start = recipe.per_start or 1
    out: list[float] = []
    for first in range(0, len(losses), per_start):
        curve = Accepted(recipe.stages)
        out.extend(curve(loss) for loss in losses[first:first + per_start])
    return out

"""How a run trains, declared without PyTorch: its stages, its recipe, and the options that change it.

``train.py`` runs recipes; they are declared here so that the registry of models, which names each
model's recipe, and the command line's flags can be read without importing PyTorch (over a second).
"""

from __future__ import annotations

from dataclasses import dataclass

from .options import Option

LR = {"adam": 0.05, "sgd": 0.05, "lbfgs": 1.0}  # each optimizer's usual step size on these problems
OPTIMIZERS = tuple(LR)  # train.py makes each (a test holds its table to this one)
OBJECTIVE_NAMES = ("mse", "mixture", "cross-entropy", "labelled")  # each is the function of its name in train.py


@dataclass(frozen=True)
class Stage:
    """One phase of training: what to minimise, with which optimizer, for how many full-batch steps."""

    objective: str = "mse"  # a name in OBJECTIVE_NAMES
    optimizer: str = "adam"  # adam | sgd | lbfgs
    steps: int = 500  # full-batch steps; for lbfgs, loss evaluations (an iteration takes one or more)
    lr: float | None = None  # step size (lbfgs: first trial step of a line search); None: LR[optimizer]
    scale: float = 0.1  # mixture only: the spread s each expert allows around its answer
    only: str = ""  # train only parameters whose names start with this (e.g. "value"); "" for all
    turns: bool = False  # photos only: step t sees every photo turned by the square's symmetry t mod 8

    @property
    def step_size(self) -> float:
        """The learning rate in force: lr, or the optimizer's usual one."""
        return LR[self.optimizer] if self.lr is None else self.lr


@dataclass(frozen=True)
class Recipe:
    """A whole run: the stages in order, how many fresh starts to try, and the seed of the first."""

    stages: tuple[Stage, ...] = (Stage(),)
    restarts: int = 1  # train from this many random starts and keep the lowest final training loss
    seed: int = 0  # start r is seeded with seed·1000 + r, so runs repeat exactly
    snapshots: int = 0  # parameter snapshots spread evenly over the run, for replays (0: none)

    @property
    def per_start(self) -> int:
        """Steps in one start: every stage's, one after another."""
        return sum(s.steps for s in self.stages)

    @property
    def total_steps(self) -> int:
        """Steps in the whole run, every start's."""
        return self.per_start * self.restarts


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


SEED = Option("seed", "int", 0, "seed for the data and the model", low=0, high=2**31 - 1)

# What a run may change in its model's registered recipe. Any of the stage settings makes it one
# stage, which starts from the first registered stage's settings (runs.Run.recipe).
RECIPE_OPTIONS = (
    Option("optimizer", "choice", None, "optimizer of a one-stage run (default: the model's recipe)",
           choices=OPTIMIZERS),
    Option("objective", "choice", None, "objective of a one-stage run (default: the model's recipe)",
           choices=OBJECTIVE_NAMES),
    Option("lr", "float", None, "learning rate of a one-stage run", low=0.0, high=10.0, low_open=True,
           label="learning rate"),
    STEPS := Option("steps", "int", None, "steps of a one-stage run", low=1, high=20_000),
    RESTARTS := Option("restarts", "int", None, "random starts to try; the lowest final loss is kept",
                       low=1, high=10, label="starts"),
)  # STEPS and RESTARTS bound every recipe, the registered ones too (train.check)

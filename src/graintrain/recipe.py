"""How a run trains, declared without PyTorch: its stages, its recipe, and the options that change it.

``train.py`` runs recipes; they are declared here so that the registry of models, which names each
model's recipe, and the command line's flags can be read without importing PyTorch (over a second).
"""

from __future__ import annotations

from dataclasses import dataclass

from .options import Option, OptionError

LR = {"adam": 0.05, "sgd": 0.05, "lbfgs": 1.0}  # each optimizer's usual step size on these problems
OPTIMIZERS = tuple(LR)  # train.py makes each (a test holds its table to this one)
OBJECTIVE_NAMES = ("mse", "mixture", "cross-entropy", "labelled")  # each is the function of its name in train.py
LEARNS_LABELS = ("cross-entropy", "labelled")  # the objectives that read each point's class

SEED = Option("seed", "int", 0, "seed for the data and the model", low=0, high=2**31 - 1)

# What a run may change in its model's registered recipe. Any of the stage settings makes it one
# stage, which starts from the first registered stage's settings (runs.Run). Every Stage and Recipe
# is held to the same bounds when it is made, the registered ones too, so none that breaks them exists.
RECIPE_OPTIONS = (
    OPTIMIZER := Option("optimizer", "choice", None, "optimizer of a one-stage run (default: the model's recipe)",
                        choices=OPTIMIZERS),
    OBJECTIVE := Option("objective", "choice", None, "objective of a one-stage run (default: the model's recipe)",
                        choices=OBJECTIVE_NAMES),
    LR_OPTION := Option("lr", "float", None, "learning rate of a one-stage run", low=0.0, high=10.0, low_open=True,
                        label="learning rate"),
    STEPS := Option("steps", "int", None, "steps of a one-stage run", low=1, high=20_000),
    RESTARTS := Option("restarts", "int", None, "random starts to try; the lowest final loss is kept",
                       low=1, high=10, label="starts"),
)


@dataclass(frozen=True)
class Stage:
    """One phase of training: what to minimise, with which optimizer, for how many full-batch steps.
    Made with a setting out of its declared bounds, it raises OptionError naming the setting."""

    objective: str = "mse"  # a name in OBJECTIVE_NAMES
    optimizer: str = "adam"  # adam | sgd | lbfgs
    steps: int = 500  # full-batch steps; for lbfgs, loss evaluations (an iteration takes one or more)
    lr: float | None = None  # step size (lbfgs: first trial step of a line search); None: LR[optimizer]
    scale: float = 0.1  # mixture only: the spread s each expert allows around its answer
    only: str = ""  # train only parameters whose names start with this (e.g. "value"); "" for all
    turns: bool = False  # photos only: step t sees every photo turned by the square's symmetry t mod 8

    def __post_init__(self) -> None:
        OBJECTIVE.check(self.objective)
        OPTIMIZER.check(self.optimizer)
        STEPS.check(self.steps)
        if self.lr is not None:
            LR_OPTION.check(self.lr)
        if not self.scale > 0:
            raise OptionError("scale", f"(the mixture's spread) must be positive, got {self.scale}")
        if self.turns and self.optimizer == "lbfgs":
            raise OptionError("turns", "shows each step other photos, which L-BFGS's line search cannot "
                                       "follow; use adam or sgd for that stage")

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

    def __post_init__(self) -> None:
        if not self.stages:
            raise ValueError("a recipe needs at least one stage")
        RESTARTS.check(self.restarts)
        SEED.check(self.seed)

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

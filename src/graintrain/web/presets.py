"""One-click lab runs that fail in an instructive way, each a ``Run`` the lab opens by its link."""

from __future__ import annotations

from dataclasses import dataclass

from ..runs import Run
from ..study import RECOVERED


@dataclass(frozen=True)
class Preset:
    """A run worth training in the lab: what to look for before it trains, and afterwards what
    went wrong, in words and by the one score of the finished run that shows it."""

    label: str
    about: str  # shown on the page while the preset's settings are in the form
    run: Run
    lesson: str  # shown once the run is done: what went wrong
    score: str  # the done event's field that measures it
    measure: str  # that field in words, for the sentence the page writes with its value
    floor: str = ""  # a done event's field to set beside it (the noise's own error), if any

    def schema(self) -> dict:
        return {"label": self.label, "about": self.about, "query": self.run.query(),
                "lesson": self.lesson, "score": self.score, "measure": self.measure, "floor": self.floor}


_EXPERTS = f"the worst true line's distance to its nearest expert (a recovered run is within {RECOVERED:g})"
_FLAT = "the mean squared error on the training points"

PRESETS = (
    Preset("Blended experts", "The post's plain recipe on the switchboard: PyTorch's start and Adam "
           "on the blended error. The experts share the work and the lines are not recovered.",
           Run(model="attention-blended", dataset="switchboard"),
           "On the blended error the experts never had to become lines of their own: one expert now "
           "answers for several lines at once, and others are hardly used.",
           "expert_error", _EXPERTS),
    Preset("A random start for the keys", "Competing experts (the mixture objective) from PyTorch's "
           "default start instead of the data: watch which lines end up without an expert.",
           Run(model="attention-blended", dataset="switchboard", objective="mixture", steps=2000),
           "From a random start the gate stayed soft: each line's points are shared by several experts, "
           "so no expert became a line of its own.", "expert_error", _EXPERTS),
    Preset("A random start that misses a grain", "Attention on three grains from PyTorch's random "
           "weights, with an unlucky seed. Switch start to data and train again to compare.",
           Run(model="attention", dataset="three-grains", init="random", seed=4),
           "From this random start, one expert took two grains and answers with a slope between theirs, "
           "while another expert was left with no grain at all. Started from the data, each expert "
           "begins on one grain's points, and all three lines come out.",
           "expert_error", _EXPERTS),
    Preset("Sigma-pi meets the franken-grain", "One slope that moves with darkness cannot bend for "
           "a dark grain that needs little water.", Run(model="sigma-pi", dataset="three-grains"),
           "Sigma-pi's slope can only rise or fall steadily with darkness, so it cannot give the dark "
           "franken-grain less water than brown rice: it missed one grain to fit the others.",
           "train_mse", _FLAT, "noise_floor"),
    Preset("A ReLU network that dies", "Two ReLU units, plain Adam, an unlucky seed: both units end "
           "up off for every point, and the network answers one number for every input.",
           Run(model="mlp", dataset="white+brown", hidden=(2,), optimizer="adam", lr=0.05, steps=500,
               restarts=1),
           "Both ReLU units ended below zero for every point, so no gradient reaches them any more: "
           "the network gives the same water for every pot.", "train_mse", _FLAT, "noise_floor"),
)

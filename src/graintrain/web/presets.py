"""One-click lab runs that fail in an instructive way, each a ``Run`` the lab opens by its link."""

from __future__ import annotations

from dataclasses import dataclass

from ..runs import Run


@dataclass(frozen=True)
class Preset:
    """A run worth training in the lab, with one line on what to look for."""

    label: str
    about: str
    run: Run

    def schema(self) -> dict:
        return {"label": self.label, "about": self.about, "query": self.run.query()}


PRESETS = (
    Preset("Blended experts", "The post's plain recipe on the switchboard: PyTorch's start and Adam "
           "on the blended error. The experts share the work and the lines are not recovered.",
           Run(model="attention-blended", dataset="switchboard")),
    Preset("A random start for the keys", "Competing experts (the mixture objective) from PyTorch's "
           "default start instead of the data: watch which lines end up without an expert.",
           Run(model="attention-blended", dataset="switchboard", objective="mixture", steps=2000)),
    Preset("Sigma-pi meets the franken-grain", "One slope that moves with darkness cannot bend for "
           "a dark grain that needs little water.", Run(model="sigma-pi", dataset="three-grains")),
    Preset("A ReLU network that dies", "Two ReLU units, plain Adam, an unlucky seed: both units end "
           "up off for every point, and the network answers one number for every input.",
           Run(model="mlp", dataset="white+brown", hidden=(2,), optimizer="adam", lr=0.05, steps=500,
               restarts=1)),
)

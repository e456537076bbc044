"""A ReLU switch: each grain's line passes only while no other grain looks likely.

The classifier's probabilities enter every unit beside x. A large negative weight on the other
grains' probabilities drives a wrong unit below zero, where the ReLU shuts it: a diode held off by
inhibition.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .classifier import Classifier

if TYPE_CHECKING:
    from ..datasets import Split
    from ..recipe import Stage


class ReluSwitch(nn.Module):
    """y = Σ_k relu(w_k·x + Σ_j u_kj·p_j(z) + b_k), with p the classifier's softmax."""

    reads = "z"  # Split.selector feeds it the darkness reading

    def __init__(self, classes: int = 3):
        super().__init__()
        self.classifier = Classifier(classes)
        self.units = nn.Linear(1 + classes, classes)  # unit k sees [x, p_1 … p_C]
        self.drive: Tensor | None = None  # what each unit received last time, before the ReLU: for figures
        self.passed: Tensor | None = None  # what each unit let through last time: for figures
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Start every unit open: a positive weight on x and bias 1, so each passes for every grain.

        Training then learns which grains should hold each unit off. A unit started closed for all
        points never gets a gradient, and stays dead.
        """
        self.classifier.score.reset_parameters()
        with torch.no_grad():
            self.units.weight.uniform_(-0.5, 0.5)
            self.units.weight[:, 0].uniform_(0.5, 1.5)
            self.units.bias.fill_(1.0)

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        return self.switch(x, self.classifier.probabilities(z))

    def switch(self, x: Tensor, p: Tensor) -> Tensor:
        """The output for given class probabilities p (n, C), so a reader can set them by hand."""
        inputs = torch.cat([x.unsqueeze(-1), p], dim=-1)  # (n, 1 + C)
        a = self.units(inputs)  # (n, C) each unit's drive: below zero, the diode is shut
        h = torch.relu(a)  # (n, C) one gated line per class
        self.drive, self.passed = a.detach(), h.detach()
        return h.sum(-1)  # (n,)

    def with_labels(self, x: Tensor, label: Tensor) -> Tensor:
        """The output when the true class is known: the switch fed one-hot probabilities."""
        return self.switch(x, F.one_hot(label, self.units.out_features).float())  # (n,)

    def gradient_by_hand(self, data: Split, stage: Stage) -> Callable[[], tuple[Tensor, dict]] | None:
        """The labelled objective's loss and the gradient of each parameter by name, worked out by
        hand, as a function that reads the parameters as they stand; None for any other objective.
        Its two parts touch separate weights: the classifier's cross-entropy its scores, the squared
        error of the switch fed the true class its units. Half autograd's time, for weights this few."""
        if stage.objective != "labelled":
            return None
        onehot = F.one_hot(data.label, self.units.out_features).float()  # (n, C)
        inputs = torch.cat([data.x[:, None], onehot], dim=-1)  # (n, 1 + C) what the switch reads
        return functools.partial(self._labelled_gradient, data.selector(self), onehot, inputs, data.y)

    @torch.no_grad()
    def _labelled_gradient(self, z: Tensor, onehot: Tensor, inputs: Tensor, y: Tensor) -> tuple[Tensor, dict]:
        # Cross-entropy: ∂/∂s = (p − onehot)/n for the scores s = w·z + b. Squared error of
        # Σ_k relu(a_k): ∂/∂a_k = 2(ŷ − y)/n wherever unit k is open (a_k > 0), else 0.
        n = len(y)
        score = self.classifier.score
        scores = torch.addmm(score.bias, z[:, None], score.weight.T)  # (n, C)
        classify = (scores.logsumexp(-1) - (scores * onehot).sum(-1)).mean()
        d_scores = scores.softmax(-1).sub_(onehot).div_(n)  # (n, C)
        drive = torch.addmm(self.units.bias, inputs, self.units.weight.T)  # (n, C)
        miss = drive.relu().sum(-1) - y  # (n,)
        d_drive = (drive > 0).float().mul_(miss[:, None] * (2 / n))  # (n, C)
        return classify + miss.square().mean(), {
            "classifier.score.weight": (z @ d_scores)[:, None], "classifier.score.bias": d_scores.sum(0),
            "units.weight": d_drive.T @ inputs, "units.bias": d_drive.sum(0)}


def hand_set(slopes=(2.0, 3.0, 1.0), darkness=(0.0, 0.5, 0.95), inhibition: float = 100.0,
             sharpness: float = 200.0) -> ReluSwitch:
    """The switch wired by hand: unit k has weight slope_k on x, 0 on p_k, −inhibition on p_j≠k.

    The classifier scores s_k = sharpness·(d_k·z − d_k²/2), so the grain of nearest darkness wins.
    """
    model = ReluSwitch(len(slopes))
    d = torch.tensor(darkness)  # (C,)
    with torch.no_grad():
        model.classifier.score.weight.copy_(sharpness * d.unsqueeze(-1))
        model.classifier.score.bias.copy_(-sharpness * d * d / 2)
        model.units.weight.zero_()
        model.units.weight[:, 0] = torch.tensor(slopes)
        model.units.weight[:, 1:] = -inhibition * (1 - torch.eye(len(slopes)))
        model.units.bias.zero_()
    return model

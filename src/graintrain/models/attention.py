"""Attention: a softmax over keys of z multiplies the experts' values of x, like a transistor's gate."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Callable

import torch
from torch import Tensor, nn

from .segments import segment

if TYPE_CHECKING:
    from ..datasets import Split
    from ..recipe import Stage


class Attention(nn.Module):
    """y = Σ_k softmax(K(z̃))_k · V(x)_k with z̃ = (z − shift) / scale; K and V are any modules with
    K outputs, linear by default."""

    def __init__(self, experts: int = 3, key: nn.Module | None = None,
                 value: nn.Module | None = None, edge: float = 2.0):
        super().__init__()
        self.key = key if key is not None else nn.Linear(1, experts)  # how much z calls on each expert
        self.value = value if value is not None else nn.Linear(1, experts)  # each expert's answer
        self.edge = edge  # a started border's key gap a quarter of the narrower neighbouring run away
        # The selector's standardisation, read from the training data by start(); kept as buffers,
        # so a saved state_dict predicts on raw z.
        self.register_buffer("shift", torch.zeros(()))
        self.register_buffer("scale", torch.ones(()))
        self.weights: Tensor | None = None  # the last attention weights, kept for figures

    @torch.no_grad()
    def start(self, x: Tensor, z: Tensor, y: Tensor) -> "Attention":
        """Start from the data: standardise z, and give each expert one run of the sorted data.

        The runs are the best split of the points sorted by z into K pieces that one line each fits
        (segments.py). A linear key then puts each border halfway across the gap between the
        neighbouring runs, and each expert's value starts on its run's line. The borders start
        soft: the key gap reaches ``edge`` only a quarter of the narrower neighbouring run away, so
        that training can still hand a point near a border to the expert that explains it, when
        the reading of z put it on the wrong side. Returns the model.
        """
        if not all(torch.isfinite(t).all() for t in (x, z, y)):
            raise ValueError("attention starts from the data, which must be finite numbers (x, z and y)")
        self.shift.copy_(z.mean())
        self.scale.copy_(z.std() if len(z) > 1 and z.std() > 0 else torch.ones(()))
        if not (isinstance(self.key, nn.Linear) and self.key.in_features == 1
                and isinstance(self.value, nn.Linear) and self.value.in_features == 1):
            return self  # other key or value modules keep their own start
        k = self.key.out_features
        z_std = (z - self.shift) / self.scale  # (n,)
        runs = segment(x.double().numpy(), z_std.double().numpy(), y.double().numpy(), k)
        borders = torch.as_tensor(runs.borders, dtype=torch.float32)  # (R-1,)
        edges = torch.cat([z_std.min().view(1), borders, z_std.max().view(1)])  # (R+1,) run limits
        narrower = torch.minimum(edges.diff()[:-1], edges.diff()[1:])  # (R-1,) beside each border
        sharp = self.edge / (narrower / 4).clamp(min=1e-6)  # (R-1,)
        weight = torch.cat([torch.zeros(1), sharp.cumsum(0)])  # (R,) rising: later runs win at higher z
        bias = torch.cat([torch.zeros(1), -(sharp * borders).cumsum(0)])  # (R,) equal scores at each border
        r = len(weight)
        self.key.weight.zero_()
        self.key.bias.fill_(bias.min() - weight.max() * 100 - 1e3)  # experts beyond the runs stay silent
        self.key.weight[:r, 0] = weight
        self.key.bias[:r] = bias
        self.value.weight[:r, 0] = torch.as_tensor(runs.slopes, dtype=torch.float32)
        self.value.bias[:r] = torch.as_tensor(runs.intercepts, dtype=torch.float32)
        return self

    def experts(self, x: Tensor, z: Tensor) -> tuple[Tensor, Tensor]:
        """The log attention weights log softmax(K(z̃)) and the expert values V(x), each (n, K)."""
        z = (z - self.shift) / self.scale  # (n,) standardised selector, or (n, 3, H, W) for photos
        features = z.unsqueeze(-1) if z.dim() == 1 else z  # (n, 1): a reading is one feature
        log_g = self.key(features).log_softmax(-1)  # (n, K) logs keep tiny weights finite
        v = self.value(x.unsqueeze(-1))  # (n, K)
        self.weights = log_g.detach().exp()
        return log_g, v

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        log_g, v = self.experts(x, z)  # (n, K), (n, K)
        return (log_g.exp() * v).sum(-1)  # (n,)

    def gradient_by_hand(self, data: Split, stage: Stage) -> Callable[[], tuple[Tensor, dict]] | None:
        """The stage's loss and the gradient of each parameter by name, worked out by hand, as a
        function that reads the parameters as they stand, for linear K and V on one number each and
        the mse or mixture objective; None for anything else, which autograd then handles. A graph
        of a dozen small operations costs autograd more than their arithmetic: this takes half
        the time (benchmarks/hand_gradient.py)."""
        linear = all(isinstance(m, nn.Linear) and m.in_features == 1 for m in (self.key, self.value))
        if not linear or stage.objective not in ("mse", "mixture"):
            return None
        z = (data.selector(self) - self.shift) / self.scale  # (n,) as experts() reads it; training leaves the buffers be
        by_hand = self._mse_gradient if stage.objective == "mse" else self._mixture_gradient
        return functools.partial(by_hand, data.x, z, data.y, stage.scale)

    def _scores_and_values(self, x: Tensor, z: Tensor) -> tuple[Tensor, Tensor]:
        scores = torch.addmm(self.key.bias, z[:, None], self.key.weight.T)  # (n, K)
        return scores, torch.addmm(self.value.bias, x[:, None], self.value.weight.T)  # (n, K) values

    @staticmethod
    def _by_name(z: Tensor, d_score: Tensor, x: Tensor, d_value: Tensor) -> dict[str, Tensor]:
        return {"key.weight": (z @ d_score)[:, None], "key.bias": d_score.sum(0),
                "value.weight": (x @ d_value)[:, None], "value.bias": d_value.sum(0)}

    @torch.no_grad()
    def _mse_gradient(self, x: Tensor, z: Tensor, y: Tensor, spread: float) -> tuple[Tensor, dict]:
        # L = mean (ŷ − y)²; with r = 2(ŷ − y)/n, each answer gets ∂L/∂v_k = r·g_k and each score,
        # through the softmax, ∂L/∂s_k = r·g_k·(v_k − ŷ).
        scores, v = self._scores_and_values(x, z)
        g = scores.softmax(-1)  # (n, K)
        self.weights = g
        answer = torch.linalg.vecdot(g, v)  # (n,)
        miss = answer - y  # (n,)
        loss = miss.square().mean()
        d_value = g * miss.mul_(2 / len(y))[:, None]  # (n, K)
        return loss, self._by_name(z, v.sub_(answer[:, None]).mul_(d_value), x, d_value)

    @torch.no_grad()
    def _mixture_gradient(self, x: Tensor, z: Tensor, y: Tensor, spread: float) -> tuple[Tensor, dict]:
        # L = −mean log Σ_k g_k·exp(−(y − v_k)²/2s²); with ρ_k = the share of the point expert k
        # explains (the posterior), ∂L/∂s_k = (g_k − ρ_k)/n and ∂L/∂v_k = ρ_k·(v_k − y)/(s²n).
        scores, v = self._scores_and_values(x, z)
        log_g = scores.log_softmax(-1)  # (n, K)
        miss = v.sub_(y[:, None])  # (n, K) v_k − y
        joint = log_g - miss.square() / (2 * spread**2)  # (n, K)
        total = joint.logsumexp(-1)  # (n,)
        rho = joint.sub_(total[:, None]).exp_()  # (n, K)
        g = log_g.exp_()
        self.weights = g
        n = len(y)
        return -total.mean(), self._by_name(z, (g - rho).div_(n), x, rho.mul_(miss).div_(spread**2 * n))

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


PARAMETERS = ("key.weight", "key.bias", "value.weight", "value.bias")  # linear K and V, by name


def blended_gradient(rows: dict[str, Tensor], x: Tensor, z: Tensor, y: Tensor,
                     out: Tensor | None = None) -> tuple[Tensor | None, Tensor]:
    """Σ_m mean_n (ŷ − y)² for M attention models with linear K and V on one number, each parameter
    given by name as (M, K) rows and the data as (M, N), and its gradient (4, M, K) in PARAMETERS'
    order, worked out by hand: with r = 2(ŷ − y)/N, each expert's answer gets ∂/∂v_k = r·g_k and
    each score, through the softmax, ∂/∂s_k = r·g_k·(v_k − ŷ). The trainer uses it for one model
    (M = 1) and the study for its stacks (study/stacked.py), which passes ``out`` to hold the
    gradient and then gets None for the loss, which a stack never reads."""
    # Fused where PyTorch has it (a·z + c as one batched multiply-add, sums of products as vecdot)
    # and in place where a tensor is not read again: each (M, K, N) pass of a large stack reads and
    # writes more than the cache holds, so fewer passes are the speed-up (2x a step here). Not bmm:
    # with one model it takes another path, which rounds differently from a stack's.
    g = torch.baddbmm(rows["key.bias"][:, :, None], rows["key.weight"][:, :, None], z[:, None, :]).softmax(1)  # (M, K, N)
    v = torch.baddbmm(rows["value.bias"][:, :, None], rows["value.weight"][:, :, None], x[:, None, :])  # (M, K, N)
    answer = torch.linalg.vecdot(g, v, dim=1)  # (M, N)
    miss = answer - y  # (M, N)
    loss = miss.square().mean(1).sum() if out is None else None
    d_value = g.mul_(miss.mul_(2 / y.shape[1])[:, None])  # (M, K, N) g is not needed again
    d_score = v.sub_(answer[:, None]).mul_(d_value)  # (M, K, N) nor is v
    return loss, torch.stack([torch.linalg.vecdot(d_score, z[:, None]), d_score.sum(2),  # (4, M, K)
                              torch.linalg.vecdot(d_value, x[:, None]), d_value.sum(2)], out=out)


class Attention(nn.Module):
    """y = Σ_k softmax(K(z̃))_k · V(x)_k with z̃ = (z − shift) / scale; K and V are any modules with
    K outputs, linear by default."""

    reads = "z"  # Split.selector feeds it the darkness reading

    def __init__(self, experts: int = 3, key: nn.Module | None = None,
                 value: nn.Module | None = None, edge: float = 2.0, init: str = "data"):
        super().__init__()
        if init not in ("data", "random"):
            raise ValueError(f"init is data or random, got {init!r}")
        self.key = key if key is not None else nn.Linear(1, experts)  # how much z calls on each expert
        self.value = value if value is not None else nn.Linear(1, experts)  # each expert's answer
        self.edge = edge  # a started border's key gap a quarter of the narrower neighbouring run away
        self.init = init  # "random": start() only standardises z, and PyTorch's weights stand
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
        the reading of z put it on the wrong side. With ``init="random"`` only z is standardised.
        Returns the model.
        """
        if not all(torch.isfinite(t).all() for t in (x, z, y)):
            raise ValueError("attention starts from the data, which must be finite numbers (x, z and y)")
        self.shift.copy_(z.mean())
        self.scale.copy_(z.std() if len(z) > 1 and z.std() > 0 else torch.ones(()))
        if self.init == "random" or not (isinstance(self.key, nn.Linear) and self.key.in_features == 1
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

    @torch.no_grad()
    def _mse_gradient(self, x: Tensor, z: Tensor, y: Tensor, spread: float) -> tuple[Tensor, dict]:
        params = dict(self.named_parameters())
        rows = {name: params[name].detach().reshape(1, -1) for name in PARAMETERS}  # (1, K): a stack of one
        loss, grads = blended_gradient(rows, x[None], z[None], y[None])
        return loss, {name: grad[0].reshape(params[name].shape) for name, grad in zip(PARAMETERS, grads)}

    @torch.no_grad()
    def _mixture_gradient(self, x: Tensor, z: Tensor, y: Tensor, spread: float) -> tuple[Tensor, dict]:
        # L = −mean log Σ_k g_k·exp(−(y − v_k)²/2s²); with ρ_k = the share of the point expert k
        # explains (the posterior), ∂L/∂s_k = (g_k − ρ_k)/n and ∂L/∂v_k = ρ_k·(v_k − y)/(s²n).
        # Laid out (K, n): PyTorch's log_softmax and logsumexp over a last dimension of a few
        # experts go row by row, and over the first they run along the points (1.4x here).
        n = len(y)
        log_g = torch.addmm(self.key.bias[:, None], self.key.weight, z[None]).log_softmax(0)  # (K, n)
        miss = torch.addmm(self.value.bias[:, None], self.value.weight, x[None]).sub_(y)  # (K, n) v_k − y
        joint = log_g - miss.square() / (2 * spread**2)  # (K, n)
        total = joint.logsumexp(0)  # (n,)
        rho = joint.sub_(total).exp_()  # (K, n)
        d_score = log_g.exp_().sub_(rho).div_(n)  # (K, n)
        d_value = rho.mul_(miss).div_(spread**2 * n)  # (K, n)
        return -total.mean(), {"key.weight": (d_score @ z)[:, None], "key.bias": d_score.sum(1),
                               "value.weight": (d_value @ x)[:, None], "value.bias": d_value.sum(1)}

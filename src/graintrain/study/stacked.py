"""Many attention models trained side by side as one set of tensors, for the study's plain recipe.

M models with linear keys and values have parameters of shape (M, K) and data of shape (M, N), laid
out as (models, experts, points) so each model's points sit together in memory. The loss is the
sum over models of each one's mean squared error, so every model gets exactly the gradient it
would get alone (a mean over models would scale each by 1/M), and Adam, which works element by
element, then takes the same steps as M separate runs.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..models import Attention


class StackedAttention(nn.Module):
    """y_m = Σ_k softmax(a_m·z + c_m)_k · (w_m·x + b_m)_k for M models at once; parameters (M, K)."""

    def __init__(self, models: int, experts: int):
        super().__init__()
        self.key_weight = nn.Parameter(torch.zeros(models, experts))
        self.key_bias = nn.Parameter(torch.zeros(models, experts))
        self.value_weight = nn.Parameter(torch.zeros(models, experts))
        self.value_bias = nn.Parameter(torch.zeros(models, experts))

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        scores = self.key_weight[:, :, None] * z[:, None, :] + self.key_bias[:, :, None]  # (M, K, N)
        g = scores.softmax(1)  # (M, K, N)
        v = self.value_weight[:, :, None] * x[:, None, :] + self.value_bias[:, :, None]  # (M, K, N)
        return (g * v).sum(1)  # (M, N)


def stack(models: list[Attention]) -> StackedAttention:
    """One stacked model holding copies of the given linear-key attention models, which must read z
    as it is (no standardisation: the post's plain model)."""
    if any(m.shift.item() != 0 or m.scale.item() != 1 for m in models):
        raise ValueError("stacked training takes attention on raw z; these models standardise z")
    stacked = StackedAttention(len(models), models[0].value.out_features)
    with torch.no_grad():
        stacked.key_weight.copy_(torch.stack([m.key.weight[:, 0] for m in models]))
        stacked.key_bias.copy_(torch.stack([m.key.bias for m in models]))
        stacked.value_weight.copy_(torch.stack([m.value.weight[:, 0] for m in models]))
        stacked.value_bias.copy_(torch.stack([m.value.bias for m in models]))
    return stacked


def unstack(stacked: StackedAttention, models: list[Attention]) -> list[Attention]:
    """Copy the stacked parameters back into the separate models, and return them."""
    with torch.no_grad():
        for m, model in enumerate(models):
            model.key.weight[:, 0] = stacked.key_weight[m]
            model.key.bias.copy_(stacked.key_bias[m])
            model.value.weight[:, 0] = stacked.value_weight[m]
            model.value.bias.copy_(stacked.value_bias[m])
    return models


def fit_stacked(models: list[Attention], x: Tensor, z: Tensor, y: Tensor, steps: int,
                lr: float = 0.05, chunk: int | None = None) -> list[Attention]:
    """Adam on the blended squared error for every model at once (in chunks of ``chunk`` models).

    x, z, y have shape (M, N): model m trains on row m. Returns the models, trained in place.
    """
    chunk = chunk or len(models)
    for start in range(0, len(models), chunk):
        part = slice(start, start + chunk)
        stacked = stack(models[part])
        opt = torch.optim.Adam(stacked.parameters(), lr=lr, fused=True)
        xs, zs, ys = x[part], z[part], y[part]
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            loss = (stacked(xs, zs) - ys).pow(2).mean(1).sum()  # sum of each model's own mean
            loss.backward()
            opt.step()
        unstack(stacked, models[part])
    return models

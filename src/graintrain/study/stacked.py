"""Many attention models trained side by side as one set of tensors, for the study's plain recipe.

M models with linear keys and values have parameters of shape (M, K) and data of shape (M, N), laid
out as (models, experts, points) so each model's points sit together in memory. The loss is the
sum over models of each one's mean squared error, so every model gets exactly the gradient it
would get alone (a mean over models would scale each by 1/M), and Adam, which works element by
element, then takes the same steps as M separate runs.

The four parameters live in one flat vector, padded to whole vectors of ``LANES`` floats. Fused Adam
updates whole vectors with SIMD and finishes a remainder one float at a time, which rounds
differently; padded, every float takes the vector path, so a model's numbers are the same bits
whichever models share its stack, and the study can split its stacks as it likes.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.optim.adam import adam

from ..models import Attention
from ..models.attention import PARAMETERS, blended_gradient
from .. import optimizers
from ..train import Recipe, keep_heap_pad

ADAM_SETTINGS = ("lr", "weight_decay", "eps", "amsgrad", "maximize")  # what adam() takes from a group
LANES = 16  # floats in a 64-byte cache line: the widest SIMD vector (AVX-512) PyTorch's CPU kernels use


class StackedAttention(nn.Module):
    """y_m = Σ_k softmax(a_m·z + c_m)_k · (w_m·x + b_m)_k for M models at once; parameters (M, K)."""

    def __init__(self, models: list[Attention]):
        super().__init__()
        if any(m.shift.item() != 0 or m.scale.item() != 1 for m in models):
            raise ValueError("stacked training takes attention on raw z; these models standardise z")
        states = [m.state_dict() for m in models]
        # Each parameter read by its name in the models' own state, one row per model: (M, K).
        rows = torch.stack([torch.stack([s[name].reshape(-1) for s in states]) for name in PARAMETERS])
        flat = rows.reshape(-1)
        self.shape = rows.shape  # (4, M, K): the parameters in PARAMETERS' order
        self.flat = nn.Parameter(torch.cat([flat, flat.new_zeros(-len(flat) % LANES)]))  # zeros stay zero
        self.gradient_out = torch.zeros_like(self.flat)  # written in place each step; its padding stays zero

    def rows(self) -> dict[str, Tensor]:
        """Each parameter by Attention's name, as an (M, K) view into the flat vector."""
        return dict(zip(PARAMETERS, self.flat[:self.shape.numel()].view(self.shape)))

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        p = self.rows()
        scores = p["key.weight"][:, :, None] * z[:, None, :] + p["key.bias"][:, :, None]  # (M, K, N)
        g = scores.softmax(1)  # (M, K, N)
        v = p["value.weight"][:, :, None] * x[:, None, :] + p["value.bias"][:, :, None]  # (M, K, N)
        return (g * v).sum(1)  # (M, N)

    @torch.no_grad()
    def gradient(self, x: Tensor, z: Tensor, y: Tensor) -> Tensor:
        """The flat gradient of Σ_m mean_n (ŷ − y)², worked out by hand rather than by autograd
        (models.attention.blended_gradient; about six times faster here: no graph to build for a
        few small tensors)."""
        out = self.gradient_out[:self.shape.numel()].view(self.shape)  # (4, M, K)
        blended_gradient(self.rows(), x, z, y, out=out)
        return self.gradient_out  # the same tensor each step, padding included

    def copy_into(self, models: list[Attention]) -> list[Attention]:
        """Load each model's row of the stacked parameters back into it, by name; return them."""
        for m, model in enumerate(models):
            state = model.state_dict()
            model.load_state_dict(state | {name: row[m].detach().reshape(state[name].shape).clone()
                                           for name, row in self.rows().items()})
        return models


def fit_stacked(models: list[Attention], x: Tensor, z: Tensor, y: Tensor, recipe: Recipe,
                chunk: int | None = None) -> list[Attention]:
    """Train every model by the recipe at once, in chunks of ``chunk`` models: the recipe's stages
    must be Adam on the blended squared error (mse), the only kind stacking reproduces exactly.

    x, z, y have shape (M, N): model m trains on row m. Returns the models, trained in place.
    """
    for stage in recipe.stages:
        if (stage.objective, stage.optimizer, stage.only) != ("mse", "adam", ""):
            raise ValueError("stacked training runs Adam on the mse objective over all parameters, "
                             f"not {stage.optimizer} on {stage.objective}")
    keep_heap_pad()  # each step's (M, K, N) tensors reuse the last step's pages
    chunk = chunk or len(models)
    for start in range(0, len(models), chunk):
        part = slice(start, start + chunk)
        stacked = StackedAttention(models[part])
        xs, zs, ys = x[part], z[part], y[part]
        for stage in recipe.stages:
            # The trainer's Adam, settings and all, its fused kernel called through torch's
            # functional form: for one small vector, the Optimizer's bookkeeping costs twice the kernel.
            flat = stacked.flat.detach()
            group = optimizers.Adam([flat], lr=stage.step_size, fused=True).param_groups[0]
            (beta1, beta2), settings = group["betas"], {k: group[k] for k in ADAM_SETTINGS}
            moments, step = [torch.zeros_like(flat), torch.zeros_like(flat)], torch.zeros(())
            with torch.inference_mode():  # nothing here is differentiated: PyTorch keeps no version counts
                for _ in range(stage.steps):
                    grad = stacked.gradient(xs, zs, ys)  # each model's own mean's gradient
                    adam([flat], [grad], moments[:1], moments[1:], [], [step], fused=True,
                         beta1=beta1, beta2=beta2, **settings)
        stacked.copy_into(models[part])
    return models

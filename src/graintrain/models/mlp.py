"""A ReLU network on (x, z): it bends a plane into flat pieces, one kink per hidden unit."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Callable

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from ..datasets import Split
    from ..recipe import Stage


def relu_layers(sizes: list[int]) -> nn.Sequential:
    """Linear layers of these sizes with a ReLU between each two; none on the output, since water
    can be any amount."""
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class MLP(nn.Module):
    """y = W_L·relu(… relu(W_1·[x, z] + b_1) …) + b_L; hidden=(2,) has 9 parameters, (10,) has 41."""

    reads = "z"  # Split.selector feeds it the darkness reading

    def __init__(self, hidden: tuple[int, ...] = (10,)):
        super().__init__()
        self.layers = relu_layers([2, *hidden, 1])
        self.hidden: list[Tensor] = []  # each hidden layer's last activations, kept for figures

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        h = torch.stack([x, z], dim=-1)  # (n, 2)
        self.hidden = []
        for layer in self.layers:
            h = layer(h)  # (n, width)
            if isinstance(layer, nn.ReLU):
                self.hidden.append(h.detach())
        return h.squeeze(-1)  # (n,)

    def gradient_by_hand(self, data: Split, stage: Stage) -> Callable[[], tuple[Tensor, dict]] | None:
        """The squared error and the gradient of each parameter by name, by backpropagation written
        out, as a function that reads the parameters as they stand, for the mse objective; None for
        any other. For a network this small autograd's bookkeeping costs more than the arithmetic:
        this takes under half its time, and gives the same numbers."""
        if stage.objective != "mse":
            return None
        return functools.partial(self._mse_gradient, torch.stack([data.x, data.selector(self)], -1), data.y)

    @torch.no_grad()
    def _mse_gradient(self, h: Tensor, y: Tensor) -> tuple[Tensor, dict]:
        # Forward, keeping what each linear layer reads; then back, from ∂L/∂ŷ = 2(ŷ − y)/n: a layer's
        # weight gets (∂L/∂out)ᵀ·in and its bias Σ ∂L/∂out, and it passes ∂L/∂out·W back to the layer
        # before, zero wherever that layer's ReLU was off.
        linears = [(f"layers.{i}", layer) for i, layer in enumerate(self.layers) if isinstance(layer, nn.Linear)]
        reads = []
        for i, (_, layer) in enumerate(linears):
            reads.append(h)
            h = torch.addmm(layer.bias, h, layer.weight.T)  # (n, width)
            if i < len(linears) - 1:
                h = h.relu_()
        miss = h[:, 0] - y  # (n,)
        loss = miss.square().mean()
        back = miss.mul_(2 / len(y))[:, None]  # (n, 1) ∂L/∂ŷ
        grads = {}
        for i in reversed(range(len(linears))):
            name, layer = linears[i]
            grads[f"{name}.weight"], grads[f"{name}.bias"] = back.T @ reads[i], back.sum(0)  # (out, in), (out,)
            if i:
                back = (back @ layer.weight).mul_(reads[i] > 0)  # (n, in) through the ReLU before
        return loss, grads

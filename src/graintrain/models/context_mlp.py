"""The baseline that reads a recipe card without attention: a ReLU network on the flattened card."""

import torch
from torch import Tensor, nn

from .mlp import relu_layers


class ContextMLP(nn.Module):
    """ŷ = MLP(x_1, y_1, …, x_m, y_m, x_q): every example and the query in one flat vector."""

    reads = "context"  # Split.selector hands it the card: the examples, then the query token

    def __init__(self, m: int, hidden: tuple[int, ...] = (4,)):
        super().__init__()
        self.layers = relu_layers([2 * m + 1, *hidden, 1])

    def forward(self, x: Tensor, card: Tensor) -> Tensor:
        flat = card[:, :-1, :2].flatten(1)  # (n, 2m) the pairs, in order
        return self.layers(torch.cat([flat, x.unsqueeze(-1)], -1)).squeeze(-1)  # (n,)

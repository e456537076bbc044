"""A ReLU network on (x, z): it bends a plane into flat pieces, one kink per hidden unit."""

import torch
from torch import Tensor, nn


def relu_layers(sizes: list[int]) -> nn.Sequential:
    """Linear layers of these sizes with a ReLU between each two; none on the output, since water
    can be any amount."""
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class MLP(nn.Module):
    """y = W_L·relu(… relu(W_1·[x, z] + b_1) …) + b_L; hidden=(2,) has 9 parameters, (10,) has 41."""

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

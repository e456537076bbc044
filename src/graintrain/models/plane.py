"""A plane: darkness may add or remove a fixed amount of water, but never changes the ratio."""

import torch
from torch import Tensor, nn


class Plane(nn.Module):
    """y = a·x + b·z + c: the darkness z shifts the answer up or down by a constant."""

    reads = "z"  # Split.selector feeds it the darkness reading

    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.randn(()))  # water per cup of grain, the same for every grain
        self.b = nn.Parameter(torch.randn(()))  # water added per unit of darkness
        self.c = nn.Parameter(torch.randn(()))  # baseline water

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        return self.a * x + self.b * z + self.c  # (n,)

"""A sigma-pi unit: a weighted sum of inputs and of their product, so darkness can tilt the slope."""

import torch
from torch import Tensor, nn


class SigmaPi(nn.Module):
    """y = a·x + b·x·z + c = (a + b·z)·x + c: the ratio itself grows linearly with darkness."""

    reads = "z"  # Split.selector feeds it the darkness reading

    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.randn(()))  # ratio of the whitest grain (z = 0)
        self.b = nn.Parameter(torch.randn(()))  # extra ratio per unit of darkness: the product term
        self.c = nn.Parameter(torch.randn(()))  # baseline water

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        return self.a * x + self.b * x * z + self.c  # (n,)

"""A line: one fixed ratio of water to grain."""

import torch
from torch import Tensor, nn


class Line(nn.Module):
    """y = w·x + b: a single recipe, blind to the darkness z."""

    reads = "z"  # Split.selector feeds it the darkness reading

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(()))  # the ratio: water for each cup of grain
        self.b = nn.Parameter(torch.randn(()))  # water added whatever the amount

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        return self.w * x + self.b  # (n,)

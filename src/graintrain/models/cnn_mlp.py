"""The camera without a gate: a CNN's view of the grain joins the cups in one ReLU network."""

import torch
from torch import Tensor, nn

from .cnn import CNN
from .mlp import relu_layers


class CnnMlp(nn.Module):
    """y = MLP([CNN(photo), x]): the photo's features and the cups go into one ReLU network; no
    expert is chosen, so the network must learn to bend x by the look of the grain by itself."""

    reads = "photo"  # Split.selector feeds it the photos, not the darkness reading

    def __init__(self, features: int = 2, hidden: tuple[int, ...] = (16,),
                 channels: tuple[int, int] = (8, 16), colours: int = 3):
        super().__init__()
        self.camera = CNN(features, channels, colours)
        self.mlp = relu_layers([features + 1, *hidden, 1])

    def forward(self, x: Tensor, photo: Tensor) -> Tensor:
        seen = self.camera(photo)  # (n, F) what the camera makes of the grain
        return self.mlp(torch.cat([seen, x.unsqueeze(-1)], -1)).squeeze(-1)  # (n,)

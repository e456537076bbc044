"""Attention: a softmax over keys of z multiplies the experts' values of x, like a transistor's gate."""

import torch
from torch import Tensor, nn


class Attention(nn.Module):
    """y = Σ_k softmax(K(z))_k · V(x)_k; K and V are any modules with K outputs, linear by default."""

    def __init__(self, experts: int = 3, key: nn.Module | None = None,
                 value: nn.Module | None = None, sharpness: float = 8.0):
        super().__init__()
        self.key = key if key is not None else nn.Linear(1, experts)  # how much z calls on each expert
        self.value = value if value is not None else nn.Linear(1, experts)  # each expert's answer
        self.sharpness = sharpness  # how clearly each expert owns its starting slice of z
        self.weights: Tensor | None = None  # the last attention weights, kept for figures
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Start a linear key with each expert owning an equal slice of z in [0, 1].

        Key k scores β·(c_k·z − c_k²/2), highest for the slice centre c_k nearest z, with
        β = sharpness·K². From random keys every expert sees every point, fits the same average
        line, and the experts rarely part again. The values start random.
        """
        if not isinstance(self.key, nn.Linear) or self.key.in_features != 1:
            return
        k = self.key.out_features
        centre = (torch.arange(k) + 0.5) / k  # (K,)
        beta = self.sharpness * k * k
        with torch.no_grad():
            self.key.weight.copy_(beta * centre.unsqueeze(-1))
            self.key.bias.copy_(-beta * centre * centre / 2)

    def experts(self, x: Tensor, z: Tensor) -> tuple[Tensor, Tensor]:
        """The log attention weights log softmax(K(z)) and the expert values V(x), each (n, K)."""
        log_g = self.key(z.unsqueeze(-1)).log_softmax(-1)  # (n, K) logs keep tiny weights finite
        v = self.value(x.unsqueeze(-1))  # (n, K)
        self.weights = log_g.detach().exp()
        return log_g, v

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        log_g, v = self.experts(x, z)  # (n, K), (n, K)
        return (log_g.exp() * v).sum(-1)  # (n,)

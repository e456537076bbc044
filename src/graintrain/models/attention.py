"""Attention: a softmax over keys of z multiplies the experts' values of x, like a transistor's gate."""

from torch import Tensor, nn


class Attention(nn.Module):
    """y = Σ_k softmax(K(z))_k · V(x)_k; K and V are any modules with K outputs, linear by default."""

    def __init__(self, experts: int = 3, key: nn.Module | None = None,
                 value: nn.Module | None = None):
        super().__init__()
        self.key = key if key is not None else nn.Linear(1, experts)  # how much z calls on each expert
        self.value = value if value is not None else nn.Linear(1, experts)  # each expert's answer
        self.weights: Tensor | None = None  # the last attention weights, kept for figures

    def experts(self, x: Tensor, z: Tensor) -> tuple[Tensor, Tensor]:
        """The log attention weights log softmax(K(z)) and the expert values V(x), each (n, K)."""
        log_g = self.key(z.unsqueeze(-1)).log_softmax(-1)  # (n, K) logs keep tiny weights finite
        v = self.value(x.unsqueeze(-1))  # (n, K)
        self.weights = log_g.detach().exp()
        return log_g, v

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        log_g, v = self.experts(x, z)  # (n, K), (n, K)
        return (log_g.exp() * v).sum(-1)  # (n,)

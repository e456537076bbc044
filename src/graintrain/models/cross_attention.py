"""Cross-attention: a camera's network chooses among experts that read the cups."""

from torch import Tensor

from .attention import Attention
from .cnn import CNN


class CrossAttention(Attention):
    """y = Σ_k softmax(K(photo))_k · V(x)_k: the key K is a small CNN that looks at the grain, the
    value V is linear in the cups, as in chapter 9's attention."""

    reads = "photo"  # Split.selector feeds it the photos, not the darkness reading

    def __init__(self, experts: int = 3, channels: tuple[int, int] = (8, 16), colours: int = 3):
        super().__init__(experts, key=CNN(experts, channels, colours))

    def forward(self, x: Tensor, photo: Tensor) -> Tensor:
        log_g, v = self.experts(x, photo)  # (n, K) which grain the camera sees, (n, K) each expert's water
        return (log_g.exp() * v).sum(-1)  # (n,) the water of the grain it sees

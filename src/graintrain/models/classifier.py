"""A softmax classifier: from darkness alone, how likely is each kind of grain?"""

from torch import Tensor, nn


class Classifier(nn.Module):
    """p = softmax(w·z + b): one score per class, linear in the darkness z; returns the scores."""

    reads = "z"  # Split.selector feeds it the darkness reading

    def __init__(self, classes: int = 3):
        super().__init__()
        self.score = nn.Linear(1, classes)

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        return self.score(z.unsqueeze(-1))  # (n, C) logits; softmax turns them into probabilities

    def probabilities(self, z: Tensor) -> Tensor:
        """p_k = exp(s_k) / Σ_j exp(s_j), the softmax of the scores."""
        return self.score(z.unsqueeze(-1)).softmax(-1)  # (n, C)

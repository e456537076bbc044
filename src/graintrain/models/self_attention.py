"""Softmax self-attention on a mixed recipe card: the query looks up the examples of its own grain."""

import torch
from torch import Tensor, nn


class SelfAttention(nn.Module):
    """ŷ = x_q · Σ_i softmax_i(c·log x_i − ‖W(x_i, d_i) − W(x_q, d_q)‖²) · y_i / x_i.

    Keys W(x_i, d_i) and the query W(x_q, d_q) meet by distance (a Gaussian kernel, as in
    Nadaraya–Watson pooling); each value y_i/x_i is the ratio its example measured. With W reading
    darkness alone, sharply, the weights fall on the query's grain; with c = 2 an example counts
    by x_i², and the answer is least squares on those examples: Σ x_i y_i / Σ x_i².
    """

    reads = "context"  # Split.selector hands it the card: the examples, then the query token

    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(2, 2, bias=False)  # W: where (x, d) lands in the space keys are compared in
        self.size = nn.Parameter(torch.zeros(()))  # c: how much more a bigger measured pot counts
        with torch.no_grad():
            self.embed.weight.copy_(torch.eye(2))  # start even-handed: cups and darkness alike
        self.weights: Tensor | None = None  # the last attention weights (n, m), kept for figures

    def forward(self, x: Tensor, card: Tensor) -> Tensor:
        examples, query = card[:, :-1], card[:, -1]  # (n, m, 3) (x_i, y_i, d_i), (n, 3) (x_q, 0, d_q)
        keys = self.embed(examples[..., [0, 2]])  # (n, m, 2) W(x_i, d_i)
        asks = self.embed(query[:, [0, 2]]).unsqueeze(1)  # (n, 1, 2) W(x_q, d_q)
        xi, yi = examples[..., 0], examples[..., 1]  # (n, m) each
        scores = self.size * xi.log() - (keys - asks).square().sum(-1)  # (n, m)
        self.weights = scores.softmax(-1)  # (n, m)
        return x * (self.weights * yi / xi).sum(-1)  # (n,)

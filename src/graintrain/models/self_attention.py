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

    @torch.no_grad()
    def start(self, x: Tensor, card: Tensor, y: Tensor) -> None:
        """W = diag(1/σ_x, 1/h), c = 2: cups compared on their own spread σ_x, which keeps W's cups
        row off zero, where its gradient vanishes; darkness at the width h, a quantile of the cards'
        reading gaps |d_i − d_q|, whose start fits the training cards best; c = 2, least squares."""
        cups = 1 / card[:, :-1, 0].std()  # on the cups' own scale, whatever it is
        gaps = (card[:, :-1, 2] - card[:, -1:, 2]).abs().flatten()  # (n·m,) on the meter's own scale
        widths = gaps[gaps > 0].quantile(torch.linspace(0.01, 0.5, 50))  # (50,) from the data, any scale
        self.size.fill_(2.0)
        losses = []
        for h in widths:
            self.embed.weight.copy_(torch.diag(torch.stack([cups, 1 / h])))
            losses.append((self(x, card) - y).square().mean())
        self.embed.weight.copy_(torch.diag(torch.stack([cups, 1 / widths[torch.stack(losses).argmin()]])))

    def forward(self, x: Tensor, card: Tensor) -> Tensor:
        examples, query = card[:, :-1], card[:, -1]  # (n, m, 3) (x_i, y_i, d_i), (n, 3) (x_q, 0, d_q)
        keys = self.embed(examples[..., [0, 2]])  # (n, m, 2) W(x_i, d_i)
        asks = self.embed(query[:, [0, 2]]).unsqueeze(1)  # (n, 1, 2) W(x_q, d_q)
        xi, yi = examples[..., 0], examples[..., 1]  # (n, m) each
        _check_cups(xi)
        scores = self.size * xi.log() - (keys - asks).square().sum(-1)  # (n, m)
        self.weights = scores.softmax(-1)  # (n, m)
        return x * (self.weights * yi / xi).sum(-1)  # (n,)


def _check_cups(xi: Tensor) -> None:
    """Refuse a card with a pot of 0 cups or fewer, naming it: log x_i and y_i/x_i need x_i > 0."""
    bad = (~(xi > 0)).nonzero()  # (k, 2) card and example of each pot that is not above 0 (NaN too)
    if len(bad):
        card, example = bad[0].tolist()
        raise ValueError(f"self-attention weighs each measured pot by log x_i and reads its ratio y_i/x_i, so "
                         f"every pot on a card must hold more than 0 cups; card {card} (counting from 0) has "
                         f"x = {xi[card, example].item():g} cups in example {example}, and {len(bad)} such "
                         f"pot{'s' if len(bad) > 1 else ''} in all")

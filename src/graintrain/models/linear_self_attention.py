"""Linear self-attention (von Oswald et al. 2023): one layer that reads a recipe card in context."""

import torch
from torch import Tensor, nn


class LinearSelfAttention(nn.Module):
    """ŷ = y slot of e_q + P·Σ_i (V e_i)(K e_i)ᵀ(Q e_q)/m over tokens e_i = (x_i, y_i), e_q = (x_q, 0).

    No softmax. With K = Q = the projection onto x and P·V carrying y into the y slot with scale η,
    the answer is η·(1/m)Σ y_i x_i · x_q: one step of gradient descent from w = 0 on the card.
    """

    reads = "context"  # Split.selector hands it the card: the examples, then the query token

    def __init__(self):
        super().__init__()
        self.key, self.query, self.value, self.project = (nn.Linear(2, 2, bias=False) for _ in range(4))

    def forward(self, x: Tensor, card: Tensor) -> Tensor:
        examples, query = card[:, :-1, :2], card[:, -1, :2]  # (n, m, 2) e_i, (n, 2) e_q = (x_q, 0)
        scores = self.key(examples) @ self.query(query).unsqueeze(-1)  # (n, m, 1) (K e_i)ᵀ(Q e_q)
        update = (self.value(examples) * scores).mean(1)  # (n, 2) Σ_i (V e_i)(K e_i)ᵀ(Q e_q) / m
        return (query + self.project(update))[:, 1]  # (n,) the query token's y slot

    def product(self) -> Tensor:
        """(2, 2) M with ŷ = x_q·Σ_ab M_ab·(1/m)Σ_i e_ia·e_ib: row a is what the value carries into
        the y slot (P·V's y row), column b what the key meets in the query (KᵀQ's x column)."""
        carry = (self.project.weight @ self.value.weight)[1]  # (2,) the y row of P·V
        meet = (self.key.weight.T @ self.query.weight)[:, 0]  # (2,) KᵀQ applied to (1, 0)
        return torch.outer(carry, meet).detach()

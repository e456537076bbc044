"""Chapter 11's two claims, judged on one trained model, and the cards they are judged on.

The lookup (softmax self-attention on mixed cards) reads the query grain's examples: at least 90% of
its weight on them, on average and on every held-out card, and a held-out MSE at most 1.1 × least
squares told which examples are the query grain's. The layer (linear self-attention on one-grain
cards) is one GD step: its answers' mean squared gap from one GD step at η* is at most 0.5% of their
variance; and its product M has the construction's shape, at least 95% of its squared mass in the
two x–y entries, whose sum is within 20% of η*. benchmarks/self_attention.py counts the seeds that pass on each variant below; the tests
and the README read the same list.
"""

from __future__ import annotations

import torch

from .cards import best_step, gd_step, least_squares, own_grain

ON_OWN, OVER_ALONE, GAP = 0.9, 1.1, 0.005  # the claims' thresholds, as the docstring states them
SHARE, STEP = 0.95, 0.2  # the layer's M: its share in the x–y entries, and how far their sum may stray from η*

# (label, options of recipe-cards-mixed): the default cards, then every knob of the generator moved.
# spacing s puts neighbouring grains s apart on the darkness scale; each reading wobbles by ±0.01.
LOOKUP_VARIANTS: list[tuple[str, dict]] = [
    ("3 grains, default", {}),
    *((f"3 grains {s:g} apart", {"spacing": s}) for s in (0.03, 0.04, 0.05, 0.06, 0.08, 0.1)),
    ("5 grains", {"grains": 5}),
    ("5 grains 0.06 apart", {"grains": 5, "spacing": 0.06}),
    ("2 grains", {"grains": 2}),
    ("2 pairs of each grain", {"m": 2}),
    ("ratios in [4, 6]", {"ratios": (4.0, 6.0)}),
    ("readings on a 200-to-300 scale", {"readings": (200.0, 300.0)}),
    ("readings on a -0.002-to-0 scale", {"readings": (-0.002, 0.0)}),
    ("jitter ±0.03", {"jitter": 0.03}),
    ("water noise 0.5", {"noise": 0.5}),
    ("100 cards", {"n": 100}),
]

# (label, options the layer trains on, options of the cards it is judged on: None, the same).
STEP_VARIANTS: list[tuple[str, dict, dict | None]] = [
    ("m = 16, default", {}, None),
    ("m = 1", {"m": 1}, None),
    ("m = 2", {"m": 2}, None),
    ("m = 4", {"m": 4}, None),
    ("m = 32", {"m": 32}, None),
    ("ratios in [4, 6]", {"ratios": (4.0, 6.0)}, None),
    ("ratios in [0.5, 20]", {"ratios": (0.5, 20.0)}, None),
    ("trained on [0.5, 4], asked on [4, 6]", {}, {"ratios": (4.0, 6.0)}),
    ("water noise 0.5", {"noise": 0.5}, None),
    ("100 cards", {"n": 100}, None),
]


@torch.no_grad()
def lookup_claim(model, data) -> dict:
    """The lookup's held-out numbers: its mean and lowest weight on the query grain's examples, and
    its MSE over least squares on those examples alone (``own_grain``: exact where readings of two
    grains never overlap, that is where grains lie more than twice the jitter apart)."""
    near = data.near
    said = model(near.x, near.selector(model))  # (n,) keeps the weights (n, M)
    own = own_grain(near, data.num_classes)  # (n, M)
    on_own = (model.weights * own).sum(1)  # (n,)
    alone = (least_squares(near, own) - near.y).pow(2).mean()
    mse = (said - near.y).pow(2).mean()
    return {"on_own": on_own.mean().item(), "lowest": on_own.min().item(), "mse": mse.item(),
            "alone": alone.item(), "over": (mse / alone).item(), "c": model.size.item(),
            "holds": bool(on_own.mean() >= ON_OWN and on_own.min() >= ON_OWN and mse <= OVER_ALONE * alone)}


@torch.no_grad()
def step_claim(layer, data, asked=None) -> dict:
    """The layer against one GD step at η* (from its training cards) on held-out cards in range,
    of ``asked`` if given (cards it was not trained on), else of ``data``: the squared gap over the
    variance of its answers, and the share of M in its x–y entries with their sum over η*."""
    near = (asked or data).near
    eta = best_step(data.train)
    said = layer(near.x, near.selector(layer))  # (n,)
    gap = ((said - gd_step(near, eta)).pow(2).mean() / said.var()).item()
    M = layer.product()
    share, step = ((M[0, 1] ** 2 + M[1, 0] ** 2) / M.square().sum()).item(), ((M[0, 1] + M[1, 0]) / eta).item()
    return {"gap": gap, "share": share, "step": step, "holds": gap <= GAP,
            "shaped": share >= SHARE and abs(step - 1) <= STEP}

"""The data claim 9 is measured on: the switchboard and the three grains, varied the ways real
selectors vary. The recovery benchmark, the article and the README all read this one list."""

from __future__ import annotations

import itertools

SW = "switchboard"

# (label, dataset, options): switchboard rows first, then every order of the three grains' darkness.
VARIANTS: list[tuple[str, str, dict]] = [
    ("switchboard K=2", SW, {"lines": 2}),
    ("switchboard K=3", SW, {"lines": 3}),
    ("switchboard K=5", SW, {"lines": 5}),
    ("switchboard K=8", SW, {"lines": 8}),
    ("K=5 random widths", SW, {"regions": "random"}),
    ("K=5 shuffled", SW, {"order": "shuffled"}),
    ("K=5 shuffled, z in [-1, 1]", SW, {"order": "shuffled", "selector_range": (-1.0, 1.0)}),
    ("K=5 shuffled, z in [0, 10]", SW, {"order": "shuffled", "selector_range": (0.0, 10.0)}),
    ("K=5 random, shuffled, z in [-40, -30]", SW,
     {"regions": "random", "order": "shuffled", "selector_range": (-40.0, -30.0)}),
    ("K=5 random, shuffled, z in [-1000, 1000]", SW,
     {"regions": "random", "order": "shuffled", "selector_range": (-1000.0, 1000.0)}),
    ("K=8 random, shuffled, z in [-3, 700]", SW,
     {"lines": 8, "regions": "random", "order": "shuffled", "selector_range": (-3.0, 700.0)}),
    # Readings of z with noise: near a border a point can read as its neighbour's. These break the
    # start's assumption that z alone decides the line, and are here to show where the claim ends.
    ("K=5, z read with noise 0.01", SW, {"selector_noise": 0.01}),
    ("K=5, z read with noise 0.03", SW, {"selector_noise": 0.03}),
    *((f"three grains at d = {'/'.join(f'{v:g}' for v in d)}", "three-grains", {"darkness": d})
      for d in itertools.permutations((0.0, 0.5, 0.95))),
    ("three grains at d = 0.1/0.3/0.6", "three-grains", {"darkness": (0.1, 0.3, 0.6)}),
]


def tolerance(dataset: str) -> float:
    """How close every matched slope and intercept must be to count as recovered: 0.15 on the
    switchboard (noise 0.05), 0.1 on the grains (noise 0.1)."""
    return 0.15 if dataset == SW else 0.1

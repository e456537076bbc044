"""Every option a run can set, gathered from the registries' declarations, grouped as the lab's form
shows them: ``runs.Run`` makes its fields from them, the command line its flags (``cli/args.py``).

Nothing here needs PyTorch, so that the command line can build its parser without importing it.
"""

from __future__ import annotations

import dataclasses

from .datasets import DATA_OPTIONS, DATASETS
from .models import MODELS
from .options import Option
from .recipe import RECIPE_OPTIONS, SEED


def _merged(name: str) -> Option:
    """One declaration for an option that several datasets declare. Darkness takes one reading per
    grain, and grains may be 2 to 4 photographed or 2 to 5 on a card, so where the declarations
    differ the widest bounds stand here and each dataset's own check decides (make_dataset)."""
    same = [o for spec in DATASETS.values() for o in spec.options if o.name == name]
    if len(same) == 1:
        return same[0]
    lows, highs = [o.low for o in same], [o.high for o in same]
    return dataclasses.replace(
        same[0], length=same[0].length if len({o.length for o in same}) == 1 else None,
        low=None if None in lows else min(lows), high=None if None in highs else max(highs))


GROUPS: dict[str, tuple[Option, ...]] = {
    "data": (*DATA_OPTIONS, *(_merged(name) for name in dict.fromkeys(
        o.name for spec in DATASETS.values() for o in spec.options))),
    "model": tuple({o.name: o for spec in MODELS.values() for o in spec.options}.values()),
    "training": (*RECIPE_OPTIONS, SEED),
}
OPTIONS: dict[str, Option] = {o.name: o for group in GROUPS.values() for o in group}

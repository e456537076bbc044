"""How many experts attention gives points that carry no class: the lines it counts, over seeds.

Run: .venv/bin/python benchmarks/count_experts.py [--first 100] [--seeds 20]

An upload without a label column gets as many experts as `models.segments.count_runs` finds
lines along the selector. The rule (two standard errors of cross-validated error, five folds
along z) was chosen on seeds 0-19; this reports seeds the rule never saw, on the grain datasets
and on switchboards with random region widths, shuffled order, heavier noise and fewer points,
each with its labels dropped. Prints, per variant, how often the count is right, and the counts.
"""

import argparse
import time
from collections import Counter

from graintrain import make_dataset
from graintrain.models.builders import experts_for

VARIANTS = [(name, {}, None) for name in ("white", "white+brown", "bran", "three-grains")] + [
    ("switchboard", {"lines": k, "noise": noise, "n": n, "regions": "random", "order": "shuffled"}, k)
    for k in (2, 3, 5, 8) for noise, n in ((0.05, 500), (0.3, 500), (0.05, 100))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--first", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    seeds = range(args.first, args.first + args.seeds)
    print(f"seeds {seeds.start}-{seeds.stop - 1}\n{'data':64} right  counts (count: seeds)   seconds")
    for name, options, truth in VARIANTS:
        began, counts = time.perf_counter(), []
        for seed in seeds:
            data = make_dataset(name, seed=seed, **options)
            truth_here = truth or len(data.train.label.unique())  # bran holds its half-bran back for the test
            data.labelled = False  # as an upload without its label column
            counts.append(experts_for(data))
        right = sum(c == truth_here for c in counts)
        label = f"{name} {' '.join(f'{k}={v}' for k, v in options.items())}"
        tally = ", ".join(f"{k}: {v}" for k, v in sorted(Counter(counts).items()))
        print(f"{label:64} {right:2}/{len(counts)}  {tally:24} {(time.perf_counter() - began) / len(counts):.2f}")


if __name__ == "__main__":
    main()

"""How often the attention recipe recovers the true experts, over seeds, with one start each.

Run: .venv/bin/python benchmarks/recovery.py [SEEDS]   (default 20 seeds; about 10 s per 20 runs)
"""

import dataclasses
import statistics
import sys

import torch

from graintrain import MODELS, fit, make_dataset, make_model, match_experts, mse


def rate(dataset: str, seeds: int, tol: float, **options) -> str:
    recovered, floor, errors = 0, 0, []
    for seed in range(seeds):
        data = make_dataset(dataset, seed=seed, **options)
        recipe = dataclasses.replace(MODELS["attention"].recipe, seed=seed)
        model = fit(lambda: make_model("attention", data), data.train, recipe).model
        recovered += match_experts(model, data).error <= tol
        errors.append(mse(model, data.train))
        floor += errors[-1] <= 1.3 * data.noise**2
    return (f"recovered {recovered}/{seeds}  at noise floor {floor}/{seeds}  "
            f"median train MSE {statistics.median(errors):.4f}")


def main() -> None:
    torch.set_num_threads(1)
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    print(f"three-grains         {rate('three-grains', seeds, 0.1)}")
    for k in (2, 3, 5, 8):
        print(f"switchboard K={k}     {rate('switchboard', seeds, 0.15, relationships=k)}")


if __name__ == "__main__":
    main()

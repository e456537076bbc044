"""How often the attention recipe recovers the true experts, over seeds, with one start each.

Run: .venv/bin/python benchmarks/recovery.py [--seeds 20] [--start slices|random-slices|pytorch]

--start sets where the keys begin: the model's own equal slices of z (the default), slices with
random sorted centres, or PyTorch's default Linear initialisation.
"""

import argparse
import dataclasses
import statistics

import torch

from graintrain import MODELS, fit, make_dataset, make_model, match_experts, mse


def start_keys(model, start: str):
    """Re-initialise the keys of a freshly built attention model as --start says."""
    k = model.key.out_features
    if start == "pytorch":
        model.key.reset_parameters()
    elif start == "random-slices":
        centre = torch.rand(k).sort().values  # (K,)
        beta = model.sharpness * k * k
        with torch.no_grad():
            model.key.weight.copy_(beta * centre.unsqueeze(-1))
            model.key.bias.copy_(-beta * centre * centre / 2)
    return model


def rate(dataset: str, seeds: int, tol: float, start: str, **options) -> str:
    recovered, floor, errors = 0, 0, []
    for seed in range(seeds):
        data = make_dataset(dataset, seed=seed, **options)
        recipe = dataclasses.replace(MODELS["attention"].recipe, seed=seed)
        model = fit(lambda: start_keys(make_model("attention", data), start), data.train, recipe).model
        recovered += match_experts(model, data).error <= tol
        errors.append(mse(model, data.train))
        floor += errors[-1] <= 1.3 * data.noise**2
    return (f"recovered {recovered}/{seeds}  at noise floor {floor}/{seeds}  "
            f"median train MSE {statistics.median(errors):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--start", choices=["slices", "random-slices", "pytorch"], default="slices")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"keys start: {args.start}; seeds 0-{args.seeds - 1}; one start each")
    print(f"three-grains         {rate('three-grains', args.seeds, 0.1, args.start)}")
    for k in (2, 3, 5, 8):
        print(f"switchboard K={k}     {rate('switchboard', args.seeds, 0.15, args.start, relationships=k)}")


if __name__ == "__main__":
    main()

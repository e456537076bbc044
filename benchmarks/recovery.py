"""Does attention find the experts on data it was not shaped for? One table, seeds 0-19, one fit each.

Run: .venv/bin/python benchmarks/recovery.py [--seeds 20] [--only TEXT]

Each row is one data variant. For each way to start the keys it prints how many seeds recover every
expert (matched slope and intercept within 0.15 on the switchboard, 0.1 on grains) and how many reach
held-out MSE <= 1.3 sigma^2 inside the training range:
- data: graintrain's recipe (Attention.start from the data, then the registered recipe);
- slices: keys start as equal slices of the observed range of z (the old head start), then the
  competing recipe below;
- pytorch: PyTorch's own key and value initialisation, then the competing recipe.
"reachable" counts the seeds where the true lines, with each border halfway across its gap in the
training data (metrics.midpoint_mse), reach that held-out MSE: held-out points that fall inside a
gap can land on the wrong side of the true border, which no model can know from those points.
"""

import argparse
import statistics
import time

import torch

from graintrain import (MODELS, Attention, Recipe, Stage, fit, make_dataset, make_model, match_experts,
                        midpoint_mse, mse)
from graintrain.variants import VARIANTS, tolerance

# The recipe that trained attention before it started from the data: the experts compete on the
# mixture likelihood as it narrows, then L-BFGS sharpens the keys, then settles everything.
COMPETE = Recipe(stages=(
    Stage("mixture", "adam", steps=150, lr=0.05, scale=1.0),
    Stage("mixture", "adam", steps=100, lr=0.05, scale=0.3),
    Stage("mixture", "adam", steps=50, lr=0.05, scale=0.1),
    Stage("mixture", "lbfgs", steps=125, scale=0.1, only="key"),
    Stage("mixture", "lbfgs", steps=125, scale=0.1),
))

def reachable(data) -> bool:
    """Whether the true lines, with borders halfway between the training points, reach the floor."""
    return midpoint_mse(data, data.near) <= 1.3 * data.noise**2


def build(data, start: str):
    """Attention for this data, with its keys started as ``start`` says."""
    if start == "data":
        return make_model("attention", data)
    model = Attention(data.num_classes).start(data.train.x, data.train.z, data.train.y)
    model.key.reset_parameters()  # keep the standardisation, forget the data-driven start
    model.value.reset_parameters()
    if start == "slices":
        z = (data.train.z - model.shift) / model.scale  # (n,)
        k = data.num_classes
        centre = z.min() + (z.max() - z.min()) * (torch.arange(k) + 0.5) / k  # (K,)
        beta = 8.0 * k * k / (z.max() - z.min()).item()
        with torch.no_grad():
            model.key.weight.copy_(beta * centre.unsqueeze(-1))
            model.key.bias.copy_(-beta * centre * centre / 2)
    return model


def measure(dataset: str, options: dict, seeds: int, start: str) -> tuple[int, int, int, float]:
    recovered = floor = reach = 0
    seconds = []
    for seed in range(seeds):
        data = make_dataset(dataset, seed=seed, **options)
        recipe = MODELS["attention"].recipe if start == "data" else COMPETE
        began = time.perf_counter()
        model = fit(lambda: build(data, start), data.train, Recipe(recipe.stages, seed=seed)).model
        seconds.append(time.perf_counter() - began)
        recovered += match_experts(model, data).error <= tolerance(dataset)
        floor += mse(model, data.near) <= 1.3 * data.noise**2
        reach += reachable(data)
    return recovered, floor, reach, statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--only", default="", help="rows whose name contains this text")
    parser.add_argument("--starts", default="data,slices,pytorch", help="which starts, in order")
    args = parser.parse_args()
    torch.set_num_threads(1)
    starts = args.starts.split(",")
    measure("white", {}, 1, "data")  # the first optimizer step imports torch._dynamo: not timed below
    print(f"seeds 0-{args.seeds - 1}, one fit each; each cell: experts recovered / held-out MSE at "
          f"the floor (<= 1.3 sigma^2)")
    head = "| data | " + " | ".join(starts) + " | reachable | time of a default fit |"
    print(head + "\n|" + "---|" * (head.count("|") - 1))
    for name, dataset, options in VARIANTS:
        if args.only not in name:
            continue
        cells, reach, seconds = [], 0, 0.0
        for start in starts:
            recovered, floor, reach, took = measure(dataset, options, args.seeds, start)
            cells.append(f"{recovered}/{args.seeds} · {floor}/{args.seeds}")
            seconds = took if start == "data" else seconds
        print(f"| {name} | " + " | ".join(cells) + f" | {reach}/{args.seeds} | {1000 * seconds:.0f} ms |",
              flush=True)


if __name__ == "__main__":
    main()

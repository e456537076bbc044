"""Why some default runs train from several random starts: the best of the first k starts against
the best of six, seed by seed.

Run: .venv/bin/python benchmarks/restarts.py [--seeds 8]

For each model trained from several starts by default (the ReLU networks and the ReLU switch), each
seed trains six starts with the model's own recipe; a row shows, for k = 1 to 5, the lowest final
training loss of the first k starts over the lowest of all six. 1.0 means k starts were enough; a
large number means the first k all ended far from the best (units that died, or kinks that coincide).
"""

import argparse
import dataclasses

import torch

from graintrain import MODELS, fit, make_dataset, make_model

RUNS = [("relu-switch", "three-grains", {}), ("mlp", "white+brown", {"hidden": (10,)}),
        ("mlp", "white+brown", {"hidden": (2,)}), ("mlp", "switchboard", {"hidden": (10,)})]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name, dataset, options in RUNS:
        print(f"{name} on {dataset} {options or ''} (its recipe: {MODELS[name].recipe.restarts} starts); "
              "best of the first k starts / best of six, for k = 1..5:")
        for seed in range(args.seeds):
            data = make_dataset(dataset, seed=seed)
            recipe = dataclasses.replace(MODELS[name].recipe, seed=seed, restarts=6)
            finals = fit(lambda: make_model(name, data, **options), data.train, recipe).final_losses
            print(f"  seed {seed}: " + "  ".join(f"{min(finals[:k]) / min(finals):8.3f}" for k in range(1, 6)))


if __name__ == "__main__":
    main()

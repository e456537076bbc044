"""Self-attention reads a recipe card: the claims of chapter 11's models on recipe-cards, with numbers.

Run: .venv/bin/python benchmarks/self_attention.py [--seeds 1] [--lengths 1-32]

For each context length m and seed it makes recipe-cards, trains linear-self-attention and the
context-mlp baseline by their registered recipes on one thread, and prints the held-out MSE (in
range, and at 10 cups) of the layer, of one GD step from w = 0 at the best step size η* (closed
form on the training cards), of least squares on the card and of the MLP; how far the layer's
answers are from the GD step's (mean squared difference over the variance of its answers); and the
share of the layer's product matrix M in its x–y entries, with its step M_xy + M_yx against η*.
Then, on recipe-cards-mixed, softmax self-attention: its weight on the query grain's examples,
its MSE against least squares on those examples alone, and every default fit's processor time.
"""

import argparse
import statistics
import time

import torch

from graintrain import MODELS, Recipe, fit, make_dataset, make_model, num_parameters
from graintrain.cards import best_step, gd_step, least_squares, matching


def _train(name: str, data, seed: int):
    recipe = Recipe(MODELS[name].recipe.stages, MODELS[name].recipe.restarts, seed=seed)
    began = time.process_time()
    run = fit(lambda: make_model(name, data), data.train, recipe)
    return run.model, time.process_time() - began


def _mse(answers: torch.Tensor, split) -> float:
    return (answers - split.y).pow(2).mean().item()


@torch.no_grad()
def one_length(m: int, seed: int) -> dict:
    data = make_dataset("recipe-cards", seed=seed, m=m)
    layer, cpu = _train("linear-self-attention", data, seed)
    mlp, mlp_cpu = _train("context-mlp", data, seed)
    eta = best_step(data.train)
    row = {"cpu": cpu, "mlp_cpu": mlp_cpu, "mlp_size": num_parameters(mlp), "eta": eta}
    for where, split in (("near", data.near), ("far", data.far)):
        said = layer(split.x, split.selector(layer))
        gd = gd_step(split, eta)
        row |= {f"layer_{where}": _mse(said, split), f"gd_{where}": _mse(gd, split),
                f"ls_{where}": _mse(least_squares(split), split),
                f"mlp_{where}": _mse(mlp(split.x, split.selector(mlp)), split)}
        if where == "near":
            row["apart"] = ((said - gd).pow(2).mean() / said.var()).item()
    M = layer.product()
    row["share"] = ((M[0, 1] ** 2 + M[1, 0] ** 2) / M.square().sum()).item()
    row["step"] = (M[0, 1] + M[1, 0]).item()
    return row


@torch.no_grad()
def one_mixed(seed: int) -> dict:
    data = make_dataset("recipe-cards-mixed", seed=seed)
    model, cpu = _train("self-attention", data, seed)
    near = data.near
    said = model(near.x, near.selector(model))
    own = matching(near)
    on_own = (model.weights * own).sum(1)
    return {"cpu": cpu, "on_own": on_own.mean().item(), "lowest": on_own.min().item(),
            "mse": _mse(said, near), "alone": _mse(least_squares(near, own), near),
            "all": _mse(least_squares(near), near), "size": model.size.item()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--lengths", default="1-32", help="context lengths m: a range LOW-HIGH or a,b,c")
    args = parser.parse_args()
    torch.set_num_threads(1)
    low, _, high = args.lengths.partition("-")
    lengths = range(int(low), int(high) + 1) if high else [int(v) for v in args.lengths.split(",")]
    seeds = range(args.seeds)
    print("held-out MSE in range (at 10 cups); layer-GD: mean squared difference / variance of answers")
    print(f"{'m':>3} {'layer':>16} {'GD step':>16} {'least sq':>18} {'mlp':>16} {'size':>5} "
          f"{'layer-GD':>9} {'share':>6} {'step/η*':>8} {'cpu s':>6}")
    cpus, mlp_cpus = [], []
    for m in lengths:
        rows = [one_length(m, s) for s in seeds]
        mid = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        cpus += [r["cpu"] for r in rows]
        mlp_cpus += [r["mlp_cpu"] for r in rows]
        print(f"{m:>3} {mid['layer_near']:>7.4f} ({mid['layer_far']:>6.2f}) {mid['gd_near']:>7.4f} "
              f"({mid['gd_far']:>6.2f}) {mid['ls_near']:>8.5f} ({mid['ls_far']:>6.4f}) "
              f"{mid['mlp_near']:>7.4f} ({mid['mlp_far']:>6.2f}) {mid['mlp_size']:>5.0f} "
              f"{mid['apart']:>9.2e} {mid['share']:>6.3f} {mid['step'] / mid['eta']:>8.3f} {mid['cpu']:>6.2f}")
    print(f"linear-self-attention fits: median {statistics.median(cpus):.2f} s of processor time, "
          f"slowest {max(cpus):.2f} s; context-mlp median {statistics.median(mlp_cpus):.2f} s, "
          f"slowest {max(mlp_cpus):.2f} s")
    print("\nself-attention on recipe-cards-mixed (3 grains, 8 pairs each), held out in range:")
    for seed in seeds:
        r = one_mixed(seed)
        print(f"seed {seed}: weight on the query's grain {r['on_own']:.4f} (lowest card {r['lowest']:.4f}); "
              f"MSE {r['mse']:.5f} against least squares on its grain alone {r['alone']:.5f} "
              f"(on the whole card {r['all']:.3f}); c = {r['size']:.3f}; fit {r['cpu']:.2f} s")


if __name__ == "__main__":
    main()

"""Self-attention reads a recipe card: the claims of chapter 11's models on recipe-cards, with numbers.

Run: .venv/bin/python benchmarks/self_attention.py [--seeds 1] [--lengths 1-32]
     .venv/bin/python benchmarks/self_attention.py --table [--first 100] [--seeds 20] [--only TEXT]

For each context length m and seed it makes recipe-cards, trains linear-self-attention and the
context-mlp baseline by their registered recipes on one thread, and prints the held-out MSE (in
range, and at 10 cups) of the layer, of one GD step from w = 0 at the best step size η* (closed
form on the training cards), of least squares on the card and of the MLP; how far the layer's
answers are from the GD step's (mean squared difference over the variance of its answers); and the
share of the layer's product matrix M in its x–y entries, with its step M_xy + M_yx against η*.
Then, on recipe-cards-mixed, softmax self-attention: its weight on the query grain's examples,
its MSE against least squares on those examples alone, and every default fit's processor time.

With --table it prints instead, as Markdown, how many seeds pass each claim on each variant of
``graintrain.card_claims`` (the README's table, seeds 100-119; the recipe was chosen on 0-19). The
lookup is counted twice: as registered (started from the data) and from the fixed start it had before
(W = I, c = 0), which is the same model built with make_model(..., start=False).
"""

import argparse
import statistics
import time

import torch

from graintrain import MODELS, Recipe, fit, make_dataset, make_model, num_parameters
from graintrain.card_claims import LOOKUP_VARIANTS, STEP_VARIANTS, lookup_claim, step_claim
from graintrain.cards import best_step, gd_step, least_squares, matching


def _train(name: str, data, seed: int, start: bool = True):
    recipe = Recipe(MODELS[name].recipe.stages, MODELS[name].recipe.restarts, seed=seed)
    began = time.process_time()
    run = fit(lambda: make_model(name, data, start=start), data.train, recipe)
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


def _split_options(options: dict) -> tuple[dict, dict]:
    """n and noise, which every dataset takes, apart from the generator's own options."""
    common = {k: v for k, v in options.items() if k in ("n", "noise")}
    return common, {k: v for k, v in options.items() if k not in common}


def _make(name: str, options: dict, seed: int):
    common, own = _split_options(options)
    return make_dataset(name, seed=seed, **common, **own)


def lookup_rows(seeds, only: str) -> None:
    """One Markdown row per mixed-card variant: seeds passing, as registered and from the old start."""
    for label, options in LOOKUP_VARIANTS:
        if only not in label:
            continue
        rows, old = [], []
        for seed in seeds:
            data = _make("recipe-cards-mixed", options, seed)
            rows.append(lookup_claim(_train("self-attention", data, seed)[0], data))
            old.append(lookup_claim(_train("self-attention", data, seed, start=False)[0], data))
        over = [r["over"] for r in rows]
        print(f"| lookup: {label} | {sum(r['holds'] for r in rows)}/{len(rows)} | "
              f"{sum(r['holds'] for r in old)}/{len(old)} | MSE / least squares on the grain: median "
              f"{statistics.median(over):.3f}, worst {max(over):.3f}; lowest card's weight "
              f"{min(r['lowest'] for r in rows):.1%}; c {min(r['c'] for r in rows):.2f} to "
              f"{max(r['c'] for r in rows):.2f} (old start: {min(r['c'] for r in old):.3g} to "
              f"{max(r['c'] for r in old):.3g}) |", flush=True)


def step_rows(seeds, only: str) -> None:
    """One Markdown row per one-grain-card variant: seeds whose layer is one GD step."""
    for label, trained, asked in STEP_VARIANTS:
        if only not in label:
            continue
        rows = []
        for seed in seeds:
            data = _make("recipe-cards", trained, seed)
            layer = _train("linear-self-attention", data, seed)[0]
            rows.append(step_claim(layer, data, asked and _make("recipe-cards", {**trained, **asked}, seed + 1000)))
        gaps = [r["gap"] for r in rows]
        print(f"| one GD step: {label} | {sum(r['holds'] for r in rows)}/{len(rows)}; M shaped as the "
              f"construction {sum(r['shaped'] for r in rows)}/{len(rows)} | — | gap / variance: "
              f"median {statistics.median(gaps):.2%}, worst {max(gaps):.2%}; M's share in x–y: lowest "
              f"{min(r['share'] for r in rows):.1%}; step / η* median "
              f"{statistics.median(r['step'] for r in rows):.2f} |", flush=True)


def table(seeds, only: str) -> None:
    print(f"seeds {seeds[0]}-{seeds[-1]}; lookup: weight >= 90% on the query grain's examples (mean and "
          "every card), MSE <= 1.1 x least squares on them; one GD step: gap <= 0.5% of the answers' variance; M shaped: >= 95% in x-y, step within 20% of eta*")
    print("| variant | passing | old start | measured |\n|---|---|---|---|")
    lookup_rows(seeds, only)
    step_rows(seeds, only)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--lengths", default="1-32", help="context lengths m: a range LOW-HIGH or a,b,c")
    parser.add_argument("--table", action="store_true", help="the claims on every variant, seeds passing")
    parser.add_argument("--first", type=int, default=100, help="the table's first seed")
    parser.add_argument("--only", default="", help="the table's variants whose label holds this text")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.table:
        return table(range(args.first, args.first + args.seeds), args.only)
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

"""A camera instead of a darkness meter: the claims of cross-attention on grain-photos, over seeds.

Run: .venv/bin/python benchmarks/grain_photos.py [--seeds 10] [--first 0]

For each seed it makes the data (timing the photos), trains cross-attention, the cnn-mlp baseline
and chapter 9's attention on the darkness reading alone, each by its registered recipe on one
thread, and prints one row per seed, then how many seeds pass each claim:
1. every matched expert slope within 0.1 of its grain's water ratio (cross-attention);
2. the gate picks the right grain for >= 95% of held-out photos, and of each look-alike's;
3. darkness-only attention's MSE on the look-alikes (held out, in range) >= 5x cross-attention's;
4. cnn-mlp: held-out MSE in range, and at 10 cups, against cross-attention's;
5. the default fit of cross-attention takes <= 10 s.
"""

import argparse
import statistics
import time

import torch

from graintrain import GRAINS, MODELS, Recipe, fit, gate_accuracy, make_dataset, make_model, match_experts, mse
from graintrain.photos import draw

MODELS_RUN = ("cross-attention", "cnn-mlp", "attention")


def one_seed(seed: int) -> dict:
    """Every number of one seed."""
    began = time.perf_counter()
    data = make_dataset("grain-photos", seed=seed)
    made = time.perf_counter() - began
    labels = torch.cat([data.train.label, data.test.label])
    began = time.perf_counter()
    draw(list(data.classes), [GRAINS[g].darkness for g in data.classes], labels, torch.Generator().manual_seed(seed))
    photos = time.perf_counter() - began
    fits, cpu = {}, {}
    for name in MODELS_RUN:
        recipe = Recipe(MODELS[name].recipe.stages, MODELS[name].recipe.restarts, seed=seed)
        began = time.process_time()
        fits[name] = fit(lambda: make_model(name, data), data.train, recipe)
        cpu[name] = time.process_time() - began
    camera, baseline, meter = (fits[n].model for n in MODELS_RUN)
    alike = data.near.subset(data.near.label < 2)
    match = match_experts(camera, data)
    return {
        "seed": seed, "data_s": made, "photos_s": photos, "cpu_s": cpu["cross-attention"],
        **{f"{n}_s": fits[n].seconds for n in MODELS_RUN},
        "slopes": match.slopes, "slope_error": max(abs(s - data.slopes[k].item())
                                                    for k, s in zip(match.classes, match.slopes)),
        "gate": gate_accuracy(camera, data, data.near),
        "gate_alike": min(gate_accuracy(camera, data, alike.subset(alike.label == k)) for k in (0, 1)),
        "meter_gate_alike": gate_accuracy(meter, data, alike),
        "alike_ratio": mse(meter, alike) / mse(camera, alike),
        "near": {n: mse(fits[n].model, data.near) for n in MODELS_RUN},
        "far": {n: mse(fits[n].model, data.far) for n in MODELS_RUN},
        "train_cnn_mlp": mse(baseline, data.train),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="how many seeds")
    parser.add_argument("--first", type=int, default=0, help="the first seed")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warm = make_dataset("grain-photos", n=30)
    fit(lambda: make_model("cross-attention", warm), warm.train, Recipe(MODELS["cross-attention"].recipe.stages[:1]))
    data = make_dataset("grain-photos")
    n, test = len(data.train), len(data.test)
    print(f"grain-photos: {n} training photos and {test} held out, 24x24 RGB; one thread\n")
    print(f"{'seed':>4} {'data s':>6} {'photos s':>8} {'x-att s':>7} {'cnn-mlp s':>9} {'att s':>5} "
          f"{'slopes (white, round, brown)':>29} {'gate':>5} {'alike':>5} {'meter':>5} {'ratio':>6} "
          f"{'near x-att':>10} {'near cnn':>8} {'far x-att':>9} {'far cnn':>8}")
    rows = []
    for seed in range(args.first, args.first + args.seeds):
        r = one_seed(seed)
        rows.append(r)
        slopes = ", ".join(f"{s:.3f}" for s in r["slopes"])
        print(f"{seed:>4} {r['data_s']:6.3f} {r['photos_s']:8.3f} {r['cross-attention_s']:7.2f} "
              f"{r['cnn-mlp_s']:9.2f} {r['attention_s']:5.2f} {slopes:>29} {r['gate']:5.3f} "
              f"{r['gate_alike']:5.3f} {r['meter_gate_alike']:5.3f} {r['alike_ratio']:6.1f} "
              f"{r['near']['cross-attention']:10.4f} {r['near']['cnn-mlp']:8.4f} "
              f"{r['far']['cross-attention']:9.3f} {r['far']['cnn-mlp']:8.3f}", flush=True)

    def passes(claim) -> str:
        return f"{sum(map(claim, rows))} of {len(rows)} seeds"

    median = lambda key, model=None: statistics.median(r[key][model] if model else r[key] for r in rows)
    print("\n'alike': the gate's accuracy on the worse of the two look-alikes; 'meter': darkness-only "
          "attention's gate on them;\n'ratio': darkness-only attention's MSE over cross-attention's on "
          "the look-alikes (held out, in range)\n")
    print(f"1. every slope within 0.1:             {passes(lambda r: r['slope_error'] <= 0.1)}"
          f" (largest error {max(r['slope_error'] for r in rows):.3f})")
    print(f"2. gate >= 95%, each look-alike too:   {passes(lambda r: r['gate'] >= 0.95 and r['gate_alike'] >= 0.95)}"
          f" (lowest {min(r['gate'] for r in rows):.3f} overall, {min(r['gate_alike'] for r in rows):.3f} on a look-alike)")
    print(f"3. darkness-only MSE >= 5x on them:    {passes(lambda r: r['alike_ratio'] >= 5)}"
          f" (median ratio {median('alike_ratio'):.1f}, lowest {min(r['alike_ratio'] for r in rows):.1f})")
    print(f"4. cnn-mlp worse at 10 cups (>= 10x): {passes(lambda r: r['far']['cnn-mlp'] >= 10 * r['far']['cross-attention'])}"
          f"; medians: in range {median('near', 'cnn-mlp'):.3f} vs {median('near', 'cross-attention'):.3f}, "
          f"at 10 cups {median('far', 'cnn-mlp'):.2f} vs {median('far', 'cross-attention'):.3f}"
          f" (cnn-mlp training MSE {median('train_cnn_mlp'):.3f}; noise floor 0.01)")
    print(f"   cnn-mlp in range <= 0.3:            {passes(lambda r: r['near']['cnn-mlp'] <= 0.3)}")
    print(f"5. cross-attention's fit <= 10 s:      {passes(lambda r: r['cross-attention_s'] <= 10)}"
          f" (median {median('cross-attention_s'):.2f} s, processor time {median('cpu_s'):.2f} s, "
          f"slowest {max(r['cross-attention_s'] for r in rows):.2f} s; cnn-mlp {median('cnn-mlp_s'):.2f} s, "
          f"darkness-only attention {median('attention_s'):.2f} s; photos {median('photos_s') * 1000:.0f} ms)")


if __name__ == "__main__":
    main()

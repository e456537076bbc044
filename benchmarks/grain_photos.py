"""A camera instead of a darkness meter: the claims of cross-attention on grain-photos, over seeds and
photo variants.

Run: .venv/bin/python benchmarks/grain_photos.py [--seeds 20] [--first 100] [--variants all] [--jobs 2]

The recipe was chosen on seeds 0-19; the default seeds, 100 on, are ones it never saw. For each
variant and seed it makes the data, trains cross-attention and chapter 9's attention on the darkness
reading alone (and, on the default photos only, the cnn-mlp baseline), each by its registered recipe
on one thread, prints one row per seed, then the table of claims: how many seeds pass each, per
variant.
1. every expert, judged on the held-out points its gate gives it, within 0.1 of their true slope;
2. the gate picks the right grain for >= 95% of each look-alike's held-out photos;
3. darkness-only attention's MSE on the look-alikes (held out, in range) >= 5x cross-attention's;
4. (default photos) cnn-mlp's MSE at 10 cups >= 10x cross-attention's;
5. (default photos) the fit of cross-attention takes <= 10 s of processor time.
"""

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import torch

from graintrain import (MODELS, Recipe, expert_errors, fit, gate_accuracy, look_alikes, make_dataset,
                        make_model, mse)

# name -> (dataset settings, cross-attention's options); each is one way the photos can differ.
VARIANTS = {
    "default": ({}, {}),
    "harsh light": ({"lighting": 2.0}, {}),  # brightness 0.6-1.4, twice the gradient, tint and noise
    "less round": ({"look": (6.5, 3.5)}, {}),  # the look-alike 1.9 times as long as wide, not 1.25
    "round": ({"look": (4.5, 4.5)}, {}),  # the look-alike a circle
    "four grains": ({"grains": 4}, {}),  # half-bran rice joins
    "20 a grain": ({"n": 60}, {}),  # 60 training photos, not 360
    "5 experts": ({}, {"experts": 5}),  # more experts than grains
}
CLAIMS = ("1 experts", "2 look-alikes", "3 meter 5x", "4 cnn-mlp 10x", "5 <= 10 s")


def fitted(name: str, data, seed: int, **options):
    """The model trained by its registered recipe from the run's seed, and its processor seconds."""
    recipe = Recipe(MODELS[name].recipe.stages, MODELS[name].recipe.restarts, seed=seed)
    began = time.process_time()
    model = fit(lambda: make_model(name, data, **options), data.train, recipe).model
    return model, time.process_time() - began


def one_seed(variant: str, seed: int) -> dict:
    """Every number of one variant on one seed."""
    torch.set_num_threads(1)
    settings, options = VARIANTS[variant]
    data = make_dataset("grain-photos", seed=seed, **settings)
    camera, cpu = fitted("cross-attention", data, seed, **options)
    meter, _ = fitted("attention", data, seed)
    alike = data.near.subset(torch.isin(data.near.label, torch.tensor(look_alikes(data))))
    row = {"variant": variant, "seed": seed, "cpu_s": cpu,
           "expert_error": max(expert_errors(camera, data, data.near).values()),
           "gate": gate_accuracy(camera, data, data.near),
           "gate_alike": min(gate_accuracy(camera, data, alike.subset(alike.label == k))
                             for k in alike.label.unique().tolist()),
           "train_gate": gate_accuracy(camera, data, data.train),
           "alike_ratio": mse(meter, alike) / mse(camera, alike),
           "far": mse(camera, data.far)}
    if variant == "default":
        baseline, _ = fitted("cnn-mlp", data, seed)
        row["far_cnn_mlp"] = mse(baseline, data.far)
    return row


def verdicts(r: dict) -> list[bool | None]:
    """Whether a row passes each claim; None where the claim is not checked on its variant."""
    baseline = "far_cnn_mlp" in r
    return [r["expert_error"] <= 0.1, r["gate_alike"] >= 0.95, r["alike_ratio"] >= 5,
            r["far_cnn_mlp"] >= 10 * r["far"] if baseline else None, r["cpu_s"] <= 10 if baseline else None]


def table(rows: list[dict]) -> str:
    """The claims table in Markdown: variant x claim -> seeds passing, with the worst numbers."""
    lines = ["| variant | " + " | ".join(CLAIMS) + " | lowest look-alike gate | largest expert error |",
             "|---|" + "---|" * (len(CLAIMS) + 2)]
    for variant in dict.fromkeys(r["variant"] for r in rows):
        mine = [r for r in rows if r["variant"] == variant]
        passed = [verdicts(r) for r in mine]
        cells = [f"{sum(p[c] for p in passed)}/{len(mine)}" if passed[0][c] is not None else "-"
                 for c in range(len(CLAIMS))]
        lines.append(f"| {variant} | " + " | ".join(cells) + f" | {min(r['gate_alike'] for r in mine):.1%} | "
                     f"{max(r['expert_error'] for r in mine):.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds")
    parser.add_argument("--first", type=int, default=100, help="the first seed (the recipe was chosen on 0-19)")
    parser.add_argument("--variants", default="all", help=f"comma-separated, of: {', '.join(VARIANTS)}")
    parser.add_argument("--jobs", type=int, default=1, help="processes, one thread each")
    args = parser.parse_args()
    chosen = list(VARIANTS) if args.variants == "all" else args.variants.split(",")
    work = [(v, s) for v in chosen for s in range(args.first, args.first + args.seeds)]
    print(f"{'variant':>12} {'seed':>4} {'cpu s':>5} {'expert err':>10} {'gate':>5} {'alike':>5} "
          f"{'train':>5} {'ratio':>6} {'far':>6} {'far cnn':>7}")
    rows = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for r in pool.map(one_seed, *zip(*work)):
            rows.append(r)
            print(f"{r['variant']:>12} {r['seed']:>4} {r['cpu_s']:5.2f} {r['expert_error']:10.3f} {r['gate']:5.3f} "
                  f"{r['gate_alike']:5.3f} {r['train_gate']:5.3f} {r['alike_ratio']:6.1f} {r['far']:6.3f} "
                  f"{r.get('far_cnn_mlp', float('nan')):7.3f}", flush=True)
    print(f"\nseeds {args.first}-{args.first + args.seeds - 1}; 'alike': the gate on the worse look-alike, "
          "'train': the gate on the training photos, 'ratio': the meter's MSE over the camera's on the "
          "look-alikes\n")
    print(table(rows))


if __name__ == "__main__":
    main()

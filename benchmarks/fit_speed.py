"""Wall time of each claim's default run, and its final MSE over the least-squares optimum.

Run: .venv/bin/python benchmarks/fit_speed.py   (timings are medians of 5 runs, after a warm-up)
"""

import statistics

import torch

from graintrain import MODELS, fit, least_squares_optimum, make_dataset, make_model, mse

RUNS = [("line", "white", {}), ("line", "white+brown", {}), ("plane", "white+brown", {}),
        ("sigma-pi", "bran", {}), ("mlp", "white+brown", {"hidden": (2,)}),
        ("mlp", "white+brown", {"hidden": (10,)}), ("classifier", "three-grains", {}),
        ("pipeline", "three-grains", {}), ("relu-switch", "three-grains", {}),
        ("attention", "three-grains", {}), ("attention", "switchboard", {})]


def main() -> None:
    torch.set_num_threads(1)
    warm = make_dataset("white")
    fit(lambda: make_model("line", warm), warm.train)  # pays the first fit's one-off costs
    print(f"{'model':12} {'dataset':13} {'options':16} {'seconds':>8} {'goal':>5} {'MSE/optimum':>12}")
    for name, dataset, options in RUNS:
        data = make_dataset(dataset)
        times = []
        for _ in range(5):
            result = fit(lambda: make_model(name, data, **options), data.train, MODELS[name].recipe)
            times.append(result.seconds)
        ratio = "-"
        if not MODELS[name].classifies:
            try:
                optimum, _ = least_squares_optimum(result.model, data.train)
                ratio = f"{mse(result.model, data.train) / optimum:.4f}"
            except ValueError:
                pass  # not linear in its parameters: no closed form
        seconds = statistics.median(times)
        print(f"{name:12} {dataset:13} {str(options or ''):16} {seconds:8.3f} "
              f"{'ok' if seconds <= 0.3 else 'over':>5} {ratio:>12}")


if __name__ == "__main__":
    main()

"""Wall time of each claim's default run, and its final MSE over the least-squares optimum.

Run: .venv/bin/python benchmarks/fit_speed.py   (medians of 5 runs each, after a warm-up)

Beside each time, in the same rounds, the same run with torch.optim.LBFGS in place of graintrain's
(which finds its direction by the compact form instead of the two-loop recursion), and the ratio of
the two. Goal: every default run within 0.1 s.
"""

import statistics

import torch

from graintrain import MODELS, fit, least_squares_optimum, make_dataset, make_model, mse, optimizers

RUNS = [("line", "white", {}), ("line", "white+brown", {}), ("plane", "white+brown", {}),
        ("sigma-pi", "bran", {}), ("mlp", "white+brown", {"hidden": (2,)}),
        ("mlp", "white+brown", {"hidden": (10,)}), ("classifier", "three-grains", {}),
        ("pipeline", "three-grains", {}), ("relu-switch", "three-grains", {}),
        ("attention", "three-grains", {}), ("attention", "switchboard", {})]
GOAL = 0.1
OURS = optimizers.LBFGS


class TorchLBFGS(optimizers._Unmarked, torch.optim.LBFGS):
    """torch.optim.LBFGS, the baseline (unmarked, as graintrain's optimizers are)."""


def timed(name, data, options, lbfgs) -> tuple[float, object]:
    optimizers.LBFGS = lbfgs  # the trainer builds its L-BFGS from here
    try:
        result = fit(lambda: make_model(name, data, **options), data.train, MODELS[name].recipe)
    finally:
        optimizers.LBFGS = OURS
    return result.seconds, result


def main() -> None:
    torch.set_num_threads(1)
    warm = make_dataset("white")
    fit(lambda: make_model("line", warm), warm.train)  # pays the first fit's one-off costs
    print(f"{'model':12} {'dataset':13} {'options':16} {'seconds':>8} {'goal':>5} "
          f"{'torch.optim':>11} {'speed-up':>8} {'MSE/optimum':>12}")
    for name, dataset, options in RUNS:
        data = make_dataset(dataset)
        ours, theirs = [], []
        for _ in range(5):  # alternating, so that a busy moment costs both alike
            seconds, result = timed(name, data, options, OURS)
            ours.append(seconds)
            theirs.append(timed(name, data, options, TorchLBFGS)[0])
        ratio = "-"
        if not MODELS[name].classifies:
            try:
                optimum, _ = least_squares_optimum(result.model, data.train)
                ratio = f"{mse(result.model, data.train) / optimum:.4f}"
            except ValueError:
                pass  # not linear in its parameters: no closed form
        seconds, baseline = statistics.median(ours), statistics.median(theirs)
        print(f"{name:12} {dataset:13} {str(options or ''):16} {seconds:8.3f} "
              f"{'ok' if seconds <= GOAL else 'over':>5} {baseline:11.3f} {baseline / seconds:7.2f}x {ratio:>12}")


if __name__ == "__main__":
    main()

"""One evaluation of attention's loss and gradient on the K = 5 switchboard: by hand
(Attention.gradient_by_hand, which the trainer uses) against autograd, in the same process.

Run: .venv/bin/python benchmarks/hand_gradient.py
"""

import torch

from graintrain.recipe import Stage
from graintrain.runs import Run
from graintrain.train import OBJECTIVES

from _timing import best_time

REPEATS = 1000



def main() -> None:
    torch.set_num_threads(1)
    run = Run(model="attention", dataset="switchboard")
    data = run.data()
    model, train = run.build(data), data.train
    print(f"{'objective':10} {'autograd':>10} {'by hand':>10} {'speed-up':>9}")
    for objective in ("mixture", "mse"):
        stage = Stage(objective, scale=0.1)
        by_hand = model.gradient_by_hand(train, stage)

        def autograd():
            model.zero_grad()
            OBJECTIVES[objective](model, train, stage).backward()
        slow, fast = best_time(autograd, REPEATS), best_time(by_hand, REPEATS)
        print(f"{objective:10} {slow * 1e6:8.0f}µs {fast * 1e6:8.0f}µs {slow / fast:8.2f}x")


if __name__ == "__main__":
    main()

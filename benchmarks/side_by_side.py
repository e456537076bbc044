"""Would training a model's random starts side by side pay? One evaluation (loss and gradient) of S
starts of the 10-unit ReLU network at once, by torch.func.vmap over their stacked parameters,
against S evaluations one after another, by autograd and by the network's own backpropagation by
hand (MLP.gradient_by_hand, which the trainer uses), in the same process.

Run: .venv/bin/python benchmarks/side_by_side.py

The ReLU network trains from 5 starts and the ReLU switch from 3 (models/__init__.py), one after
another. Side by side, each L-BFGS step of every start would still be its own (each start has its
own line search), so only the evaluation could be shared: this prints what sharing it saves.
"""

import copy

import torch
from torch import nn
from torch.func import functional_call, vmap

from graintrain import make_dataset, make_model
from graintrain.recipe import Stage
from graintrain.train import OBJECTIVES, seeded_build

from _timing import best_time

REPEATS = 300



def main() -> None:
    torch.set_num_threads(1)
    data = make_dataset("switchboard")
    stage = Stage("mse", "lbfgs")  # the network's objective
    print(f"{'starts':>6} {'one by one':>11} {'by hand':>9} {'side by side':>13} {'ratio to by hand':>17}")
    for starts in (1, 3, 5, 10):
        models = [seeded_build(lambda: make_model("mlp", data), 0, s) for s in range(starts)]

        class Loss(nn.Module):  # functional_call swaps the parameters of this module's model
            def __init__(self, model):
                super().__init__()
                self.model = model

            def forward(self):
                return OBJECTIVES["mse"](self.model, data.train, stage)
        template = Loss(copy.deepcopy(models[0]))
        stacked = {"model." + name: torch.stack([dict(m.named_parameters())[name].detach() for m in models])
                   .requires_grad_() for name, _ in models[0].named_parameters()}  # (S, ...) each

        def side_by_side():
            vmap(lambda p: functional_call(template, p, ()))(stacked).sum().backward()

        def one_by_one():
            for m in models:
                OBJECTIVES["mse"](m, data.train, stage).backward()
        hands = [m.gradient_by_hand(data.train, stage) for m in models]

        def by_hand():
            for hand in hands:
                hand()
        alone, hand, together = (best_time(f, REPEATS) for f in (one_by_one, by_hand, side_by_side))
        print(f"{starts:6d} {alone * 1e3:9.3f}ms {hand * 1e3:7.3f}ms {together * 1e3:11.3f}ms "
              f"{hand / together:16.2f}x")


if __name__ == "__main__":
    main()

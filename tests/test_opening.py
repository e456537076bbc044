"""The lab's opening run and the loss curve a reader is shown: what the first press of Train trains,
the two starts of attention, and L-BFGS drawn by the steps it takes, not the points it only tries."""

import torch

from graintrain.curve import accepted
from graintrain.lab import OPENING
from graintrain.metrics import evaluate
from graintrain.runs import Run
from graintrain.study import RECOVERED
from graintrain.web.run_settings import JobSettings


def test_the_opening_run_learns_from_far_off_and_finds_every_grain():
    settings = JobSettings(**OPENING)  # what /api/registry publishes is a run the API takes
    seen = []
    data = settings.data()
    fit = settings.fit(data, on_step=lambda step, total, loss: seen.append(loss))
    assert seen[0] >= 3 * seen[-1]  # the lab's first drawn loss against its last
    assert evaluate(fit.model, data)["expert_error"] <= RECOVERED


def test_a_random_start_only_standardises_the_selector():
    run = Run(model="attention", dataset="three-grains")
    data = run.data()
    torch.manual_seed(7)
    from_data = run.build(data)
    torch.manual_seed(7)
    random = run.model_copy(update={"init": "random"}).build(data)
    torch.manual_seed(7)
    bare = run.build(data, start=False)  # PyTorch's own weights, before any start
    assert torch.equal(random.key.weight, bare.key.weight) and torch.equal(random.value.bias, bare.value.bias)
    assert not torch.equal(from_data.key.weight, bare.key.weight)
    assert random.shift == from_data.shift != 0 and random.scale == from_data.scale != 1


def test_the_curve_keeps_adams_steps_and_drops_the_trials_lbfgs_passes_over():
    run = Run(model="attention", dataset="three-grains")  # data start: Adam, then two L-BFGS stages
    data = run.data()
    reported = []
    fit = run.fit(data, on_step=lambda step, total, loss: reported.append(loss))
    curve = accepted(fit.losses, run.plan.recipe)
    assert reported == curve  # what a live job streams is what a replay draws
    adam, *lbfgs = run.plan.recipe.stages
    assert curve[:adam.steps] == fit.losses[:adam.steps]  # every Adam step is taken, rises and all
    at = adam.steps
    for stage in lbfgs:
        raw, drawn = fit.losses[at:at + stage.steps], curve[at:at + stage.steps]
        assert all(b <= a for a, b in zip(drawn, drawn[1:]))
        assert drawn[0] == raw[0] and drawn[-1] == min(raw)
        at += stage.steps
    assert max(fit.losses[adam.steps:]) > 10 * max(curve[adam.steps:])  # a trial far uphill, not drawn


def test_each_start_of_a_run_of_several_draws_its_own_curve():
    run = Run(model="mlp", dataset="white+brown", restarts=2)  # one L-BFGS stage, two starts
    seen = []
    fit = run.fit(on_step=lambda step, total, loss: seen.append((step, loss)))
    per_start = run.plan.recipe.stages[0].steps
    second = [loss for step, loss in seen[per_start:]]
    assert len(seen) == 2 * per_start and second[0] > second[-1]  # the second start begins afresh
    assert all(b <= a for a, b in zip(second, second[1:]))

"""The trainer: repeatable, recorded, honest about divergence, and right on hand-computed values."""

import math

import pytest
import torch

from graintrain import (MODELS, Attention, Recipe, Stage, TrainingDiverged, fit, make_dataset, make_model,
                        snapshot_model)
from graintrain.train import OBJECTIVES

DATA = make_dataset("white+brown")


def build():
    return make_model("sigma-pi", DATA)


ADAM = Recipe((Stage("mse", "adam", steps=50),))


def test_same_seed_same_numbers_other_seed_other_numbers():
    a, b = fit(build, DATA.train, ADAM), fit(build, DATA.train, ADAM)
    assert a.losses == b.losses
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters()))
    c = fit(build, DATA.train, Recipe(ADAM.stages, seed=1))
    assert c.losses[0] != a.losses[0]


def test_loss_history_and_snapshots_replay_the_run():
    recipe = Recipe((Stage("mse", "adam", steps=40), Stage("mse", "lbfgs", steps=10)), snapshots=6)
    result = fit(build, DATA.train, recipe)
    assert len(result.losses) == 50
    assert [s for s, _ in result.snapshots] == [0, 1, 3, 7, 19, 50]  # even in log(step): 50^(i/4)
    first, last = snapshot_model(result, 0), snapshot_model(result, -1)
    assert torch.equal(last.a, result.model.a)
    torch.manual_seed(0)  # start 0 of seed 0: the snapshot at step 0 is the untrained model
    assert torch.equal(first.a, build().a)
    x, z, y = DATA.train.x, DATA.train.z, DATA.train.y
    with torch.no_grad():
        assert math.isclose(((first(x, z) - y) ** 2).mean().item(), result.losses[0], rel_tol=1e-5)


def test_progress_callback_sees_every_step_of_every_start():
    seen = []
    fit(build, DATA.train, Recipe(ADAM.stages, restarts=3), on_step=lambda s, t, l: seen.append((s, t)))
    assert [s for s, _ in seen] == list(range(1, 151))
    assert {t for _, t in seen} == {150}


def test_restarts_keep_the_lowest_final_loss():
    data = make_dataset("three-grains")
    result = fit(lambda: make_model("mlp", data, hidden=(2,)), data.train,
                 Recipe((Stage("mse", "adam", steps=100),), restarts=4))
    assert len(result.final_losses) == 4
    assert result.final_losses[result.best] == min(result.final_losses)
    assert len(set(result.final_losses)) > 1  # the starts really differ


def test_divergence_names_the_step_and_suggests_a_lower_rate():
    with pytest.raises(TrainingDiverged, match=r"at step \d+ .*lower learning rate"):
        fit(build, DATA.train, Recipe((Stage("mse", "sgd", steps=100, lr=10.0),)))


@pytest.mark.parametrize("settings, message", [
    ({"objective": "nope"}, "objective is one of mse, mixture"),
    ({"optimizer": "rmsprop"}, "optimizer is one of adam, sgd, lbfgs, got 'rmsprop'"),
    ({"lr": -1.0}, "lr must be above 0 and at most 10, got -1"),
    ({"steps": 0}, "steps must be from 1 to 20000, got 0"),
    ({"scale": 0.0}, "spread"),
    ({"turns": True, "optimizer": "lbfgs"}, "L-BFGS's line search"),
])
def test_a_stage_refuses_settings_out_of_their_declared_bounds(settings, message):
    with pytest.raises(ValueError, match=message):
        Stage(**settings)


def test_a_stage_for_parameters_the_model_lacks_is_refused_before_it_trains_them():
    with pytest.raises(ValueError, match="no parameter of SigmaPi starts with 'key'; its parameters start with: a, b, c"):
        fit(build, DATA.train, Recipe((Stage(only="key"),)))


def test_an_objective_the_model_cannot_take_is_refused_when_the_run_is_made():
    from graintrain.runs import Run
    with pytest.raises(ValueError, match="objective mixture cannot train sigma-pi, which trains on mse"):
        Run(model="sigma-pi", dataset="white+brown", objective="mixture")


def test_attention_output_by_hand():
    model = Attention(experts=2)
    with torch.no_grad():
        model.key.weight[:] = torch.tensor([[0.0], [math.log(3.0)]])  # at z = 1: weights 1/4, 3/4
        model.key.bias.zero_()
        model.value.weight[:] = torch.tensor([[2.0], [4.0]])
        model.value.bias[:] = torch.tensor([1.0, -1.0])
    y = model(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))
    # z = 1, x = 1: 1/4·(2 + 1) + 3/4·(4 − 1) = 3;  z = 0, x = 2: 1/2·5 + 1/2·7 = 6
    assert torch.allclose(y, torch.tensor([3.0, 6.0]))
    assert torch.allclose(model.weights, torch.tensor([[0.25, 0.75], [0.5, 0.5]]))


def test_mixture_loss_by_hand():
    from graintrain import Split
    model = Attention(experts=2)
    with torch.no_grad():
        model.key.weight.zero_(); model.key.bias.zero_()  # equal weights 1/2
        model.value.weight.zero_(); model.value.bias[:] = torch.tensor([0.0, 1.0])
    data = Split(torch.tensor([0.0]), torch.tensor([0.0]), torch.tensor([0.0]),
                 torch.tensor([0]), torch.tensor([False]))
    s = 0.5
    loss = OBJECTIVES["mixture"](model, data, Stage("mixture", scale=s))
    expected = -math.log(0.5 * math.exp(0.0) + 0.5 * math.exp(-1 / (2 * s * s)))
    assert math.isclose(loss.item(), expected, rel_tol=1e-6)


def test_mixture_lets_experts_compete_where_blending_lets_them_cooperate():
    """Two experts at 0 and 2, target 1: blending is perfect, the mixture calls it a poor fit."""
    from graintrain import Split
    model = Attention(experts=2)
    with torch.no_grad():
        model.key.weight.zero_(); model.key.bias.zero_()
        model.value.weight.zero_(); model.value.bias[:] = torch.tensor([0.0, 2.0])
    data = Split(torch.tensor([0.0]), torch.tensor([0.0]), torch.tensor([1.0]),
                 torch.tensor([0]), torch.tensor([False]))
    assert OBJECTIVES["mse"](model, data, Stage()).item() == 0.0
    assert OBJECTIVES["mixture"](model, data, Stage("mixture", scale=0.1)).item() > 40


def test_attention_takes_any_key_and_value_modules():
    """K and V can be any modules with K outputs: here a small ReLU network reads z."""
    from torch import nn
    data = make_dataset("three-grains")
    build = lambda: Attention(key=nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 3)),
                              value=nn.Linear(1, 3))
    model = build()
    assert model(data.train.x, data.train.z).shape == (len(data.train),)
    assert model.weights.shape == (len(data.train), 3)
    result = fit(build, data.train, Recipe((Stage("mse", "adam", steps=300),)))
    assert result.losses[-1] < 0.5 * result.losses[0]


@pytest.mark.parametrize("name, options", [("Adam", {"fused": True}), ("SGD", {})])
def test_optimizers_without_compile_marks_make_torch_optims_numbers(name, options):
    # graintrain.optimizers leaves out torch.optim's marks for torch.compile (they import
    # torch._dynamo); what each step computes must be torch.optim's own, to the last bit.
    from graintrain import optimizers
    runs = []
    for kind in (getattr(torch.optim, name), getattr(optimizers, name)):
        torch.manual_seed(0)
        model = make_model("mlp", DATA, hidden=(3,))
        start = [p.detach().clone() for p in model.parameters()]
        opt = kind(model.parameters(), lr=0.05, **options)

        def closure():
            opt.zero_grad()
            loss = (model(DATA.train.x, DATA.train.z) - DATA.train.y).pow(2).mean()
            loss.backward()
            return loss
        losses = [opt.step(closure).item() for _ in range(20)]
        runs.append((losses, [p.detach() for p in model.parameters()]))
    (losses, params), (own_losses, own_params) = runs
    assert losses == own_losses and losses[-1] < losses[0]
    assert all(torch.equal(p, q) for p, q in zip(params, own_params))
    assert not all(torch.equal(p, s) for p, s in zip(params, start))


@pytest.mark.parametrize("history", [50, 3])
def test_the_compact_lbfgs_direction_is_the_two_loop_recursions(history):
    # graintrain's L-BFGS finds its direction by the compact form instead of torch.optim's two-loop
    # recursion. After 25 iterations of torch.optim.LBFGS on a ReLU network (at history 3 the memory
    # has rolled over), the compact form, fed torch's own memory and gradient, gives torch's direction.
    from graintrain import optimizers
    torch.manual_seed(1)
    model = make_model("mlp", DATA, hidden=(10,))
    opt = torch.optim.LBFGS(model.parameters(), max_iter=25, history_size=history, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = (model(DATA.train.x, DATA.train.z) - DATA.train.y).pow(2).mean()
        loss.backward()
        return loss
    opt.step(closure)
    state = opt.state[opt._params[0]]
    steps, changes = torch.stack(state["old_stps"]).double(), torch.stack(state["old_dirs"]).double()
    assert len(steps) == history if history < 20 else len(steps) > 20  # full and rolling, or not
    ours = -optimizers._inverse_hessian_times(state["prev_flat_grad"].double().numpy(), steps.numpy(),
                                          changes.numpy(), float(state["H_diag"]))
    assert torch.allclose(torch.from_numpy(ours).float(), state["d"], rtol=1e-4, atol=1e-5 * state["d"].abs().max())


def test_the_compact_lbfgs_lands_where_torch_optims_does():
    # On least squares (a plane) the two follow one path to the optimum, iteration by iteration.
    from graintrain import optimizers
    runs = []
    for kind in (torch.optim.LBFGS, optimizers.LBFGS):
        torch.manual_seed(0)
        model = make_model("plane", DATA)
        opt = kind(model.parameters(), max_iter=30, line_search_fn="strong_wolfe",
                   tolerance_grad=1e-12, tolerance_change=1e-14)
        losses = []

        def closure():
            opt.zero_grad()
            loss = (model(DATA.train.x, DATA.train.z) - DATA.train.y).pow(2).mean()
            loss.backward()
            losses.append(loss.item())
            return loss
        opt.step(closure)
        runs.append((losses, torch.cat([p.detach().flatten() for p in model.parameters()])))
    (losses, params), (own, own_params) = runs
    assert len(own) >= 5 and own[-1] < 0.05 * own[0]
    assert max(abs(a - b) for a, b in zip(losses[:5], own[:5])) <= 1e-5 * losses[0]
    assert abs(losses[-1] - own[-1]) <= 1e-5 * losses[-1]
    assert torch.allclose(params, own_params, atol=1e-4)


@pytest.mark.parametrize("name", list(MODELS))
def test_each_model_declares_exactly_the_objectives_that_can_train_it(name):
    """ModelSpec.objectives is what a run is checked against before anything is built; each
    objective it names gives a finite loss on the built model, and each it leaves out fails on it."""
    from graintrain.recipe import OBJECTIVE_NAMES
    spec = MODELS[name]
    data = make_dataset("grain-photos" if spec.where.endswith(("cross_attention", "cnn_mlp")) else
                        "recipe-cards-mixed" if spec.where.endswith(("self_attention", "context_mlp")) else
                        "three-grains", n=40)
    model = make_model(name, data)
    for objective in OBJECTIVE_NAMES:
        try:
            loss = OBJECTIVES[objective](model, data.train, Stage(objective))
        except (AttributeError, RuntimeError, IndexError, TypeError):
            assert objective not in spec.objectives, (name, objective)
        else:
            assert loss.shape == () and torch.isfinite(loss), (name, objective)
            assert objective in spec.objectives, (name, objective)


@pytest.mark.parametrize("objective", ["mse", "mixture"])
def test_attention_works_out_autograds_gradient_by_hand(objective):
    # Attention with linear K and V gives the trainer its loss and gradients worked out by hand (half
    # autograd's time); they must be autograd's, on z read far from [0, 1] (standardised inside)
    # and at a point away from the data start, where every expert has a share of every point.
    data = make_dataset("switchboard", seed=3, selector_range=(-40, -30))
    model = make_model("attention", data)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p))
    stage = Stage(objective, scale=0.3)
    loss, grads = model.gradient_by_hand(data.train, stage)()
    model.zero_grad()
    want = OBJECTIVES[objective](model, data.train, stage)
    want.backward()
    assert abs(loss.item() - want.item()) <= 1e-6 * abs(want.item())
    for name, p in model.named_parameters():
        assert grads[name].shape == p.shape
        assert torch.allclose(grads[name], p.grad, rtol=1e-4, atol=1e-6 * p.grad.abs().max()), name
    # Anything else goes to autograd: another objective, or a key that is not linear in one number.
    assert model.gradient_by_hand(data.train, Stage("cross-entropy")) is None
    photos = make_dataset("grain-photos", n=30)
    assert make_model("cross-attention", photos).gradient_by_hand(photos.train, stage) is None


@pytest.mark.parametrize("hidden", [(10,), (3, 2)])
def test_the_relu_network_backpropagates_by_hand_as_autograd_does(hidden):
    # The ReLU network hands the trainer its squared error and gradients, backpropagated by hand; they
    # must be autograd's, with units on and off, for one hidden layer and for two.
    data = make_dataset("switchboard", seed=2)
    torch.manual_seed(0)
    model = make_model("mlp", data, hidden=hidden)
    loss, grads = model.gradient_by_hand(data.train, Stage())()
    model.zero_grad()
    want = OBJECTIVES["mse"](model, data.train, Stage())
    want.backward()
    assert abs(loss.item() - want.item()) <= 1e-6 * want.item()
    assert sorted(grads) == sorted(name for name, _ in model.named_parameters())
    for name, p in model.named_parameters():
        assert torch.allclose(grads[name], p.grad, rtol=1e-5, atol=1e-7), name
    dead = [(h == 0).float().mean().item() for h in model.hidden]
    assert all(0 < d < 1 for d in dead)  # some units were off for some points: the ReLU's mask counted
    assert model.gradient_by_hand(data.train, Stage("mixture")) is None


def test_the_relu_switch_works_out_its_labelled_gradient_by_hand():
    # The switch hands the trainer the labelled objective (the classifier's cross-entropy plus the
    # squared error given the true grain) and its gradients, worked out by hand: autograd's, with
    # some units shut for some points.
    data = make_dataset("three-grains", seed=1)
    torch.manual_seed(0)
    model = make_model("relu-switch", data)
    with torch.no_grad():
        model.units.bias.fill_(-0.5)  # some drives below zero: the ReLU's mask must count
    stage = Stage("labelled")
    loss, grads = model.gradient_by_hand(data.train, stage)()
    model.zero_grad()
    want = OBJECTIVES["labelled"](model, data.train, stage)
    want.backward()
    assert 0 < (model.drive <= 0).float().mean() < 1
    assert abs(loss.item() - want.item()) <= 1e-5 * want.item()
    assert sorted(grads) == sorted(name for name, _ in model.named_parameters())
    for name, p in model.named_parameters():
        assert torch.allclose(grads[name], p.grad, rtol=1e-4, atol=1e-6), name
    assert model.gradient_by_hand(data.train, Stage("mse")) is None


class _Cubic(torch.nn.Module):
    """y = w·(1, x, x², x³): four weights, their squared error's gradient easy to write out."""

    reads = "z"  # what Split.selector hands it (it reads only x)

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([0.1, -0.2, 0.3, -0.05]))

    def forward(self, x, z):
        return torch.stack([x**0, x, x**2, x**3], 1) @ self.w


class _StridedCubic(_Cubic):
    """The same, handing the trainer its gradient by hand as a strided view of a wider tensor."""

    def gradient_by_hand(self, data, stage):
        def by_hand():
            with torch.no_grad():
                features = torch.stack([data.x**0, data.x, data.x**2, data.x**3], 1)  # (n, 4)
                miss = features @ self.w - data.y  # (n,)
                grad = 2 * features.T @ miss / len(miss)  # (4,)
                wide = torch.stack([grad, torch.full_like(grad, 1e6)], 1)  # (4, 2)
                return miss.square().mean(), {"w": wide[:, 0]}  # stride 2
        return by_hand


def test_a_strided_gradient_by_hand_takes_autograds_steps():
    # PyTorch's fused Adam reads a strided gradient as if it were contiguous: without the trainer's
    # copy, the weights would move by the 1e6 beside each partial derivative.
    recipe = Recipe((Stage("mse", "adam", steps=30, lr=0.01),))
    assert not _StridedCubic().gradient_by_hand(DATA.train, recipe.stages[0])()[1]["w"].is_contiguous()
    by_hand = fit(_StridedCubic, DATA.train, recipe).model.w
    autograd = fit(_Cubic, DATA.train, recipe).model.w
    assert (by_hand - torch.tensor([0.1, -0.2, 0.3, -0.05])).abs().max() > 0.05  # it trained
    assert torch.allclose(by_hand, autograd, rtol=1e-4, atol=1e-5), (by_hand, autograd)


def test_a_recipes_bounds_and_optimizers_are_declared_once():
    """The trainer let 999 starts and 0-step stages through while the lab and the command line
    stopped at 10 and 1; now a Stage and a Recipe hold themselves, the registered ones too, to the
    Options that make the flags and the lab's form, and the trainer makes exactly the optimizers
    the recipe module names."""
    from graintrain.recipe import OPTIMIZERS, RESTARTS, STEPS
    from graintrain.train import MAKE_OPTIMIZER
    assert tuple(MAKE_OPTIMIZER) == OPTIMIZERS
    with pytest.raises(ValueError, match=f"restarts .*{RESTARTS.high}"):
        Recipe((Stage(),), restarts=RESTARTS.high + 1)
    with pytest.raises(ValueError, match="steps"):
        Stage(steps=STEPS.high + 1)
    with pytest.raises(ValueError, match="at least one stage"):
        Recipe(())

def test_a_model_that_does_not_say_what_it_reads_is_told_how_to():
    class Bare(torch.nn.Module):
        def forward(self, x, z):
            return x
    with pytest.raises(ValueError, match="Bare does not declare what it reads: give its class reads = one of 'z', 'photo', 'context'"):
        DATA.train.selector(Bare())

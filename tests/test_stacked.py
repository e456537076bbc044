"""Stacked training gives each model the same steps it would take alone."""

import pytest
import torch

from graintrain import Recipe, Stage, fit, make_dataset, make_model
from graintrain.study.stacked import fit_stacked


def test_stacked_adam_matches_separate_runs():
    data = [make_dataset("switchboard", seed=s, lines=3, n=200) for s in range(4)]
    recipe = Recipe((Stage("mse", "adam", steps=300, lr=0.05),))
    alone = [fit(lambda d=d: make_model("attention-blended", d), d.train, Recipe(recipe.stages, seed=s)).model
             for s, d in enumerate(data)]
    starts = []
    for s, d in enumerate(data):  # the same starting weights fit() would draw
        torch.manual_seed(s * 1000)
        starts.append(make_model("attention-blended", d))
    initial = starts[0].value.weight.detach().clone()
    x, z, y = (torch.stack([getattr(d.train, k) for d in data]) for k in "xzy")  # (M, N)
    together = fit_stacked(starts, x, z, y, recipe, chunk=3)  # chunks of 3 and 1
    for a, b in zip(alone, together):
        for p, q in zip(a.parameters(), b.parameters()):
            assert torch.allclose(p, q, atol=1e-4), (p, q)
    moved = (together[0].value.weight - initial).abs().max()
    assert moved > 0.1  # training really happened


def test_stacking_refuses_what_it_cannot_reproduce():
    data = make_dataset("switchboard", seed=0, lines=2, n=50)
    model = make_model("attention-blended", data)
    x, z, y = (getattr(data.train, k)[None] for k in "xzy")  # (1, N)
    with pytest.raises(ValueError, match="Adam on the mse objective"):
        fit_stacked([model], x, z, y, Recipe((Stage("mixture", "lbfgs", steps=5),)))
    with pytest.raises(ValueError, match="raw z"):
        fit_stacked([make_model("attention", data)], x, z, y, Recipe((Stage("mse", "adam", steps=5),)))


def test_a_model_gets_the_same_bits_whichever_models_share_its_stack():
    # K = 3: six models hold 18 floats per parameter, one vector of 16 and two left over; before the
    # padding, a model trained alone or at the end of a stack took fused Adam's one-float path.
    data = [make_dataset("switchboard", seed=s, lines=3, n=120) for s in range(6)]
    recipe = Recipe((Stage("mse", "adam", steps=200, lr=0.05),))
    x, z, y = (torch.stack([getattr(d.train, k) for d in data]) for k in "xzy")  # (M, N)

    def starts():
        torch.manual_seed(0)
        return [make_model("attention-blended", d) for d in data]
    together = fit_stacked(starts(), x, z, y, recipe)
    split = starts()
    for part in (slice(0, 2), slice(2, 3), slice(3, 6)):
        fit_stacked(split[part], x[part], z[part], y[part], recipe)
    for a, b in zip(together, split):
        for p, q in zip(a.parameters(), b.parameters()):
            assert torch.equal(p, q), (p - q).abs().max()


def test_the_hand_worked_gradient_is_autograds():
    from graintrain.study.stacked import StackedAttention
    data = [make_dataset("switchboard", seed=s, lines=4, n=150) for s in range(3)]
    torch.manual_seed(0)
    stacked = StackedAttention([make_model("attention-blended", d) for d in data])
    x, z, y = (torch.stack([getattr(d.train, k) for d in data]) for k in "xzy")  # (M, N)
    (stacked(x, z) - y).pow(2).mean(1).sum().backward()
    by_hand = stacked.gradient(x, z, y)
    assert stacked.flat.grad.abs().max() > 0.01  # a gradient worth comparing
    assert torch.allclose(by_hand, stacked.flat.grad, rtol=1e-5, atol=1e-6), (by_hand - stacked.flat.grad).abs().max()

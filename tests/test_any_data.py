"""Attention on data it was not shaped for: other region widths, orders, selector scales, darkness.

benchmarks/recovery.py measures every variant over seeds 0-19; these tests hold a few fixed seeds
of each to the same bar.
"""

import io

import numpy as np
import pytest
import torch

from graintrain import (MODELS, Attention, Recipe, fit, gate_accuracy, make_dataset, make_model,
                        match_experts, midpoint_mse, mse, slope_error)
from graintrain.models.segments import segment

SW = "switchboard"
VARIANTS = [
    (SW, {"lines": 8}),
    (SW, {"regions": "random"}),
    (SW, {"order": "shuffled", "selector_range": (-1.0, 1.0)}),
    (SW, {"order": "shuffled", "selector_range": (0.0, 10.0)}),
    (SW, {"regions": "random", "order": "shuffled", "selector_range": (-40.0, -30.0)}),
    (SW, {"regions": "random", "order": "shuffled", "selector_range": (-1000.0, 1000.0)}),
    ("three-grains", {"darkness": (0.0, 0.5, 0.25)}),  # the franken-grain between white and brown
    ("three-grains", {"darkness": (0.95, 0.0, 0.5)}),
    ("three-grains", {"darkness": (0.1, 0.3, 0.6)}),
]


def train(dataset: str, seed: int, **options):
    data = make_dataset(dataset, seed=seed, **options)
    recipe = Recipe(MODELS["attention"].recipe.stages, seed=seed)
    return fit(lambda: make_model("attention", data), data.train, recipe).model, data


@pytest.mark.parametrize("dataset, options", VARIANTS)
def test_attention_recovers_every_expert_on_each_variant(dataset, options):
    # Tolerances: every matched slope and intercept within 0.15 (switchboard, σ = 0.05) or 0.1
    # (grains, σ = 0.1), on every one of seeds 0-3; benchmarks/recovery.py found 20/20 on each.
    tol = 0.15 if dataset == SW else 0.1
    for seed in range(4):
        model, data = train(dataset, seed, **options)
        assert match_experts(model, data).error <= tol, (seed, match_experts(model, data))
        assert slope_error(model, data) <= tol  # inside every region, read from the data
        assert gate_accuracy(model, data, data.test) >= 0.95


def test_borders_land_halfway_across_the_gap_and_lines_are_exact():
    # Three noiseless lines owning z in [0, 2), [2, 3) and [3, 7]: the cuts must fall between the
    # points either side of 2 and 3, at their midpoints, and each run's line must be exact.
    z = np.array([0.0, 0.5, 1.0, 1.5, 1.9, 2.1, 2.5, 2.9, 3.3, 4.0, 5.0, 6.0, 7.0])
    x = np.linspace(-1, 1, len(z))
    lines = [(2.0, 0.0), (-1.0, 0.5), (0.5, -0.5)]
    which = np.digitize(z, [2.0, 3.0])
    y = np.array([lines[k][0] * xi + lines[k][1] for k, xi in zip(which, x)])
    runs = segment(x, z, y, 3)
    assert runs.borders == pytest.approx([2.0, 3.1])
    assert runs.gaps == pytest.approx([0.2, 0.4])
    assert runs.slopes == pytest.approx([2.0, -1.0, 0.5], abs=1e-9)
    assert runs.intercepts == pytest.approx([0.0, 0.5, -0.5], abs=1e-9)


def test_the_selector_scale_is_read_from_the_data_and_saved_with_the_model():
    model, data = train(SW, 0, selector_range=(-40.0, -30.0))
    assert model.shift.item() == pytest.approx(data.train.z.mean().item(), abs=1e-4)
    assert model.scale.item() == pytest.approx(data.train.z.std().item(), rel=1e-4)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    again = Attention(data.num_classes)  # a fresh model knows nothing of the scale...
    again.load_state_dict(torch.load(buffer))  # ...until the state_dict brings it
    with torch.no_grad():
        assert torch.equal(again(data.test.x, data.test.z), model(data.test.x, data.test.z))


def test_the_standard_switchboard_is_recovered_on_seeds_0_to_9_for_each_k():
    for k in (2, 3, 5, 8):
        for seed in range(10):
            model, data = train(SW, seed, lines=k)
            assert match_experts(model, data).error <= 0.15, (k, seed)


def test_the_plain_recipe_keeps_pytorchs_start_and_the_raw_selector():
    data = make_dataset(SW, seed=0)
    torch.manual_seed(0)
    plain = make_model("attention-blended", data)
    torch.manual_seed(0)
    reference = torch.nn.Linear(1, 5)
    assert torch.equal(plain.key.weight, reference.weight)
    assert plain.shift.item() == 0 and plain.scale.item() == 1
    assert MODELS["attention-blended"].recipe.stages[0].steps == 2000


def test_held_out_error_follows_the_limit_the_training_gaps_set():
    # A held-out point inside the gap between two lines' training points can fall on either side of
    # the true border, so even the true lines with midpoint borders (midpoint_mse) miss the floor on
    # some seeds. Over seeds 0-9 (K = 5) the trained model reaches the floor (≤ 1.3σ²) on at least
    # as many seeds as that limit does, less one, and its median held-out MSE is under 1.3σ².
    model_at_floor, limit_at_floor, errors = 0, 0, []
    for seed in range(10):
        model, data = train(SW, seed)
        floor = 1.3 * data.noise**2
        errors.append(mse(model, data.near) / floor)
        model_at_floor += errors[-1] <= 1
        limit_at_floor += midpoint_mse(data, data.near) <= floor
    assert model_at_floor >= limit_at_floor - 1, (model_at_floor, limit_at_floor)
    assert np.median(errors) <= 1, errors


def test_noisy_readings_of_the_selector_still_give_every_line():
    # With noise of 1% of z's range on every reading, points near a border read as the neighbour's;
    # the soft start lets the experts win them back. Every line within 0.15 on seeds 0-3.
    for seed in range(4):
        model, data = train(SW, seed, selector_noise=0.01)
        assert match_experts(model, data).error <= 0.15, seed


def test_ties_that_leave_too_few_points_for_every_run_give_fewer_runs_not_a_broken_start():
    # z takes three values, with 4, 1 and 4 points: no split into three runs of three points exists
    z = np.array([0.0] * 4 + [1.0] + [2.0] * 4)
    x = np.array([-1.0, -0.5, 0.25, 1.0, 0.5, -1.0, -0.3, 0.4, 1.0])
    y = np.where(z < 1.5, 1.0 * x, -1.0 * x)  # the lone middle point lies on the first line
    runs = segment(x, z, y, 3)
    assert len(runs.slopes) == 2 and (runs.gaps > 0).all() and runs.borders == pytest.approx([1.5])
    model = Attention(3).start(*(torch.tensor(v, dtype=torch.float32) for v in (x, z, y)))
    assert (model.key.weight[:2, 0].diff() > 0).all()  # the used experts' keys still rise along z
    with pytest.raises(ValueError, match="finite"):
        Attention(2).start(torch.zeros(4), torch.tensor([0.0, 1.0, float("nan"), 2.0]), torch.zeros(4))

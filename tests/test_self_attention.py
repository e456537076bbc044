"""Self-attention reads a recipe card in context. The cards, the claims with numbers, the errors.

Each model trains once (seed 0) for the whole file, by its registered recipe. The thresholds are
stated in each test; what benchmarks/self_attention.py measures is quoted in benchmarks/README.md.
"""

import json
import time

import pytest
import torch

from graintrain import MODELS, make_dataset, make_model, num_parameters
from graintrain.card_claims import lookup_claim, step_claim
from graintrain.cards import RATIOS, best_step, gd_step, least_squares, matching, own_grain
from graintrain.cli import main
from graintrain.datasets import CUPS, DATASETS, FAR_CUPS, Split
from graintrain.metrics import evaluate
from graintrain.models import ContextMLP, LinearSelfAttention, SelfAttention
from graintrain.train import fit

LENGTHS = (1, 4, 16, 32)  # context lengths m the sweep trains a layer on (the benchmark: 1 to 32)


def _fit(name: str, data) -> object:
    began = time.process_time()
    run = fit(lambda: make_model(name, data), data.train, MODELS[name].recipe)
    run.cpu_seconds = time.process_time() - began
    return run


@pytest.fixture(scope="module")
def cards():
    return make_dataset("recipe-cards", seed=0)


@pytest.fixture(scope="module")
def mixed():
    return make_dataset("recipe-cards-mixed", seed=0)


@pytest.fixture(scope="module")
def runs(cards, mixed):
    """name -> Fit with its processor time: the layer, the MLP (default m = 16) and softmax attention."""
    return {"linear-self-attention": _fit("linear-self-attention", cards),
            "context-mlp": _fit("context-mlp", cards),
            "self-attention": _fit("self-attention", mixed)}


@pytest.fixture(scope="module")
def sweep():
    """m -> (held-out MSE of the layer, of one GD step at the best step size, of least squares)."""
    out = {}
    for m in LENGTHS:
        data = make_dataset("recipe-cards", seed=0, m=m)
        layer = _fit("linear-self-attention", data).model
        near = data.near
        with torch.no_grad():
            said = layer(near.x, near.selector(layer))
        gd, ls = gd_step(near, best_step(data.train)), least_squares(near)
        out[m] = tuple((p - near.y).pow(2).mean().item() for p in (said, gd, ls))
    return out


def _answers(model, split: Split) -> torch.Tensor:
    with torch.no_grad():
        return model(split.x, split.selector(model))


# The cards -------------------------------------------------------------------------------------

def test_a_card_is_one_point_with_its_context(cards, mixed):
    train = cards.train
    assert train.context.shape == (1000, 16, 2) and cards.test.context.shape == (750, 16, 2)
    assert cards.classes == ("unknown grain",) and torch.isnan(cards.slopes).all()
    ratio = train.y / train.x  # (n,) each card's own r: the target carries no noise
    assert ratio.min() >= RATIOS[0] and ratio.max() <= RATIOS[1] and ratio.std() > 0.9
    pairs = train.context
    assert pairs[..., 0].min() >= CUPS[0] and pairs[..., 0].max() <= CUPS[1]
    residual = pairs[..., 1] - ratio[:, None] * pairs[..., 0]  # the measured water's noise
    assert abs(residual.std().item() - 0.1) < 0.005
    assert (cards.far.x == FAR_CUPS).all() and len(cards.far) == 250
    card = train.card()
    assert card.shape == (1000, 17, 2) and torch.equal(card[:, -1, 0], train.x) and (card[:, -1, 1] == 0).all()
    # Mixed cards: 8 pairs of each of 3 grains, and the query's reading names one of them.
    assert mixed.train.context.shape == (1000, 24, 3) and mixed.train.card().shape == (1000, 25, 3)
    own = matching(mixed.train)
    assert (own.sum(1) == 8).all()
    xi, yi = mixed.train.context[..., 0], mixed.train.context[..., 1]
    own_ratio = (own * yi).sum(1) / (own * xi).sum(1)  # close to the query grain's r
    assert ((own_ratio - mixed.train.y / mixed.train.x).abs() < 0.1).all()


def test_cards_repeat_by_seed_and_m_is_an_option_with_bounds(capsys):
    a, b, c = (make_dataset("recipe-cards", m=4, seed=s) for s in (2, 2, 3))
    assert torch.equal(a.train.context, b.train.context) and not torch.equal(a.train.context, c.train.context)
    assert {o.name: (o.low, o.high) for o in DATASETS["recipe-cards"].options} == {"m": (1, 64), "ratios": (0, 100)}
    with pytest.raises(ValueError, match="m must be from 1 to 64, got 65"):
        make_dataset("recipe-cards", m=65)
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "recipe-cards " in out and "recipe-cards-mixed" in out and "--m: measured examples" in out


# The claims ------------------------------------------------------------------------------------

def test_1_the_layer_answers_as_one_gradient_descent_step(runs, cards):
    layer = runs["linear-self-attention"].model
    near = cards.near
    said = _answers(layer, near)
    gd = gd_step(near, best_step(cards.train))
    # Tolerance: the mean squared difference is at most 0.5% of the spread (variance) of the
    # layer's answers. Measured on seed 0: 0.03%.
    assert (said - gd).pow(2).mean() <= 0.005 * said.var()
    # Structure: ŷ = x_q·Σ_ab M_ab·mean_i(e_ia·e_ib) with M = outer(P·V's y row, KᵀQ's x column).
    # The construction puts all of M in the x–y entries, which multiply mean(x_i·y_i); M_xy and
    # M_yx act alike (the mean is symmetric), so the value may carry y and the key read x, or the
    # other way round. Measured on seed 0: 98.7% of M's squared mass there, step within 12% of η*.
    M = layer.product()
    share = (M[0, 1] ** 2 + M[1, 0] ** 2) / M.square().sum()
    assert share >= 0.95
    assert abs((M[0, 1] + M[1, 0]).item() - best_step(cards.train)) <= 0.2 * best_step(cards.train)


def test_2_error_against_context_length(sweep):
    for m, (layer, gd, ls) in sweep.items():
        assert abs(layer - gd) <= 0.05 * gd, m  # the layer is one GD step, at every length
    for m in (16, 32):
        assert sweep[m][1] >= 100 * sweep[m][2], m  # one step stays far from least squares
    errors = [sweep[m][0] for m in LENGTHS]
    assert errors == sorted(errors, reverse=True)  # a longer card helps, by averaging more pairs


def test_3_softmax_attention_reads_the_query_grains_examples(runs, mixed):
    model = runs["self-attention"].model
    near = mixed.near
    said = _answers(model, near)
    own = matching(near)
    on_own = (model.weights * own).sum(1)  # (n,) the weight on examples of the query's grain
    assert on_own.mean() >= 0.9 and on_own.min() >= 0.9
    alone = least_squares(near, own)  # least squares on the matching examples alone
    assert (said - near.y).pow(2).mean() <= 1.1 * (alone - near.y).pow(2).mean()
    # and what the weights learned: darkness decides, sharply; a pot counts by about x_i²
    assert abs(model.size.item() - 2) <= 0.3


# The claims on fresh seeds and variants: benchmarks/self_attention.py --table counts seeds 100-119,
# benchmarks/README.md quotes it; each test here is one fresh seed of one row.

def _lookup(seed: int, start: bool = True, **options) -> dict:
    data = make_dataset("recipe-cards-mixed", seed=seed, **options)
    run = fit(lambda: make_model("self-attention", data, start=start), data.train, MODELS["self-attention"].recipe)
    return lookup_claim(run.model, data) | {"loss": run.losses[-1]}


@pytest.mark.parametrize("options", [{}, {"grains": 5}, {"spacing": 0.06}, {"readings": (200.0, 300.0)},
                                     {"grains": 5, "spacing": 0.06}])
def test_3_the_lookup_holds_on_a_fresh_seed_and_its_variants(options):
    r = _lookup(100, **options)
    assert r["holds"], r  # ≥ 90% weight on the grain, mean and every card; MSE ≤ 1.1 × least squares on it
    assert 1.5 <= r["c"] <= 2.5, r


def test_3_grains_005_apart_train_to_a_sound_lookup_where_the_fixed_start_did_not():
    # Seed 102, grains 0.05 apart: from W = I, c = 0 the fit ends at c = −1514, MSE 31 × least squares
    # on the grain. Started from the data it is a lookup; 0.05 is where the Gaussian kernel around the
    # query's reading starts to reach the neighbour grain, so the MSE is held to 1.2 ×, not 1.1 ×.
    r = _lookup(102, spacing=0.05)
    assert 1.5 <= r["c"] <= 2.5 and r["over"] <= 1.2 and r["lowest"] >= 0.9 and r["loss"] <= 0.002, r
    old = _lookup(102, start=False, spacing=0.05)
    assert old["over"] >= 10, old  # what the fixed start gave: if this fails, the data has changed


def test_1_the_layer_is_one_gd_step_on_a_fresh_seed_but_only_on_its_ratio_range():
    trained = make_dataset("recipe-cards", seed=100)
    layer = fit(lambda: make_model("linear-self-attention", trained), trained.train,
                MODELS["linear-self-attention"].recipe).model
    home = step_claim(layer, trained)
    assert home["holds"] and home["shaped"], home  # gap ≤ 0.5% of the variance; M shaped as the construction
    # Asked about grains of r in [4, 6], beyond the training cards' [0.5, 4]: the same layer is further
    # from the step (seed 100: 0.67%; benchmarks/README.md's table: 9/20 seeds within 0.5%, worst 3.5%).
    away = step_claim(layer, trained, make_dataset("recipe-cards", seed=1100, ratios=(4.0, 6.0)))
    assert away["gap"] >= 10 * home["gap"], (home, away)
    four = make_dataset("recipe-cards", seed=100, m=4)
    short = fit(lambda: make_model("linear-self-attention", four), four.train, MODELS["linear-self-attention"].recipe)
    assert step_claim(short.model, four)["holds"]


def test_own_grain_is_exact_where_readings_do_not_overlap(mixed):
    assert torch.equal(own_grain(mixed.near, 3), matching(mixed.near))  # the default cards: both exact
    close = make_dataset("recipe-cards-mixed", seed=1, spacing=0.03, readings=(-5.0, -4.0), grains=4)
    own = own_grain(close.train, 4)
    assert (own.sum(1) == 8).all()
    xi, yi = close.train.context[..., 0], close.train.context[..., 1]
    own_ratio = (own * yi).sum(1) / (own * xi).sum(1)
    assert ((own_ratio - close.train.y / close.train.x).abs() < 0.1).all()
    with pytest.raises(ValueError, match="spacing 0.4 does not fit 4 grains"):
        make_dataset("recipe-cards-mixed", spacing=0.4, grains=4)


def test_a_pot_of_no_cups_is_refused_by_name(mixed):
    card = mixed.train.card().clone()
    card[3, 5, 0] = 0.0
    with pytest.raises(ValueError, match=r"more than 0 cups; card 3 .* x = 0 cups in example 5"):
        SelfAttention()(mixed.train.x, card)
    bad = Split(*(getattr(mixed.train, f) for f in ("x", "z", "y", "label", "far")),
                context=card[:, :-1])
    with pytest.raises(ValueError, match="more than 0 cups"):
        fit(lambda: make_model("self-attention", mixed), bad, MODELS["self-attention"].recipe)


def test_4_each_default_fit_takes_at_most_20_seconds(runs):
    # Processor time, on one thread, so that other work on a shared machine does not count.
    assert torch.get_num_threads() == 1
    for name, run in runs.items():
        assert run.cpu_seconds <= 20, name


def test_the_mlp_baseline_fits_in_range_but_not_at_ten_cups(runs, cards):
    layer, mlp = runs["linear-self-attention"].model, runs["context-mlp"].model
    assert isinstance(mlp, ContextMLP) and num_parameters(mlp) == 8 * 16 + 13
    assert num_parameters(layer) == 16 and num_parameters(runs["self-attention"].model) == 5
    lay, net = evaluate(layer, cards), evaluate(mlp, cards)
    assert net["extrapolation_mse"] >= 2 * lay["extrapolation_mse"]


# evaluate, the command line, and models on the wrong data --------------------------------------

def test_evaluate_and_the_cli_work_on_cards(runs, cards, capsys):
    out = evaluate(runs["linear-self-attention"].model, cards)
    assert out["num_parameters"] == 16 and out["test_mse"] < 3 and out["extrapolation_mse"] is not None
    assert "slope_error" not in out and "experts" not in out  # each card has its own ratio
    assert main(["fit", "self-attention", "recipe-cards-mixed", "--m", "4", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["num_parameters"] == 5 and summary["test_mse"] < 0.05


def test_each_model_gets_its_card(cards):
    layer, line = make_model("linear-self-attention", cards), make_model("line", cards)
    assert cards.train.selector(line) is cards.train.z
    assert torch.equal(cards.train.selector(layer), cards.train.card())
    bare = Split(*(getattr(cards.train, f) for f in ("x", "z", "y", "label", "far")))
    with pytest.raises(ValueError, match="reads a recipe card"):
        bare.selector(layer)


@pytest.mark.parametrize("model, dataset, says", [
    ("linear-self-attention", "white+brown", "has none .choose recipe-cards, recipe-cards-mixed"),
    ("context-mlp", "grain-photos", "has none .choose recipe-cards, recipe-cards-mixed"),
    ("self-attention", "recipe-cards", "with darkness in context; recipe-cards has none .choose recipe-cards-mixed"),
    ("self-attention", "switchboard", "has none"),
])
def test_card_models_refuse_data_without_cards(model, dataset, says):
    with pytest.raises(ValueError, match=says):
        make_model(model, make_dataset(dataset))


def test_the_construction_is_one_gd_step_exactly(cards):
    """Hand-set weights: K = Q = the x projection, P = identity, V carries η·y into the y slot."""
    layer, eta = LinearSelfAttention(), 0.15
    with torch.no_grad():
        for lin, w in ((layer.key, [[1, 0], [0, 0]]), (layer.query, [[1, 0], [0, 0]]),
                       (layer.project, [[1, 0], [0, 1]]), (layer.value, [[0, 0], [0, eta]])):
            lin.weight.copy_(torch.tensor(w, dtype=torch.float32))
    assert torch.allclose(_answers(layer, cards.near), gd_step(cards.near, eta), rtol=1e-5, atol=1e-5)
    M = layer.product()
    assert torch.allclose(M, torch.tensor([[0, 0], [eta, 0]]))


def test_hand_set_softmax_attention_is_least_squares_on_the_grain(mixed):
    model = SelfAttention()
    with torch.no_grad():
        model.embed.weight.copy_(torch.tensor([[0.0, 0.0], [0.0, 200.0]]))  # darkness alone, sharply
        model.size.fill_(2.0)
    near, own = mixed.near, matching(mixed.near)
    exact = near.context.clone()  # the query grain's examples read exactly the query's darkness
    exact[..., 2] = torch.where(own, near.z[:, None], exact[..., 2])
    near = Split(near.x, near.z, near.y, near.label, near.far, context=exact)
    alone = least_squares(near, own)
    assert torch.allclose(_answers(model, near), alone, rtol=1e-4, atol=1e-4)

"""Cross-attention: a camera's CNN as attention's key. The photos, the claims with numbers, the errors.

The first claims are checked on the article's own models (seed 0, trained once per test run); then each claim
again on a seed the recipe was not chosen on (100) and on every photo variant of benchmarks/grain_photos.py,
one seed each. The thresholds are the issue's; the benchmark's table over seeds 100-119 is in benchmarks/README.md.
"""


import dataclasses
import inspect
import sys
from pathlib import Path

import pytest
import torch

from graintrain import (DATASETS, MODELS, Attention, OptionError, Recipe, Run, Split, expert_errors, fit,
                        gate_accuracy, look_alikes, make_dataset, make_model, match_experts, mse, num_parameters)
from graintrain.metrics import evaluate
from graintrain.models import CNN, CnnMlp, CrossAttention
from graintrain.photos import LOOKS, grain_photos

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
from grain_photos import VARIANTS  # noqa: E402  the benchmark's variants, checked here one seed each

SIZE = next(o.default for o in DATASETS["grain-photos"].options if o.name == "size")

LOOK_ALIKES = ("white", "round-white")


@pytest.fixture(scope="module")
def photos():
    return make_dataset("grain-photos", seed=0)


@pytest.fixture(scope="module")
def runs(site, site_cache):
    """Each model on grain-photos as the article trained it (seed 0, its registered recipe): name ->
    Fit. The claims are checked on the very models chapter 10 draws."""
    from graintrain.article.figures.camera import CAMERA, METER, NO_GATE
    return {run.model: site_cache.get(run).fit for run in (METER, CAMERA, NO_GATE)}


# The photos ------------------------------------------------------------------------------------

def test_photos_repeat_by_seed_and_have_their_shape_and_range(photos):
    again, other = make_dataset("grain-photos", seed=0), make_dataset("grain-photos", seed=1)
    assert torch.equal(photos.train.photo, again.train.photo) and torch.equal(photos.test.photo, again.test.photo)
    assert not torch.equal(photos.train.photo[:10], other.train.photo[:10])
    for split in (photos.train, photos.test):
        assert split.photo.shape == (len(split), 3, SIZE, SIZE) and split.photo.dtype == torch.float32
        assert split.photo.min() >= 0 and split.photo.max() <= 1
    assert photos.classes == ("white", "round-white", "brown")
    assert photos.train.subset(photos.train.label == 1).photo.shape[0] == (photos.train.label == 1).sum()


def _grain_pixels(photo: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Measured from the pixels alone: the brightness of each grain's core (the pixels that differ
    most from the border's colour, away from the blurred edge) and the grain's elongation, sqrt of
    the ratio of the principal second moments of the pixels that differ from the border."""
    border = torch.cat([photo[..., 0, :], photo[..., -1, :], photo[..., :, 0], photo[..., :, -1]], -1)
    tray = border.median(-1).values  # (n, 3)
    differs = (photo - tray[..., None, None]).abs().sum(1)  # (n, S, S)
    mask = differs > 0.6  # (n, S, S) where the grain is
    core = differs > 0.7 * differs.amax((1, 2), keepdim=True)  # (n, S, S)
    brightness = (photo.mean(1) * core).sum((1, 2)) / core.sum((1, 2))  # (n,)
    rows, cols = torch.meshgrid(torch.arange(SIZE).float(), torch.arange(SIZE).float(), indexing="ij")
    w = mask.float() / mask.sum((1, 2), keepdim=True)  # (n, S, S)
    mr, mc = (w * rows).sum((1, 2)), (w * cols).sum((1, 2))  # (n,)
    dr, dc = rows - mr[:, None, None], cols - mc[:, None, None]  # (n, S, S)
    cov = torch.stack([torch.stack([(w * dr * dr).sum((1, 2)), (w * dr * dc).sum((1, 2))], -1),
                       torch.stack([(w * dr * dc).sum((1, 2)), (w * dc * dc).sum((1, 2))], -1)], -2)
    eig = torch.linalg.eigvalsh(cov)  # (n, 2) ascending
    return brightness, (eig[:, 1] / eig[:, 0]).sqrt()


def test_look_alikes_share_a_colour_and_a_reading_but_not_a_shape():
    data = make_dataset("grain-photos", n=600, seed=3)
    brightness, elongation = _grain_pixels(data.train.photo)
    bright = {g: brightness[data.train.label == k].mean().item() for k, g in enumerate(data.classes)}
    long = {g: elongation[data.train.label == k].median().item() for k, g in enumerate(data.classes)}
    reading = {g: data.train.z[data.train.label == k].mean().item() for k, g in enumerate(data.classes)}
    assert abs(bright["white"] - bright["round-white"]) < 0.05  # the same colour...
    assert abs(reading["white"] - reading["round-white"]) < 0.005  # ...and the same meter reading
    assert bright["white"] - bright["brown"] > 0.2  # brown rice is darker
    assert long["white"] > 2.0 and long["round-white"] < 1.5  # long and thin against short and round
    assert abs(long["white"] - LOOKS["white"].length / LOOKS["white"].width) < 0.6


# The claims ------------------------------------------------------------------------------------

def test_cross_attention_is_attention_with_a_cnn_key_and_baselines_match_its_size(runs):
    model = runs["cross-attention"].model
    assert isinstance(model, Attention) and isinstance(model, CrossAttention) and isinstance(model.key, CNN)
    size = num_parameters(model)
    assert abs(num_parameters(runs["cnn-mlp"].model) - size) <= 0.1 * size
    assert isinstance(runs["cnn-mlp"].model, CnnMlp)


def test_1_each_expert_fits_the_points_its_gate_gives_it(runs, photos):
    model = runs["cross-attention"].model
    match = match_experts(model, photos)
    assert match.classes == [0, 1, 2]
    errors = expert_errors(model, photos, photos.near)
    assert sorted(errors) == sorted(match.expert) and max(errors.values()) <= 0.1, errors
    # The measure sees a gate that hands one grain's photos to another's expert: swap the two
    # look-alikes' experts' slopes and their experts are off by the gap between their ratios.
    swapped = dataclasses.replace(photos, slopes=photos.slopes[[1, 0, 2]])
    assert min(expert_errors(model, swapped, photos.near.subset(photos.near.label < 2)).values()) >= 0.4


def test_2_the_gate_picks_the_right_grain_for_held_out_photos(runs, photos):
    model = runs["cross-attention"].model
    assert gate_accuracy(model, photos, photos.near) >= 0.95
    for k, grain in enumerate(photos.classes):
        assert gate_accuracy(model, photos, photos.near.subset(photos.near.label == k)) >= 0.95, grain


def test_3_darkness_alone_merges_the_look_alikes(runs, photos):
    alike = photos.near.subset(photos.near.label < 2)  # white and round white rice
    darkness, camera = runs["attention"].model, runs["cross-attention"].model
    assert mse(darkness, alike) >= 5 * mse(camera, alike)
    assert gate_accuracy(darkness, photos, alike) < 0.8  # close to a coin toss between the two


def test_4_cnn_mlp_fits_in_range_but_extrapolates_worse(runs, photos):
    camera, baseline = runs["cross-attention"].model, runs["cnn-mlp"].model
    assert mse(baseline, photos.train) <= 0.15  # it fits the training points...
    assert mse(baseline, photos.near) <= 0.3  # ...and held-out points in range, if less well
    assert mse(baseline, photos.far) >= 10 * mse(camera, photos.far)  # at 10 cups it is far off


# Claim 5, the default fit within 10 s, is a speed goal: benchmarks/grain_photos.py measures it
# (over seeds 0-9, wall and processor time), since timings on a shared machine make flaky tests.


def test_evaluate_and_the_cli_summary_work_on_photos(runs, photos):
    out = evaluate(runs["cross-attention"].model, photos)
    assert out["num_parameters"] == 1449 and out["expert_error"] <= 0.1 and out["slope_error"] <= 0.1
    assert out["test_mse"] <= 0.1 and out["extrapolation_mse"] is not None
    assert evaluate(runs["cnn-mlp"].model, photos)["slope_error"] > out["slope_error"]


# What reads photos, and what does not ----------------------------------------------------------

def test_each_model_gets_its_own_selector(photos):
    camera, meter = make_model("cross-attention", photos), make_model("attention", photos)
    assert photos.train.selector(camera) is photos.train.photo
    assert photos.train.selector(meter) is photos.train.z
    with pytest.raises(ValueError, match="reads photos"):
        Split(*(getattr(photos.train, f) for f in ("x", "z", "y", "label", "far"))).selector(camera)


@pytest.mark.parametrize("model", ["cross-attention", "cnn-mlp"])
@pytest.mark.parametrize("dataset", ["white+brown", "switchboard"])
def test_photo_models_refuse_data_without_photos(model, dataset):
    with pytest.raises(ValueError, match="reads photos of the grains; .* has none .*grain-photos"):
        make_model(model, make_dataset(dataset))
    run = Run(model=model, dataset=dataset)
    with pytest.raises(ValueError, match="grain-photos"):
        run.probe(run.data())


def test_every_model_that_reads_darkness_trains_on_grain_photos():
    data = make_dataset("grain-photos", n=30)
    for name in MODELS:
        if name in ("cross-attention", "cnn-mlp", "linear-self-attention", "self-attention", "context-mlp"):
            continue  # these read photos or recipe cards, not the darkness
        run = Run(model=name, dataset="grain-photos", n=30, steps=3, restarts=1)
        assert run.fit(data).losses, name


def test_the_lab_refuses_photo_models_on_other_data_and_draws_them_on_photos(runs, photos):
    from pydantic import ValidationError
    from graintrain.lab import snapshot
    from graintrain.web.run_settings import JobSettings
    with pytest.raises(ValidationError, match="has none .*grain-photos"):
        JobSettings(model="cross-attention", dataset="white")
    with pytest.raises(ValidationError, match="has none .*grain-photos"):
        JobSettings(model="cnn-mlp", dataset="upload", csv="cups,darkness,water\n1,0,2\n2,0,4\n3,0,6\n4,0,8\n")
    assert JobSettings(model="cross-attention", dataset="grain-photos", steps=2).probe(photos)
    shown = snapshot(runs["cross-attention"].model, photos)  # each class's curve at one of its own photos
    per_cup = [(c["y"][-1] - c["y"][0]) / (shown["grid"]["x"][-1] - shown["grid"]["x"][0]) for c in shown["curves"]]
    assert all(abs(p - r) <= 0.15 for p, r in zip(per_cup, (2.0, 1.5, 3.0))), per_cup
    assert len(shown["surface"]) == len(shown["grid"]["z"])
    # The gates on a row of held-out photos, each photo's largest gate on its own grain's expert.
    from graintrain.lab import points
    from graintrain.metrics import match_experts
    row = points(photos)["photos"]["held_out"]
    expert = match_experts(runs["cross-attention"].model, photos).expert
    gates = torch.tensor(shown["gates"])  # (K, m)
    assert gates.shape == (3, len(row["label"])) and len(row["pixels"][0]) == photos.train.photo.shape[-1]
    assert (gates.argmax(0) == torch.tensor([expert[k] for k in row["label"]])).float().mean() >= 0.9


# The photo options ----------------------------------------------------------------------------

def test_the_photo_options_change_the_photos_and_are_declared_once():
    declared = {o.name for o in DATASETS["grain-photos"].options}
    assert {"look", "lighting", "size", "grains"} <= declared
    assert all(p.default is inspect.Parameter.empty  # no second set of defaults
               for p in inspect.signature(grain_photos).parameters.values())
    small = make_dataset("grain-photos", n=30, size=16)
    assert small.train.photo.shape == (30, 3, 16, 16)
    four = make_dataset("grain-photos", n=40, grains=4)
    assert four.classes == ("white", "round-white", "brown", "half-bran") and four.slopes[3] == 2.5
    assert make_dataset("grain-photos", n=30, grains=2).classes == ("white", "round-white")
    # A look-alike drawn long and thin is as elongated in its pixels as white rice.
    white = LOOKS["white"]
    _, long = _grain_pixels(make_dataset("grain-photos", n=300, look=(white.length, white.width)).train.photo)
    assert long.median() > 2.0
    # Harsher lighting spreads the photos' brightness further.
    spread = [make_dataset("grain-photos", n=300, lighting=v).train.photo.mean((1, 2, 3)).std() for v in (1.0, 2.0)]
    assert spread[1] > 1.3 * spread[0]


# Errors that name the input -------------------------------------------------------------------

def test_an_unknown_option_reads_well_and_names_what_the_dataset_takes():
    with pytest.raises(OptionError, match=r"^sizes is not an option of dataset grain-photos \(it takes darkness, "):
        make_dataset("grain-photos", sizes=3)
    with pytest.raises(OptionError, match=r"^size applies to grain-photos, not to curve \(it takes no options\)"):
        make_dataset("curve", size=3)


def test_gate_measures_refuse_a_model_without_a_gate(photos):
    baseline = make_model("cnn-mlp", photos)
    for measure in (gate_accuracy, expert_errors):
        with pytest.raises(ValueError, match="CnnMlp has no gate over linear experts"):
            measure(baseline, photos, photos.near)


def test_photos_of_one_colour_train_and_photos_too_small_are_refused_by_shape():
    data = make_dataset("grain-photos", n=30)
    one_colour = dataclasses.replace(data.train, photo=data.train.photo.mean(1, keepdim=True))
    grey = dataclasses.replace(data, train=one_colour)
    model = make_model("cross-attention", grey)
    assert model(grey.train.x, grey.train.photo).shape == (30,)
    with pytest.raises(ValueError, match=r"the CNN reads photos shaped \(n, 1, H, W\).* got \(30, 3, 24, 24\)"):
        model(data.train.x, data.train.photo)  # trained on grey photos, shown colour ones
    tiny = dataclasses.replace(data, train=dataclasses.replace(data.train, photo=data.train.photo[..., :2, :2]))
    for name in ("cross-attention", "cnn-mlp"):
        shape = r"grain-photos's photos are \(30, 3, 2, 2\)"
        with pytest.raises(ValueError, match=rf"{name} reads photos .* at least 4 pixels; {shape}"):
            make_model(name, tiny)


# The claims on a seed the recipe never saw, and on every variant ------------------------------

FRESH = 100  # the recipe was chosen on seeds 0-19


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_claims_1_to_3_hold_on_a_fresh_seed_of_each_variant(variant):
    torch.set_num_threads(1)
    settings, options = VARIANTS[variant]
    data = make_dataset("grain-photos", seed=FRESH, **settings)
    trained = {name: fit(lambda: make_model(name, data, **(options if name == "cross-attention" else {})), data.train,
                         dataclasses.replace(MODELS[name].recipe, seed=FRESH)).model
               for name in ("cross-attention", "attention")}
    camera, meter = trained["cross-attention"], trained["attention"]
    assert max(expert_errors(camera, data, data.near).values()) <= 0.1  # 1
    twins = look_alikes(data)
    assert len(twins) == 2
    for k in twins:  # 2
        assert gate_accuracy(camera, data, data.near.subset(data.near.label == k)) >= 0.95, data.classes[k]
    alike = data.near.subset(torch.isin(data.near.label, torch.tensor(twins)))
    assert mse(meter, alike) >= 5 * mse(camera, alike)  # 3

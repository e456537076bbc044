"""Cross-attention: a camera's CNN as attention's key. The photos, the claims with numbers, the errors.

The models are the article's own (seed 0, trained once per test run). The thresholds are the issue's; the numbers
measured on seeds 0 to 9 are what benchmarks/grain_photos.py prints, quoted in the README.
"""


import pytest
import torch

from graintrain import (MODELS, Attention, Run, Split, gate_accuracy, make_dataset, make_model,
                        match_experts, mse, num_parameters)
from graintrain.metrics import evaluate
from graintrain.models import CNN, CnnMlp, CrossAttention
from graintrain.photos import LOOKS, SIZE

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


def test_1_cross_attention_recovers_every_water_ratio(runs, photos):
    match = match_experts(runs["cross-attention"].model, photos)
    assert match.classes == [0, 1, 2]
    for k, learned in zip(match.classes, match.slopes):
        assert abs(learned - photos.slopes[k].item()) <= 0.1, photos.classes[k]


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

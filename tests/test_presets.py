"""The lab's presets fail the way each one says, trained here with the one trainer."""

import pytest
import torch

from graintrain.metrics import evaluate
from graintrain.study import RECOVERED
from graintrain.web.presets import PRESETS

BY_LABEL = {p.label: p for p in PRESETS}


def trained(label: str):
    run = BY_LABEL[label].run
    data = run.data()
    model = run.fit(data).model
    return model, data, evaluate(model, data)


def favourites(model, data) -> list[int]:
    """For each class, the expert its training points weigh most."""
    model(data.train.x, data.train.z)
    return [int(model.weights[data.train.label == c].mean(0).argmax()) for c in range(data.num_classes)]


@pytest.mark.parametrize("label", ["Blended experts", "A random start for the keys",
                                   "A random start that misses a grain"])
def test_attention_presets_miss_lines_the_data_start_finds(label):
    model, data, scores = trained(label)
    assert scores["expert_error"] > RECOVERED  # some line has no expert within tolerance
    assert scores["test_mse"] > 20 * data.noise ** 2
    if label == "Blended experts":  # one expert answers for several lines
        assert len(set(favourites(model, data))) < data.num_classes
    if label == "A random start for the keys":  # no line's points go mostly to one expert
        model(data.train.x, data.train.z)
        assert all(model.weights[data.train.label == c].mean(0).max() < 0.7 for c in range(data.num_classes))
    if label == "A random start that misses a grain":  # two grains share an expert; one expert idles
        assert len(set(favourites(model, data))) == data.num_classes - 1
        started = BY_LABEL[label].run.model_copy(update={"init": "data"})  # the comparison it offers
        again = started.fit(data).model
        assert evaluate(again, data)["expert_error"] <= RECOVERED


def test_sigma_pi_cannot_fit_the_franken_grain():
    _, data, scores = trained("Sigma-pi meets the franken-grain")
    assert scores["train_mse"] > 100 * data.noise ** 2


def test_the_dying_relu_network_has_no_live_unit_and_answers_one_number():
    model, data, _ = trained("A ReLU network that dies")
    model(data.train.x, data.train.z)
    assert not (model.hidden[0] > 0).any()  # every unit is off for every training point
    outputs = model(data.test.x, data.test.z)
    assert torch.allclose(outputs, outputs[0].expand_as(outputs))


def test_every_preset_names_a_score_its_finished_run_reports(lab):
    client, _ = lab
    offered = client.get("/api/registry").json()["presets"]
    assert [p["label"] for p in offered] == list(BY_LABEL)
    assert all(p["query"] == BY_LABEL[p["label"]].run.query() for p in offered)
    for preset in PRESETS:  # the page writes the lesson with this score (and its floor) from the done event
        _, _, scores = trained(preset.label)
        assert preset.score in scores and (not preset.floor or preset.floor in scores)

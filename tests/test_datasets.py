"""The datasets: the grains of the post, the switchboard, and one registry for all."""

import inspect

import pytest
import torch

from graintrain import DATASETS, GRAINS, make_dataset
from graintrain.datasets import CUPS, FAR_CUPS, JITTER


@pytest.mark.parametrize("name", list(DATASETS))
def test_every_generator_shares_the_signature_and_repeats_by_seed(name):
    params = list(inspect.signature(DATASETS[name].make).parameters)
    assert params[:3] == ["n", "noise", "seed"]
    a, b, c = (make_dataset(name, n=30, seed=s) for s in (4, 4, 5))
    assert len(a.train) == 30 and len(a.test) > 0
    assert torch.equal(a.train.y, b.train.y) and torch.equal(a.test.x, b.test.x)
    assert not torch.equal(a.train.y, c.train.y)
    assert a.test.far.any() and not a.train.far.any()


@pytest.mark.parametrize("name", ["white", "brown", "white+brown", "bran", "three-grains"])
def test_grains_follow_their_ratio_and_darkness(name):
    data = make_dataset(name, n=300, noise=0.0)
    for split in (data.train, data.test):
        for k, grain in enumerate(data.classes):
            pts = split.subset(split.label == k)
            g = GRAINS[grain]
            assert torch.allclose(pts.y, g.ratio * pts.x)
            assert ((pts.z - g.darkness).abs() <= JITTER + 1e-7).all()
    assert data.train.x.min() >= CUPS[0] and data.train.x.max() <= CUPS[1]
    assert (data.test.x[data.test.far] == FAR_CUPS).all()


def test_bran_holds_half_bran_rice_out_of_training():
    data = make_dataset("bran")
    half = data.classes.index("half-bran")
    assert not (data.train.label == half).any() and (data.test.label == half).any()


def test_noise_has_the_asked_spread():
    data = make_dataset("white", n=4000, noise=0.1)
    residual = data.train.y - 2 * data.train.x
    assert abs(residual.std().item() - 0.1) < 0.005


def test_switchboard_selector_picks_the_line():
    data = make_dataset("switchboard", n=2000, noise=0.0, seed=3, lines=4)
    assert data.num_classes == 4
    assert ((data.slopes.abs() <= 3) & (data.intercepts.abs() <= 1)).all()
    for split in (data.train, data.test):
        assert torch.equal(split.label, (split.z * 4).long())
        expected = data.slopes[split.label] * split.x + data.intercepts[split.label]
        assert torch.allclose(split.y, expected, atol=1e-6)
    assert data.train.x.abs().max() <= 1
    far = data.test.x[data.test.far].abs()
    assert far.min() >= 1 and far.max() <= 2


def test_unknown_names_list_the_choices():
    with pytest.raises(KeyError, match="choose one of: white, brown"):
        make_dataset("rye")
    with pytest.raises(ValueError, match="lines must be from 1 to 16, got 0"):
        make_dataset("switchboard", lines=0)


def test_every_dataset_option_default_is_declared_once():
    """A default written in the registry and again in the generator's signature can drift apart
    unseen (the switchboard's five did). The generators take n, noise, the seed and their options
    without defaults: make_dataset passes the registry's (DatasetSpec.n and .noise, the Options')."""
    import inspect
    from graintrain.datasets import DATASETS
    twice = {name: sorted(p.name for p in inspect.signature(spec.make).parameters.values()
                          if p.default is not inspect.Parameter.empty)
             for name, spec in DATASETS.items()}
    assert {name: params for name, params in twice.items() if params} == {}


def test_every_model_option_default_is_declared_once():
    """The models' builders likewise take their options without defaults: make_model passes the
    registry's, so hidden=10 or init=data is written in one declaration only."""
    import inspect
    from graintrain.models import MODELS
    twice = {name: [p.name for p in inspect.signature(spec.build).parameters.values()
                    if p.default is not inspect.Parameter.empty] for name, spec in MODELS.items()}
    assert {name: params for name, params in twice.items() if params} == {}

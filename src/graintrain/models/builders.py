"""How each registered model is built for a dataset: ``MODELS[name].where`` names one of these.

Each takes the dataset and the model's options, ``(dataset, **options) -> model``, without defaults
of its own (make_model passes the registry's); a model that
reads photos or recipe cards refuses, with a ValueError naming the datasets that have them, a
dataset that does not.
"""

from __future__ import annotations

from ..datasets import DATASETS, Dataset
from . import EXPERTS
from .attention import Attention
from .classifier import Classifier
from .cnn import CNN
from .cnn_mlp import CnnMlp
from .context_mlp import ContextMLP
from .cross_attention import CrossAttention
from .line import Line
from .linear_self_attention import LinearSelfAttention
from .mlp import MLP
from .pipeline import Pipeline
from .plane import Plane
from .relu_switch import ReluSwitch
from .segments import count_runs
from .self_attention import SelfAttention
from .sigma_pi import SigmaPi


def _needs(ds: Dataset, model: str, what: str, there: bool, has) -> None:
    """ValueError when the data lacks what the model reads, naming the datasets that ``has`` it."""
    if not there:
        have = ", ".join(name for name, spec in DATASETS.items() if has(spec))
        raise ValueError(f"{model} reads {what}; {ds.name} has none (choose {have})")


def _needs_photos(ds: Dataset, model: str) -> int:
    """The photos' colour channels, for a dataset that has photos big enough for the CNN to read
    (else ValueError, naming the datasets that have them, or the shape of these)."""
    _needs(ds, model, "photos of the grains", ds.train.photo is not None, lambda spec: spec.photos)
    shape = tuple(ds.train.photo.shape)
    if len(shape) != 4 or min(shape[-2:]) < CNN.SMALLEST:
        raise ValueError(f"{model} reads photos shaped (n, colours, height, width), each side at least "
                         f"{CNN.SMALLEST} pixels; {ds.name}'s photos are {shape}")
    return shape[1]


def _needs_cards(ds: Dataset, model: str, channels: int = 2) -> None:
    """ValueError, naming the datasets whose cards it can read, when this one has none."""
    what = "recipe cards with darkness in context" if channels > 2 else "recipe cards in context"
    there = ds.train.context is not None and ds.train.context.shape[-1] >= channels
    _needs(ds, model, what, there, lambda spec: spec.context >= channels)


def line(ds: Dataset) -> Line:
    return Line()


def plane(ds: Dataset) -> Plane:
    return Plane()


def sigma_pi(ds: Dataset) -> SigmaPi:
    return SigmaPi()


def mlp(ds: Dataset, hidden: tuple[int, ...]) -> MLP:
    return MLP(tuple(hidden))


def classifier(ds: Dataset) -> Classifier:
    return Classifier(ds.num_classes)


def pipeline(ds: Dataset) -> Pipeline:
    return Pipeline(ds.num_classes)


def relu_switch(ds: Dataset) -> ReluSwitch:
    return ReluSwitch(ds.num_classes)


def attention(ds: Dataset, experts: int | None, init: str) -> Attention:
    return Attention(experts or experts_for(ds), init=init)  # make_model starts it (from the data, unless random)


def attention_blended(ds: Dataset, experts: int | None) -> Attention:
    return Attention(experts or experts_for(ds))  # PyTorch's own start


_COUNTED: list[tuple[Dataset, int]] = []  # the last datasets counted: every start of a run builds anew


def experts_for(ds: Dataset) -> int:
    """One expert per class; for points without classes, as many as the lines the data holds."""
    if ds.labelled:
        return ds.num_classes
    for seen, k in _COUNTED:
        if seen is ds:
            return k
    x, z, y = (v.double().numpy() for v in (ds.train.x, ds.train.z, ds.train.y))
    k = count_runs(x, z, y, most=max(1, min(EXPERTS.high, len(z) // 15)))  # 5 folds, 3 points a run
    _COUNTED[:] = [(ds, k), *_COUNTED[:3]]
    return k


def cross_attention(ds: Dataset, experts: int | None) -> CrossAttention:
    colours = _needs_photos(ds, "cross-attention")
    return CrossAttention(experts or ds.num_classes, colours=colours)  # make_model starts it from the data


def cnn_mlp(ds: Dataset) -> CnnMlp:
    colours = _needs_photos(ds, "cnn-mlp")
    return CnnMlp(features=2, hidden=(16,), colours=colours)  # 1507 parameters, cross-attention's 1449 + 4%


def linear_self_attention(ds: Dataset) -> LinearSelfAttention:
    _needs_cards(ds, "linear-self-attention")
    return LinearSelfAttention()


def self_attention(ds: Dataset) -> SelfAttention:
    _needs_cards(ds, "self-attention", channels=3)
    return SelfAttention()


def context_mlp(ds: Dataset) -> ContextMLP:
    _needs_cards(ds, "context-mlp")
    return ContextMLP(ds.train.context.shape[1], (4,))

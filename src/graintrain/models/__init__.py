"""The models, one idea per file, in one registry by name.

Every entry builds its model the same way, ``build(dataset, **options)``, so the CLI, the web app,
the article and the study all make models alike. Each entry also carries the recipe its claims are
checked with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

from ..datasets import DATASETS, Dataset
from ..options import Option, check_options
from ..train import Recipe, Stage
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
from .relu_switch import ReluSwitch, hand_set
from .self_attention import SelfAttention
from .sigma_pi import SigmaPi

# Least squares in a handful of parameters: L-BFGS lands on the optimum in a few iterations.
CONVEX = Recipe(stages=(Stage("mse", "lbfgs", steps=12),))


# Attention starts from the data (Attention.start: the best split of the points sorted by z into
# one run per expert, each soft border halfway across its gap). Then the experts compete on the
# mixture likelihood, under which each point belongs to one expert: Adam while the borders are
# soft, so a point whose reading of z landed on the wrong side can move to the expert that explains
# it; L-BFGS on the keys alone to sharpen the borders; L-BFGS on everything to settle.
ATTENTION = Recipe(stages=(
    Stage("mixture", "adam", steps=50, lr=0.05, scale=0.1),
    Stage("mixture", "lbfgs", steps=125, scale=0.1, only="key"),
    Stage("mixture", "lbfgs", steps=125, scale=0.1),
))

# Cross-attention starts with a random CNN, which knows nothing of the grains, under the gate's
# even split: first the experts alone find lines in (x, y) on the mixture likelihood, with a wide
# spread so that each can reach the points; then the CNN learns which expert explains each photo.
CROSS_ATTENTION = Recipe(stages=(
    Stage("mixture", "adam", steps=60, lr=0.1, scale=0.5, only="value"),
    Stage("mixture", "adam", steps=300, lr=0.02, scale=0.1),
))
# The CNN and its ReLU network learn together on the squared error; L-BFGS fits them far closer than
# Adam does in the same time.
CNN_MLP = Recipe(stages=(Stage("mse", "lbfgs", steps=300),))

# The post's plain recipe, the baseline: PyTorch's own start and Adam on the blended squared error.
BLENDED = Recipe(stages=(Stage("mse", "adam", steps=2000, lr=0.05),))


HIDDEN = Option("hidden", "ints", (10,), "hidden layer sizes, e.g. 10 or 3,2", low=1, high=256, most=4,
                label="hidden sizes")
EXPERTS = Option("experts", "int", None, "number of experts K (default: one per class)", low=1, high=16,
                 label="experts K")


def _attention(ds: Dataset, experts: int | None = None) -> Attention:
    return Attention(experts or ds.num_classes).start(ds.train.x, ds.train.z, ds.train.y)


def _needs_photos(ds: Dataset, model: str) -> None:
    """ValueError, naming the datasets that have photos, when this one has none."""
    if ds.train.photo is None:
        have = ", ".join(name for name, spec in DATASETS.items() if spec.photos)
        raise ValueError(f"{model} reads photos of the grains; {ds.name} has none (choose {have})")


def _cross_attention(ds: Dataset, experts: int | None = None) -> CrossAttention:
    _needs_photos(ds, "cross-attention")
    return CrossAttention(experts or ds.num_classes).start(ds.train.x, ds.train.photo, ds.train.y)


def _cnn_mlp(ds: Dataset) -> CnnMlp:
    _needs_photos(ds, "cnn-mlp")
    return CnnMlp(features=2, hidden=(16,))  # 1507 parameters, cross-attention's 1449 + 4%


# Models that read a recipe card train on many cards at once, full batch, on the squared error of
# the query's water; L-BFGS settles the few weights of the attention layers.
IN_CONTEXT = Recipe(stages=(Stage("mse", "lbfgs", steps=300),))


def _needs_cards(ds: Dataset, model: str, channels: int = 2) -> None:
    """ValueError, naming the datasets whose cards it can read, when this one has none."""
    if ds.train.context is None or ds.train.context.shape[-1] < channels:
        have = ", ".join(name for name, spec in DATASETS.items() if spec.context >= channels)
        what = "recipe cards with darkness" if channels > 2 else "recipe cards"
        raise ValueError(f"{model} reads {what} in context; {ds.name} has none (choose {have})")


def _card_reader(name: str, make: Callable[..., nn.Module], channels: int = 2) -> Callable[..., nn.Module]:
    def build(ds: Dataset, **options) -> nn.Module:
        _needs_cards(ds, name, channels)
        return make(ds, **options)
    return build


@dataclass(frozen=True)
class ModelSpec:
    """A registry entry: how to build the model for a dataset, and how it is trained by default."""

    build: Callable[..., nn.Module]  # build(dataset, **options) -> model
    about: str
    recipe: Recipe = CONVEX
    options: tuple[Option, ...] = ()  # what the builder takes besides the dataset, e.g. (HIDDEN,)
    classifies: bool = False  # True: the output is class scores, judged by accuracy, not MSE


MODELS: dict[str, ModelSpec] = {
    "line": ModelSpec(lambda ds: Line(), "y = w·x + b, 2 parameters"),
    "plane": ModelSpec(lambda ds: Plane(), "y = a·x + b·d + c, 3 parameters"),
    "sigma-pi": ModelSpec(lambda ds: SigmaPi(), "y = a·x + b·x·d + c, 3 parameters"),
    "mlp": ModelSpec(
        lambda ds, hidden=HIDDEN.default: MLP(tuple(hidden)),
        "ReLU network on (x, d); --hidden 2 has 9 parameters, --hidden 10 has 41",
        # L-BFGS from several starts: a start whose ReLU units die or share one kink is dropped.
        Recipe(stages=(Stage("mse", "lbfgs", steps=150),), restarts=5),
        options=(HIDDEN,)),
    "classifier": ModelSpec(
        lambda ds: Classifier(ds.num_classes), "softmax over grain types, from d",
        Recipe(stages=(Stage("cross-entropy", "lbfgs", steps=25),)),
        classifies=True),
    "pipeline": ModelSpec(
        lambda ds: Pipeline(ds.num_classes), "classifier, then a hard switch to one line per grain",
        Recipe(stages=(Stage("labelled", "lbfgs", steps=50),))),
    "relu-switch": ModelSpec(
        lambda ds: ReluSwitch(ds.num_classes),
        "ReLU units on x and the class probabilities, held off by inhibitory weights",
        Recipe(stages=(Stage("labelled", "lbfgs", steps=200),), restarts=3)),
    "attention": ModelSpec(
        _attention,
        "y = Σ_k softmax(K(d))_k · V(x)_k with linear K and V, 4K parameters, started from the data",
        ATTENTION,
        options=(EXPERTS,)),
    "attention-blended": ModelSpec(
        lambda ds, experts=None: Attention(experts or ds.num_classes),
        "the same attention as the post trains it: PyTorch's start, Adam on the blended error",
        BLENDED,
        options=(EXPERTS,)),
    "cross-attention": ModelSpec(
        _cross_attention,
        "y = Σ_k softmax(K(photo))_k · V(x)_k: a small CNN looks at the grain and gates linear experts",
        CROSS_ATTENTION,
        options=(EXPERTS,)),
    "cnn-mlp": ModelSpec(
        _cnn_mlp,
        "the same CNN's view of the grain joins x in a ReLU network, with no gate; cross-attention's size",
        CNN_MLP),
    "linear-self-attention": ModelSpec(
        _card_reader("linear-self-attention", lambda ds: LinearSelfAttention()),
        "one linear self-attention layer over the card's (x, y) tokens and (x_q, 0), 16 parameters",
        IN_CONTEXT),
    "self-attention": ModelSpec(
        _card_reader("self-attention", lambda ds: SelfAttention(), channels=3),
        "softmax attention keyed by (x, d) over a mixed card, values y/x, 5 parameters",
        IN_CONTEXT),
    "context-mlp": ModelSpec(
        _card_reader("context-mlp", lambda ds: ContextMLP(ds.train.context.shape[1], (4,))),
        "ReLU network with 4 hidden units on the flattened card and x_q: 8m + 13 parameters",
        IN_CONTEXT),
}


def make_model(name: str, dataset: Dataset, **options) -> nn.Module:
    """Build a registered model for a dataset; options (hidden, experts) go to the model's builder."""
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return MODELS[name].build(dataset, **check_options(MODELS, name, options, "model"))


def num_parameters(model: nn.Module) -> int:
    """The number of trainable numbers in a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


__all__ = ["IN_CONTEXT", "ContextMLP", "LinearSelfAttention", "SelfAttention", "ATTENTION", "BLENDED", "CROSS_ATTENTION", "CNN_MLP", "CNN", "CnnMlp", "CrossAttention", "MODELS", "EXPERTS", "HIDDEN", "ModelSpec", "make_model", "num_parameters", "Attention", "Classifier", "Line",
           "MLP", "Pipeline", "Plane", "ReluSwitch", "SigmaPi", "hand_set"]

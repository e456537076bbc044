"""The models, one idea per file, in one registry by name.

Every entry builds its model the same way, ``build(dataset, **options)``, so the CLI, the web app,
the article and the study all make models alike. Each entry also carries the recipe its claims are
checked with. The registry names each builder by where it lives (``builders.py``), which is imported
when a model is built, and so are the model classes: listing the models, or making the command
line's flags from their options, does not import PyTorch, which takes over a second.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..datasets import Dataset
from ..options import Option, check_options, load, with_defaults
from ..recipe import Recipe, Stage

if TYPE_CHECKING:
    from torch import nn

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
# Each step of the second stage shows the photos turned by another of the square's symmetries, so
# that 20 photos a grain stand for 160; the gate settles late in it, so it runs 500 steps, not 300
# (chosen on seeds 0-19; benchmarks/README.md has what each change did).
CROSS_ATTENTION = Recipe(stages=(
    Stage("mixture", "adam", steps=60, lr=0.1, scale=0.5, only="value"),
    Stage("mixture", "adam", steps=500, lr=0.02, scale=0.1, turns=True),
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
# Where attention's training begins. From the data, it is nearly done before its first step; from
# PyTorch's random weights a reader watches it find the lines (and, on some seeds, miss one).
INIT = Option("init", "choice", "data", "where training starts: data gives each expert one run of the "
              "points sorted by the selector; random keeps PyTorch's random weights",
              choices=("data", "random"), label="start")


# Models that read a recipe card train on many cards at once, full batch, on the squared error of
# the query's water; L-BFGS settles the few weights of the attention layers.
IN_CONTEXT = Recipe(stages=(Stage("mse", "lbfgs", steps=300),))


# What models other than a plain regressor can be trained to lower: experts that compete for points
# (mixture), or a classifier's cross-entropy on the labels plus the error given the true class.
GATED = ("mse", "mixture")
LABELLED = ("mse", "labelled")


@dataclass(frozen=True)
class ModelSpec:
    """A registry entry: how to build the model for a dataset, and how it is trained by default."""

    where: str  # the builder, as "module:function" in graintrain: "models.builders:line"
    about: str
    recipe: Recipe = CONVEX
    options: tuple[Option, ...] = ()  # what the builder takes besides the dataset, e.g. (HIDDEN,)
    starts: bool = False  # True: make_model starts the model from the training data (its start())
    objectives: tuple[str, ...] = ("mse",)  # what it can be trained to lower (recipe.OBJECTIVE_NAMES)

    @property
    def classifies(self) -> bool:
        """Whether its output is class scores, judged by accuracy, not MSE: it trains on cross-entropy alone."""
        return self.objectives == ("cross-entropy",)

    @property
    def build(self) -> Callable[..., nn.Module]:
        """The builder itself, build(dataset, **options) -> model, imported now (with PyTorch)."""
        return load(self.where)


MODELS: dict[str, ModelSpec] = {
    "line": ModelSpec("models.builders:line", "y = w·x + b, 2 parameters"),
    "plane": ModelSpec("models.builders:plane", "y = a·x + b·d + c, 3 parameters"),
    "sigma-pi": ModelSpec("models.builders:sigma_pi", "y = a·x + b·x·d + c, 3 parameters"),
    "mlp": ModelSpec(
        "models.builders:mlp",
        "ReLU network on (x, d); --hidden 2 has 9 parameters, --hidden 10 has 41",
        # L-BFGS from several starts: a start whose ReLU units die or share one kink is dropped.
        Recipe(stages=(Stage("mse", "lbfgs", steps=150),), restarts=5),
        options=(HIDDEN,)),
    "classifier": ModelSpec(
        "models.builders:classifier", "softmax over grain types, from d",
        Recipe(stages=(Stage("cross-entropy", "lbfgs", steps=25),)),
        objectives=("cross-entropy",)),
    "pipeline": ModelSpec(
        "models.builders:pipeline", "classifier, then a hard switch to one line per grain",
        Recipe(stages=(Stage("labelled", "lbfgs", steps=50),)), objectives=LABELLED),
    "relu-switch": ModelSpec(
        "models.builders:relu_switch",
        "ReLU units on x and the class probabilities, held off by inhibitory weights",
        Recipe(stages=(Stage("labelled", "lbfgs", steps=200),), restarts=3), objectives=LABELLED),
    "attention": ModelSpec(
        "models.builders:attention",
        "y = Σ_k softmax(K(d))_k · V(x)_k: K experts, each a line in x (its value V), and a key K "
        "that reads the darkness d and decides how much each expert counts",
        ATTENTION,
        options=(EXPERTS, INIT), starts=True, objectives=GATED),
    "attention-blended": ModelSpec(
        "models.builders:attention_blended",
        "the same attention as the post trains it: PyTorch's start, Adam on the blended error",
        BLENDED,
        options=(EXPERTS,), objectives=GATED),
    "cross-attention": ModelSpec(
        "models.builders:cross_attention",
        "y = Σ_k softmax(K(photo))_k · V(x)_k: a small CNN looks at the grain and gates linear experts",
        CROSS_ATTENTION,
        options=(EXPERTS,), starts=True, objectives=GATED),
    "cnn-mlp": ModelSpec(
        "models.builders:cnn_mlp",
        "the same CNN's view of the grain joins x in a ReLU network, with no gate; cross-attention's size",
        CNN_MLP),
    "linear-self-attention": ModelSpec(
        "models.builders:linear_self_attention",
        "one linear self-attention layer over the card's (x, y) tokens and (x_q, 0), 16 parameters",
        IN_CONTEXT),
    "self-attention": ModelSpec(
        "models.builders:self_attention",
        "softmax attention keyed by (x, d) over a mixed card, values y/x, 5 parameters",
        IN_CONTEXT, starts=True),
    "context-mlp": ModelSpec(
        "models.builders:context_mlp",
        "ReLU network with 4 hidden units on the flattened card and x_q: 8m + 13 parameters",
        IN_CONTEXT),
}


def make_model(name: str, dataset: Dataset, *, start: bool = True, **options) -> nn.Module:
    """Build a registered model for a dataset, its options (hidden, experts) checked, the rest at
    their declared defaults. A model that starts from the data is started from the training split,
    unless ``start`` is False: a saved state is about to replace everything the start would set."""
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    checked = check_options(MODELS, name, options, "model")
    return build_model(name, dataset, start=start, **with_defaults(MODELS[name].options, checked))


def build_model(name: str, dataset: Dataset, *, start: bool = True, **options) -> nn.Module:
    """A registered model from options already checked and filled (make_model, a run's plan)."""
    spec = MODELS[name]
    model = spec.build(dataset, **options)
    if start and spec.starts:
        train = dataset.train
        model.start(train.x, train.selector(model), train.y)
    return model


def num_parameters(model: nn.Module) -> int:
    """The number of trainable numbers in a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# The model classes need PyTorch: each is imported from its file when first asked for, as in
# ``from graintrain.models import Attention``.
_CLASSES = {"Attention": "attention", "Classifier": "classifier", "CNN": "cnn", "CnnMlp": "cnn_mlp",
            "ContextMLP": "context_mlp", "CrossAttention": "cross_attention", "Line": "line",
            "LinearSelfAttention": "linear_self_attention", "MLP": "mlp", "Pipeline": "pipeline",
            "Plane": "plane", "ReluSwitch": "relu_switch", "hand_set": "relu_switch",
            "SelfAttention": "self_attention", "SigmaPi": "sigma_pi"}


def __getattr__(name: str):
    if name in _CLASSES:
        return getattr(importlib.import_module(f".{_CLASSES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ATTENTION", "BLENDED", "CNN_MLP", "CONVEX", "CROSS_ATTENTION", "EXPERTS", "HIDDEN", "IN_CONTEXT", "INIT",
           "GATED", "LABELLED", "MODELS", "ModelSpec", "build_model", "make_model", "num_parameters", *_CLASSES]

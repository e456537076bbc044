"""graintrain: attention built up from a rice cooker, with every claim trained and measured."""

from .datasets import DATASETS, GRAINS, Dataset, Grain, Split, make_dataset
from .options import Option, OptionError
from .metrics import (Match, accuracy, gate_accuracy, least_squares_optimum, match_experts,
                      midpoint_mse, mse, slope_error)
from .models import (CNN, MLP, MODELS, Attention, Classifier, CnnMlp, CrossAttention, Line, ModelSpec,
                     Pipeline, Plane, ReluSwitch, SigmaPi, hand_set, make_model, num_parameters)
from .runs import Run
from .train import OBJECTIVES, Fit, Recipe, Stage, TrainingDiverged, fit, seeded_build, snapshot_model

__version__ = "0.4.0"  # part of every cache key: bump it when any trained number may change

__all__ = [
    "DATASETS", "GRAINS", "Dataset", "Grain", "Option", "OptionError", "Split", "make_dataset",
    "Match", "accuracy", "gate_accuracy", "least_squares_optimum", "match_experts", "midpoint_mse", "mse", "slope_error",
    "MODELS", "ModelSpec", "hand_set", "make_model", "num_parameters",
    "Attention", "Classifier", "CNN", "CnnMlp", "CrossAttention", "Line", "MLP", "Pipeline", "Plane",
    "ReluSwitch", "SigmaPi",
    "Run", "OBJECTIVES", "Fit", "Recipe", "Stage", "TrainingDiverged", "fit", "seeded_build", "snapshot_model",
]

"""graintrain: attention built up from a rice cooker, with every claim trained and measured."""

import importlib

__version__ = "0.8.0"  # part of every cache key: bump it when any trained number may change

# What ``from graintrain import ...`` offers, by the module that holds it. Each module is imported
# when one of its names is first asked for, so that a command that needs no PyTorch (graintrain
# models) does not import it by importing the package.
_FROM = {
    "datasets": ("DATASETS", "GRAINS", "Dataset", "DatasetSpec", "Grain", "Split", "generate", "make_dataset"),
    "options": ("Option", "OptionError"),
    "metrics": ("Match", "accuracy", "expert_errors", "gate_accuracy", "least_squares_optimum", "look_alikes",
                "match_experts", "midpoint_mse", "mse", "slope_error"),
    "models": ("MODELS", "ModelSpec", "build_model", "hand_set", "make_model", "num_parameters", "Attention",
               "Classifier", "CNN", "CnnMlp", "CrossAttention", "Line", "MLP", "Pipeline", "Plane",
               "ReluSwitch", "SigmaPi"),
    "runs": ("Run",),
    "plan": ("DataSpec", "Plan"),
    "recipe": ("Recipe", "Stage", "TrainingDiverged"),
    "train": ("OBJECTIVES", "Fit", "fit", "seeded_build", "snapshot_model"),
}
_MODULE = {name: module for module, names in _FROM.items() for name in names}


def __getattr__(name: str):
    if name in _MODULE:
        return getattr(importlib.import_module(f".{_MODULE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_MODULE)

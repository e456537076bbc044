"""Numbers that judge a trained model: errors, accuracy, the least-squares optimum, matched experts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call, jacrev

from .datasets import Dataset, Split
from .models import num_parameters
from .models.attention import Attention
from .models.classifier import Classifier


@torch.no_grad()
def mse(model: nn.Module, data: Split) -> float:
    """Mean squared error, mean (ŷ − y)², or NaN for an empty split."""
    if len(data) == 0:
        return float("nan")
    return (model(data.x, data.selector(model)) - data.y).pow(2).mean().item()


@torch.no_grad()
def accuracy(model: nn.Module, data: Split) -> float:
    """The fraction of points whose highest class score is the true class."""
    return (model(data.x, data.selector(model)).argmax(-1) == data.label).float().mean().item()


def least_squares_optimum(model: nn.Module, data: Split) -> tuple[float, np.ndarray]:
    """The lowest MSE a model linear in its parameters can reach, and those parameters: numpy lstsq.

    For such a model ŷ = J·θ, with J the Jacobian of the outputs by the parameters, so the optimum is
    θ* = argmin ‖J·θ − y‖². Raises ValueError when the model is not linear in its parameters.
    """
    params = {k: v.detach() for k, v in model.named_parameters()}

    def outputs(p: dict[str, Tensor]) -> Tensor:
        return functional_call(model, p, (data.x, data.selector(model)))  # (n,)

    jac = jacrev(outputs)(params)  # name -> (n, *shape)
    design = torch.cat([j.reshape(len(data), -1) for j in jac.values()], dim=1).double()  # (n, P)
    theta = torch.cat([p.reshape(-1) for p in params.values()]).double()  # (P,)
    if not torch.allclose(design @ theta, outputs(params).double(), atol=1e-4):
        raise ValueError(f"{type(model).__name__} is not linear in its parameters")
    best, *_ = np.linalg.lstsq(design.numpy(), data.y.double().numpy(), rcond=None)
    return float(np.mean((design.numpy() @ best - data.y.double().numpy()) ** 2)), best


@dataclass
class Match:
    """Experts paired one-to-one with the true lines so that the worst error is smallest."""

    classes: list[int]  # the true classes that got an expert (all of them unless K < C), in order
    expert: list[int]  # the expert matched to each of those classes
    slopes: list[float]  # the matched experts' slopes, in class order
    intercepts: list[float]  # and their intercepts
    error: float  # the largest |slope error| or |intercept error| over the matched pairs


def match_experts(model: nn.Module, dataset: Dataset) -> Match:
    """Pair attention's linear experts with the true lines (scipy's linear_sum_assignment).

    The cost of pairing expert j with class k is max(|s_j − s_k|, |c_j − c_k|); the assignment
    minimises the total cost over all pairs.
    """
    from scipy.optimize import linear_sum_assignment  # here: half a second to import, and only experts need it
    slopes = model.value.weight.detach()[:, 0]  # (K,)
    intercepts = model.value.bias.detach()  # (K,)
    cost = torch.maximum((slopes[:, None] - dataset.slopes[None]).abs(),
                         (intercepts[:, None] - dataset.intercepts[None]).abs())  # (K, C)
    rows, cols = linear_sum_assignment(cost.numpy())
    order = np.argsort(cols)
    expert = [int(rows[i]) for i in order]
    return Match([int(cols[i]) for i in order], expert, [slopes[j].item() for j in expert],
                 [intercepts[j].item() for j in expert], float(cost[rows, cols].max()))


def midpoint_mse(data: Dataset, split: Split) -> float:
    """The MSE on ``split`` of the true lines, each owning z up to halfway across the gap between the
    training points of neighbouring lines: what a model that learned everything the training points
    can tell reaches. Held-out points inside a gap can still land on the wrong side of it."""
    order = data.train.z.argsort()
    z, label = data.train.z[order], data.train.label[order]  # (n,), (n,)
    change = (label[1:] != label[:-1]).nonzero().flatten()  # (B,)
    borders = (z[change] + z[change + 1]) / 2  # (B,)
    owner = torch.cat([label[:1], label[change + 1]])[torch.bucketize(split.z, borders)]  # (m,)
    return (data.slopes[owner] * split.x + data.intercepts[owner] - split.y).pow(2).mean().item()


@torch.no_grad()
def slope_error(model: nn.Module, data: Dataset) -> float:
    """How faithfully a model follows each line: within each class's own region of z (read from the
    data, away from its borders), or on the class's first 9 training photos for a model that reads
    photos, the model's slope in x (a central difference across the training range of x) against
    the true slope, as a mean absolute error over the classes."""
    errors = []
    low_x, high_x = data.train.x.min().item(), data.train.x.max().item()
    x = torch.linspace(low_x, high_x, 11)  # (11,) the measured range, read from the data
    step = 0.025 * (high_x - low_x) or 0.05
    photos = model.reads == "photo"
    for k, ((low, high), slope) in enumerate(zip(data.regions.tolist(), data.slopes.tolist())):
        if photos:
            seen = data.train.selector(model)[data.train.label == k][:9]  # (m, 3, H, W)
        else:
            seen = low + (high - low) * torch.linspace(0.1, 0.9, 9)  # (9,) inside the region, off its borders
        if len(seen) == 0:
            continue  # a class seen only in testing has no photo to read
        gx = x.repeat(len(seen))  # (11m,) every x for each selector
        gz = seen.repeat_interleave(len(x), 0)  # (11m, ...) each selector 11 times
        rise = model(gx + step, gz) - model(gx - step, gz)  # (11m,)
        errors.append((rise / (2 * step) - slope).abs().mean().item())
    return sum(errors) / len(errors)


def _linear_experts(model: nn.Module) -> bool:
    """Whether the model is attention whose experts are lines in x (CrossAttention is attention too)."""
    return isinstance(model, Attention) and isinstance(model.value, nn.Linear)


def _gated(model: nn.Module) -> None:
    """ValueError, naming the model, unless it has a gate over linear experts to judge."""
    if not _linear_experts(model):
        raise ValueError(f"{type(model).__name__} has no gate over linear experts to judge; "
                         "gate_accuracy and expert_errors read attention models (attention, cross-attention)")


@torch.no_grad()
def gate_accuracy(model: nn.Module, dataset: Dataset, data: Split) -> float:
    """The fraction of points whose largest attention weight falls on an expert of their own class:
    the one matched to it (match_experts), or a spare expert, left out of the match when there are
    more experts than classes, whose line is closest to the class's. A class left without an
    expert, when there are fewer experts than classes, counts as a miss."""
    _gated(model)
    match = match_experts(model, dataset)
    slopes, intercepts = model.value.weight.detach()[:, 0], model.value.bias.detach()  # (K,)
    cost = torch.maximum((slopes[:, None] - dataset.slopes[None]).abs(),
                         (intercepts[:, None] - dataset.intercepts[None]).abs())  # (K, C)
    grain = cost.argmin(1)  # (K,) a spare expert serves the class whose line is closest
    grain[match.expert] = torch.tensor(match.classes)
    model(data.x, data.selector(model))
    # In double: 57 of 60 is then 0.95 exactly, where single precision makes it 0.9499999.
    return (grain[model.weights.argmax(-1)] == data.label).double().mean().item()


@torch.no_grad()
def expert_errors(model: nn.Module, dataset: Dataset, data: Split) -> dict[int, float]:
    """Each expert judged on the points its gate gives it (its largest weight): the mean
    |its slope − the true slope of each point's own class|, by expert; an expert that gets no
    point is left out. A gate that hands a grain to the wrong expert shows here, where a slope
    matched to the true lines alone would not."""
    _gated(model)
    model(data.x, data.selector(model))
    chosen = model.weights.argmax(-1)  # (n,)
    miss = (model.value.weight.detach()[chosen, 0] - dataset.slopes[data.label]).abs()  # (n,)
    return {e: miss[chosen == e].mean().item() for e in chosen.unique().tolist()}


def look_alikes(dataset: Dataset) -> list[int]:
    """The classes the darkness meter cannot tell from another: those whose training readings
    overlap another class's, read from the data."""
    z, label = dataset.train.z, dataset.train.label
    low = torch.stack([z[label == k].min() for k in range(dataset.num_classes)])  # (C,)
    high = torch.stack([z[label == k].max() for k in range(dataset.num_classes)])  # (C,)
    overlap = (low[:, None] <= high[None]) & (low[None] <= high[:, None])  # (C, C)
    return (overlap.sum(1) > 1).nonzero().flatten().tolist()  # each overlaps itself and another


def evaluate(model: nn.Module, data: Dataset) -> dict:
    """Every number that judges a trained model on its dataset, for the CLI, the lab and the study.

    Classifiers get accuracies; models of the water get the MSE on the training points, on held-out
    points inside the training range and beyond it, and, where the true lines are known, the slope
    error; models with linear experts also get their experts matched to the true lines.
    """
    out: dict = {"num_parameters": num_parameters(model)}
    if isinstance(model, Classifier):
        return out | {"train_accuracy": accuracy(model, data.train), "test_accuracy": accuracy(model, data.test)}
    far = data.far
    out |= {"train_mse": mse(model, data.train), "test_mse": mse(model, data.near),
            "extrapolation_mse": mse(model, far) if len(far) else None,
            "noise_floor": data.noise**2 if data.noise == data.noise else None}  # NaN: uploads
    known = bool(torch.isfinite(data.slopes).all())
    if known and data.regions is not None:
        out["slope_error"] = slope_error(model, data)
    if known and _linear_experts(model):
        match = match_experts(model, data)
        out["expert_error"] = match.error
        out["experts"] = {"classes": [data.classes[c] for c in match.classes], "slopes": match.slopes,
                          "intercepts": match.intercepts,
                          "true_slopes": [data.slopes[c].item() for c in match.classes],
                          "true_intercepts": [data.intercepts[c].item() for c in match.classes]}
    return out

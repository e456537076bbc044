"""The one trainer: full-batch gradient descent in stages, seeded, with restarts and snapshots."""

from __future__ import annotations

import copy
import ctypes
import dataclasses
import functools
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import optimizers
from .curve import Accepted
from .datasets import Split
from .recipe import OBJECTIVE_NAMES, Recipe, Stage, TrainingDiverged


SEEDING = threading.Lock()  # held while seeding and building, so concurrent runs repeat exactly
M_TOP_PAD = -2  # glibc's mallopt setting: how much free memory the heap keeps when it shrinks


@functools.cache
def keep_heap_pad(megabytes: int = 64) -> None:
    """Have glibc keep this much free memory at the top of the heap, in this process.

    By default, glibc hands memory back to the system as soon as a large tensor is freed. The
    next step's tensor of the same size then faults every page back in, in the kernel. For a CNN
    on 360 photos, or a stack of 64 attention models, that was about a quarter of the training
    time here (benchmarks/heap_pad.py). Anywhere but glibc this does nothing.
    """
    try:
        ctypes.CDLL(None).mallopt(M_TOP_PAD, megabytes << 20)
    except (OSError, AttributeError):
        pass


def seeded_build(build: Callable[[], nn.Module], seed: int, start: int = 0) -> nn.Module:
    """``build()`` with the global RNG seeded as seed·1000 + start: the one rule by which every run
    draws its starting weights, so the same seed gives the same model anywhere, threads included."""
    with SEEDING:  # the initial weights come from the global RNG: one thread at a time
        torch.manual_seed(seed * 1000 + start)
        return build()


# Objectives: each maps (model, data, stage) to a scalar loss.

def mse(model: nn.Module, data: Split, stage: Stage) -> Tensor:
    """Blended squared error: mean (ŷ − y)², where attention's experts may cooperate."""
    return (model(data.x, data.selector(model)) - data.y).pow(2).mean()


def mixture(model: nn.Module, data: Split, stage: Stage) -> Tensor:
    """Mixture likelihood (Jacobs et al. 1991): −mean log Σ_k g_k·exp(−(y − v_k)²/2s²).

    Each point is explained by one expert at a time, so the experts compete for points instead of
    adding up to them. Needs a model with ``experts(x, z) -> (log weights, values)``.
    """
    log_g, v = model.experts(data.x, data.selector(model))  # (n, K), (n, K)
    fit = -(data.y.unsqueeze(-1) - v).pow(2) / (2 * stage.scale**2)  # (n, K)
    return -(log_g + fit).logsumexp(-1).mean()


def cross_entropy(model: nn.Module, data: Split, stage: Stage) -> Tensor:
    """−mean log p_label: the classifier's scores against the true class."""
    return F.cross_entropy(model(data.x, data.selector(model)), data.label)


def labelled(model: nn.Module, data: Split, stage: Stage) -> Tensor:
    """For models built on a classifier: its cross-entropy on the labels, plus the squared error of
    the rest given the true class, so that each part learns from its own target."""
    classify = F.cross_entropy(model.classifier(data.x, data.selector(model)), data.label)
    return classify + (model.with_labels(data.x, data.label) - data.y).pow(2).mean()


# Each name recipe.py declares is the function of that name here ("cross-entropy": cross_entropy).
OBJECTIVES: dict[str, Callable[[nn.Module, Split, Stage], Tensor]] = {
    name: globals()[name.replace("-", "_")] for name in OBJECTIVE_NAMES}


@dataclass
class Fit:
    """What training left: the best model, its loss curve, snapshots, and every start's final loss."""

    model: nn.Module
    losses: list[float]  # the objective at every step of the kept start, stages one after another
    snapshots: list[tuple[int, dict[str, Tensor]]] = field(default_factory=list)  # (step, params)
    final_losses: list[float] = field(default_factory=list)  # one per start, in order
    best: int = 0  # which start was kept
    seconds: float = 0.0


# How each optimizer named in recipe.OPTIMIZERS is made for a stage (a test holds the two to each other).
MAKE_OPTIMIZER = {
    "adam": lambda params, stage: optimizers.Adam(params, lr=stage.step_size, fused=True),  # one kernel: 1.2x here
    "sgd": lambda params, stage: optimizers.SGD(params, lr=stage.step_size),
    "lbfgs": lambda params, stage: optimizers.LBFGS(
        params, lr=stage.step_size, max_iter=stage.steps, max_eval=stage.steps, history_size=50,
        line_search_fn="strong_wolfe", tolerance_grad=1e-12, tolerance_change=1e-14),
}


def _optimizer(stage: Stage, params: list[Tensor]) -> torch.optim.Optimizer:
    return MAKE_OPTIMIZER[stage.optimizer](params, stage)  # a Stage holds only the names recipe.py declares


def _snapshot_steps(recipe: Recipe) -> set[int]:
    """The steps whose parameters a replay keeps: step 0, the last step, and between them steps
    evenly spaced in log(step), since training moves the parameters most at its start."""
    total = recipe.per_start
    count = min(recipe.snapshots, total + 1)
    if count <= 2:
        return {0, total} if count == 2 else ({0} if count == 1 else set())
    steps = [0]
    for i in range(count - 1):  # from step 1 to the last, one distinct step each
        steps.append(max(round(total ** (i / (count - 2))), steps[-1] + 1))
    steps[-1] = total
    for j in range(len(steps) - 2, 0, -1):  # the bumps at the start may have crowded the end
        steps[j] = min(steps[j], steps[j + 1] - 1)
    return set(steps)


def turned(data: Split, k: int) -> Split:
    """The split with every photo turned by the square's k-th symmetry (k mod 8): k quarter turns,
    mirrored for k mod 8 of 4 and more. A grain that may lie any way up looks as likely turned, so
    each step shows the network photos it has not seen that way, without costing a larger batch."""
    photo = data.photo.rot90(k % 4, (-2, -1))  # (n, C, W, H) or (n, C, H, W)
    return dataclasses.replace(data, photo=photo.flip(-1) if k % 8 >= 4 else photo)


def _train_once(model: nn.Module, data: Split, recipe: Recipe, start: int,
                on_step: Callable[[int, int, float], None] | None) -> Fit:
    """Run every stage on one model; raises TrainingDiverged at the first non-finite loss."""
    total = recipe.per_start
    keep = _snapshot_steps(recipe)
    fit = Fit(model, [])
    step = 0
    curve = Accepted(recipe.stages)  # what on_step reports: the steps taken, not L-BFGS's trials

    def snap() -> None:
        if step in keep:
            fit.snapshots.append((step, {k: v.detach().clone() for k, v in model.state_dict().items()}))

    def record(loss: float, stage: Stage, number: int) -> None:
        nonlocal step
        step += 1
        if not math.isfinite(loss):
            lr = stage.step_size
            raise TrainingDiverged(
                f"the loss became {loss} at step {step} (stage {number}: {stage.optimizer}, "
                f"learning rate {lr:g}, start {start}); try a lower learning rate, e.g. {lr / 10:g}")
        fit.losses.append(loss)
        snap()
        shown = curve(loss)
        if on_step is not None:
            on_step(step, total, shown)

    snap()
    for number, stage in enumerate(recipe.stages, 1):
        objective = OBJECTIVES[stage.objective]
        free = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
        named = [(name, p) for name, p in free if name.startswith(stage.only)]
        if not named:  # a stage for another model's parameters would train nothing, unsaid
            names = sorted({n.split(".")[0] for n, _ in free})
            raise ValueError(f"no parameter of {type(model).__name__} starts with {stage.only!r}; "
                             f"its parameters start with: {', '.join(names)}")
        if stage.turns and data.photo is None:
            raise ValueError(f"turns turns photos; {type(model).__name__} is trained on points without any")
        trained = [p for _, p in named]
        held = [p for name, p in free if not name.startswith(stage.only)]
        opt = _optimizer(stage, trained)
        for p in held:  # no gradient for what this stage leaves alone: backward skips it
            p.requires_grad_(False)
        end = step + stage.steps
        # A model may work its loss and gradients out by hand (attention, the ReLU network and
        # switch do for their usual objectives): for these tiny models, in half autograd's time.
        by_hand = getattr(model, "gradient_by_hand", lambda *_: None)(data, stage)
        seen = data  # what this step trains on: the photos turned, for a stage with turns

        def closure() -> Tensor:
            if by_hand is not None:
                loss, grads = by_hand()
                for name, p in named:
                    # Contiguous: PyTorch's fused Adam reads a strided gradient as if it were not
                    # (the wrong numbers, and no error); a copy only when one is needed.
                    p.grad = grads[name].contiguous()
            else:
                for p in trained:  # what zero_grad does, without the profiler hook it runs each call
                    p.grad = None
                loss = objective(model, seen, stage)
                loss.backward()
            if stage.optimizer == "lbfgs" and step < end:
                record(loss.item(), stage, number)  # every evaluation L-BFGS makes is a step
            return loss

        try:
            if stage.optimizer == "lbfgs":
                # One call runs the whole stage, so L-BFGS keeps its line-search state and can stop
                # once converged; called once per iteration it does worse and costs twice as much.
                opt.step(closure)
                with torch.no_grad():
                    settled = objective(model, data, stage).item()
                if step == end and stage.steps:  # out of evaluations: the last one may have been a
                    fit.losses[-1] = settled     # trial the line search passed over, so the stage's
                    if fit.snapshots and fit.snapshots[-1][0] == step:  # last step is where it settled
                        fit.snapshots.pop()
                        snap()
                while step < end:  # converged early: the rest of the stage stands still
                    record(settled, stage, number)
            else:
                for _ in range(stage.steps):
                    seen = turned(data, step) if stage.turns else data
                    record(opt.step(closure).item(), stage, number)  # the loss before this update
        finally:  # stopped or not, the model leaves with every parameter trainable again
            for p in held:
                p.requires_grad_(True)
    with torch.no_grad():
        last = OBJECTIVES[recipe.stages[-1].objective](model, data, recipe.stages[-1]).item()
    if not math.isfinite(last):
        raise TrainingDiverged(f"the loss became {last} after the last step ({step}); "
                               "try a lower learning rate")
    fit.final_losses = [last]
    return fit


def fit(build: Callable[[], nn.Module], data: Split, recipe: Recipe = Recipe(),
        on_step: Callable[[int, int, float], None] | None = None) -> Fit:
    """Train ``build()`` on ``data`` by the recipe, from each of ``recipe.restarts`` seeded starts.

    ``on_step(step, total, loss)`` is called after every step, counting over all starts, with the
    loss as its curve is drawn (``Accepted``); ``Fit.losses`` keeps every evaluation's own.
    Returns the start with the lowest final training loss (of the last stage's objective).
    """
    keep_heap_pad()
    began = time.perf_counter()
    per_start = recipe.per_start
    best: Fit | None = None
    finals = []
    for start in range(recipe.restarts):
        report = None if on_step is None else (
            lambda s, _t, loss, base=start * per_start: on_step(base + s, per_start * recipe.restarts, loss))
        model = seeded_build(build, recipe.seed, start)
        run = _train_once(model, data, recipe, start, report)
        finals.append(run.final_losses[0])
        if best is None or finals[-1] < best.final_losses[0]:
            best = run
            best.best = start
    best.final_losses = finals
    best.seconds = time.perf_counter() - began
    return best


def snapshot_model(fit_: Fit, index: int) -> nn.Module:
    """A copy of the kept model with the parameters of snapshot ``index``, for replaying training."""
    model = copy.deepcopy(fit_.model)
    model.load_state_dict(fit_.snapshots[index][1])
    return model

"""What the lab shows, kept out of the web layer so the static export can write it too: the
registry a page builds its form from, the training points, the fitted function at a step, and a
cached run's training told as the same events a live job streams."""

from __future__ import annotations

import io

import torch

from .cards import own_grain
from .curve import accepted
from .datasets import DATASETS, Dataset
from .events import Done, Progress, Started, published
from .metrics import evaluate
from .models import MODELS, num_parameters
from .models.attention import Attention
from .models.classifier import Classifier
from .palette import palette
from .runs import schema
from .upload import UPLOAD

GRID = 21  # points per axis of the streamed fitted function
PHOTOS = 4  # photos of each grain the lab shows, for photo data
CARDS = 3  # held-out recipe cards the lab shows, each with the model's answer to it
# The run the lab opens with, as the form fills it: attention from PyTorch's random weights, at the
# pace a person can follow, so that the first press shows it learn (from the data it would start all
# but finished). The reader can set start to data, train again, and compare.
OPENING = {"model": "attention", "dataset": "three-grains", "init": "random", "pace": "watch"}


def registry(presets: list[dict] = ()) -> dict:
    """The models and datasets the lab offers, every setting of a run, straight from the registries,
    the settings the lab's form opens with (``defaults``), the name a reader's own CSV goes by
    (``upload``) and what the page reads of a job's events (``events``)."""
    return {
        "models": {name: {"about": spec.about, "options": [o.name for o in spec.options],
                          "classifies": spec.classifies,
                          "stages": [s.__dict__ for s in spec.recipe.stages],
                          "restarts": spec.recipe.restarts}
                   for name, spec in MODELS.items()},
        "datasets": {name: {"about": spec.about, "options": [o.schema() for o in spec.options]}
                     for name, spec in DATASETS.items()},
        "options": schema(),
        "presets": list(presets),
        "palette": palette(),
        "defaults": OPENING,
        "upload": UPLOAD,
        "events": published(),
    }


def _round(t: torch.Tensor) -> list:
    return [[round(float(v), 4) for v in row] for row in t] if t.dim() == 2 else [round(float(v), 4) for v in t]


def first_of_each(split, classes: int, count: int) -> torch.Tensor:
    """The first ``count`` points of each of ``classes`` classes in turn: (≤ classes·count,) indices."""
    return torch.cat([(split.label == k).nonzero().flatten()[:count] for k in range(classes)])


def _pixels(photos: torch.Tensor) -> list:
    """Photos (m, 3, H, W) with colours 0..1 as (m, H, W, 3) whole numbers 0..255, for a canvas."""
    return (photos.permute(0, 2, 3, 1) * 255).round().int().tolist()


def points(data: Dataset) -> dict:
    """The training points, for the page to plot once; for photo data, a strip of training photos
    and the row of held-out photos whose gates a photo model's snapshots report."""
    out = {"x": _round(data.train.x), "z": _round(data.train.z), "y": _round(data.train.y),
           "label": data.train.label.tolist()}
    if data.train.photo is not None:
        out["photos"] = {name: {"pixels": _pixels(split.photo[i]), "label": split.label[i].tolist()}
                         for name, split in (("train", data.train), ("held_out", data.near))
                         for i in [first_of_each(split, data.num_classes, PHOTOS)]}
    if data.train.context is not None:
        out["cards"] = _cards(data)
    return out


def _cards(data: Dataset) -> list[dict]:
    """The first held-out cards: each one's examples, the true water per cup of the grain asked
    about, and for a mixed card which examples are of that grain (the rest are drawn faded)."""
    near = data.near
    cards = []
    for i in range(min(CARDS, len(near))):
        one = near.subset(torch.arange(len(near)) == i)
        own = own_grain(one, data.num_classes)[0] if one.context.shape[-1] > 2 else torch.ones(one.context.shape[1], dtype=torch.bool)
        cards.append({"x": _round(one.context[0, :, 0]), "y": _round(one.context[0, :, 1]),
                      "asked": own.tolist(), "ratio": round((one.y / one.x).item(), 4)})
    return cards


def _reads(model: torch.nn.Module, data: Dataset, zs: torch.Tensor, label: int | None = None,
           xs: torch.Tensor | None = None) -> torch.Tensor:
    """What the model reads at each darkness in zs: zs itself; for a model that reads photos, the
    photo of the training point (of class ``label``, if it has any) nearest in darkness; for one that
    reads recipe cards, the first such training card's examples, asked about each (x, z) in turn."""
    reads = model.reads
    if reads not in ("photo", "context"):
        return zs
    pool = (data.train.label == label).nonzero().flatten() if label is not None else torch.arange(0)
    pool = pool if len(pool) else torch.arange(len(data.train))
    if reads == "context":
        examples = data.train.context[pool[0]]  # (m, C) one card's measured pairs
        asked = torch.zeros_like(zs) if xs is None else xs  # (G,)
        query = torch.stack([asked, torch.zeros_like(zs), zs][:examples.shape[-1]], -1)  # (G, C)
        return torch.cat([examples.expand(len(zs), -1, -1), query.unsqueeze(1)], 1)  # (G, m + 1, C)
    nearest = pool[(data.train.z[pool][None] - zs[:, None]).abs().argmin(-1)]  # (G,)
    return data.train.photo[nearest]  # (G, 3, H, W)


@torch.no_grad()
def snapshot(model: torch.nn.Module, data: Dataset) -> dict:
    """The model's current fitted function: a surface over (x, z), and for each class a curve at its
    typical z; for attention, its weights over z; for a classifier, its probabilities over z. A
    model that reads photos is shown the photo of a training point nearest each z."""
    x_all, z_all = data.train.x, data.train.z
    xs = torch.linspace(float(x_all.min()), float(x_all.max()), GRID)  # (G,)
    zs = torch.linspace(float(z_all.min()), float(z_all.max()), GRID)  # (G,) the selector's own range
    out: dict = {"grid": {"x": _round(xs), "z": _round(zs)}}
    if isinstance(model, Classifier):
        out["probabilities"] = _round(model.probabilities(zs).T)  # (C, G)
        return out
    if model.reads == "context":  # each held-out card, asked about every amount
        near = data.near
        out["cards"] = []
        for i in range(min(CARDS, len(near))):
            card = near.card()[i:i + 1].expand(GRID, -1, -1).clone()  # (G, m + 1, C)
            card[:, -1, 0] = xs
            out["cards"].append(_round(model(xs, card)))
        return out
    gx, gz = torch.meshgrid(xs, zs, indexing="xy")  # (G, G): rows follow z
    out["surface"] = _round(model(gx.flatten(), _reads(model, data, gz.flatten(), xs=gx.flatten())).reshape(GRID, GRID))
    curves = []
    for k in range(data.num_classes):
        members = data.train.z[data.train.label == k]
        level = float(members.median()) if len(members) else float(z_all.median())
        curves.append({"z": round(level, 4), "y": _round(model(xs, _reads(model, data, torch.full_like(xs, level), k, xs)))})
    out["curves"] = curves
    if isinstance(model, Attention) and model.reads == "photo":
        row = first_of_each(data.near, data.num_classes, PHOTOS)
        model(data.near.x[row], data.near.photo[row])
        out["gates"] = _round(model.weights.T)  # (K, m) attention weights on the held-out row
    elif isinstance(model, Attention):
        model(torch.zeros_like(zs), _reads(model, data, zs))
        out["weights"] = _round(model.weights.T)  # (K, G) attention weights over z
    return out


def started(run, data: Dataset, model: torch.nn.Module) -> dict:
    """The event that opens a run: its recipe's stages and size, the data, the model's size."""
    recipe = run.plan.recipe
    per_start = recipe.per_start
    return Started(total=recipe.total_steps, starts=recipe.restarts, per_start=per_start,
                   stages=[{"objective": st.objective, "optimizer": st.optimizer, "steps": st.steps,
                            "only": st.only} for st in recipe.stages],
                   model=run.model, dataset=data.name, classes=list(data.classes),
                   points=points(data), num_parameters=num_parameters(model),
                   # Points without classes: how many experts attention found the data needs (experts_for).
                   experts_found=model.value.out_features if found_experts(run, data) else None).dump()


def found_experts(run, data: Dataset) -> bool:
    """Whether the run's experts were counted from its data rather than given or one per class."""
    options = dict(run.plan.options)
    return not data.labelled and "experts" in options and options["experts"] is None


def done(model: torch.nn.Module, data: Dataset, step: int, loss: float | None, seconds: float,
         kept: int, **more) -> dict:
    """The event that closes a finished run: its scores and its final fitted function (``more``:
    the last losses, for a replay)."""
    scores = evaluate(model, data)
    scores.pop("experts", None)  # the page shows the weights; the export carries the experts
    return Done(step=step, total=step, loss=loss, seconds=seconds, kept_start=kept, **scores,
                **snapshot(model, data), **more).dump()


def replay(trained) -> list[dict]:
    """A cached run's training as a live job would have streamed it, one progress event per
    snapshot: its kept start only, so a run of several starts replays as one."""
    from .train import snapshot_model

    run, data, fit = trained.run, trained.data, trained.fit
    one = run.model_copy(update={"restarts": 1})
    first = started(one, data, fit.model)
    curve = accepted(fit.losses, one.plan.recipe)  # as a live job streams it: L-BFGS's trials left out
    events, shown = [first], 0
    for i, (step, _) in enumerate(fit.snapshots):
        if step == 0:
            continue
        events.append(Progress(step=step, total=first["total"], loss=curve[step - 1], losses=curve[shown:step],
                               seconds=fit.seconds * step / len(fit.losses),
                               **snapshot(snapshot_model(fit, i), data)).dump())
        shown = step
    events.append(done(fit.model, data, len(fit.losses), fit.losses[-1] if fit.losses else None,
                       fit.seconds, fit.best, losses=curve[shown:]))
    return events


def state_dict_bytes(state: dict[str, torch.Tensor]) -> bytes:
    """A model's state_dict as a PyTorch file."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def state_dict_json(state: dict[str, torch.Tensor]) -> dict:
    """A model's state_dict as JSON: name -> nested lists."""
    return {name: t.tolist() for name, t in state.items()}

"""What a lab job streams and exports: the training points, the fitted function, the parameters."""

from __future__ import annotations

import io

import torch

from ..datasets import Dataset

GRID = 21  # points per axis of the streamed fitted function


def _round(t: torch.Tensor) -> list:
    return [[round(float(v), 4) for v in row] for row in t] if t.dim() == 2 else [round(float(v), 4) for v in t]


def points(data: Dataset) -> dict:
    """The training points, for the page to plot once."""
    return {"x": _round(data.train.x), "z": _round(data.train.z), "y": _round(data.train.y),
            "label": data.train.label.tolist()}


def _reads(model: torch.nn.Module, data: Dataset, zs: torch.Tensor, label: int | None = None) -> torch.Tensor:
    """What the model reads at each darkness in zs: zs itself, or for a model that reads photos, the
    photo of the training point (of class ``label``, if it has any) nearest in darkness."""
    if getattr(model, "reads", "z") != "photo":
        return zs
    pool = (data.train.label == label).nonzero().flatten() if label is not None else torch.arange(0)
    pool = pool if len(pool) else torch.arange(len(data.train))
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
    if hasattr(model, "probabilities"):
        out["probabilities"] = _round(model.probabilities(zs).T)  # (C, G)
        return out
    gx, gz = torch.meshgrid(xs, zs, indexing="xy")  # (G, G): rows follow z
    out["surface"] = _round(model(gx.flatten(), _reads(model, data, gz.flatten())).reshape(GRID, GRID))
    curves = []
    for k in range(data.num_classes):
        members = data.train.z[data.train.label == k]
        level = float(members.median()) if len(members) else float(z_all.median())
        curves.append({"z": round(level, 4), "y": _round(model(xs, _reads(model, data, torch.full_like(xs, level), k)))})
    out["curves"] = curves
    if hasattr(model, "experts"):
        model(torch.zeros_like(zs), _reads(model, data, zs))
        out["weights"] = _round(model.weights.T)  # (K, G) attention weights over z
    return out


def state_dict_bytes(state: dict[str, torch.Tensor]) -> bytes:
    """A model's state_dict as a PyTorch file."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def state_dict_json(state: dict[str, torch.Tensor]) -> dict:
    """A model's state_dict as JSON: name -> nested lists."""
    return {name: t.tolist() for name, t in state.items()}

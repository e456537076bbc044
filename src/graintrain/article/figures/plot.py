"""Drawing helpers shared by the figures: Plotly layout, colours, replays, the 3D scenes."""

from __future__ import annotations

import json
from typing import Callable

import plotly.graph_objects as go
import plotly.io as pio
import torch

from ...cache import Trained
from ...datasets import FAR_CUPS, GRAINS
from ...palette import EXPERT_COLOURS as LINE_COLOURS  # noqa: F401  one table, shared with the front end
from ...palette import GRAIN_COLOURS as COLOURS  # noqa: F401
from ...train import OBJECTIVES, snapshot_model

REPLAY = 21  # snapshots per replay

# Plot helpers ------------------------------------------------------------------------------------

def _json(fig: go.Figure) -> dict:
    return json.loads(pio.to_json(fig, validate=False))


def _layout(fig: go.Figure, **kw) -> go.Figure:
    fig.update_layout(margin=dict(l=50, r=20, t=30, b=45), legend=dict(orientation="h", y=-0.2),
                      hovermode="closest", uirevision="keep", **kw)
    return fig


def _values(t: torch.Tensor) -> list[float]:
    return [round(float(v), 5) for v in t.flatten()]


@torch.no_grad()
def _predict(model, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    return model(x, z)


def _fit_table(t: Trained, name: str) -> dict[str, list]:
    """The training points and the model's answer at each, as CSV columns."""
    x, z = t.data.train.x, t.data.train.z
    return {"cups": _values(x), "darkness": _values(z), "water": _values(t.data.train.y),
            name: _values(_predict(t.model, x, z))}


def replay(trained: list[Trained], draw: Callable[[list], dict],
           stats: Callable[[list], list[tuple[str, str]]] | None = None) -> list[dict]:
    """Frames from the snapshots of one or more runs with the same schedule: draw(models) per step,
    and stats(models), the numbers beside the plot as they stood at that step."""
    first = trained[0]
    last = first.run.plan.recipe.stages[-1]  # the loss shown is the one training lowered last
    frames: list[dict] = []
    if not first.fit.snapshots:
        return frames
    models = [snapshot_model(t.fit, 0) for t in trained]  # copied once, then each step loaded in
    for i, (step, _) in enumerate(first.fit.snapshots):
        for model, t in zip(models, trained):
            model.load_state_dict(t.fit.snapshots[i][1])
        with torch.no_grad():
            loss = OBJECTIVES[last.objective](models[0], first.data.train, last).item()
            shown = stats(models) if stats else None
        frames.append({"step": step, "loss": round(loss, 5),
                       "traces": {str(k): v for k, v in draw(models).items()},
                       **({"stats": [list(pair) for pair in shown]} if shown else {})})
    return frames


def signed(value: float, digits: int) -> str:
    """A term's sign and size, as written after another term: '+ 0.009' or '− 0.009'."""
    return f"{'−' if value < 0 else '+'} {abs(value):.{digits}f}"


def _scatter_grains(fig, data, split="train", row=None, col=None, far=False, show=True):
    points = getattr(data, split)
    for k, grain in enumerate(data.classes):
        mask = (points.label == k) & (points.far if far else ~points.far)
        if not mask.any():
            continue
        fig.add_trace(go.Scatter(
            x=_values(points.x[mask]), y=_values(points.y[mask]), mode="markers",
            name=f"{GRAINS[grain].name}{' (test)' if split == 'test' else ''}",
            marker=dict(color=COLOURS[grain], size=7, symbol="circle" if split == "train" else "x"),
            showlegend=show, hovertemplate="%{x:.2f} cups → %{y:.2f} water<extra>" + grain + "</extra>"),
            row=row, col=col)


def _gd(steps: int = 200, lr: float = 0.1) -> dict:
    """A run's recipe as plain Adam on the squared error, slow enough for a replay to show it learning."""
    return {"optimizer": "adam", "objective": "mse", "steps": steps, "lr": lr}


CUPS = torch.linspace(0.0, 4.5, 46)  # x axis for 2D plots inside the measured range
FAR = torch.linspace(0.0, FAR_CUPS, 101)  # out to the big pot



# Chapters 4 to 6: a plane, ReLU networks and the sigma-pi unit, in 3D ------------------------------

GX, GZ = torch.meshgrid(torch.linspace(0, 4.5, 19), torch.linspace(0, 1, 21), indexing="xy")  # (21, 19)


def _surface(model) -> list[list[float]]:
    z = _predict(model, GX.flatten(), GZ.flatten()).reshape(GX.shape)  # (21, 19)
    return [[round(float(v), 4) for v in row] for row in z]


def _scatter3d(fig, data, split="train", far=False, row=None, col=None, show=True, only=None):
    points = getattr(data, split)
    for k, grain in enumerate(data.classes):
        if only is not None and grain not in only:
            continue
        mask = (points.label == k) & (points.far if far else ~points.far)
        if not mask.any():
            continue
        fig.add_trace(go.Scatter3d(
            x=_values(points.x[mask]), y=_values(points.z[mask]), z=_values(points.y[mask]),
            mode="markers", showlegend=show,
            name=f"{GRAINS[grain].name}{' (test)' if split == 'test' else ''}",
            marker=dict(color=COLOURS[grain], size=3 if split == "train" else 5,
                        symbol="circle" if split == "train" else "diamond")), row=row, col=col)


# The box a 3D figure's camera is chosen for, width over height: the article's column on a
# desktop. Plotly fits a scene to its box's height, so in a narrower box (a phone) the page steps the
# eye back by as much as the box is narrower (static/scenes.js), and the scene still fits across.
SCENE_RATIO = 1.5


def _scene(eye: tuple[float, float, float], aspect: tuple[float, float, float], lift: float = 0.0) -> dict:
    """A 3D scene's axes and camera: the eye where the figure's point shows without turning it,
    the axes stretched (cups, darkness, water) to fill a wide box, and the view's centre moved
    down by ``lift`` to make room for the axis titles."""
    return dict(xaxis_title="cups (x)", yaxis_title="darkness (d)", zaxis_title="water (y)",
                camera=dict(eye=dict(zip("xyz", eye)), center=dict(x=0, y=0, z=-lift), up=dict(x=0, y=0, z=1)),
                aspectmode="manual", aspectratio=dict(zip("xyz", aspect)))

"""What a lab job streams, declared once: one pydantic model per event type, and the constants the
page paces and ends a run by.

The worker, the job manager and the static export's replays build every event through these
models; ``/api/registry`` publishes each type's fields with the constants (``published``), and
tests/test_events.py fails when a page script reads a field that no event declares.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

WATCH_SECONDS = 6.0  # a run at the "watch" pace lasts about this long, pauses aside; so does a replay


class Event(BaseModel):
    """One event of a job; a field its builder leaves unset stays off the wire."""

    model_config = ConfigDict(extra="forbid")  # a field sent must be declared here, for the page's sake
    type: str  # which event: each model below fixes its own

    def dump(self) -> dict:
        """The event as the page receives it: its type, then the fields that were set (None included)."""
        return {"type": self.type, **self.model_dump(exclude_unset=True, exclude={"type"})}


class Queued(Event):
    """The job waits for a worker."""

    type: Literal["queued"] = "queued"
    position: int  # 1 for the next job to start


class Started(Event):
    """A worker took the job: the recipe, the data and the model it trains."""

    type: Literal["started"] = "started"
    total: int  # steps in the whole run, every start included
    starts: int  # restarts of the recipe: the best start is kept
    per_start: int  # steps in one start
    stages: list[dict]  # the recipe's stages: objective, optimizer, steps, only
    model: str  # the model's name in the registry
    dataset: str  # the dataset's name, or the upload's
    classes: list[str]  # the classes' names, in label order
    points: dict  # the training points to plot once (lab.points)
    num_parameters: int  # the model's size
    experts_found: int | None = None  # experts that attention counted in unlabelled data; None if given


class Drawing(BaseModel):
    """The fitted function at a step (lab.snapshot): only the parts the model has are set."""

    grid: dict | None = None  # the x and z each part below is drawn over
    probabilities: list | None = None  # a classifier's class probabilities over z
    cards: list | None = None  # a card reader's answers to the held-out cards over x
    surface: list | None = None  # the fitted y over the (z, x) grid
    curves: list[dict] | None = None  # per class: its typical z and the fitted y over x there
    gates: list | None = None  # a photo model's gates on the held-out row, per expert
    weights: list | None = None  # attention weights over z, per expert


class Step(Event):
    """Where training stands: what progress and done share."""

    step: int  # steps taken, over all starts
    total: int  # steps in the whole run
    loss: float | None  # the loss at this step (None: a run that took no step)
    losses: list[float] | None = None  # each step's loss since the last event, for the loss curve
    seconds: float  # since the job started


class Progress(Drawing, Step):
    """A training step, with the fitted function as it stands (dropped once the job ends)."""

    type: Literal["progress"] = "progress"


class Paused(Event):
    """The reader paused the job; its time limit runs on."""

    type: Literal["paused"] = "paused"


class Resumed(Event):
    """The reader let a paused job go on."""

    type: Literal["resumed"] = "resumed"


class Done(Drawing, Step):
    """The run finished: its scores (metrics.evaluate) and its final fitted function."""

    type: Literal["done"] = "done"
    kept_start: int  # the start kept, by its final loss
    num_parameters: int  # the model's size
    train_mse: float | None = None  # squared error on the training points
    test_mse: float | None = None  # on held-out points inside the training range
    extrapolation_mse: float | None = None  # on held-out points beyond it, where there are any
    noise_floor: float | None = None  # the noise's own squared error, where it is known
    slope_error: float | None = None  # how far the learned slopes lie from the true ones
    expert_error: float | None = None  # how far the experts' lines lie from the true ones
    train_accuracy: float | None = None  # a classifier's share right on the training points
    test_accuracy: float | None = None  # and on the test points


class Stopped(Event):
    """The job ended early: by the reader, its page leaving, its time limit or the server."""

    type: Literal["stopped"] = "stopped"
    message: str  # why, in words
    seconds: float | None = None  # how long it trained; unset if it never started
    exportable: bool | None = None  # whether its parameters, as they stood, can be downloaded


class Error(Event):
    """The job failed: a CSV the model cannot take, a lost worker, a diverging run."""

    type: Literal["error"] = "error"
    message: str  # why, in words


class Ready(Event):
    """A training process has imported PyTorch and waits for jobs (to the server only, never streamed)."""

    type: Literal["ready"] = "ready"


def _kind(model: type[Event]) -> str:
    return model.model_fields["type"].default


EVENTS = {_kind(m): m for m in (Queued, Started, Progress, Paused, Resumed, Done, Stopped, Error)}
FINAL = tuple(_kind(m) for m in (Done, Stopped, Error))  # the types that end a job, each its last event
STOPPED = _kind(Stopped)
EXPORTABLE = (_kind(Done), STOPPED)  # the ends after which a job's parameters can be downloaded


def without_drawing(event: dict) -> dict:
    """A progress event as a finished job keeps it: the loss curve without the fitted function."""
    return {k: v for k, v in event.items() if k not in Drawing.model_fields}


def published() -> dict:
    """What the page reads of the events, for /api/registry: each type's fields, the types that
    end a job, and how long a watched run (and a replay) lasts."""
    return {"fields": {kind: list(model.model_fields) for kind, model in EVENTS.items()},
            "final": list(FINAL), "watch_seconds": WATCH_SECONDS}

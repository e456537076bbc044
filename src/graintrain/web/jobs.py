"""Training jobs for the lab: validated settings, a bounded queue, and a stream of progress events.

Jobs train in a pool of threads, one per core. Each job's progress callback is where it is paused,
stopped, or held to its time limit, so a stop takes effect at the next training step.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from ..datasets import DATASETS, Dataset, dataset_options, make_dataset
from ..upload import from_csv
from ..options import Option
from ..metrics import evaluate
from ..models import MODELS, make_model, num_parameters, recipe_for
from ..train import OBJECTIVES, OPTIMIZERS, SEEDING, check, fit

UPLOAD = "upload"
MAX_UPLOAD = 2_000_000  # characters of CSV
UPDATE_SECONDS = 0.05  # at most this long between streamed updates: 20 a second
GRID = 21  # points per axis of the streamed fitted function


def _field(option: Option) -> tuple:
    """A pydantic field for a registry option: its type and bounds, None when not given."""
    bounds = {k: v for k, v in (("ge", option.low), ("le", option.high)) if v is not None}
    if option.kind == "choice":
        kind: object = Literal[option.choices]  # type: ignore[valid-type]
    elif option.kind == "floats":
        kind = Annotated[list[Annotated[float, Field(allow_inf_nan=False, **bounds)]],
                         Field(min_length=option.length or 1, max_length=option.length or 16)]
    else:
        kind = Annotated[int, Field(strict=True, **bounds)] if option.kind == "int" else \
            Annotated[float, Field(allow_inf_nan=False, **bounds)]
    return kind | None, Field(None, description=option.help)


def _merged(name: str) -> Option:
    """One declaration for an option that several datasets declare (darkness: one reading per grain,
    so its length is left for each dataset's own check)."""
    same = [o for spec in DATASETS.values() for o in spec.options if o.name == name]
    lengths = {o.length for o in same}
    return same[0] if len(lengths) == 1 else dataclasses.replace(same[0], length=None)


# Every dataset option of the registry, as a field of the lab's settings.
DATASET_FIELDS = {name: _field(_merged(name))
                  for name in dict.fromkeys(o.name for spec in DATASETS.values() for o in spec.options)}


class _Settings(BaseModel):
    """Everything that decides a lab run. The same settings train the same numbers."""

    model_config = ConfigDict(extra="forbid")

    model: Literal[tuple(MODELS)]  # type: ignore[valid-type]
    dataset: Literal[(*DATASETS, UPLOAD)]  # type: ignore[valid-type]
    csv: str | None = Field(None, max_length=MAX_UPLOAD, description="CSV text when dataset is upload")
    hidden: list[Annotated[int, Field(ge=1, le=256)]] | None = Field(None, min_length=1, max_length=4)
    experts: int | None = Field(None, ge=1, le=16)
    optimizer: Literal[OPTIMIZERS] | None = None  # type: ignore[valid-type]
    objective: Literal[tuple(OBJECTIVES)] | None = None  # type: ignore[valid-type]
    lr: float | None = Field(None, gt=0, le=10)
    steps: int | None = Field(None, ge=1, le=20_000)
    restarts: int | None = Field(None, ge=1, le=10)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    noise: float | None = Field(None, ge=0, le=5)
    n: int | None = Field(None, ge=4, le=20_000)

    @model_validator(mode="after")
    def _fits_together(self) -> "_Settings":
        spec = MODELS[self.model]
        for option in ("hidden", "experts"):
            if getattr(self, option) is not None and option not in spec.options:
                raise ValueError(f"{option} applies to "
                                 f"{', '.join(m for m, s in MODELS.items() if option in s.options)}, "
                                 f"not to {self.model}")
        if self.dataset == UPLOAD and not self.csv:
            raise ValueError("dataset upload needs the CSV text in csv")
        if self.dataset == UPLOAD:
            data = from_csv(self.csv, seed=self.seed)  # a CSVError names the line and column
            learns_labels = any(st.objective in ("cross-entropy", "labelled") for st in spec.recipe.stages)
            if learns_labels and data.classes == ("data",):
                raise ValueError(f"{self.model} learns classes: the CSV needs a label column")
        if self.dataset != UPLOAD and self.csv is not None:
            raise ValueError("csv is only read when dataset is upload")
        if self.dataset != UPLOAD:
            dataset_options(self.dataset, self.data_options())  # options that do not apply, named
            self.data()  # and values that only this dataset can judge (how many readings, LOW < HIGH)
        elif self.data_options():
            raise ValueError(f"{', '.join(self.data_options())} applies to generated data, not to upload")
        return self

    def data_options(self) -> dict:
        """The dataset options these settings give (only the ones set)."""
        return {k: (tuple(v) if isinstance(v, list) else v) for k in DATASET_FIELDS
                if (v := getattr(self, k, None)) is not None}

    def data(self) -> Dataset:
        """The dataset these settings name (or upload)."""
        if self.dataset == UPLOAD:
            return from_csv(self.csv, seed=self.seed)
        return make_dataset(self.dataset, n=self.n, noise=self.noise, seed=self.seed,
                            **self.data_options())

    def options(self) -> dict:
        """The model options these settings give (only the ones set)."""
        return {k: (tuple(v) if k == "hidden" else v) for k in MODELS[self.model].options
                if (v := getattr(self, k, None)) is not None}


JobSettings = create_model("JobSettings", __base__=_Settings, __doc__=_Settings.__doc__,
                           **DATASET_FIELDS)


class Stopped(Exception):
    """Raised inside training to end a job early; the message says why."""


class QueueFull(Exception):
    """More jobs are waiting than the queue holds."""


@dataclass
class Job:
    """One lab run: its settings, its state and the events streamed so far."""

    id: str
    settings: JobSettings
    status: str = "queued"  # queued, running, paused, done, error, stopped
    events: list[dict] = field(default_factory=list)
    model: torch.nn.Module | None = None
    stop_reason: str | None = None
    resume: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    created: float = field(default_factory=time.monotonic)

    def emit(self, event: dict) -> None:
        with self.lock:
            self.events.append(event)

    def finish(self, status: str, event: dict) -> None:
        """End the job: its last event, and progress events slimmed to step and loss to save memory."""
        with self.lock:
            self.events = [{k: e[k] for k in ("type", "step", "total", "loss", "losses", "seconds") if k in e}
                           if e["type"] == "progress" else e for e in self.events]
            self.events.append(event)
            self.status = status
            self.resume.set()

    @property
    def finished(self) -> bool:
        return self.status in ("done", "error", "stopped")


class JobManager:
    """Runs jobs on ``workers`` threads; at most ``queue_limit`` wait; each is cut at ``time_limit``."""

    def __init__(self, workers: int, queue_limit: int, time_limit: float, keep: int = 50):
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graintrain-job")
        self.queue_limit = queue_limit
        self.time_limit = time_limit
        self.keep = keep  # finished jobs kept for their results and exports
        self.jobs: dict[str, Job] = {}
        self.waiting: list[str] = []
        self.lock = threading.Lock()

    def submit(self, settings: JobSettings) -> Job:
        """Queue a job, or raise QueueFull."""
        with self.lock:
            if len(self.waiting) >= self.queue_limit:
                raise QueueFull(f"{len(self.waiting)} jobs are already waiting; try again shortly")
            job = Job(uuid.uuid4().hex[:12], settings)
            job.resume.set()
            self.jobs[job.id] = job
            self.waiting.append(job.id)
            job.emit({"type": "queued", "position": len(self.waiting)})
            self._forget_old()
        self.pool.submit(self._run, job)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job with this id, if it is still kept."""
        return self.jobs.get(job_id)

    def stop(self, job: Job, reason: str = "stopped") -> None:
        """Stop a job now: it ends at its next step, or before it starts if it is still waiting."""
        job.stop_reason = job.stop_reason or reason
        job.resume.set()

    def pause(self, job: Job) -> None:
        """Hold a running job at its next step (its time limit keeps running)."""
        with job.lock:
            if job.status == "running":
                job.resume.clear()
                job.status = "paused"
                job.events.append({"type": "paused"})

    def unpause(self, job: Job) -> None:
        """Let a paused job go on."""
        with job.lock:
            if job.status == "paused":
                job.status = "running"
                job.events.append({"type": "resumed"})
                job.resume.set()

    def shutdown(self) -> None:
        """Stop every job and wait for the threads, so none is left behind."""
        for job in list(self.jobs.values()):
            self.stop(job, "the server is shutting down")
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _forget_old(self) -> None:
        finished = [j for j in self.jobs.values() if j.finished]
        for job in sorted(finished, key=lambda j: j.created)[:max(0, len(finished) - self.keep)]:
            del self.jobs[job.id]

    def _started(self, job: Job) -> None:
        with self.lock:
            self.waiting.remove(job.id)
            for position, other in enumerate(self.waiting, 1):
                self.jobs[other].emit({"type": "queued", "position": position})

    def _run(self, job: Job) -> None:
        self._started(job)
        if job.stop_reason:
            job.finish("stopped", {"type": "stopped", "message": job.stop_reason})
            return
        with job.lock:
            job.status = "running"
        began = time.monotonic()
        try:
            self._train(job, began)
        except Stopped as why:
            job.finish("stopped", {"type": "stopped", "message": str(why),
                                   "seconds": time.monotonic() - began})
        except Exception as error:  # a bad upload, a diverging run: the reader sees the reason
            job.finish("error", {"type": "error", "message": str(error)})

    def _train(self, job: Job, began: float) -> None:
        s = job.settings
        data = s.data()
        recipe = recipe_for(s.model, seed=s.seed, restarts=s.restarts, steps=s.steps, lr=s.lr,
                            optimizer=s.optimizer, objective=s.objective)
        with SEEDING:  # a model built here draws from the global RNG: not while another job seeds
            probe = make_model(s.model, data, **s.options())
        check(recipe, probe)
        total = sum(st.steps for st in recipe.stages) * recipe.restarts
        job.emit({"type": "started", "total": total, "model": s.model, "dataset": data.name,
                  "classes": list(data.classes), "points": points(data),
                  "num_parameters": num_parameters(probe)})
        pending: list[float] = []
        last = [0.0]

        def build():
            job.model = make_model(s.model, data, **s.options())
            return job.model

        def on_step(step: int, _total: int, loss: float) -> None:
            if not job.resume.is_set():  # paused: wait, but never past the time limit
                job.resume.wait(timeout=max(0.0, self.time_limit - (time.monotonic() - began)))
            if job.stop_reason:
                raise Stopped(job.stop_reason)
            if time.monotonic() - began > self.time_limit:
                raise Stopped(f"the job reached its time limit of {self.time_limit:g} s")
            pending.append(loss)
            now = time.monotonic()
            if step == 1 or now - last[0] >= UPDATE_SECONDS or step == total:
                last[0] = now
                job.emit({"type": "progress", "step": step, "total": total, "loss": loss,
                          "losses": pending[:], "seconds": now - began, **snapshot(job.model, data)})
                pending.clear()

        result = fit(build, data.train, recipe, on_step=on_step)
        job.model = result.model
        scores = evaluate(result.model, data)
        scores.pop("experts", None)  # the page shows the weights; the export carries the experts
        summary = {"type": "done", "step": total, "total": total,
                   "loss": result.losses[-1] if result.losses else None,
                   "seconds": time.monotonic() - began, "kept_start": result.best,
                   **scores, **snapshot(result.model, data)}
        job.finish("done", summary)


def _round(t: torch.Tensor) -> list:
    return [[round(float(v), 4) for v in row] for row in t] if t.dim() == 2 else [round(float(v), 4) for v in t]


def points(data: Dataset) -> dict:
    """The training points, for the page to plot once."""
    return {"x": _round(data.train.x), "z": _round(data.train.z), "y": _round(data.train.y),
            "label": data.train.label.tolist()}


@torch.no_grad()
def snapshot(model: torch.nn.Module, data: Dataset) -> dict:
    """The model's current fitted function: a surface over (x, z), and for each class a curve at its
    typical z; for attention, its weights over z; for a classifier, its probabilities over z."""
    x_all, z_all = data.train.x, data.train.z
    xs = torch.linspace(float(x_all.min()), float(x_all.max()), GRID)  # (G,)
    zs = torch.linspace(float(z_all.min()), float(z_all.max()), GRID)  # (G,) the selector's own range
    out: dict = {"grid": {"x": _round(xs), "z": _round(zs)}}
    if hasattr(model, "probabilities"):
        out["probabilities"] = _round(model.probabilities(zs).T)  # (C, G)
        return out
    gx, gz = torch.meshgrid(xs, zs, indexing="xy")  # (G, G): rows follow z
    out["surface"] = _round(model(gx.flatten(), gz.flatten()).reshape(GRID, GRID))
    curves = []
    for k in range(data.num_classes):
        members = data.train.z[data.train.label == k]
        level = float(members.median()) if len(members) else float(z_all.median())
        curves.append({"z": round(level, 4), "y": _round(model(xs, torch.full_like(xs, level)))})
    out["curves"] = curves
    if hasattr(model, "experts"):
        model(torch.zeros_like(zs), zs)
        out["weights"] = _round(model.weights.T)  # (K, G) attention weights over z
    return out


def state_dict_bytes(model: torch.nn.Module) -> bytes:
    """The model's parameters as a PyTorch state_dict file."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()


def state_dict_json(model: torch.nn.Module) -> dict:
    """The model's parameters as JSON: name -> nested lists."""
    return {name: t.tolist() for name, t in model.state_dict().items()}


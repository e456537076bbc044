"""Training jobs for the lab: a bounded queue of validated runs, and a stream of progress events.

Jobs train in a pool of threads, one per core. Each job's progress callback is where it is paused,
stopped, or held to its time limit, so a stop takes effect at the next training step. The settings
live in ``run_settings.py`` and what a job streams in ``graintrain/lab.py``.
"""

from __future__ import annotations

import ctypes
import gc
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import torch

from ..lab import done, points, snapshot, started, state_dict_bytes, state_dict_json  # noqa: F401  re-exported
from .run_settings import UPLOAD, JobSettings  # noqa: F401  re-exported

UPDATE_SECONDS = 0.05  # at most this long between streamed updates: 20 a second
WATCH_SECONDS = 6.0  # a run trained at the "watch" pace lasts about this long, pauses aside

try:  # glibc's malloc_trim, where there is one
    _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
except (OSError, AttributeError):
    _malloc_trim = None


def give_back_memory() -> None:
    """Hand freed heap back to the system. glibc keeps what a job's large tensors freed in its
    thread's arena, so without this a server's memory only grows, job after job, though nothing
    is kept (benchmarks/lab_abuse.py measures it)."""
    gc.collect()  # a finished run's closures may hold its tensors in reference cycles
    if _malloc_trim is not None:
        _malloc_trim(0)


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
    model: torch.nn.Module | None = None  # the model in training, for progress events
    state: dict[str, torch.Tensor] | None = None  # the trained parameters, kept for the exports
    token: str = field(default_factory=lambda: secrets.token_urlsafe(18))  # the starting page's key
    stop_reason: str | None = None
    resume: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    created: float = field(default_factory=time.monotonic)

    def keep(self, model: torch.nn.Module) -> None:
        """Keep a copy of the model's parameters for the exports."""
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def emit(self, event: dict) -> None:
        with self.lock:
            self.events.append(event)

    def finish(self, status: str, event: dict) -> None:
        """End the job: its last event. What it keeps is only what exports and late readers need:
        the parameters, not the model with its kept activations; progress as step and loss; the
        settings without the uploaded CSV."""
        with self.lock:
            self.model = None
            self.settings = self.settings.model_copy(update={"csv": None})
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
            if job.status == "running" and not job.stop_reason:  # a stopped job stays stopped
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
            if job.model is not None:  # the model as it stood: it can still be exported
                job.keep(job.model)
            job.finish("stopped", {"type": "stopped", "message": str(why),
                                   "seconds": time.monotonic() - began, "exportable": job.state is not None})
        except Exception as error:  # a bad upload, a diverging run: the reader sees the reason
            job.finish("error", {"type": "error", "message": str(error)})
        finally:
            give_back_memory()

    def _train(self, job: Job, began: float) -> None:
        s = job.settings
        data = s.data()
        probe = s.probe(data)  # the recipe is checked against the model before anything streams
        opening = started(s, data, probe)
        total = opening["total"]
        job.emit(opening)
        pending: list[float] = []
        last = [0.0]
        step_seconds = WATCH_SECONDS / total if s.pace == "watch" else 0.0

        def on_step(step: int, _total: int, loss: float) -> None:
            if step_seconds:  # the watch pace: wait out each step's share, ready to pause or stop
                end = time.monotonic() + step_seconds
                while (left := end - time.monotonic()) > 0 and not job.stop_reason:
                    time.sleep(min(left, 0.02))
            if not job.resume.is_set() and not job.stop_reason:  # paused: wait, never past the limit
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

        def watch(model: torch.nn.Module) -> None:  # progress events draw the start in training
            job.model = model

        result = s.fit(data, on_step=on_step, on_build=watch)
        job.keep(result.model)
        summary = done(result.model, data, total, result.losses[-1] if result.losses else None,
                       time.monotonic() - began, result.best)
        job.finish("done", summary)

"""Training jobs for the lab: a bounded queue of validated runs, and a stream of progress events.

The server keeps each job (its place in the queue, its events, its token and, once it ends, its
parameters); the training happens in a pool of worker processes, one per core (``worker.py``), so
jobs running at once do not share one interpreter. A thread per worker hands it a job, relays the
events it sends back, and passes on pause and stop through the worker's flag, which the job reads
at every step. The settings live in ``run_settings.py`` and what a job streams in ``graintrain/lab.py``.
"""

from __future__ import annotations

import io
import math
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import torch

from ..events import FINAL, STOPPED, Error, Paused, Queued, Resumed, Stopped, without_drawing
from ..lab import points, state_dict_bytes, state_dict_json  # noqa: F401  re-exported
from .run_settings import UPLOAD, JobSettings  # noqa: F401  re-exported
from .worker import PAUSE, RUN, STOP, WARM_SECONDS, Worker, WorkerLost, WorkerPool

POLL_SECONDS = 0.1  # how often a waiting thread looks again at its job and its worker
KEEP_SECONDS = 600.0  # a finished job's results stay this long at least, for its page's exports...
KEEP_BYTES = 512 * 2**20  # ...unless the jobs kept would hold more than this (oldest go first)
WATCHERS_PER_JOB = 20  # pages other than its own that may stream one job at once...
WATCHERS = 100  # ...and all jobs together: each stream polls, and 3,000 slowed every page to 30 s


class QueueFull(Exception):
    """More jobs are waiting than the queue holds."""


@dataclass
class Job:
    """One lab run: its settings, its state and the events streamed so far."""

    id: str
    settings: JobSettings
    status: str = "queued"  # queued, running, paused, done, error, stopped
    events: list[dict] = field(default_factory=list)
    state: dict[str, torch.Tensor] | None = None  # the trained parameters, kept for the exports
    token: str = field(default_factory=lambda: secrets.token_urlsafe(18))  # the starting page's key
    stop_reason: str | None = None
    stopped_at: float | None = None
    worker: Worker | None = None  # the process training it, while it runs
    pid: int | None = None  # that process's id, kept once it has trained
    lock: threading.Lock = field(default_factory=threading.Lock)
    created: float = field(default_factory=time.monotonic)
    ended: float | None = None  # when it finished
    size: int = 0  # bytes it holds once finished, roughly: its parameters and its events

    def emit(self, event: dict) -> None:
        with self.lock:
            self.events.append(event)

    def signal(self, flag: int) -> None:
        """Set the running job's flag in its worker (call holding the lock)."""
        if self.worker is not None:
            self.worker.control.value = flag

    def finish(self, event: dict) -> None:
        """End the job: its last event, whose type is the job's final status. What it keeps is only
        what exports and late readers need: the parameters; progress as step and loss; the settings
        without the uploaded CSV."""
        state = event.pop("state", None)
        with self.lock:
            self.state = torch.load(io.BytesIO(state)) if state else None
            self.worker = None
            self.settings = self.settings.without_csv()
            self.events = [without_drawing(e) if e["type"] == "progress" else e for e in self.events]
            self.events.append(event)
            self.status = event["type"]
            self.ended = time.monotonic()
            self.size = sum(t.nelement() * t.element_size() for t in (self.state or {}).values()) + \
                sum(64 + 16 * len(e.get("losses", ())) for e in self.events)

    @property
    def finished(self) -> bool:
        return self.status in FINAL


class JobManager:
    """Runs jobs on ``workers`` processes; at most ``queue_limit`` wait; each is cut at ``time_limit``,
    and a worker still silent ``hang_seconds`` after that (or after a stop) is taken for hung. A
    manager starts and ends its own processes, unless it is lent a started ``pool`` (the tests
    share one warm pool among many servers)."""

    def __init__(self, workers: int, queue_limit: int, time_limit: float, hang_seconds: float,
                 keep_seconds: float = KEEP_SECONDS, keep_bytes: int = KEEP_BYTES,
                 pool: WorkerPool | None = None):
        self.threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graintrain-job")
        self.pool = pool or WorkerPool(workers)
        self.own_pool = pool is None
        self.queue_limit = queue_limit
        self.time_limit = time_limit
        self.hang_seconds = hang_seconds
        self.keep_seconds, self.keep_bytes = keep_seconds, keep_bytes  # finished jobs kept for exports
        self.jobs: dict[str, Job] = {}
        self.waiting: list[str] = []
        self.watchers: dict[str, int] = {}  # job id -> streams open by pages other than its own
        self.lock = threading.Lock()

    def start(self) -> None:
        """Start the worker processes; they import PyTorch in the background, while the server answers."""
        self.pool.start()

    def check_room(self) -> None:
        """QueueFull if no job could join the queue now: asked before a job's settings are read."""
        with self.lock:
            self._room()

    def _room(self) -> None:
        if len(self.waiting) >= self.queue_limit:
            raise QueueFull(f"{len(self.waiting)} jobs are already waiting; try again shortly")

    def submit(self, settings: JobSettings) -> Job:
        """Queue a job, or raise QueueFull."""
        with self.lock:
            self._room()
            job = Job(uuid.uuid4().hex[:12], settings)
            self.jobs[job.id] = job
            self.waiting.append(job.id)
            job.emit(Queued(position=len(self.waiting)).dump())
            self._forget_old()
        self.threads.submit(self._run, job)
        return job

    def room_to_watch(self, job: Job) -> bool:
        """Whether one more page may watch the job, within both caps."""
        with self.lock:
            return self.watchers.get(job.id, 0) < WATCHERS_PER_JOB and sum(self.watchers.values()) < WATCHERS

    def watch(self, job: Job) -> None:
        """One more watcher of the job; ``unwatch`` when it leaves."""
        with self.lock:
            self.watchers[job.id] = self.watchers.get(job.id, 0) + 1

    def unwatch(self, job: Job) -> None:
        """One watcher of the job has gone."""
        with self.lock:
            self.watchers[job.id] -= 1
            if not self.watchers[job.id]:
                del self.watchers[job.id]

    def get(self, job_id: str) -> Job | None:
        """The job with this id, if it is still kept."""
        return self.jobs.get(job_id)

    def stop(self, job: Job, reason: str = "stopped") -> None:
        """Stop a job now: it ends at its next step, or at once if it is still waiting, when it
        also gives up its place in the queue."""
        with job.lock:
            if not job.stop_reason:
                job.stop_reason, job.stopped_at = reason, time.monotonic()
            job.signal(STOP)
        with self.lock:
            waiting = job.id in self.waiting and job.status == "queued"
            if waiting:
                self._leave_queue(job)
        if waiting:
            job.finish(Stopped(message=reason, exportable=False).dump())

    def pause(self, job: Job) -> None:
        """Hold a running job at its next step (its time limit keeps running)."""
        with job.lock:
            if job.status == "running" and not job.stop_reason:  # a stopped job stays stopped
                job.signal(PAUSE)
                job.status = "paused"
                job.events.append(Paused().dump())

    def unpause(self, job: Job) -> None:
        """Let a paused job go on."""
        with job.lock:
            if job.status == "paused" and not job.stop_reason:
                job.signal(RUN)
                job.status = "running"
                job.events.append(Resumed().dump())

    def stop_all(self, reason: str) -> None:
        """Stop every job that has not ended."""
        for job in list(self.jobs.values()):
            if not job.finished:
                self.stop(job, reason)

    def shutdown(self) -> None:
        """Stop every job, wait for the threads, and end the processes, so none is left behind."""
        self.stop_all("the server is shutting down")
        self.threads.shutdown(wait=True, cancel_futures=True)
        if self.own_pool:
            self.pool.close()

    def _forget_old(self) -> None:
        """Forget finished jobs once they are ``keep_seconds`` old, and the oldest sooner while
        those kept hold more than ``keep_bytes`` (call holding the manager's lock)."""
        now, held = time.monotonic(), 0
        for job in sorted((j for j in self.jobs.values() if j.finished), key=lambda j: j.ended, reverse=True):
            held += job.size
            if now - job.ended > self.keep_seconds or held > self.keep_bytes:
                del self.jobs[job.id]

    def _leave_queue(self, job: Job) -> None:
        """Take the job out of the queue and tell those behind it (call holding the manager's lock)."""
        self.waiting.remove(job.id)
        for position, other in enumerate(self.waiting, 1):
            self.jobs[other].emit(Queued(position=position).dump())

    def _run(self, job: Job) -> None:
        with self.lock:
            if job.id not in self.waiting:  # stopped while it waited: it has ended already
                return
            self._leave_queue(job)
        worker = self._warm_worker(job)
        with job.lock:
            if worker is not None and not job.stop_reason:
                job.status, job.worker, job.pid = "running", worker, worker.pid
                worker.control.value = RUN
        if job.worker is None:  # stopped while it waited, or no worker could start
            if worker is not None:
                self.pool.give_back(worker)
            last = Stopped(message=job.stop_reason) if job.stop_reason else \
                Error(message=f"no training process was ready within {WARM_SECONDS:g} s")
            job.finish(last.dump())
            return
        try:
            worker.train(job.settings, self.time_limit)
            last = self._relay(job, worker)
        except WorkerLost as lost:
            job.finish(Error(message=f"{lost}; a fresh process takes its place").dump())
            self.pool.replace(worker)
            return
        if last["type"] == STOPPED:
            last |= {"message": job.stop_reason or last["message"], "exportable": last["state"] is not None}
        job.finish(last)
        self.pool.give_back(worker)

    def _warm_worker(self, job: Job) -> Worker | None:
        """A warm worker for the job; None if the job was stopped, or no worker warmed in time."""
        worker, began = None, time.monotonic()
        while not job.stop_reason and time.monotonic() - began < WARM_SECONDS:
            worker = worker or self.pool.take(timeout=POLL_SECONDS)
            try:
                if worker is not None and worker.ready(timeout=POLL_SECONDS):
                    return worker
            except WorkerLost:  # it died, or hung, while starting
                self.pool.replace(worker)
                worker = None
        if worker is not None:
            self.pool.give_back(worker)
        return None

    def _relay(self, job: Job, worker: Worker) -> dict:
        """Pass the worker's events on to the job until its last one, which is returned; WorkerLost
        if the worker dies, or is still silent long after the job should have ended."""
        began = time.monotonic()
        while True:
            event = worker.receive(timeout=POLL_SECONDS)
            if event is not None and event["type"] in FINAL:
                return event
            if event is not None:
                job.emit(event)
            elif time.monotonic() - min(job.stopped_at or math.inf, began + self.time_limit) > self.hang_seconds:
                raise WorkerLost(f"the process training it was silent for {self.hang_seconds:g} s after "
                                 "the job should have ended")

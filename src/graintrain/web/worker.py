"""The lab's training processes: each trains one job at a time and sends its events back.

A worker is spawned, never forked (the server answers from other threads while it starts one), imports
PyTorch once and then trains job after job. The server sends a job's settings down the worker's pipe
and reads back what the job streams: ``started``, ``progress``, then one last event (``done``,
``stopped`` or ``error``) that carries the trained parameters. It pauses or stops the job through a
flag in shared memory that the worker reads at every step. ``WorkerPool`` lends the workers out,
one job at a time each, and replaces one that dies or stops answering.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import queue
import signal
import threading
import time
from multiprocessing.connection import Connection

import torch

from .. import events
from ..lab import done, snapshot, started, state_dict_bytes
from .run_settings import JobSettings

RUN, PAUSE, STOP = 0, 1, 2  # a worker's control flag: the server sets it, the job reads it each step
UPDATE_SECONDS = 0.05  # at least this long between streamed updates: at most 20 a second...
STREAM_SHARE = 0.2  # ...unless drawing them would take more than this share of the job's time
WARM_SECONDS = 120.0  # a new worker that has not imported PyTorch by then is taken for hung
END_SECONDS = 0.5  # a worker told to leave that has not gone by then is killed (it has nothing to save)
SPAWN = multiprocessing.get_context("spawn")

try:  # glibc's malloc_trim, where there is one
    _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
except (OSError, AttributeError):
    _malloc_trim = None


def give_back_memory() -> None:
    """Hand freed heap back to the system. glibc keeps what a job's large tensors freed, so without
    this a worker's memory only grows, job after job, though it keeps nothing
    (benchmarks/lab_abuse.py measures it)."""
    gc.collect()  # a finished run's closures may hold its tensors in reference cycles
    if _malloc_trim is not None:
        _malloc_trim(0)


class Stopped(Exception):
    """Raised inside training to end a job early; the message says why (empty: the server knows)."""


class WorkerLost(Exception):
    """A worker died, or stopped answering; the message says which."""


def _serve(conn: Connection, control, parent: int) -> None:
    """A worker's life: say it is warm, then train each job the server sends until it sends None."""
    # Ctrl+C, and SIGTERM from a service manager, reach the whole group: the server ends its jobs
    # as stopped, then us. Should it die without a word, we end with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from ..study.runner import _die_with_parent
    _die_with_parent(parent)
    torch.set_num_threads(1)  # one process per core; one thread also keeps runs repeatable
    gc.freeze()  # what the imports made lives as long as the worker: collections after each job skip it
    try:
        conn.send(events.Ready().dump())
        while (job := conn.recv()) is not None:
            try:
                _train(conn, control, *job)
            finally:
                give_back_memory()
    except (EOFError, OSError):  # the server has gone: its worker goes too
        pass


def _train(conn: Connection, control, settings: JobSettings, time_limit: float) -> None:
    """Train one job, sending its events as they happen; the last one carries the parameters."""
    began = time.monotonic()
    model = None
    total = settings.plan.total_steps
    try:
        data = settings.plan.data.make()  # the server checked the settings on a sample of it; all of it here
        pending: list[float] = []
        last, every = 0.0, UPDATE_SECONDS  # a photo model's snapshot takes 30 ms here: then less often
        step_seconds = events.WATCH_SECONDS / total if settings.pace == "watch" else 0.0

        def on_step(step: int, _total: int, loss: float) -> None:
            nonlocal last, every
            if step_seconds:  # the watch pace: wait out each step's share, ready to stop
                end = time.monotonic() + step_seconds
                while (left := end - time.monotonic()) > 0 and control.value != STOP:
                    time.sleep(min(left, 0.02))
            while control.value == PAUSE and time.monotonic() - began < time_limit:
                time.sleep(0.01)  # paused: the time limit keeps running
            if control.value == STOP:
                raise Stopped("")
            if time.monotonic() - began > time_limit:
                raise Stopped(f"the job reached its time limit of {time_limit:g} s")
            pending.append(loss)
            now = time.monotonic()
            if step == 1 or now - last >= every or step == total:
                drawn = snapshot(model, data)
                last = time.monotonic()
                every = max(UPDATE_SECONDS, (last - now) / STREAM_SHARE)
                conn.send(events.Progress(step=step, total=total, loss=loss, losses=pending[:], seconds=now - began,
                                   **drawn).dump())
                pending.clear()

        def watch(built: torch.nn.Module) -> None:  # progress events draw the start in training
            nonlocal model
            if model is None:  # the first start opens the stream: its size, its data, the recipe
                conn.send(started(settings, data, built))
            model = built

        result = settings.plan.fit(data, on_step=on_step, on_build=watch)
        summary = done(result.model, data, total, result.losses[-1] if result.losses else None,
                       time.monotonic() - began, result.best)
        conn.send(summary | {"state": state_dict_bytes(result.model.state_dict())})
    except Stopped as why:  # the model as it stood: it can still be exported
        state = state_dict_bytes(model.state_dict()) if model is not None else None
        conn.send(events.Stopped(message=str(why), seconds=time.monotonic() - began).dump() | {"state": state})
    except Exception as error:  # a bad upload, a diverging run: the reader sees the reason
        conn.send(events.Error(message=str(error)).dump())


class Worker:
    """One training process: the server's end of its pipe, and the flag its job reads each step."""

    def __init__(self) -> None:
        self.control = SPAWN.RawValue("b", RUN)
        self.conn, theirs = SPAWN.Pipe()
        self.process = SPAWN.Process(target=_serve, args=(theirs, self.control, os.getpid()), daemon=True,
                                     name="graintrain-worker")
        self.process.start()
        theirs.close()  # the worker holds the only other end, so its death reads as end of file
        self.born = time.monotonic()
        self.warm = False

    @property
    def pid(self) -> int:
        """The process's id."""
        return self.process.pid

    def train(self, settings: JobSettings, time_limit: float) -> None:
        """Hand the worker a job (its flag already set); WorkerLost if it has died."""
        try:
            self.conn.send((settings, time_limit))
        except OSError:
            self.process.join(timeout=1)
            raise WorkerLost(f"the process training it had ended (exit status {self.process.exitcode})") from None

    def receive(self, timeout: float) -> dict | None:
        """The worker's next event, or None if none came within ``timeout``; WorkerLost if it died."""
        try:
            if self.conn.poll(timeout):
                return self.conn.recv()
        except (EOFError, OSError):
            pass
        else:
            if self.process.is_alive():
                return None
        self.process.join(timeout=1)
        raise WorkerLost(f"the process training it ended unexpectedly (exit status {self.process.exitcode})")

    def ready(self, timeout: float) -> bool:
        """Whether the worker has finished starting (waiting up to ``timeout`` for it)."""
        if not self.warm:
            self.warm = self.receive(timeout) is not None  # its first event says it is ready
            if not self.warm and time.monotonic() - self.born > WARM_SECONDS:
                raise WorkerLost(f"a new training process did not start within {WARM_SECONDS:g} s")
        return self.warm

    def end(self) -> None:
        """End the process now and wait until it has gone."""
        end_all([self])


def end_all(workers: list[Worker], grace: float = END_SECONDS) -> None:
    """End the workers together, and wait until all have gone: at most ``grace`` seconds for
    them to leave on their own, then SIGKILL. One at a time, each that could not hear cost a second."""
    for worker in workers:
        worker.conn.close()  # a worker between jobs reads the end of its pipe, and leaves (it ignores SIGTERM)
    deadline = time.monotonic() + grace
    for worker in workers:
        worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
    for worker in workers:
        if worker.process.is_alive():  # one that cannot read it (still starting, stopped, hung)
            worker.process.kill()
            worker.process.join()


class WorkerPool:
    """``size`` training processes, started in the background and lent to one job at a time each."""

    def __init__(self, size: int):
        self.size = size
        self.idle: queue.Queue[Worker] = queue.Queue()
        self.lock = threading.Lock()
        self.started = self.closed = False

    def start(self) -> None:
        """Start the workers (once): a few milliseconds each, while each imports PyTorch on its own."""
        with self.lock:
            if self.started or self.closed:
                return
            self.started = True
            for _ in range(self.size):
                self.idle.put(Worker())

    def take(self, timeout: float) -> Worker | None:
        """A free worker, warm or still starting, or None if none is free within ``timeout``."""
        self.start()
        try:
            return self.idle.get(timeout=timeout)
        except queue.Empty:
            return None

    def give_back(self, worker: Worker) -> None:
        """Return a worker after its job; ended instead if the pool has closed."""
        with self.lock:
            if not self.closed:
                self.idle.put(worker)
                return
        worker.end()

    def replace(self, worker: Worker) -> None:
        """End a worker that died or hung, and start a fresh one in its place."""
        worker.process.kill()  # a hung worker may not heed SIGTERM, and has nothing to finish
        worker.end()
        with self.lock:
            if not self.closed:
                self.idle.put(Worker())

    def close(self) -> None:
        """End every worker not lent out; one lent out is ended when it comes back."""
        with self.lock:
            self.closed = True
        idle = []
        while True:
            try:
                idle.append(self.idle.get_nowait())
            except queue.Empty:
                break
        end_all(idle)

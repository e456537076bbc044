"""Running the study: one cell's runs, the plain recipe stacked, resuming, a process pool or Ray.

The grid is cut into jobs of similar size, handed out longest first (jobs.py)."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Iterator

import torch

from ..datasets import Dataset
from ..metrics import evaluate
from ..train import seeded_build
from .grid import MODEL_NAMES, RECOVERED, STACK_CHUNK, StudyConfig, cell_runs
from .jobs import STACKED, Job
from .ledger import Ledger
from .stacked import fit_stacked


def _row(k: int, seed: int, name: str, model: torch.nn.Module, data: Dataset, seconds: float) -> dict:
    """One run's numbers."""
    scores = evaluate(model, data)
    row = {"K": k, "seed": seed, "model": name, "seconds": seconds,
           **{m: scores[m] for m in ("num_parameters", "train_mse", "test_mse", "extrapolation_mse",
                                      "slope_error")}}
    if name.startswith("attention"):
        row |= {"expert_error": scores["expert_error"], "recovered": scores["expert_error"] <= RECOVERED}
    return row


def run_cell(k: int, seed: int, noise: float, points: int, skip: frozenset = frozenset(),
             shape: dict | None = None) -> list[dict]:
    """Train attention (graintrain's recipe) and the two ReLU networks on one switchboard."""
    torch.set_num_threads(1)
    runs = cell_runs(k, seed, noise, points, shape)
    data = runs["attention"].data()  # one switchboard: every run of the cell names the same data
    rows = []
    for name in ("attention", "mlp-1", "mlp-2"):
        if name not in skip:
            result = runs[name].fit(data)
            rows.append(_row(k, seed, name, result.model, data, result.seconds))
    return rows


def run_blended(k: int, seeds: tuple[int, ...], noise: float, points: int,
                shape: dict | None = None) -> list[dict]:
    """The post's plain recipe for several switchboards of one K at once, stacked (stacked.py).

    Each model starts from the weights ``fit`` would draw for its seed, so the numbers match
    training them one by one.
    """
    torch.set_num_threads(1)
    runs = [cell_runs(k, s, noise, points, shape)["attention-blended"] for s in seeds]
    data = [run.data() for run in runs]
    models = [seeded_build(lambda r=r, d=d: r.build(d), r.seed) for r, d in zip(runs, data)]
    x, z, y = (torch.stack([getattr(d.train, a) for d in data]) for a in "xzy")  # (M, N)
    began = time.perf_counter()
    fit_stacked(models, x, z, y, runs[0].plan.recipe, chunk=STACK_CHUNK)
    seconds = (time.perf_counter() - began) / len(seeds)
    return [_row(k, s, "attention-blended", m, d, seconds) for s, m, d in zip(seeds, models, data)]


def run_job(job: Job, noise: float, points: int, shape: dict) -> tuple[list[dict], float]:
    """One job's rows, and the seconds it took in the process that ran it."""
    began = time.perf_counter()
    if job.models == (STACKED,):
        rows = run_blended(job.k, job.seeds, noise, points, shape)
    else:
        rows = run_cell(job.k, job.seeds[0], noise, points, frozenset(MODEL_NAMES) - set(job.models), shape)
    return rows, time.perf_counter() - began


_STOPS = {signal.SIGINT, signal.SIGTERM}


def pooled(fn: Callable, calls: list[tuple], workers: int, context=None) -> Iterator[tuple[int, object]]:
    """fn(*args) for each args in ``calls`` on a pool of ``workers`` processes (made by the
    multiprocessing ``context``, default: the platform's), started in the list's order; yields
    (index, result) as each lands. Stopped early (Ctrl+C, an error, or closed), it lets go at once
    rather than first running every call it still holds, as leaving a ``with`` block would: Ctrl+C
    once took 19.6 s to stop ``graintrain build``. The processes leave Ctrl+C and SIGTERM, which
    reach the whole process group, to this one, and end once it has gone."""
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_pool_process, initargs=(os.getpid(),),
                               mp_context=context)
    try:
        # The processes start while this thread holds Ctrl+C and SIGTERM back, and a held signal
        # stays held across fork and exec: one sent while they start (a server stopped at once)
        # then waits for _pool_process to ignore it, rather than killing a process of the pool.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
        try:
            futures = {pool.submit(fn, *args): i for i, args in enumerate(calls)}
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        for future in as_completed(futures):
            yield futures[future], future.result()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _pool_process(parent: int) -> None:
    # Ignoring SIGTERM has one cost: when a process of the pool dies (out of memory, say), the pool
    # ends the others with SIGTERM, so they finish the call they hold first. The caller still
    # hears of the broken pool at once.
    for stop in _STOPS:
        signal.signal(stop, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)  # held since its start (see pooled)
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    """In a pool worker: end this process once its ``parent`` is gone, even killed with SIGKILL,
    which gives the pool no chance to shut its workers down. The parent's pid comes from the
    parent: one killed while this process still imported PyTorch had already handed it on, and
    a watch of whichever process was its parent by then never ended (serve stopped 3 s after
    start left two)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)
    threading.Thread(target=watch, daemon=True, name="graintrain-parent-watch").start()


def run_study(config: StudyConfig, on_cell: Callable[[int, int], None] | None = None,
              on_skipped: Callable[[int, int], None] | None = None,
              on_job: Callable[[Job, float], None] | None = None) -> list[dict]:
    """Train every cell not already in ``runs.jsonl``, in parallel processes; return all rows.
    The folder is this study's alone while it runs (StudyBusy if another study holds it).
    ``on_cell(done, total)`` hears how many runs are done; ``on_skipped(bad, repeated)`` of lines
    in ``runs.jsonl`` that hold no run, or a run again; ``on_job(job, seconds)`` of each job as
    it finishes, with the seconds it took where it ran."""
    ledger = Ledger(config, on_skipped).hold()
    try:
        if on_cell:
            on_cell(ledger.finished, ledger.total)

        def record(job: Job, new_rows: list[dict], seconds: float) -> None:
            ledger.record(new_rows)
            if on_job:
                on_job(job, seconds)
            if on_cell:
                on_cell(ledger.finished, ledger.total)

        if ledger.finished == ledger.total:
            pass
        elif config.backend == "ray":
            _run_on_ray(ledger.jobs, ledger.settings, config.address, record)
        else:
            jobs = ledger.jobs(config.workers)  # the pool starts them in plan's order, longest first
            for i, (rows, seconds) in pooled(run_job, [(job, *ledger.settings) for job in jobs], config.workers):
                record(jobs[i], rows, seconds)
        return ledger.rows
    finally:
        ledger.release()


def _run_on_ray(plan_for: Callable[[int], list[Job]], settings: tuple, address: str | None,
                record: Callable[[Job, list[dict], float], None]) -> None:
    """Each job as a Ray task (one CPU each), cut for the cluster's CPUs, recorded as soon as it
    finishes."""
    try:
        import ray
    except ImportError:
        raise RuntimeError("the ray backend needs Ray: pip install 'graintrain[ray]'") from None
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no phoning home from a study
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        task = ray.remote(num_cpus=1)(run_job)
        pending = {task.remote(job, *settings): job
                   for job in plan_for(max(1, int(ray.cluster_resources().get("CPU", 1))))}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            record(pending.pop(ready[0]), *ray.get(ready[0]))
    finally:
        if started_here:
            ray.shutdown()

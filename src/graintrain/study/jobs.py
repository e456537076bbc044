"""The study's jobs: cells and stacks cut to similar sizes and handed out longest first.

A study of W workers finishes no sooner than its longest job, and no sooner than the total work
over W. Cutting every job to at most 1/(2W) of the total keeps the first bound under half the
second; handing the longest out first keeps a long job from starting last and running alone.
How the study is cut changes no number: a cell's runs are seeded each on their own, and a stacked
model gets the same bits whichever models share its stack (stacked.py).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

from .grid import STACK_CHUNK, StudyConfig, cell_runs

STACKED = "attention-blended"  # the plain recipe, trained stacked, all seeds of one K together
ONE_BY_ONE = ("attention", "mlp-1", "mlp-2")  # the rest of a cell, trained one after another

# Rough seconds on one core, fitted to the job times benchmarks/study_scaling.py printed on the
# machine the README names. They only size and order the jobs: wrong, they cost time, not numbers.
RUN_SECONDS = {"attention": (0.05, 0.01), "mlp-1": (0.0, 0.085), "mlp-2": (0.0, 0.045)}  # a + b·K
STACK_STEP_SECONDS = 3.5e-4  # one Adam step of a stack, however small: Python and kernel launches
STACK_FLOAT_SECONDS = 4e-9  # and per model, expert and point in that step


@dataclass(frozen=True)
class Job:
    """Some runs of one K: one seed's runs from ONE_BY_ONE, or STACKED over several seeds."""

    k: int
    seeds: tuple[int, ...]
    models: tuple[str, ...]
    seconds: float  # estimated, on one core

    def label(self) -> str:
        seeds = f"seed {self.seeds[0]}" if len(self.seeds) == 1 else f"seeds {self.seeds[0]}-{self.seeds[-1]}"
        what = f"{len(self.seeds)} stacked" if self.models == (STACKED,) else "+".join(self.models)
        return f"K={self.k} {seeds}: {what}"


def estimate(k: int, seeds: tuple[int, ...], models: tuple[str, ...], config: StudyConfig) -> float:
    """Rough seconds on one core for these runs (see RUN_SECONDS)."""
    if models == (STACKED,):
        steps = cell_runs(k, 0, config.noise, config.points)[STACKED].plan.recipe.per_start
        blocks = [min(STACK_CHUNK, len(seeds) - i) for i in range(0, len(seeds), STACK_CHUNK)]
        return sum(steps * (STACK_STEP_SECONDS + STACK_FLOAT_SECONDS * m * k * config.points) for m in blocks)
    return len(seeds) * sum(RUN_SECONDS[m][0] + RUN_SECONDS[m][1] * k for m in models)


def plan(config: StudyConfig, done: set[tuple[int, int, str]], workers: int) -> list[Job]:
    """Every run not in ``done`` (K, seed, model), as jobs of at most about 1/(2·workers) of the
    total, longest first."""
    whole = [Job(k, (s,), names, estimate(k, (s,), names, config))
             for k in config.lines for s in range(config.seeds)
             if (names := tuple(m for m in ONE_BY_ONE if (k, s, m) not in done))]
    whole += [Job(k, seeds, (STACKED,), estimate(k, seeds, (STACKED,), config)) for k in config.lines
              if (seeds := tuple(s for s in range(config.seeds) if (k, s, STACKED) not in done))]
    limit = sum(j.seconds for j in whole) / (2 * workers)
    jobs = [part for job in whole for part in _cut(job, limit, config)]
    return sorted(jobs, key=lambda j: -j.seconds)  # stable: equal estimates keep the grid's order


def _cut(job: Job, limit: float, config: StudyConfig) -> list[Job]:
    """The job in the fewest parts of at most ``limit`` seconds each, or as near as it goes."""
    if job.seconds <= limit:
        return [job]
    if job.models != (STACKED,):  # a cell: one job per run
        return [Job(job.k, job.seeds, (m,), estimate(job.k, job.seeds, (m,), config)) for m in job.models]
    n = len(job.seeds)
    # A stack's per-step overhead does not shrink with it: no part can be shorter than one model's
    # stack, and parts near that length would mostly repeat the overhead, so they stop at twice it.
    target = max(limit, 2 * estimate(job.k, job.seeds[:1], job.models, config))
    parts = next(p for p in range(1, n + 1)
                 if p == n or estimate(job.k, job.seeds[:math.ceil(n / p)], job.models, config) <= target)
    bounds = [round(i * n / parts) for i in range(parts + 1)]  # sizes differ by one at most
    return [Job(job.k, seeds, job.models, estimate(job.k, seeds, job.models, config))
            for a, b in zip(bounds, bounds[1:]) if (seeds := job.seeds[a:b])]


def makespan(seconds: list[float], workers: int) -> float:
    """When the last of these jobs ends, each handed in this order to the first worker free."""
    free = [0.0] * workers
    for s in seconds:
        heapq.heappush(free, heapq.heappop(free) + s)
    return max(free)

"""How busy the article's training pool keeps each process, and what a run costs beside another.

Run: .venv/bin/python benchmarks/article_pool.py   (trains every article run into a fresh cache)

The article's runs train as `graintrain serve` trains them (article/build.py's pool, one process per
core, in reading order), each logged with its process and its start and end. It prints the pool's
wall time, each process's busy time, and the slowest runs; then it trains those runs again alone in
this process, one after another, and prints each beside its time in the pool. A run that took much
longer in the pool than alone shared the machine's cores with another: two processes then do not
give twice the work of one.
"""

import json
import os
import tempfile
import time
from pathlib import Path

import torch

LOG = "GRAINTRAIN_POOL_LOG"  # the environment variable naming the log: pool processes inherit it


def logged(folder: Path, run) -> None:
    """In a pool process: train_into, with the run's start and end appended to the log."""
    from graintrain.cache import Cache
    torch.set_num_threads(1)
    began = time.time()
    Cache(folder).get(run)
    with open(os.environ[LOG], "a") as log:
        log.write(json.dumps([os.getpid(), began, time.time(), run.model, run.dataset, run.key()]) + "\n")


def main() -> None:
    from graintrain.article import build
    from graintrain.article.figures import FIGURES
    from graintrain.cache import Cache
    from graintrain.runs import Run

    runs = list(dict.fromkeys(r for name in build._reading_order() for r in FIGURES[name].runs
                              if isinstance(r, Run)))
    build.train_into = logged  # the pool trains through this module's name for it
    log = Path(tempfile.mkdtemp()) / "runs.jsonl"
    os.environ[LOG] = str(log)
    began = time.time()
    for _ in build._train_in_pool(Cache(Path(tempfile.mkdtemp())), runs, os.cpu_count() or 1):
        pass
    wall = time.time() - began
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    print(f"{len(rows)} runs on {os.cpu_count()} processes: {wall:.1f} s wall")
    for pid in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == pid]
        print(f"  process {pid}: {len(mine)} runs, busy {sum(r[2] - r[1] for r in mine):.1f} s")
    slowest = sorted(rows, key=lambda r: r[1] - r[2])[:5]
    torch.set_num_threads(1)
    by_key = {r.key(): r for r in runs}
    print(f"{'run':40} {'in the pool':>11} {'alone':>7} {'ratio':>6}")
    for row in slowest:
        run = by_key[row[5]]
        start = time.perf_counter()
        run.fit()
        alone = time.perf_counter() - start
        pooled = row[2] - row[1]
        print(f"{run.model + ' on ' + run.dataset:40} {pooled:10.2f}s {alone:6.2f}s {pooled / alone:5.2f}x")


if __name__ == "__main__":
    main()

"""How busy the article's training pool keeps each process, and what a run costs beside another.

Run: .venv/bin/python benchmarks/article_pool.py [--serial]   (trains the whole article into a fresh cache)

The article trains as `graintrain serve` trains it (article/build.py: one pool, one process per
core, its runs and its study's jobs in reading order), with each piece of work logged with its
process, start and end. It prints the wall time until every figure is built, each process's busy
time, the time spent on each model (a study's jobs by what they train), and the slowest pieces;
then it trains those again alone in this process and prints each beside its time in the pool. A
piece that took much longer in the pool than alone shared the machine's cores with another: two
processes then do not give twice the work of one. With --serial it then builds the whole article
again, into another fresh cache, in this one process (no pool), and prints how much faster the pool
was: the most any schedule of this work could gain from the machine's cores.
"""

import collections
import json
import os
import tempfile
import time
from pathlib import Path

import torch

LOG = "GRAINTRAIN_POOL_LOG"  # the environment variable naming the log: pool processes inherit it


def _label(task) -> str:
    from graintrain.runs import Run
    if isinstance(task, Run):
        return task.model
    return "study: " + "+".join(task[1].models)


def logged(folder: Path, task):
    """In a pool process: build._work, with the piece's start and end appended to the log."""
    from graintrain.article import build
    torch.set_num_threads(1)
    began = time.time()
    result = build._work(folder, task)  # in this process, build._work is still the original
    with open(os.environ[LOG], "a") as log:
        key = task.key() if hasattr(task, "key") else None
        log.write(json.dumps([os.getpid(), began, time.time(), _label(task), key]) + "\n")
    return result


def main(serial: bool = False) -> None:
    from graintrain.article import build
    from graintrain.cache import Cache

    torch.set_num_threads(1)  # as graintrain serve sets it: this process builds the figures
    original = build._work
    build._work = logged  # the pool hands its work to this module's function by build's name for it
    log = Path(tempfile.mkdtemp()) / "runs.jsonl"
    os.environ[LOG] = str(log)
    began = time.time()
    build.build_figures(Cache(Path(tempfile.mkdtemp())))
    wall = time.time() - began
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    print(f"{len(rows)} pieces of work on {os.cpu_count()} processes: every figure built after {wall:.1f} s")
    for pid in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == pid]
        print(f"  process {pid}: {len(mine)} pieces, busy {sum(r[2] - r[1] for r in mine):.1f} s, "
              f"its last ended at {max(r[2] for r in mine) - began:.1f} s")
    by_kind = collections.defaultdict(lambda: [0, 0.0])
    for r in rows:
        by_kind[r[3]][0] += 1
        by_kind[r[3]][1] += r[2] - r[1]
    print(f"{'what':40} {'pieces':>6} {'seconds in the pool':>20}")
    for kind, (n, seconds) in sorted(by_kind.items(), key=lambda kv: -kv[1][1]):
        print(f"{kind:40} {n:6d} {seconds:19.1f}s")
    from graintrain.article.figures import FIGURES
    by_key = {r.key(): r for f in FIGURES.values() for r in f.runs if hasattr(r, "key") and hasattr(r, "fit")}
    torch.set_num_threads(1)
    print(f"{'slowest runs':40} {'in the pool':>11} {'alone':>7} {'ratio':>6}")
    for row in sorted((r for r in rows if r[4] in by_key), key=lambda r: r[1] - r[2])[:4]:
        run = by_key[row[4]]
        start = time.perf_counter()
        run.fit()
        alone = time.perf_counter() - start
        pooled = row[2] - row[1]
        print(f"{run.model + ' on ' + run.dataset:40} {pooled:10.2f}s {alone:6.2f}s {pooled / alone:5.2f}x")


    if serial:
        build._work = original
        began = time.time()
        build.build_figures(Cache(Path(tempfile.mkdtemp())), workers=1)
        alone = time.time() - began
        print(f"the same build in one process: {alone:.1f} s; the pool of {os.cpu_count()} was "
              f"{alone / wall:.2f}x faster")


if __name__ == "__main__":
    import sys
    main(serial="--serial" in sys.argv[1:])

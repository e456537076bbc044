"""How far the study's jobs let it scale over cores, and how it scales on the cores here.

Run: PYTHONPATH=src .venv/bin/python benchmarks/study_scaling.py [--workers 1,2]
     [--lines 2,5 --seeds 3 --points 300: a smaller study]  (goal: the jobs allow ≥ 12× on 16 workers)

First every job of the study, cut as the study cuts it for the most workers projected (16), runs
one after another in this process, timed. From those times: the total work, the critical path
(the longest job), and for 2, 4, 8 and 16 workers the makespan of handing the jobs out longest
first to whichever worker is free, and total / makespan, the best speed-up those jobs allow
(process start-up and the parent's bookkeeping left out); also in the order the study hands them
out (by its estimates), and from CPU times, which other programs on the machine disturb less. Then the study runs
for real with each number of workers asked, in fresh folders, and its wall time is compared with
one worker's, measured in the same run; every run must give the same rows. Last, the time of
what `graintrain study` does after training, in one process whatever the workers: the summary,
the report and the figures.
"""

import argparse
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from graintrain.study import StudyConfig, makespan, plan, run_job, run_study, summarise, write_outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    full = StudyConfig()  # the full study, as `graintrain study` runs it
    parser.add_argument("--lines", default=",".join(map(str, full.lines)), help="K values (default: the full study's)")
    parser.add_argument("--seeds", type=int, default=full.seeds, help="switchboards per K")
    parser.add_argument("--points", type=int, default=full.points, help="training points per switchboard")
    parser.add_argument("--workers", default="1,2", help="worker counts to run the study with (default 1,2)")
    parser.add_argument("--project", default="2,4,8,16", help="worker counts to project the measured jobs onto")
    args = parser.parse_args()
    config = replace(full, lines=tuple(map(int, args.lines.split(","))), seeds=args.seeds, points=args.points)
    projected = [int(w) for w in args.project.split(",")]
    workers = sorted({1, *(int(w) for w in args.workers.split(","))})
    print(f"{os.cpu_count()} cores here; study K = {config.lines}, {config.seeds} seeds, {config.points} points")

    torch.set_num_threads(1)  # as in a worker
    jobs = plan(config, set(), max(projected))
    print(f"\n{len(jobs)} jobs, cut for {max(projected)} workers, run one after another:")
    print(f"{'job':42} {'estimate s':>10} {'wall s':>7} {'CPU s':>6}")
    walls, cpus = [], []
    for job in jobs:
        cpu = time.process_time()
        _, took = run_job(job, config.noise, config.points, dict(config.shape))
        walls.append(took)
        cpus.append(time.process_time() - cpu)
        print(f"{job.label():42} {job.seconds:10.2f} {took:7.2f} {cpus[-1]:6.2f}", flush=True)
    total, longest = sum(walls), max(walls)
    print(f"\ntotal work {total:.1f} s ({sum(cpus):.1f} s of CPU); critical path (longest job) {longest:.2f} s "
          f"= 1/{total / longest:.0f} of the total; the estimates summed to {sum(j.seconds for j in jobs):.1f} s")
    # Longest first by the measured times is the best this list scheduling can do with these jobs;
    # the study hands them out longest first by its estimates; CPU times show how much of it
    # was other programs taking this machine's cores.
    print(f"{'workers':>7} {'longest first':>20} {'in the study order':>20} {'by CPU time':>12}")
    for w in projected:
        best, study = makespan(sorted(walls, reverse=True), w), makespan(walls, w)
        print(f"{w:7d} {best:9.2f} s {total / best:8.1f}× {study:9.2f} s {total / study:8.1f}× "
              f"{sum(cpus) / makespan(sorted(cpus, reverse=True), w):11.1f}×")

    print("\nthe study itself (run_study, training only), each in a fresh folder:")
    print(f"{'workers':>7} {'wall s':>8} {'speed-up':>8}")
    study_walls, numbers = {}, set()
    with tempfile.TemporaryDirectory() as tmp:
        for w in workers:
            began = time.perf_counter()
            rows = run_study(replace(config, workers=w, out=Path(tmp) / f"w{w}"))
            study_walls[w] = time.perf_counter() - began
            numbers.add(repr(sorted(sorted((k, v) for k, v in r.items() if k != "seconds") for r in rows)))
            print(f"{w:7d} {study_walls[w]:8.1f} {study_walls[1] / study_walls[w]:7.2f}×", flush=True)
        print("every worker count gave the same rows" if len(numbers) == 1 else "ROWS DIFFER between worker counts")
        began = time.perf_counter()
        write_outputs(replace(config, out=Path(tmp) / "w1"), rows, summarise(rows))
        print(f"then the summary, report and figures: {time.perf_counter() - began:.1f} s in one process")


if __name__ == "__main__":
    main()

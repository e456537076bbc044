"""Does the lab scale with cores? Two jobs at once against one, on a fresh server on loopback.

Run: .venv/bin/python benchmarks/lab_concurrency.py [--rounds 5] [--steps 3000] [--model attention]
     [--optimizer adam]   (goal: two jobs at once within 1.2× the time of one)

It first waits until the server has every figure of the article (on a cold cache it trains them,
which would compete) and trains two small jobs at once, so that both worker processes are warm.
Then each round times one job, from Train to its last event, and two started together until both
have ended. In the same rounds it times the same run trained without the server, once in two
processes of a pool (what this machine allows at best) and once in two threads of one process
(the way the lab trained before it had worker processes), so that each ratio can be read against
the others: a machine whose cores are busy with other work shows it in all three.
"""

import argparse
import json
import multiprocessing
import os
import statistics
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import httpx
from _server import running_server

SMALL = {"model": "attention", "dataset": "three-grains"}


def train(url: str, settings: dict, ends: list) -> None:
    """Press Train and read the job's stream to its last event, as its page would."""
    with httpx.Client(base_url=url, timeout=120) as client:
        job = client.post("/api/jobs", json=settings).json()
        with client.stream("GET", job["events"]) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    event = json.loads(line[6:])
                    if event["type"] in ("done", "error", "stopped"):
                        ends.append(event["type"])
                        return


def fit(settings: dict) -> float:
    """Train the run here, on one thread, as a worker does; the CPU seconds it took."""
    import torch
    from graintrain.web.run_settings import JobSettings
    torch.set_num_threads(1)
    began = time.thread_time()
    JobSettings(**settings).fit()
    return time.thread_time() - began


def at_once(count: int, run, *args) -> float:
    """Seconds until ``count`` calls of ``run`` started together have all returned."""
    threads = [threading.Thread(target=run, args=args) for _ in range(count)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - began


def figures_ready(url: str) -> float:
    """Wait until the server has built every figure; the seconds it took."""
    from graintrain.article.figures import FIGURES
    began, waiting = time.perf_counter(), list(FIGURES)
    while waiting:
        waiting = [n for n in waiting if not httpx.get(f"{url}/api/figures/{n}").json()["ready"]]
        time.sleep(0.5 if waiting else 0)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--model", default="attention")
    parser.add_argument("--optimizer", help="default: the model's own")
    args = parser.parse_args()
    settings = {"model": args.model, "dataset": "switchboard", "steps": args.steps}  # pace: fast, the default
    settings |= {"optimizer": args.optimizer} if args.optimizer else {}
    ends: list[str] = []
    times: dict[str, tuple[list, list]] = {name: ([], []) for name in ("lab", "processes", "threads")}
    with running_server() as url, ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        print(f"every figure ready after {figures_ready(url):.1f} s")
        began = time.perf_counter()
        at_once(2, train, url, SMALL, ends)
        list(pool.map(fit, [SMALL] * 2))
        print(f"two small jobs at once, and the pool warm: {time.perf_counter() - began:.2f} s")
        cpu: tuple[list, list] = ([], [])  # a bare process's CPU seconds per fit: alone, beside another
        runs = {"lab": lambda count: train(url, settings, ends),
                "processes": lambda count: cpu[count - 1].append(pool.submit(fit, settings).result()),
                "threads": lambda count: fit(settings)}
        for _ in range(args.rounds):
            for name, run in runs.items():
                for count in (1, 2):
                    times[name][count - 1].append(at_once(count, run, count))
    assert set(ends) == {"done"}, ends
    print(f"{os.cpu_count()} cores, {settings}, {args.rounds} rounds, medians:")
    for name, (one, two) in times.items():
        ratio = statistics.median(two) / statistics.median(one)
        print(f"  {name:9}  one {statistics.median(one):.2f} s, two at once {statistics.median(two):.2f} s: "
              f"{ratio:.2f}×   (each round: {', '.join(f'{a:.2f}/{b:.2f}' for a, b in zip(one, two))})")
    print(f"  a fit's CPU time in a bare process: {statistics.median(cpu[0]):.2f} s alone, "
          f"{statistics.median(cpu[1]):.2f} s beside another (cores that slow each other show here)")
    print("goal: the lab's ratio ≤ 1.2×; 'processes' is the same fit in a bare pool of two processes, "
          "'threads' in two threads of this one")
    print(f"command: .venv/bin/python benchmarks/lab_concurrency.py --rounds {args.rounds} --steps {args.steps} "
          f"--model {args.model}" + (f" --optimizer {args.optimizer}" if args.optimizer else ""))


if __name__ == "__main__":
    main()

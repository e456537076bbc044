"""Time from pressing Train (POST /api/jobs) to the first streamed training update.

Run: .venv/bin/python benchmarks/lab_first_update.py [--runs 20]   (goal: median ≤ 150 ms)
"""

import argparse
import json
import statistics
import time

import httpx
from _server import running_server

SETTINGS = {"model": "attention", "dataset": "three-grains"}


def first_update(client: httpx.Client) -> float:
    began = time.perf_counter()
    job = client.post("/api/jobs", json=SETTINGS).json()
    with client.stream("GET", job["events"]) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: ") and json.loads(line[6:])["type"] == "progress":
                took = time.perf_counter() - began
                break
    client.delete(f"/api/jobs/{job['id']}", params={"token": job["token"]})
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    with running_server() as url, httpx.Client(base_url=url, timeout=30) as client:
        time.sleep(2)  # let the server finish its background import of torch._dynamo
        first_update(client)  # warm-up
        times = sorted(first_update(client) for _ in range(runs))
    median = statistics.median(times)
    print(f"Train -> first update, {runs} runs of {SETTINGS}: median {1000 * median:.0f} ms, "
          f"min {1000 * times[0]:.0f} ms, max {1000 * times[-1]:.0f} ms "
          f"({'within' if median <= 0.15 else 'over'} the 150 ms goal)")
    print("command: .venv/bin/python benchmarks/lab_first_update.py --runs", runs)


if __name__ == "__main__":
    main()

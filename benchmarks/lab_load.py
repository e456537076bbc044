"""A bounded load test of the lab on loopback: many clients training at once for a fixed time.

Run: .venv/bin/python benchmarks/lab_load.py [--clients 50] [--seconds 60]

Each client repeatedly presses Train on a default run and reads the stream to its end. It counts
jobs finished, refusals (429: the queue is full, which is the server protecting itself), errors of
any other kind, and the time from Train to the first update (p50 and p95). Every request goes to
127.0.0.1 and the test stops by itself.
"""

import argparse
import asyncio
import json
import statistics
import time

import httpx
from _server import running_server

SETTINGS = {"model": "sigma-pi", "dataset": "bran"}


async def client_loop(url: str, until: float, stats: dict) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        while time.monotonic() < until:
            began = time.perf_counter()
            try:
                response = await client.post("/api/jobs", json=SETTINGS)
                if response.status_code == 429:
                    stats["refused"] += 1
                    await asyncio.sleep(0.2)
                    continue
                response.raise_for_status()
                first = None
                async with client.stream("GET", response.json()["events"]) as stream:  # as its owner
                    async for line in stream.aiter_lines():
                        if not line.startswith("data: "):
                            continue
                        event = json.loads(line[6:])
                        if event["type"] == "progress" and first is None:
                            first = time.perf_counter() - began
                        if event["type"] in ("done", "error", "stopped"):
                            break
                if event["type"] == "done":
                    stats["done"] += 1
                    stats["first"].append(first if first is not None else time.perf_counter() - began)
                else:
                    stats["errors"] += 1
            except httpx.HTTPError:
                stats["errors"] += 1


async def load(url: str, clients: int, seconds: float) -> dict:
    stats = {"done": 0, "refused": 0, "errors": 0, "first": []}
    until = time.monotonic() + seconds
    await asyncio.gather(*(client_loop(url, until, stats) for _ in range(clients)))
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    with running_server() as url:
        time.sleep(2)
        stats = asyncio.run(load(url, args.clients, args.seconds))
    first = sorted(stats["first"])
    p = lambda q: 1000 * first[min(len(first) - 1, int(q * len(first)))] if first else float("nan")
    print(f"{args.clients} clients for {args.seconds:g} s on loopback: {stats['done']} jobs done, "
          f"{stats['refused']} refused with 429 (queue full), {stats['errors']} errors")
    print(f"Train -> first update: p50 {p(0.5):.0f} ms, p95 {p(0.95):.0f} ms"
          + (f", median {1000 * statistics.median(first):.0f} ms" if first else ""))
    print(f"command: .venv/bin/python benchmarks/lab_load.py --clients {args.clients} --seconds {args.seconds:g}")


if __name__ == "__main__":
    main()

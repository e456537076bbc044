"""How long `graintrain serve` takes to stop on SIGTERM with lab jobs open (goal: under 2 s).

Each repeat starts a fresh server, queues one more long job than it has training processes,
watches every job's event stream, and sends SIGTERM to the server's process group once the first
job trains. It prints the seconds from the signal to the server's exit. `--busy K` keeps K other
processes spinning meanwhile, as a CI machine running two test workers does.

Run: .venv/bin/python benchmarks/serve_stop.py [--repeat 3] [--busy 2]
"""

import argparse
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

LONG = {"model": "mlp", "dataset": "switchboard", "hidden": [64, 64], "optimizer": "adam", "steps": 20_000}


def _spin() -> None:
    while True:
        pass


def _follow(client: httpx.Client, job: str) -> None:
    try:
        with client.stream("GET", f"/api/jobs/{job}/events") as stream:
            for _ in stream.iter_lines():
                pass
    except httpx.HTTPError:  # the server went away mid-stream
        pass


def stop_seconds(cache: str) -> float:
    """Seconds from SIGTERM to exit for one fresh server with its lab busy and watched."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("graintrain")
    server = subprocess.Popen([str(exe), "serve", "--port", str(port), "--cache", cache],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        deadline = time.monotonic() + 180
        while True:
            try:
                client.get("/api/registry")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not answer within 180 s") from None
                time.sleep(0.1)
        jobs = [client.post("/api/jobs", json=LONG).json()["id"] for _ in range((os.cpu_count() or 1) + 1)]
        for job in jobs:
            threading.Thread(target=_follow, args=(client, job), daemon=True).start()
        while client.get(f"/api/jobs/{jobs[0]}").json()["status"] != "running":
            time.sleep(0.1)
        os.killpg(server.pid, signal.SIGTERM)
        began = time.monotonic()
        server.wait(timeout=60)
        return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh servers to stop (default 3)")
    parser.add_argument("--busy", type=int, default=0, help="processes kept spinning meanwhile (default 0)")
    args = parser.parse_args()
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.busy)]
    for spinner in spinners:
        spinner.start()
    try:
        with tempfile.TemporaryDirectory() as cache:
            took = [stop_seconds(cache) for _ in range(args.repeat)]
    finally:
        for spinner in spinners:
            spinner.kill()
    print(f"serve stopped in {', '.join(f'{t:.2f}' for t in took)} s (slowest {max(took):.2f} s; goal < 2 s)")


if __name__ == "__main__":
    main()

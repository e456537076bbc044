"""Time from `graintrain serve` to its first answered page, cold (empty cache) and warm.

Run: .venv/bin/python benchmarks/startup.py   (goal: a warm start answers within 3 s)
"""

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

EXE = Path(sys.executable).with_name("graintrain")


def first_answer(cache: str) -> float:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    began = time.perf_counter()
    server = subprocess.Popen([str(EXE), "serve", "--port", str(port), "--cache", cache],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if server.poll() is not None:
                raise SystemExit(f"the server exited with status {server.returncode}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=1).read()
                return time.perf_counter() - began
            except OSError:
                if time.perf_counter() - began > 120:
                    raise SystemExit("no answer within 120 s")
                time.sleep(0.05)
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        cold = first_answer(cache)
        warm = [first_answer(cache) for _ in range(3)]
    print(f"cold start (trains every model): {cold:6.2f} s")
    print(f"warm start, median of 3:         {sorted(warm)[1]:6.2f} s   "
          f"({'within' if sorted(warm)[1] <= 3 else 'over'} the 3 s goal)")


if __name__ == "__main__":
    main()

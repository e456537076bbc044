"""Time from `graintrain serve` to its first answered page and to every figure ready, on an empty
cache (the article trains behind the server) and on a warm one, beside `import torch` timed in
the same run.

Run: .venv/bin/python benchmarks/startup.py   (goals: the first page within 3 s even on an empty
cache; every figure ready within 20 s on an empty cache)
"""

import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from graintrain.article.figures import FIGURES

EXE = Path(sys.executable).with_name("graintrain")


def _get(url: str):
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.read()


def serve(cache: str) -> tuple[float, float]:
    """Seconds until the contents page answers, and until the server says every figure is ready."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    began = time.perf_counter()
    server = subprocess.Popen([str(EXE), "serve", "--port", str(port), "--cache", cache],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = None
    try:
        waiting = list(FIGURES)
        while waiting:
            if server.poll() is not None:
                raise SystemExit(f"the server exited with status {server.returncode}")
            if time.perf_counter() - began > 600:
                raise SystemExit(f"not ready within 600 s: {waiting}")
            try:
                if first is None:
                    _get(f"{base}/index.html")
                    first = time.perf_counter() - began
                waiting = [n for n in waiting if not json.loads(_get(f"{base}/api/figures/{n}"))["ready"]]
            except OSError:
                pass
            time.sleep(0.05 if first is None else 0.5)
        return first, time.perf_counter() - began
    finally:
        server.terminate()
        server.wait()


def import_torch() -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.perf_counter() - began


def main() -> None:
    torch_s = statistics.median(import_torch() for _ in range(3))
    with tempfile.TemporaryDirectory() as cache:
        cold_first, cold_all = serve(cache)
        warm = [serve(cache) for _ in range(3)]
    warm_first = statistics.median(w[0] for w in warm)
    warm_all = statistics.median(w[1] for w in warm)
    print(f"python -c 'import torch' (baseline, median of 3): {torch_s:6.2f} s")
    print(f"empty cache: first page {cold_first:6.2f} s ({cold_first / torch_s:.2f}× the baseline; goal ≤ 3 s), "
          f"every figure ready {cold_all:6.2f} s (goal ≤ 20 s)")
    print(f"warm cache, median of 3: first page {warm_first:6.2f} s ({warm_first / torch_s:.2f}×), "
          f"every figure ready {warm_all:6.2f} s")


if __name__ == "__main__":
    main()

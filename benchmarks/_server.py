"""Start `graintrain serve` on a free loopback port for a benchmark, and stop it afterwards."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


PIDS: dict[str, int] = {}  # base URL -> the server's process id, for benchmarks that read its memory


@contextlib.contextmanager
def running_server(*extra: str, log: Path | None = None, env: dict[str, str] | None = None):
    """Yield the base URL of a fresh `graintrain serve` (its cache as configured in the environment);
    its standard error goes to ``log`` if given, and ``env`` is added to its environment."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("graintrain")
    err = open(log, "w") if log else subprocess.DEVNULL
    server = subprocess.Popen([str(exe), "serve", "--port", str(port), *extra], env=os.environ | (env or {}),
                              stdout=subprocess.DEVNULL, stderr=err)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if server.poll() is not None:
                raise SystemExit(f"the server exited with status {server.returncode}")
            try:
                urllib.request.urlopen(f"{url}/api/registry", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not answer within 180 s")
                time.sleep(0.1)
        PIDS[url] = server.pid
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        if log:
            err.close()

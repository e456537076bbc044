"""The lab as a hostile client meets it, on a fresh `graintrain serve` on loopback.

Sends each case of issue 10 (bodies JSON cannot hold, lone surrogates, awkward CSV files, bodies
over the size limit or never finished, jobs touched without their token, foreign Host names) and
prints case → status → message, then the count of 5xx answers (goal 0). Then it trains maximal
jobs one after another and prints the resident memory of the server and of its training processes
after the first and after the last (goal: within 300 MB).

Then issue 27's cases, on servers of their own: a fresh client's contents page (p95 of 50, each on
a new connection; goal ≤ 1 s) while 2,000 connections are held idle and 200 slowloris clients send
a header byte a second, the server's log lines a second meanwhile (goal ≤ 1), a client that hangs
up mid-body (goal: no traceback), and a server capped at 100 connections under 150 (goal: 503 at once).

Run: .venv/bin/python benchmarks/lab_abuse.py [--jobs 20] [--only siege|bodies] [--idle 2000 --slow 200]
"""

import argparse
import json
import os
import socket
import tempfile
import time
from pathlib import Path

import httpx
from _server import PIDS, running_server
from _siege import Siege, fresh_requests, p95

MAXIMAL = {"model": "mlp", "dataset": "switchboard", "n": 20_000, "hidden": [256, 256, 256, 256],
           "optimizer": "adam", "steps": 3}
LINE = '{"model":"line","dataset":"white",%s}'
CASES = [
    ("lr NaN", LINE % '"lr":NaN'), ("lr Infinity", LINE % '"lr":Infinity'),
    ("noise -Infinity", LINE % '"noise":-Infinity'), ("lr 1e400", LINE % '"lr":1e400'),
    ("seed of 5,000 digits", LINE % f'"seed":{"9" * 5000}'),
    ("hidden nested 1,000 deep", '{"model":"mlp","dataset":"white","hidden":%s}' % ("[" * 1000 + "]" * 1000)),
    ("lone surrogate in model", '{"model":"\\udcff","dataset":"white"}'),
    ("lone surrogate as a key", '{"\\udcff":1,"model":"line","dataset":"white"}'),
    ("mixture objective on a line", LINE % '"objective":"mixture"'),
]
CSVS = [
    ("CSV with CR line ends", "cups,darkness,water\r1,0,2\r2,0,4\r3,0,6\r4,0,8\r"),
    ("CSV with a bare CR in a row", "cups,darkness,water\n1,0\r,2\n2,0,4\n"),
    ("CSV with a 200,000-character cell", "cups,darkness,water\n1,0," + "9" * 200_000 + "\n"),
    ("CSV with a value of 1e308", "cups,darkness,water\n1,0,1e308\n2,0,4\n3,0,6\n4,0,8\n"),
    ("CSV with a byte-order mark", "\ufeffcups,darkness,water\n1,0,2\n2,0,4\n3,0,6\n4,0,8\n"),
]


def raw(url: str, request: bytes, wait: float = 20) -> str:
    """Send bytes as they are; the answer's status line and its body's first characters."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as conn:
        conn.sendall(request)
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and answer.rstrip().endswith(b"}"):
                    break
        except TimeoutError:
            pass
    head, _, body = answer.partition(b"\r\n\r\n")
    return f"{head.split(b' ')[1].decode() if head else '—'} {body[:90].decode(errors='replace')}"


def rss_mb(pid: int) -> float:
    """The process's resident memory in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> list[int]:
    """The ids of the process's children (the server's training processes), from /proc."""
    return [int(k) for task in Path(f"/proc/{pid}/task").iterdir()
            for k in (task / "children").read_text().split()]


def siege(idle: int, slow: int, seconds: float = 25) -> None:
    """Issue 27's cases: held connections, a body cut off, and the connection cap."""
    log = Path(tempfile.mkdtemp()) / "serve.log"
    with running_server(log=log) as url:
        pid = PIDS[url]
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))) as conn:
            conn.sendall(b"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n{\"model\":")
            time.sleep(0.3)  # then hangs up, its body unfinished
        time.sleep(1)
        before, memory_before = log.read_text(errors="replace").count("\n"), rss_mb(pid)
        with Siege(url, idle, slow) as held:
            while held.opened < idle + slow:
                time.sleep(0.1)
            time.sleep(2)  # every connection made, the slow ones a couple of bytes in
            began = time.monotonic()
            answers = fresh_requests(url, 50, spacing=seconds / 50)
            descriptors, memory = len(os.listdir(f"/proc/{pid}/fd")), rss_mb(pid)
            spent = time.monotonic() - began
            lines = log.read_text(errors="replace").count("\n") - before
        text = log.read_text(errors="replace")
    ok = [t for status, t in answers if status == 200]
    print(f"\n{idle:,} idle and {slow} slowloris connections held for {spent:.0f} s "
          f"({held.opened:,} opened, {held.closed:,} closed by the server, {held.refused} refused):")
    print(f"  /index.html on a new connection: {len(ok)} of {len(answers)} answered 200, "
          f"p95 {p95(answers):.3f} s, slowest {max(ok, default=float('nan')):.3f} s (goal: p95 ≤ 1 s)")
    print(f"  the server at the end: {descriptors:,} descriptors open, {memory:.0f} MB resident "
          f"({memory_before:.0f} MB before the siege)")
    print(f"  log: {lines} lines in {spent:.0f} s, {lines / spent:.2f} a second (goal ≤ 1); "
          f"'Too many open files' {text.count('Too many open files')} times, tracebacks "
          f"{text.count('Traceback')} (a client hung up mid-body before the siege; goal 0)")

    cap = 100
    with running_server(log=log, env={"GRAINTRAIN_MAX_CONNECTIONS": str(cap)}) as url:
        time.sleep(1)
        before, began = log.read_text(errors="replace").count("\n"), time.monotonic()
        with Siege(url, cap + 50, 0) as held:
            while held.opened < cap + 50:
                time.sleep(0.1)
            time.sleep(1)
            answers = fresh_requests(url, 20, spacing=0.5)
            spent = time.monotonic() - began
            lines = log.read_text(errors="replace").count("\n") - before
    print(f"a server capped at {cap} connections, {cap + 50} held for {spent:.0f} s ({held.refused:,} "
          f"refused): a new client's answers {sorted({status for status, _ in answers})}, slowest in "
          f"{max(t for _, t in answers):.3f} s (goal: 503 at once); log: {lines} lines, "
          f"{lines / spent:.2f} a second (goal ≤ 1)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20, help="maximal jobs for the memory figure")
    parser.add_argument("--only", choices=("bodies", "siege"), help="run only these cases")
    parser.add_argument("--idle", type=int, default=2000, help="connections held idle in the siege")
    parser.add_argument("--slow", type=int, default=200, help="slowloris connections in the siege")
    args = parser.parse_args()
    if args.only != "bodies":
        siege(args.idle, args.slow)
    if args.only != "siege":
        bodies(args.jobs)


def bodies(jobs: int) -> None:
    """Issue 10's cases, and the memory of maximal jobs one after another."""
    results = []
    with running_server() as url, httpx.Client(base_url=url, timeout=60) as client:
        post = lambda body: client.post("/api/jobs", content=body.encode("utf-8", "surrogatepass"),
                                        headers={"content-type": "application/json"})
        for case, body in CASES:
            results.append((case, post(body)))
        for case, text in CSVS:
            results.append((case, client.post("/api/jobs", json={"model": "line", "dataset": "upload", "csv": text})))
        started = client.post("/api/jobs", json={**MAXIMAL, "steps": 20_000}).json()
        for case, call in (("pause without the token", lambda: client.post(f"/api/jobs/{started['id']}/pause")),
                           ("export with a wrong token", lambda: client.get(f"/api/jobs/{started['id']}/model",
                                                                            params={"token": "guess"})),
                           ("stop with its token", lambda: client.delete(f"/api/jobs/{started['id']}",
                                                                         params={"token": started["token"]})),
                           ("Host: evil.example", lambda: client.get("/", headers={"host": "evil.example"})),
                           ("/docs (a CDN page)", lambda: client.get("/docs"))):
            results.append((case, call()))
        print(f"{'case':38} status  message")
        for case, response in results:
            text = response.text[:90].replace("\n", " ")
            print(f"{case:38} {response.status_code:>6}  {text}")
        chunk = b"x" * 1_000_000
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(5)) + b"0\r\n\r\n"
        head = b"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        raw_cases = [("5 MB chunked body", head + b"Transfer-Encoding: chunked\r\n\r\n" + chunked),
                     ("body promised, never sent", head + b"Content-Length: 1000\r\n\r\n{\"model\":")]
        raw_statuses = []
        for case, request in raw_cases:
            began = time.monotonic()
            answer = raw(url, request)
            raw_statuses.append(answer.split(" ")[0])
            print(f"{case:38} {answer[:100]}  ({time.monotonic() - began:.1f} s)")
        server_errors = sum(r.status_code >= 500 for _, r in results) + sum(s.startswith("5") for s in raw_statuses)
        print(f"\n5xx answers: {server_errors} of {len(results) + len(raw_cases)} (goal 0)")

        pid, memory = PIDS[url], []
        for i in range(jobs):
            job = client.post("/api/jobs", json=MAXIMAL).json()
            with client.stream("GET", job["events"]) as stream:
                for line in stream.iter_lines():
                    if line.startswith("data: ") and json.loads(line[6:])["type"] in ("done", "error", "stopped"):
                        break
            time.sleep(0.5)  # the worker tidies up just after the job's last event
            memory.append((rss_mb(pid), sum(rss_mb(k) for k in children(pid))))
        for name, i in (("the server", 0), ("its training processes together", 1)):
            print(f"resident memory of {name} after {jobs} maximal jobs (n = 20,000, four layers of 256): "
                  f"{memory[0][i]:.0f} MB after the first, {memory[-1][i]:.0f} MB after the last, "
                  f"{memory[-1][i] - memory[0][i]:+.0f} MB (goal: within 300 MB)")


if __name__ == "__main__":
    main()

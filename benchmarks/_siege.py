"""Clients that hold a server's connections, as issue 27 found them: idle ones that never send a
byte, and slowloris ones that send a request's head a byte a second and never finish it. Each is
opened again as soon as the server closes it, so the pressure stays while the siege lasts.

Used by benchmarks/lab_abuse.py (2,000 idle and 200 slow) and tests/test_connections.py (fewer).
"""

from __future__ import annotations

import collections
import resource
import selectors
import socket
import threading
import time
import urllib.error
import urllib.request

HEAD = b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n"
TRICKLE = b"X-a: b\r\n"  # header lines that go on for ever: the blank line never comes
REOPEN_SECONDS = 0.1  # a connection the server let go is opened again this much later


class Siege:
    """``idle`` idle and ``slow`` slowloris connections to ``url``'s server, held by one thread from
    ``with`` to its end; ``opened``, ``closed`` (by the server) and ``refused`` (503) count them."""

    def __init__(self, url: str, idle: int, slow: int, byte_seconds: float = 1.0) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.address, self.byte_seconds = (host, int(port)), byte_seconds
        self.kinds = ["idle"] * idle + ["slow"] * slow
        self.opened = self.closed = self.refused = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._hold, name="siege", daemon=True)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # this side needs a descriptor each too
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    def __enter__(self) -> "Siege":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=10)

    def _open(self, selector, slot: int) -> None:
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(self.address)
        # slot, bytes of the head sent, when the next byte is due
        selector.register(sock, selectors.EVENT_READ, [slot, 0, time.monotonic() + self.byte_seconds])
        self.opened += 1

    def _hold(self) -> None:
        selector = selectors.DefaultSelector()
        for slot in range(len(self.kinds)):
            self._open(selector, slot)
        waiting = collections.deque()  # (when, slot) of connections to open again
        try:
            while not self.stop.is_set():
                lost = {}  # descriptor -> key
                for key, _ in selector.select(timeout=0.05):
                    try:
                        answer = key.fileobj.recv(65536)
                    except OSError:
                        answer = b""
                    self.refused += answer.startswith(b"HTTP/1.1 503")
                    lost[key.fd] = key  # an answer or a close: either way the server let it go
                now = time.monotonic()
                for key in list(selector.get_map().values()):
                    slot, sent, due = key.data
                    if self.kinds[slot] == "slow" and now >= due and key.fd not in lost:
                        stream = HEAD + TRICKLE * (sent // len(TRICKLE) + 1)
                        try:
                            key.fileobj.send(stream[sent:sent + 1])
                            key.data[1:] = [sent + 1, due + self.byte_seconds]
                        except (BlockingIOError, InterruptedError):
                            pass  # still connecting; try again next round
                        except OSError:
                            lost[key.fd] = key
                for key in lost.values():
                    selector.unregister(key.fileobj)
                    key.fileobj.close()
                    self.closed += 1
                    waiting.append((now + REOPEN_SECONDS, key.data[0]))
                while waiting and waiting[0][0] <= now:
                    self._open(selector, waiting.popleft()[1])
        finally:
            for key in list(selector.get_map().values()):
                key.fileobj.close()
            selector.close()


def fresh_requests(url: str, count: int, spacing: float, path: str = "/index.html") -> list[tuple[int, float]]:
    """Status and seconds of each of ``count`` requests, each on a new connection, ``spacing``
    apart; status 0 where no answer came (reset, or nothing within 5 s)."""
    answers = []
    for _ in range(count):
        began = time.monotonic()
        try:
            with urllib.request.urlopen(url + path, timeout=5) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as e:
            status = e.code
        except OSError:
            status = 0
        answers.append((status, time.monotonic() - began))
        time.sleep(max(0.0, spacing - (time.monotonic() - began)))
    return answers


def p95(answers: list[tuple[int, float]]) -> float:
    """The 95th percentile (nearest rank) of the answers' seconds, a status other than 200 counting
    as infinitely slow."""
    ordered = sorted(seconds if status == 200 else float("inf") for status, seconds in answers)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered) + 0.5) - 1)]

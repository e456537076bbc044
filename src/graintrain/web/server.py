"""uvicorn as `graintrain serve` runs it: bounded in the connections it holds, in the time a
request may take to arrive, and in the lines it logs, so that clients that open connections and
hold them (or trickle a request a byte at a time) cannot starve it of file descriptors.

uvicorn alone holds a connection that never sends a request for as long as the client likes, and
its keep-alive timer starts again at every byte received; past its ``limit_concurrency`` it still
accepts the connection and answers 503 only once a request has arrived.
"""

from __future__ import annotations

import logging
import math
import resource
import threading
import time

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .settings import Settings

FD_RESERVE = 256  # descriptors kept back from connections: files read, worker pipes, refusals in flight
BODY_GRACE = 1.0  # the app answers 408 at body_seconds (routers/lab.py); the connection closes this later
REFUSAL = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
           b"connection: close\r\ncontent-length: 40\r\n\r\nthe server is busy; try again in a while")
REFUSAL_LINGER = 1.0  # seconds a refused connection may take to send its request before it is cut


def raise_fd_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit; return the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # macOS reports an infinite hard limit but refuses a soft one above its own cap (10,240 by default).
    for wanted in (hard, 65_536, 10_240) if hard == resource.RLIM_INFINITY else (hard,):
        if soft == resource.RLIM_INFINITY or soft >= wanted:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def connection_cap(wanted: int) -> int:
    """``wanted``, or fewer where the open-file limit would run out first."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return wanted if soft == resource.RLIM_INFINITY else max(1, min(wanted, soft - FD_RESERVE))


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with what it lacks against clients that hold connections: one past
    the cap is answered 503 as it arrives, and a request whose head (or body) has not arrived in
    time has its connection closed. ``server_config`` sets the times for each server."""

    header_seconds = 10.0
    body_seconds = 10.0

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._timer, self._phase, self._refused = None, None, False
        # As uvicorn counts at a request, with this connection included; but here, before the
        # connection can hold anything.
        if len(self.connections) >= self.limit_concurrency:
            self.connections.discard(self)
            self._refuse()
        else:
            self._watch()

    def _refuse(self) -> None:
        self._refused = True
        self.logger.warning("%d connections held, the most allowed; answering 503 to more",
                            len(self.connections))
        self.transport.write(REFUSAL)
        # Closed once its request is read (closing with it unread would reset the connection and
        # lose the 503), or after a second in any case.
        self.loop.call_later(REFUSAL_LINGER, self.transport.abort)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            self.transport.close()
            return
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()  # a kept-alive connection waits for its next request's head

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        super().connection_lost(exc)

    def _watch(self) -> None:
        """Start the clock for the part of a request now awaited: its head, then its body."""
        phase = self.conn.their_state
        if phase is self._phase:
            return  # a byte of a slow head does not restart its clock
        self._phase = phase
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        limit = {h11.IDLE: self.header_seconds, h11.SEND_BODY: self.body_seconds + BODY_GRACE}.get(phase)
        if limit is not None and not self.transport.is_closing():
            self._timer = self.loop.call_later(limit, self._too_slow)

    def _too_slow(self) -> None:
        self._timer = None
        if not self.transport.is_closing():
            self.transport.close()


class OncePerSecond(logging.Filter):
    """Lets one record a second through and holds back the rest, counting them into the next one
    let through: under a flood of refusals or failed accepts the log grows by a line a second.
    With ``one_line``, a record also loses its traceback and all but its first line."""

    def __init__(self, seconds: float = 1.0, one_line: bool = False) -> None:
        super().__init__()
        self.seconds, self.one_line = seconds, one_line
        self.last, self.held, self.lock = -math.inf, 0, threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        with self.lock:
            now = time.monotonic()
            if now - self.last < self.seconds:
                self.held += 1
                return False
            self.last, held, self.held = now, self.held, 0
        message = record.getMessage()
        if self.one_line:
            error = record.exc_info[1] if record.exc_info else None
            message = message.split("\n")[0] + (f": {error}" if error is not None else "")
            record.exc_info = record.exc_text = None
        if held:
            message += f" (and {held} more held back)"
        record.msg, record.args = message, ()
        return True


def limit_log_rate() -> None:
    """At most a line a second from uvicorn's and asyncio's loggers; asyncio's (failed accepts)
    in one line each, as their tracebacks say nothing more."""
    for name, one_line in (("uvicorn.error", False), ("asyncio", True)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, OncePerSecond) for f in logger.filters):
            logger.addFilter(OncePerSecond(one_line=one_line))


def server_config(app, settings: Settings, **extra) -> uvicorn.Config:
    """uvicorn's configuration for the app, with the settings' bounds on what a client may hold.
    Raises the open-file limit first, and caps connections below it."""
    raise_fd_limit()
    cap = connection_cap(settings.max_connections)

    class Protocol(GuardedH11):
        header_seconds, body_seconds = settings.header_seconds, settings.body_seconds

    config = uvicorn.Config(app, host=settings.host, port=settings.port, http=Protocol,
                            limit_concurrency=cap + 1,  # uvicorn counts the connection asking too
                            timeout_keep_alive=settings.keep_alive_seconds,
                            h11_max_incomplete_event_size=settings.max_header,
                            **({"log_level": "warning"} | extra))
    limit_log_rate()  # after uvicorn.Config, which sets up the loggers
    return config

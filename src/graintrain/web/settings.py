"""Settings for the web app, injected into its routers; read from GRAINTRAIN_* environment variables."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field

from ..cache import default_cache_dir
from .run_settings import MAX_UPLOAD


# The bounds on what clients may hold, which a server's owner may want to change without a flag each.
FROM_ENV = ("max_connections", "header_seconds", "keep_alive_seconds", "max_header")


class Settings(BaseModel):
    """Where trained models are cached and where the server listens."""

    cache_dir: Path = Field(default_factory=default_cache_dir)  # trained runs, shared with the CLI
    host: str = "127.0.0.1"  # loopback unless the reader asks to expose it
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)  # jobs training at once, a process each
    queue_limit: int = Field(16, ge=0)  # jobs allowed to wait; past that the lab answers 429
    job_seconds: float = Field(60.0, gt=0)  # a job is stopped after this long
    hang_seconds: float = Field(5.0, gt=0)  # a worker silent this long past its job's end is taken for hung
    max_body: int = Field(MAX_UPLOAD * 3 // 2, ge=1)  # bytes of a request body: room for the largest CSV in JSON
    body_seconds: float = Field(10.0, gt=0)  # a request body must arrive within this long
    heartbeat_seconds: float = Field(15.0, gt=0)  # a quiet event stream sends a comment this often
    # What one client may hold (web/server.py): past max_connections a new one is answered 503 at
    # once (fewer if the open-file limit is lower); a request's head must arrive within
    # header_seconds; an idle kept-alive connection is closed after keep_alive_seconds.
    max_connections: int = Field(4096, ge=1, le=1_000_000)
    header_seconds: float = Field(10.0, gt=0, le=600)
    keep_alive_seconds: int = Field(5, ge=1, le=600)
    max_header: int = Field(16_384, ge=1024, le=1_048_576)  # bytes of a request's head (h11's own limit)

    def trusted_hosts(self) -> list[str]:
        """Host headers the server answers. On loopback only its own names, so that a web page
        elsewhere cannot reach it through DNS rebinding; any, once --host exposes it."""
        loopback = {"127.0.0.1", "localhost", "::1"}
        # A Host header names an IPv6 address in brackets ("[::1]:8000"), as Starlette keeps it.
        return sorted(loopback | {"[::1]"}) if self.host in loopback else ["*"]

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Settings from GRAINTRAIN_HOST, GRAINTRAIN_PORT and GRAINTRAIN_<NAME> for each of
        ``FROM_ENV`` (the cache from GRAINTRAIN_CACHE); checked against their bounds."""
        values = {k: os.environ[f"GRAINTRAIN_{k.upper()}"] for k in ("host", "port", *FROM_ENV)
                  if f"GRAINTRAIN_{k.upper()}" in os.environ}
        return cls(**(values | {k: v for k, v in overrides.items() if v is not None}))

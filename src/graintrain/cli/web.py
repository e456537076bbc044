"""`graintrain serve` and `graintrain build`: the article, live or as static files."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from rich.console import Console

from .args import UsageError, out_folder


class _Server(uvicorn.Server):
    """uvicorn's server, except that the signal that stopped it is not raised again once it has
    stopped. uvicorn raises it again so that a program's own handler runs; SIGTERM has none, so
    serve died there (status 143) before it could say what it keeps. Now SIGTERM, as a service
    manager or ``timeout`` sends it, ends serve as Ctrl+C does."""

    @contextmanager
    def capture_signals(self):
        before = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in before.items():
                signal.signal(sig, handler)

    async def shutdown(self, sockets=None) -> None:
        # uvicorn waits for open responses before the app's own shutdown, and a lab page's event
        # stream stays open while its job trains: stopping serve took 57 s with one page open, and
        # 117 s with a queued job watched. End the jobs first; their streams then close, each
        # with its job's "stopped" event.
        self.config.app.state.jobs.stop_all("the server is shutting down")
        await super().shutdown(sockets)


def run_web(args: argparse.Namespace, out: Console, err: Console) -> int:
    """``serve``: build the article and serve it; ``build``: write it as static files."""
    import socket
    from pydantic import ValidationError
    from ..cache import Cache
    from ..web.settings import Settings
    from ..article.build import build_site, serve_site

    if args.command == "build":
        out_folder(args.out, "the site")
    try:
        settings = Settings.from_env(cache_dir=args.cache, **(
            {"host": args.host, "port": args.port} if args.command == "serve" else {}))
    except ValidationError as e:  # a GRAINTRAIN_* variable out of bounds: say which, no traceback
        first = e.errors()[0]
        raise UsageError(f"GRAINTRAIN_{str(first['loc'][0]).upper()}: {first['msg']}") from None
    if args.command == "serve":  # fail fast, before any training, if the port is taken
        with socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET) as probe:
            # As uvicorn binds: a port still in TIME_WAIT from a server just stopped is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((settings.host, settings.port))
            except OSError as e:
                raise UsageError(f"cannot listen on {settings.host}:{settings.port}: {e.strerror}; "
                                 "choose another with --port") from None
    if args.command == "build":
        site = build_site(Cache(settings.cache_dir), console=err)
        written = site.write(Path(args.out))
        out.print(f"wrote {len(written)} files to {args.out}; serve them with any static file "
                  f"server, e.g. python -m http.server -d {args.out}", highlight=False)
        return 0
    from ..web.main import create_app
    from ..web.server import server_config
    # The server answers at once; the article's models train behind it, and each figure appears
    # on its page when its runs are ready (progress bars here, a placeholder there).
    site, builder = serve_site(Cache(settings.cache_dir), console=err)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    out.print(f"graintrain: the article is at http://{host}:{settings.port}/  (Ctrl+C stops)",
              highlight=False)
    # Bounded in connections, in time to send a request and in log lines (web/server.py).
    _Server(server_config(create_app(settings, site), settings, timeout_graceful_shutdown=1)).run()
    if builder.is_alive():
        # Stopped (Ctrl+C, or SIGTERM) while the article still trains: leave now, not when the
        # training pools have run what they hold (exiting normally waits for them). Every run and
        # study row finished so far is already on disk, each written whole, and the next start
        # goes on from there; the pools' processes end themselves once this one has gone
        # (study.runner._die_with_parent).
        err.print("graintrain: stopped; the article's training goes on at the next start", highlight=False)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0

"""The web app: routers wired in one place, with settings and the built site injected."""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from .. import __version__
from . import errors
from .jobs import JobManager
from .worker import WorkerPool
from .routers import article, lab
from .settings import Settings
from ..assets import PLOTLY_JS
from ..article.site import Site


# Scripts and styles from this server only (Plotly sets styles inline), and no frames of it elsewhere.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
PAGE_HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"}


def _same_site(request: Request) -> bool:
    """Whether a request that changes something comes from this server's own pages (or from no
    page at all: a script or curl sends no Origin)."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return False
    origin = request.headers.get("origin")
    return origin is None or origin.split("://", 1)[-1] == request.headers.get("host")


def create_app(settings: Settings, site: Site, pool: WorkerPool | None = None) -> FastAPI:
    """The graintrain web app for a built site; its lab trains in ``pool`` if given (the tests
    share one), else in worker processes of its own, ended with the server."""
    jobs = JobManager(settings.workers, settings.queue_limit, settings.job_seconds, settings.hang_seconds,
                      pool=pool)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        jobs.start()  # the workers warm up while the server already answers
        yield
        jobs.shutdown()  # no training thread or process outlives the server

    # The interactive docs (/docs, /redoc) load their scripts from a CDN: off. /openapi.json stays.
    app = FastAPI(title="graintrain", version=__version__, lifespan=lifespan, docs_url=None,
                  redoc_url=None)
    app.add_middleware(GZipMiddleware, minimum_size=1000)  # pages, figures' JSON, plotly.js; not streams
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts())
    app.state.settings = settings
    app.state.site = site
    app.state.jobs = jobs
    app.state.previews = threading.BoundedSemaphore(settings.workers)  # previews making data at once

    @app.middleware("http")
    async def same_site_only(request: Request, call_next):
        # A page on another site may send the lab a form or a no-cors fetch, which a browser sends
        # without asking: such a request names its page's origin (or says "cross-site"), and is
        # refused before it can start a job. Pages are never drawn inside another site's frame.
        if request.method not in ("GET", "HEAD", "OPTIONS") and not _same_site(request):
            return JSONResponse({"detail": "a page on another site may not control this server"},
                                status_code=403)
        response = await call_next(request)
        response.headers.update(PAGE_HEADERS)
        return response

    @app.middleware("http")
    async def refuse_huge_bodies(request: Request, call_next):
        # A body that says it is too big is refused before it is read; one that does not say
        # (chunked) is counted as it arrives (routers/lab.py, read_body).
        size = request.headers.get("content-length")
        if size is not None and (not size.isdigit() or int(size) > settings.max_body):
            return JSONResponse({"detail": f"the request body is over {settings.max_body:,} bytes"},
                                status_code=413)
        response = await call_next(request)
        if request.url.path.startswith("/static/") and "cache-control" not in response.headers:
            # Kept an hour, then checked again against the file's ETag: cheap, and never stale for long.
            response.headers["Cache-Control"] = "public, max-age=3600, must-revalidate"
        return response

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:  # shipped inside the plotly package: nothing from a CDN
        return FileResponse(PLOTLY_JS, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    app.mount("/static", StaticFiles(directory=str(resources.files("graintrain.article") / "static")),
              name="static")
    app.include_router(lab.router)

    @app.get("/lab", include_in_schema=False)
    def lab_page(request: Request) -> RedirectResponse:  # a shared link keeps its settings
        return RedirectResponse("lab.html" + (f"?{request.url.query}" if request.url.query else ""))

    app.include_router(article.router)

    errors.install(app, site.page("404.html"))
    return app

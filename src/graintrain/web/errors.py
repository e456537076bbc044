"""Error answers that are always valid JSON, short, and never echo what the client sent.

A 422 names the field and says why, but leaves out the input: it may be huge, not finite (which
JSON cannot carry) or hold lone surrogates (which UTF-8 cannot).
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from ..options import OptionError

MAX_MESSAGE = 300  # characters of one error message
MAX_ERRORS = 20  # errors listed in one answer; a body with 200,000 wrong keys got an 18 MB answer
_AT = re.compile(r"line (\d+) column (\d+)")
_KEY = re.compile(r'"([A-Za-z_][\w]{0,40})"\s*:')


def safe(text: object, limit: int = MAX_MESSAGE) -> str:
    """Text fit to send: lone surrogates escaped, cut to ``limit`` characters."""
    text = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def field_at(body: bytes, message: str) -> str | None:
    """The last JSON key before the place a parse error points at (``line L column C``), if any."""
    where = _AT.search(message)
    if where is None:
        return None
    lines = body.decode("utf-8", "replace").split("\n")
    line, column = int(where.group(1)), int(where.group(2))
    before = "\n".join(lines[:line - 1] + [lines[line - 1][:column]]) if line <= len(lines) else ""
    keys = _KEY.findall(before)
    return keys[-1] if keys else None


def plain(errors: list[dict], body: bytes = b"") -> list[dict]:
    """Pydantic's errors as the API answers them: where (with the field a JSON parse error stopped
    in), what is wrong, and its kind; never the input."""
    out = []
    for e in errors:
        loc = [p if isinstance(p, int) else safe(p, 60) for p in e.get("loc", ())]
        msg = e.get("msg", "")
        if e.get("type") == "json_invalid" and (key := field_at(body, str(msg))):
            loc.append(key)
        if isinstance(cause := (e.get("ctx") or {}).get("error"), OptionError):  # a run's check names its setting
            loc, msg = [*loc, cause.name], cause.complaint  # the page shows "lr: must be above 0 ..."
        out.append({"loc": loc, "msg": safe(msg), "type": safe(e.get("type", ""), 60)})
        if len(out) == MAX_ERRORS and len(errors) > MAX_ERRORS:
            out.append({"loc": [], "msg": f"and {len(errors) - MAX_ERRORS:,} more errors like these",
                        "type": "too_many_errors"})
            break
    return out


def install(app: FastAPI, not_found_page: str) -> None:
    """Answer validation errors with 422 and HTTP errors with their status, both in plain JSON; a
    page that is not there gets the site's 404 page; a client that hung up mid-body, nothing."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": plain(exc.errors(), getattr(exc, "raw", b""))}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404 and not request.url.path.startswith("/api/"):
            return HTMLResponse(not_found_page, status_code=404)
        detail = exc.detail if isinstance(exc.detail, list) else safe(exc.detail)
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(ClientDisconnect)
    async def client_left(request: Request, exc: ClientDisconnect) -> Response:
        # No one is left to read an answer; without this handler the log gets a traceback.
        return Response(status_code=400)

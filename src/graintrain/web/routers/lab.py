"""The lab's API: start a job, stream its progress, pause, resume, stop, and export its model."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
from typing import Literal

import secrets
import time

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ValidationError

from ...events import EXPORTABLE, FINAL
from ...lab import registry as lab_registry
from ..presets import PRESETS
from ..jobs import Job, JobManager, JobSettings, QueueFull, points, state_dict_bytes, state_dict_json

router = APIRouter(prefix="/api", tags=["lab"])
POLL_SECONDS = 0.02  # how often the stream looks for new events
PREVIEW_POINTS = 2000  # a preview of more points shows a sample of this many, made the same way


def get_jobs(request: Request) -> JobManager:
    """The app's job manager."""
    return request.app.state.jobs


def get_job(job_id: str, jobs: JobManager = Depends(get_jobs)) -> Job:
    """The job named in the path; anyone may read its state and watch its progress."""
    job = jobs.get(job_id)
    if job is None:
        raise HTTPException(status_code=404, detail=f"no job {job_id[:40]!r}: a finished job is kept for "
                                                    f"{jobs.keep_seconds / 60:g} minutes, and none past a restart")
    return job


def owned_job(token: str = "", job: Job = Depends(get_job)) -> Job:
    """The job, for the page that started it: control and export need the token it was given."""
    if not secrets.compare_digest(token.encode("utf-8", "replace"), job.token.encode()):
        raise HTTPException(status_code=403, detail="this job belongs to the page that started it; "
                                                    "pass its token to control or export it")
    return job


async def read_body(request: Request) -> bytes:
    """The request body, refused past the size limit (413) or the time limit (408), chunked or not."""
    settings = request.app.state.settings
    chunks, size = [], 0

    async def collect() -> None:
        nonlocal size
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_body:
                raise HTTPException(status_code=413,
                                    detail=f"the request body is over {settings.max_body:,} bytes")
            chunks.append(chunk)
    try:
        await asyncio.wait_for(collect(), timeout=settings.body_seconds)
    except TimeoutError:
        raise HTTPException(status_code=408, detail="the request body did not arrive within "
                                                    f"{settings.body_seconds:g} s") from None
    return b"".join(chunks)


def _finite(value):
    """The value with every number JSON cannot carry (NaN, ±inf) as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _json(event: dict) -> str:
    """An event as strict JSON, which the page's JSON.parse accepts."""
    try:
        return json.dumps(event, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a loss or a score that is not finite
        return json.dumps(_finite(event), separators=(",", ":"))


@router.get("/registry")
def registry() -> dict:
    """The models and datasets the lab offers and every setting of a run, straight from the registries."""
    return lab_registry([p.schema() for p in PRESETS])


SETTINGS_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": JobSettings.model_json_schema()}}}}


async def read_settings(request: Request) -> JobSettings:
    """The body as lab settings. Pydantic's own JSON parser names the field of a number out of
    range or not finite, which Python's json module would pass on or refuse without a name."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":  # a form or text/plain is what another site's page can send unasked
        raise HTTPException(status_code=415, detail="send the settings as JSON (Content-Type: application/json)")
    body = await read_body(request)
    try:
        given = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deep for Python's reader: pydantic says why
        given = None
    unknown = set(given) - set(JobSettings.model_fields) if isinstance(given, dict) else set()
    if unknown:  # named at once: pydantic would check every field and list each stranger
        refused = RequestValidationError([{"loc": ("body", name), "msg": "is no setting of a run",
                                           "type": "extra_forbidden"} for name in sorted(unknown)])
        raise refused
    try:
        return await run_in_threadpool(JobSettings.model_validate_json, body)
    except ValidationError as err:
        refused = RequestValidationError([e | {"loc": ("body", *e["loc"])} for e in err.errors()])
        refused.raw = body
        raise refused from None


class Accepted(BaseModel):
    """A queued job, as its page learns of it."""

    id: str  # the job's name in every address below
    token: str  # the starting page's key: control and export ask for it
    events: str  # where the job's events stream (graintrain/events.py)


class Preview(BaseModel):
    """The data some settings would train on, before any training."""

    dataset: str  # its name
    classes: list[str]  # the classes' names, in label order
    points: dict  # the training points to plot (lab.points)
    sample_of: int | None  # how many points the run trains on, when this is a smaller sample of them


@router.post("/jobs", status_code=202, openapi_extra=SETTINGS_BODY)
async def start(request: Request, jobs: JobManager = Depends(get_jobs)) -> Accepted:
    """Queue a training job. Answers 202 with its id and the token that controls it; 422 naming
    the field and why; 429 when the queue is full."""
    try:
        jobs.check_room()  # before the settings are read: a full queue answers at once, at no cost
        job = jobs.submit(await read_settings(request))
    except QueueFull as full:
        raise HTTPException(status_code=429, detail=str(full)) from None
    return Accepted(id=job.id, token=job.token, events=f"/api/jobs/{job.id}/events?token={job.token}")


@router.post("/preview", openapi_extra=SETTINGS_BODY)
async def preview(request: Request) -> Preview:
    """The training points the settings would train on, for the page to show before training."""
    previews = request.app.state.previews
    if not previews.acquire(blocking=False):  # making data costs memory: as many at once as workers
        raise HTTPException(status_code=429, detail="the server is drawing other previews; try again shortly")
    try:
        settings = await read_settings(request)
        # A large dataset is shown by a sample made the same way (its seed and options), so that
        # a preview costs the server no more than a default-sized dataset does.
        asked = settings.n
        sampled = bool(asked and asked > PREVIEW_POINTS)
        shown = dataclasses.replace(settings.plan.data, n=PREVIEW_POINTS) if sampled else settings.plan.data
        data = await run_in_threadpool(shown.make)
        return Preview(dataset=data.name, classes=list(data.classes), points=points(data),
                       sample_of=asked if sampled else None)
    finally:
        previews.release()


@router.get("/jobs/{job_id}")
def status(job: Job = Depends(get_job)) -> dict:
    """A job's state and its latest event."""
    return {"id": job.id, "status": job.status, "settings": job.settings.model_dump(exclude={"csv"}),
            "last": job.events[-1] if job.events else None}


@router.get("/jobs/{job_id}/events")
async def events(request: Request, token: str = "", job: Job = Depends(get_job),
                 jobs: JobManager = Depends(get_jobs)) -> StreamingResponse:
    """Server-sent events: queued, started, progress (step, loss, fitted function), then done,
    error or stopped. Anyone may watch; when the page that started the job (its token) goes away,
    the job stops."""
    owner = secrets.compare_digest(token.encode("utf-8", "replace"), job.token.encode())
    if not owner and not jobs.room_to_watch(job):  # the page that started it is never turned away
        raise HTTPException(status_code=429, detail="this job, or the server, has as many watchers as "
                                                    "it takes; try again shortly")
    heartbeat = request.app.state.settings.heartbeat_seconds

    async def stream():
        sent, ended, quiet_since = 0, False, time.monotonic()
        if not owner:  # counted once streaming, so that a stream that never starts is never counted
            jobs.watch(job)
        try:
            while not ended:
                if await request.is_disconnected():
                    break
                new = job.events[sent:]
                for event in new:
                    yield f"data: {_json(event)}\n\n"
                sent += len(new)
                if new:
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since >= heartbeat:  # a paused job sends nothing:
                    yield ": still here\n\n"  # a comment keeps proxies from closing the stream
                    quiet_since = time.monotonic()
                ended = any(e["type"] in FINAL for e in new)
                if not ended:
                    await asyncio.sleep(POLL_SECONDS)
        finally:  # also reached when the server cancels the stream because the client left
            if not ended and owner:
                jobs.stop(job, "the page that started it went away")
            if not owner:
                jobs.unwatch(job)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/jobs/{job_id}/{action}")
def control(action: Literal["pause", "resume"], job: Job = Depends(owned_job),
            jobs: JobManager = Depends(get_jobs)) -> dict:
    """Pause a running job at its next step, or let a paused one go on."""
    (jobs.pause if action == "pause" else jobs.unpause)(job)
    return {"id": job.id, "status": job.status}


@router.delete("/jobs/{job_id}")
def stop(job: Job = Depends(owned_job), jobs: JobManager = Depends(get_jobs)) -> dict:
    """Stop a job at its next step."""
    jobs.stop(job, "stopped by the reader")
    return {"id": job.id, "status": "stopping" if not job.finished else job.status}


def _finished_state(job: Job) -> dict:
    """The parameters of a job that is done, or of one stopped part-way (as they stood)."""
    if job.status not in EXPORTABLE or job.state is None:
        raise HTTPException(status_code=409, detail=f"job {job.id} is {job.status}; "
                                                    "its model is ready once it is done or stopped")
    return job.state


@router.get("/jobs/{job_id}/model", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}}})
def model_state_dict(job: Job = Depends(owned_job)) -> Response:
    """The trained model's PyTorch state_dict (load it with torch.load)."""
    data = state_dict_bytes(_finished_state(job))
    name = f"graintrain-{job.settings.model}-{job.settings.dataset}-{job.id}.pt"
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/jobs/{job_id}/model.json")
def model_json(job: Job = Depends(owned_job)) -> JSONResponse:
    """The trained model's parameters as JSON, with the settings that made them."""
    return JSONResponse({"settings": job.settings.model_dump(exclude={"csv"}),
                         "parameters": state_dict_json(_finished_state(job))})

"""The lab's API: start a job, stream its progress, pause, resume, stop, and export its model."""

from __future__ import annotations

import asyncio
import json
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from ...datasets import DATASETS
from ...models import MODELS
from ...palette import palette
from ...runs import schema
from ..jobs import Job, JobManager, JobSettings, QueueFull, state_dict_bytes, state_dict_json

router = APIRouter(prefix="/api", tags=["lab"])
POLL_SECONDS = 0.02  # how often the stream looks for new events


def get_jobs(request: Request) -> JobManager:
    """The app's job manager."""
    return request.app.state.jobs


def get_job(job_id: str, jobs: JobManager = Depends(get_jobs)) -> Job:
    job = jobs.get(job_id)
    if job is None:
        raise HTTPException(status_code=404, detail=f"no job {job_id!r}")
    return job


@router.get("/registry")
def registry() -> dict:
    """The models and datasets the lab offers and every setting of a run, straight from the registries."""
    return {
        "models": {name: {"about": spec.about, "options": [o.name for o in spec.options],
                          "classifies": spec.classifies,
                          "stages": [s.__dict__ for s in spec.recipe.stages],
                          "restarts": spec.recipe.restarts}
                   for name, spec in MODELS.items()},
        "datasets": {name: {"about": spec.about, "options": [o.schema() for o in spec.options]}
                     for name, spec in DATASETS.items()},
        "options": schema(),
        "palette": palette(),
    }


@router.post("/jobs", status_code=202)
def start(settings: JobSettings, jobs: JobManager = Depends(get_jobs)) -> dict:
    """Queue a training job; answers 202 with its id, or 429 when the queue is full."""
    try:
        job = jobs.submit(settings)
    except QueueFull as full:
        raise HTTPException(status_code=429, detail=str(full)) from None
    return {"id": job.id, "events": f"/api/jobs/{job.id}/events"}


@router.get("/jobs/{job_id}")
def status(job: Job = Depends(get_job)) -> dict:
    """A job's state and its latest event."""
    return {"id": job.id, "status": job.status, "settings": job.settings.model_dump(exclude={"csv"}),
            "last": job.events[-1] if job.events else None}


@router.get("/jobs/{job_id}/events")
async def events(request: Request, job: Job = Depends(get_job),
                 jobs: JobManager = Depends(get_jobs)) -> StreamingResponse:
    """Server-sent events: queued, started, progress (step, loss, fitted function), then done,
    error or stopped. A client that goes away stops its job."""
    async def stream():
        sent, ended = 0, False
        try:
            while not ended:
                if await request.is_disconnected():
                    break
                new = job.events[sent:]
                for event in new:
                    yield f"data: {json.dumps(event, separators=(',', ':'))}\n\n"
                sent += len(new)
                ended = any(e["type"] in ("done", "error", "stopped") for e in new)
                if not ended:
                    await asyncio.sleep(POLL_SECONDS)
        finally:  # also reached when the server cancels the stream because the client left
            if not ended:
                jobs.stop(job, "the page that started it went away")

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/jobs/{job_id}/{action}")
def control(action: Literal["pause", "resume"], job: Job = Depends(get_job),
            jobs: JobManager = Depends(get_jobs)) -> dict:
    """Pause a running job at its next step, or let a paused one go on."""
    (jobs.pause if action == "pause" else jobs.unpause)(job)
    return {"id": job.id, "status": job.status}


@router.delete("/jobs/{job_id}")
def stop(job: Job = Depends(get_job), jobs: JobManager = Depends(get_jobs)) -> dict:
    """Stop a job at its next step."""
    jobs.stop(job, "stopped by the reader")
    return {"id": job.id, "status": "stopping" if not job.finished else job.status}


def _finished_model(job: Job):
    if job.status != "done" or job.model is None:
        raise HTTPException(status_code=409, detail=f"job {job.id} is {job.status}; "
                                                    "its model is ready once it is done")
    return job.model


@router.get("/jobs/{job_id}/model", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}}})
def model_state_dict(job: Job = Depends(get_job)) -> Response:
    """The trained model's PyTorch state_dict (load it with torch.load)."""
    data = state_dict_bytes(_finished_model(job))
    name = f"graintrain-{job.settings.model}-{job.settings.dataset}-{job.id}.pt"
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/jobs/{job_id}/model.json")
def model_json(job: Job = Depends(get_job)) -> JSONResponse:
    """The trained model's parameters as JSON, with the settings that made them."""
    return JSONResponse({"settings": job.settings.model_dump(exclude={"csv"}),
                         "parameters": state_dict_json(_finished_model(job))})

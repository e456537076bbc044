"""The article's pages and figure data, exactly the files the static export writes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse

from ...article.site import Site

router = APIRouter()


def get_site(request: Request) -> Site:
    """The site: its figures may still be arriving from training in the background."""
    return request.app.state.site


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("index.html")


@router.api_route("/{page}.html", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
def page(page: str, site: Site = Depends(get_site)) -> HTMLResponse:
    """A chapter, the contents page, or the 404 page."""
    text = site.page(f"{page}.html")
    if text is None or page == "404":
        raise HTTPException(status_code=404)
    return HTMLResponse(text)


@router.get("/data/{name}.csv", response_class=PlainTextResponse)
def figure_csv(name: str, site: Site = Depends(get_site)) -> PlainTextResponse:
    """A figure's plotted data, as CSV."""
    text = site.csv(name)
    if text is None:
        raise HTTPException(status_code=404)
    return PlainTextResponse(text, media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.get("/api/figures/{name}")
def figure_state(name: str, site: Site = Depends(get_site)) -> dict:
    """A figure a page is waiting on: {"ready": true, "html"} once trained, else how many of its
    runs are ready ("have" of "need"), and why training stopped if it did ("failed")."""
    state = site.figure(name)
    if state is None:
        raise HTTPException(status_code=404, detail=f"no figure named {name!r}")
    return state

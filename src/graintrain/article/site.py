"""The article as files: chapters rendered from Markdown, figures embedded, data as CSV.

The server and the static export both serve exactly these files, so the page a reader opens from
``graintrain serve`` and from ``graintrain build`` is the same page.
"""

from __future__ import annotations

import gzip
import html
import json
import re
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

from ..assets import PLOTLY_JS
from jinja2 import Environment, PackageLoader, select_autoescape
from latex2mathml.converter import convert as to_mathml
from markdown_it import MarkdownIt

from ..cache import Cache
from ..palette import palette
from .figures import FIGURES, Figure

FIGURE_BLOCK = re.compile(r"^::: figure ([\w-]+)[ \t]*\n(.*?)^:::[ \t]*$", re.M | re.S)
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
INLINE_MATH = re.compile(r"(?<![\\$])\$([^$\n]+?)\$")


@dataclass
class Chapter:
    """One Markdown file of the article."""

    number: int
    slug: str  # file name without .md; the page is slug + ".html"
    title: str
    text: str  # the Markdown below the title

    @property
    def page(self) -> str:
        return f"{self.slug}.html"


def chapters() -> list[Chapter]:
    """The article's chapters, in file-name order, from the package's chapters folder."""
    found = []
    folder = resources.files("graintrain.article") / "chapters"
    for number, entry in enumerate(sorted((f for f in folder.iterdir() if f.name.endswith(".md")),
                                          key=lambda f: f.name), 1):
        text = entry.read_text(encoding="utf-8")
        title, _, body = text.partition("\n")
        found.append(Chapter(number, entry.name[:-3], title.lstrip("# ").strip(), body))
    return found


def figures_used(chapter: Chapter) -> list[str]:
    """The figure names a chapter places, in order."""
    return [m.group(1) for m in FIGURE_BLOCK.finditer(chapter.text)]


_md = MarkdownIt("commonmark", {"typographer": True}).enable(["table", "replacements", "smartquotes"])


def _math(tex: str, display: bool) -> str:
    mathml = to_mathml(tex.strip(), display="block" if display else "inline")
    # A display formula can be wider than a phone: its own box scrolls it (style.css .math-scroll).
    return f'<div class="math-scroll">{mathml}</div>' if display else mathml


def render_markdown(text: str, figure_html: Callable[[str, str], str] | None = None) -> str:
    """Markdown to HTML, with $…$ and $$…$$ as MathML and ``::: figure NAME`` blocks as figures."""
    held: list[str] = []

    def hold(fragment: str) -> str:
        held.append(fragment)
        return f"HELD{len(held) - 1}END"

    def place_figure(m: re.Match) -> str:
        if figure_html is None:
            return ""
        caption = render_markdown(m.group(2).strip())
        return "\n\n" + hold(figure_html(m.group(1), caption)) + "\n\n"

    text = FIGURE_BLOCK.sub(place_figure, text)
    text = DISPLAY_MATH.sub(lambda m: "\n\n" + hold(_math(m.group(1), True)) + "\n\n", text)
    text = INLINE_MATH.sub(lambda m: hold(_math(m.group(1), False)), text)
    out = _md.render(text)
    out = re.sub(r"<p>(HELD\d+END)</p>", r"\1", out)  # block pieces need no paragraph around them
    return re.sub(r"HELD(\d+)END", lambda m: held[int(m.group(1))], out)


def _embed(payload: dict) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")


class Site:
    """Every file of the article, rendered from built figures. Figures may arrive after the site is
    made (``add``, from ``build.serve_site``): until then a page shows each as training, with its
    progress, and the pages that place a new figure are rendered again."""

    def __init__(self, figures: dict[str, Figure], version: str, cache: Cache | None = None):
        self.figures = dict(figures)
        self.version = version
        self.cache = cache  # where the figures' runs are kept: the static lab replays them
        self.progress: dict[str, tuple[int, int]] = {}  # a figure still training: runs ready, runs needed
        self.failed: str | None = None  # why background training stopped, if it did
        self.chapters = chapters()
        self.captions = {m.group(1): render_markdown(m.group(2).strip())
                         for c in self.chapters for m in FIGURE_BLOCK.finditer(c.text)}
        self.env = Environment(loader=PackageLoader("graintrain.article", "templates"),
                               autoescape=select_autoescape(["html"]))
        self._pages: dict[str, str] = {}
        self._lock = threading.Lock()

    def add(self, name: str, fig: Figure) -> None:
        """A figure is ready: pages render again with it in place."""
        with self._lock:
            self.figures[name] = fig
            self.progress.pop(name, None)
            self._pages.clear()

    @property
    def names(self) -> list[str]:
        """Every page's file name."""
        return [c.page for c in self.chapters] + ["index.html", "lab.html", "404.html"]

    def page(self, name: str) -> str | None:
        """A page's HTML as the figures stand now, or None for an unknown page."""
        if name not in self.names:
            return None
        with self._lock:
            text = self._pages.get(name)
        if text is None:
            text = self._render(name)
            with self._lock:
                self._pages[name] = text
        return text

    @property
    def pages(self) -> dict[str, str]:
        """Every page, rendered."""
        return {name: self.page(name) for name in self.names}

    def _render(self, name: str) -> str:
        others = {"index.html": ("index.html", "graintrain"), "lab.html": ("lab.html", "Lab"),
                  "404.html": ("404.html", "Page not found")}
        if name in others:
            template, title = others[name]
            return self._page(template, title=title)
        i = next(i for i, c in enumerate(self.chapters) if c.page == name)
        chapter = self.chapters[i]
        return self._page("chapter.html", title=chapter.title, chapter=chapter,
                          prev=self.chapters[i - 1] if i > 0 else None,
                          next=self.chapters[i + 1] if i + 1 < len(self.chapters) else None,
                          body=render_markdown(chapter.text, self._figure_html))

    def _page(self, template: str, **context) -> str:
        return self.env.get_template(template).render(chapters=self.chapters, version=self.version,
                                                      palette=palette(), **context)

    def _figure_html(self, name: str, caption: str) -> str:
        if name not in FIGURES:
            raise KeyError(f"a chapter places figure {name!r}, which is not registered; "
                           f"known: {', '.join(FIGURES)}")
        fig = self.figures.get(name)
        if fig is None:
            have, need = self.progress.get(name, (0, len(FIGURES[name].runs)))
            return self.env.get_template("pending.html").render(name=name, caption=caption, have=have,
                                                                need=need, failed=self.failed)
        stats = "".join(f"<div><dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd></div>"
                        for k, v in fig.stats)
        return self.env.get_template("figure.html").render(
            fig=fig, caption=caption, stats=stats, payload=_embed(fig.payload()),
            replay=bool(fig.frames))

    def figure(self, name: str) -> dict | None:
        """A figure's state for a page waiting on it: its HTML once ready, else its progress; None
        for an unknown figure."""
        if name not in FIGURES:
            return None
        if name in self.figures:
            return {"ready": True, "html": self._figure_html(name, self.captions.get(name, ""))}
        have, need = self.progress.get(name, (0, len(FIGURES[name].runs)))
        return {"ready": False, "have": have, "need": need, "failed": self.failed}

    def csv(self, name: str) -> str | None:
        """A figure's data as CSV, or None for an unknown figure."""
        fig = self.figures.get(name)
        return fig.csv() if fig else None

    def write(self, out: Path) -> list[Path]:
        """Write the whole site to a folder that any static file server can serve, each file with a
        gzip copy beside it (``write_gzip``)."""
        if self.progress:
            raise RuntimeError(f"{len(self.progress)} figures are still training; build the site first")
        written = []
        out.mkdir(parents=True, exist_ok=True)
        for page, text in self.pages.items():
            written.append(out / page)
            (out / page).write_text(text, encoding="utf-8")
        (out / "data").mkdir(exist_ok=True)
        for name, fig in self.figures.items():
            written.append(out / "data" / f"{name}.csv")
            written[-1].write_text(fig.csv(), encoding="utf-8")
        static = out / "static"
        static.mkdir(exist_ok=True)
        for entry in (resources.files("graintrain.article") / "static").iterdir():
            if entry.is_file():
                written.append(static / entry.name)
                written[-1].write_bytes(entry.read_bytes())
        written.append(static / "plotly.min.js")
        written[-1].write_bytes(PLOTLY_JS.read_bytes())
        if self.cache is not None:
            written += self._write_replays(out / "lab")
        return written + write_gzip(written)

    def _write_replays(self, folder: Path) -> list[Path]:
        """The static lab's material: each figure's run told as the events a live job streams, so
        the page can replay them with no server behind it, and the registry, with those replays, at
        the address where the page asks a server for it (``api/registry``): one request, no 404."""
        from ..lab import registry, replay
        from ..runs import Run

        (folder / "runs").mkdir(parents=True, exist_ok=True)
        entries: dict[str, dict] = {}  # one per run, which several figures may share
        for name, fig in self.figures.items():
            if not fig.lab:
                continue
            wanted = Run.from_query(fig.lab)
            run = next((r for r in FIGURES[name].runs if isinstance(r, Run)
                        and r.model_copy(update={"snapshots": 0}) == wanted), wanted)
            if fig.lab not in entries:
                file = folder / "runs" / f"{run.key()}.json"
                file.write_text(json.dumps(replay(self.cache.get(run))), encoding="utf-8")
                entries[fig.lab] = {"query": fig.lab, "file": f"runs/{file.name}", "figures": [],
                                    "model": run.model, "dataset": run.dataset}
            entries[fig.lab]["figures"].append(name)
        index = [{**e, "label": f"{e['model']} on {e['dataset']} ({', '.join(e['figures'])})"}
                 for e in entries.values()]
        answer = folder.parent / "api" / "registry"
        answer.parent.mkdir(exist_ok=True)
        answer.write_text(json.dumps(registry() | {"replays": index}), encoding="utf-8")
        return [folder / e["file"] for e in index] + [answer]


__all__ = ["Site", "chapters", "render_markdown"]


def write_gzip(files: list[Path]) -> list[Path]:
    """A ``.gz`` copy beside each file, for hosts that send one where the browser accepts gzip
    (nginx's ``gzip_static on``, Caddy's ``precompressed gzip``): a chapter is mostly plotly.js and
    its figures' JSON, which gzip shrinks to about a third and a quarter. Stamped with no time, so
    builds compare byte for byte."""
    out = []
    for file in files:
        out.append(file.with_name(file.name + ".gz"))
        out[-1].write_bytes(gzip.compress(file.read_bytes(), compresslevel=9, mtime=0))
    return out

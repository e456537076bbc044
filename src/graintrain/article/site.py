"""The article as files: chapters rendered from Markdown, figures embedded, data as CSV.

The server and the static export both serve exactly these files, so the page a reader opens from
``graintrain serve`` and from ``graintrain build`` is the same page.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import os
import re
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

from ..assets import PLOTLY_JS
from jinja2 import Environment, PackageLoader, select_autoescape
from latex2mathml.converter import convert as to_mathml
from markdown_it import MarkdownIt
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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
    return to_mathml(tex.strip(), display="block" if display else "inline")


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
    """Every file of the article, rendered once from built figures."""

    def __init__(self, figures: dict[str, Figure], version: str, cache: Cache | None = None):
        self.figures = figures
        self.version = version
        self.cache = cache  # where the figures' runs are kept: the static lab replays them
        self.chapters = chapters()
        self.env = Environment(loader=PackageLoader("graintrain.article", "templates"),
                               autoescape=select_autoescape(["html"]))
        self.pages: dict[str, str] = {}
        for i, chapter in enumerate(self.chapters):
            prev = self.chapters[i - 1] if i > 0 else None
            nxt = self.chapters[i + 1] if i + 1 < len(self.chapters) else None
            self.pages[chapter.page] = self._page(
                "chapter.html", title=chapter.title, chapter=chapter, prev=prev, next=nxt,
                body=render_markdown(chapter.text, self._figure_html))
        self.pages["index.html"] = self._page("index.html", title="graintrain")
        self.pages["lab.html"] = self._page("lab.html", title="Lab")
        self.pages["404.html"] = self._page("404.html", title="Page not found")

    def _page(self, template: str, **context) -> str:
        return self.env.get_template(template).render(chapters=self.chapters, version=self.version,
                                                      palette=palette(), **context)

    def _figure_html(self, name: str, caption: str) -> str:
        if name not in self.figures:
            raise KeyError(f"a chapter places figure {name!r}, which is not registered; "
                           f"known: {', '.join(FIGURES)}")
        fig = self.figures[name]
        stats = "".join(f"<div><dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd></div>"
                        for k, v in fig.stats)
        return self.env.get_template("figure.html").render(
            fig=fig, caption=caption, stats=stats, payload=_embed(fig.payload()),
            replay=bool(fig.frames))

    def csv(self, name: str) -> str | None:
        """A figure's data as CSV, or None for an unknown figure."""
        fig = self.figures.get(name)
        return fig.csv() if fig else None

    def write(self, out: Path) -> list[Path]:
        """Write the whole site to a folder that any static file server can serve."""
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
        return written

    def _write_replays(self, folder: Path) -> list[Path]:
        """The static lab's material: the registry, and each figure's run told as the events a live
        job streams, so the page can replay them with no server behind it."""
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
        (folder / "registry.json").write_text(json.dumps(registry()), encoding="utf-8")
        (folder / "replays.json").write_text(json.dumps(index), encoding="utf-8")
        return [folder / e["file"] for e in index] + [folder / "registry.json", folder / "replays.json"]


def _train_one(folder: Path, run) -> None:
    """In a pool worker: train one run into the cache, on one thread (the models are tiny)."""
    import torch
    torch.set_num_threads(1)
    Cache(folder).get(run)


def _train_in_pool(cache: Cache, runs: list, workers: int):
    """Train runs into the cache, one process per core; yield each run as it lands."""
    if workers <= 1 or len(runs) <= 1:
        for run in runs:
            cache.get(run)
            yield run
        return
    from ..study.runner import _die_with_parent
    with ProcessPoolExecutor(max_workers=min(workers, len(runs)), initializer=_die_with_parent) as pool:
        futures = {pool.submit(_train_one, cache.folder, run): run for run in runs}
        for future in as_completed(futures):
            future.result()
            yield futures[future]


def build_figures(cache: Cache, console=None, names: list[str] | None = None,
                  study_seeds: int | None = None, workers: int | None = None) -> dict[str, Figure]:
    """Train (or load) every run and study the figures need, with progress bars, then build them.
    ``study_seeds`` runs each study with that many switchboards per K instead of its own count
    (the tests use a small study; the article's figures say how many they read); ``workers`` is the
    number of training processes (default: one per core)."""
    from .. import __version__
    from ..study import StudyConfig, run_study, summarise

    specs = [FIGURES[n] for n in (names or FIGURES)]
    declared = dict.fromkeys(item for s in specs for item in s.runs)  # runs and studies
    sized = {n: dataclasses.replace(n, seeds=study_seeds) if study_seeds and isinstance(n, StudyConfig) else n
             for n in declared}  # what a figure declares -> what is actually run
    needs = list(sized.values())
    # Built figures are kept too, named by everything they read and by the code that draws them.
    folder = resources.files("graintrain.article") / "figures"
    code = b"".join(f.read_bytes() for f in sorted(folder.iterdir(), key=lambda f: f.name)
                    if f.name.endswith(".py"))
    key = hashlib.sha256(repr((__version__, [n.key() for n in needs], [s.name for s in specs])).encode()
                         + code).hexdigest()[:24]
    kept = cache.load_json(f"figures-{key}.json")
    if kept is not None:
        return {name: Figure(**fields) for name, fields in kept.items()}

    runs = [n for n in needs if not isinstance(n, StudyConfig)]
    missing = [r for r in runs if not cache.has(r)]
    studies = {n: dataclasses.replace(n, out=cache.folder / f"study-{n.key()}")
               for n in needs if isinstance(n, StudyConfig)}
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=False,
                  disable=console is None) as progress:
        task = progress.add_task("training the article's models", total=len(missing))
        for run in _train_in_pool(cache, missing, workers or os.cpu_count() or 1):
            progress.update(task, description=f"trained {run.model} on {run.dataset} (seed {run.seed})")
            progress.advance(task)
        progress.update(task, description="trained the article's models")
        summaries = {}
        for study, located in studies.items():
            bar = progress.add_task("running the switchboard study", total=None)
            rows = run_study(located, on_cell=lambda done, total, bar=bar: progress.update(
                bar, completed=done, total=total))
            summaries[study] = {**summarise(rows), "seeds": study.seeds}
    trained = {}

    def get(item):
        if isinstance(item, StudyConfig):
            return summaries[sized[item]]
        if item not in trained:
            trained[item] = cache.get(item)
        return trained[item]

    built = {s.name: s.build(get) for s in specs}
    cache.save_json(f"figures-{key}.json", {n: dataclasses.asdict(f) for n, f in built.items()})
    return built


def build_site(cache: Cache, console=None, study_seeds: int | None = None) -> Site:
    """The whole article: every figure built from cached or newly trained models."""
    from .. import __version__
    return Site(build_figures(cache, console, study_seeds=study_seeds), __version__, cache)


__all__ = ["Site", "build_site", "build_figures", "chapters", "render_markdown"]

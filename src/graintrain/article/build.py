"""Training the article: every run and study its figures read, one process per core, each figure
built the moment everything it reads is ready.

``build_figures`` does it all before returning (the static export, the tests). ``serve_site``
returns a Site at once and does the same in a background thread, handing the site each figure as
it lands, so the server answers while the models train; a page shows a figure still training as a
placeholder with its progress (``static/article.js`` swaps the figure in when it is ready).
"""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing
import os
import threading
from importlib import resources
from typing import Callable

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..cache import Cache, train_into
from .figures import FIGURES, Figure
from .site import Site, chapters, figures_used

OnFigure = Callable[[str, Figure], None]  # a figure's name and the figure, as it is built
OnProgress = Callable[[str, int, int], None]  # a waiting figure's name, what it has, what it needs


def _work(folder, task):
    """In a pool process: train one piece of the article, a run into the cache in ``folder``, or a
    study's job given with its settings (returning the job's rows and seconds)."""
    from ..runs import Run
    from ..study import run_job
    if isinstance(task, Run):
        return train_into(folder, task)
    settings, job = task
    return run_job(job, *settings)


def _train_in_pool(cache: Cache, work: list, workers: int):
    """Do each piece of work, a run or a (study's Ledger, job) pair, one process per core, handed
    out in the list's order; yield each piece with what it returned, as it lands."""
    tasks = [(piece, piece if not isinstance(piece, tuple) else (piece[0].settings, piece[1])) for piece in work]
    if workers <= 1 or len(work) <= 1:
        for piece, task in tasks:
            yield piece, _work(cache.folder, task)
        return
    from ..study.runner import pooled
    # Spawned, not forked: a server may be answering from other threads while this pool starts.
    calls = [(cache.folder, task) for _, task in tasks]
    for i, result in pooled(_work, calls, min(workers, len(work)), multiprocessing.get_context("spawn")):
        yield tasks[i][0], result


def _figures_key(specs, needs) -> str:
    """Built figures are kept too, named by everything they read and by the code that draws them."""
    from .. import __version__
    folder = resources.files("graintrain.article") / "figures"
    code = b"".join(f.read_bytes() for f in sorted(folder.iterdir(), key=lambda f: f.name)
                    if f.name.endswith(".py"))
    return hashlib.sha256(repr((__version__, [n.key() for n in needs], [s.name for s in specs])).encode()
                          + code).hexdigest()[:24]


def _reading_order() -> list[str]:
    """Every figure, in the order the chapters place them: the runs train in that order, so a
    reader who starts at the top sees the first figures arrive first."""
    placed = [name for chapter in chapters() for name in figures_used(chapter)]
    return list(dict.fromkeys(placed + list(FIGURES)))


def build_figures(cache: Cache, console=None, names: list[str] | None = None,
                  study_seeds: int | None = None, workers: int | None = None,
                  on_figure: OnFigure | None = None, on_progress: OnProgress | None = None) -> dict[str, Figure]:
    """Train (or load) every run and study the figures need, with progress bars, and build each
    figure as soon as what it reads is ready (``on_figure`` hears of each; ``on_progress`` of how
    far each waiting figure is). ``study_seeds`` runs each study with that many switchboards per K
    instead of its own count (the tests use a small study; the figure says how many it read);
    ``workers`` is the number of training processes (default: one per core)."""
    from ..runs import Run
    from ..study import StudyConfig, summarise
    from ..study.ledger import Ledger
    specs = [FIGURES[n] for n in (names or _reading_order())]
    declared = dict.fromkeys(item for s in specs for item in s.runs)  # runs and studies
    sized = {n: dataclasses.replace(n, seeds=study_seeds) if study_seeds and isinstance(n, StudyConfig) else n
             for n in declared}  # what a figure declares -> what is actually run
    key = _figures_key(specs, list(sized.values()))
    kept = cache.load_json(f"figures-{key}.json")
    if kept is not None:
        built = {name: Figure(**fields) for name, fields in kept.items()}
        for name, fig in built.items():
            on_figure and on_figure(name, fig)
        return built

    cache.sweep()  # a stopped build may have left half-written files behind
    runs = [n for n in sized.values() if isinstance(n, Run)]
    missing = [r for r in runs if not cache.has(r)]
    ready: set = set(runs) - set(missing)  # runs in the cache, and studies summarised
    workers = workers or os.cpu_count() or 1
    ledgers = {n: Ledger(dataclasses.replace(n, out=cache.folder / f"study-{n.key()}"))
               for n in sized.values() if isinstance(n, StudyConfig)}
    # One pool for everything, in reading order, a study's jobs (longest first) where the first
    # figure that reads it stands: the study no longer waits for every run, nor a core for the other.
    work = list(dict.fromkeys(piece for spec in specs for n in spec.runs for piece in (
        [(ledgers[sized[n]], job) for job in ledgers[sized[n]].jobs(workers)] if sized[n] in ledgers
        else [sized[n]] if sized[n] in missing else [])))
    summaries: dict = {}
    trained: dict = {}
    built: dict[str, Figure] = {}

    def get(item):
        if isinstance(item, StudyConfig):
            return summaries[sized[item]]
        if item not in trained:
            trained[item] = cache.get(item)
        return trained[item]

    def keep() -> None:
        # vars, not dataclasses.asdict: that deep-copies every plot only to write it out (2 s here)
        cache.save_json(f"figures-{key}.json", {n: vars(f) for n, f in built.items()})

    def summarise_finished() -> None:
        for study, ledger in ledgers.items():
            if study not in ready and ledger.finished == ledger.total:
                summaries[study] = {**summarise(ledger.rows), "seeds": study.seeds}
                ready.add(study)

    def build_what_is_ready() -> None:
        summarise_finished()
        for spec in specs:
            if spec.name in built:
                continue
            have = sum(sized[n] in ready for n in spec.runs)
            if have < len(spec.runs):
                on_progress and on_progress(spec.name, have, len(spec.runs))
                continue
            built[spec.name] = spec.build(get)
            if len(built) == len(specs):  # kept before the last figure is announced, so a server
                keep()                    # stopped the moment all are shown starts warm next time
            on_figure and on_figure(spec.name, built[spec.name])

    build_what_is_ready()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=False,
                  disable=console is None) as progress:
        task = progress.add_task("training the article's models", total=len(missing))
        bars = {ledger: progress.add_task("running the switchboard study", total=ledger.total,
                                          completed=ledger.finished) for ledger in ledgers.values()}
        for piece, result in _train_in_pool(cache, work, workers):
            if isinstance(piece, Run):
                progress.update(task, description=f"trained {piece.model} on {piece.dataset} (seed {piece.seed})")
                progress.advance(task)
                ready.add(piece)
            else:
                ledger, _ = piece
                ledger.record(result[0])
                progress.update(bars[ledger], completed=ledger.finished)
            build_what_is_ready()
        progress.update(task, description="trained the article's models")
    return built


def build_site(cache: Cache, console=None, study_seeds: int | None = None) -> Site:
    """The whole article: every figure built from cached or newly trained models."""
    from .. import __version__
    return Site(build_figures(cache, console, study_seeds=study_seeds), __version__, cache)


def serve_site(cache: Cache, console=None, names: list[str] | None = None,
               workers: int | None = None, start: bool = True) -> tuple[Site, threading.Thread]:
    """A site to serve at once: its figures arrive from a background thread as they are built
    (all at once from a cache that kept them). The thread is returned, started unless ``start``
    is False, so that a caller can start it later or wait for it."""
    from .. import __version__
    site = Site({}, __version__, cache)
    for name in names or _reading_order():
        site.progress[name] = (0, len(FIGURES[name].runs))

    def build() -> None:
        try:
            build_figures(cache, console, names, workers=workers, on_figure=site.add,
                          on_progress=lambda name, have, need: site.progress.__setitem__(name, (have, need)))
        except Exception as e:  # the server stays up; the pages say that training stopped
            site.failed = f"{type(e).__name__}: {e}"
            raise

    thread = threading.Thread(target=build, name="graintrain-article", daemon=True)
    if start:
        thread.start()
    return site, thread


__all__ = ["build_figures", "build_site", "serve_site"]

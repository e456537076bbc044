"""The switchboard study: attention against ReLU networks of matched size, over many seeds.

Each cell is one switchboard (K hidden lines, one seed). In every cell four models train: attention
by graintrain's recipe, attention by the post's plain recipe (gradient descent on the blended
error), and ReLU networks with one and with two hidden layers whose parameter counts are the
closest to attention's 4K. Each finished run is appended to ``runs.jsonl`` at once, so a study that
is cut off resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .datasets import SWITCHBOARD_OPTIONS, Dataset, make_dataset
from .metrics import match_experts, mse, slope_error
from .models import MODELS, make_model, num_parameters
from .stacked import fit_stacked
from .train import Recipe, fit

MODEL_NAMES = ("attention", "attention-blended", "mlp-1", "mlp-2")
METRICS = ("test_mse", "extrapolation_mse", "slope_error", "num_parameters")
RECOVERED = 0.15  # every matched slope and intercept within this counts as recovered
STACK_CHUNK = 64  # models per stacked block: small enough to stay in cache (benchmarks/stacked_speed.py)


@dataclass(frozen=True)
class StudyConfig:
    """The grid of the study and where it writes."""

    experts: tuple[int, ...] = (2, 3, 5, 8)  # K, the number of hidden lines (and of experts)
    seeds: int = 20  # switchboards per K
    noise: float = 0.05
    points: int = 500  # training points per switchboard
    shape: tuple[tuple[str, object], ...] = ()  # other switchboard options, e.g. (("order", "shuffled"),)
    out: Path = Path("study")
    workers: int = os.cpu_count() or 1  # processes, one training thread each (local backend)
    backend: str = "local"  # local: a process pool here; ray: Ray tasks on a cluster
    address: str | None = None  # the Ray cluster to join; None starts a local one

    def key(self) -> str:
        """A name that changes whenever anything that decides the numbers changes."""
        from . import __version__
        text = repr((self.experts, self.seeds, self.noise, self.points, self.describe(), __version__))
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def describe(self) -> str:
        """The data in words, for the report: every switchboard option, given or default."""
        option = {o.name: o.default for o in SWITCHBOARD_OPTIONS} | dict(self.shape)
        low, high = option["selector_range"]
        return (f"regions of {option['regions']} width, lines in {option['order']} order along z, "
                f"z read on [{low:g}, {high:g}]")


def matched_hidden(k: int) -> dict[str, tuple[int, ...]]:
    """Hidden sizes for one and two layers whose parameter counts come closest to 4K."""
    target = 4 * k
    count = lambda sizes: sum((a + 1) * b for a, b in zip((2, *sizes), (*sizes, 1)))
    one = min(((h,) for h in range(1, 64)), key=lambda s: (abs(count(s) - target), s))
    two = min(((a, b) for a in range(1, 32) for b in range(1, 32)),
              key=lambda s: (abs(count(s) - target), s))
    return {"mlp-1": one, "mlp-2": two}


def count_table(experts: tuple[int, ...]) -> list[dict]:
    """Parameter counts of the four models for each K, with the mismatch against attention."""
    rows = []
    for k in experts:
        data = make_dataset("switchboard", n=8, seed=0, relationships=k)
        counts = {"attention": num_parameters(make_model("attention", data, experts=k))}
        for name, hidden in matched_hidden(k).items():
            counts[name] = num_parameters(make_model("mlp", data, hidden=hidden))
        rows.append({"K": k, **counts, "hidden": {n: list(h) for n, h in matched_hidden(k).items()},
                     "worst_mismatch": max(abs(c - counts["attention"]) / counts["attention"]
                                           for c in counts.values())})
    return rows


def _row(k: int, seed: int, name: str, model: torch.nn.Module, data: Dataset, seconds: float) -> dict:
    """One run's numbers."""
    near, far = data.test.subset(~data.test.far), data.test.subset(data.test.far)
    row = {"K": k, "seed": seed, "model": name, "num_parameters": num_parameters(model),
           "train_mse": mse(model, data.train), "test_mse": mse(model, near),
           "extrapolation_mse": mse(model, far), "slope_error": slope_error(model, data),
           "seconds": seconds}
    if name.startswith("attention"):
        match = match_experts(model, data)
        row |= {"expert_error": match.error, "recovered": match.error <= RECOVERED}
    return row


def run_cell(k: int, seed: int, noise: float, points: int, skip: frozenset = frozenset(),
             shape: dict | None = None) -> list[dict]:
    """Train attention (graintrain's recipe) and the two ReLU networks on one switchboard."""
    torch.set_num_threads(1)
    data = make_dataset("switchboard", n=points, noise=noise, seed=seed, relationships=k, **(shape or {}))
    hidden = matched_hidden(k)
    plans: dict[str, tuple[Callable, Recipe]] = {
        "attention": (lambda: make_model("attention", data, experts=k), MODELS["attention"].recipe),
        "mlp-1": (lambda: make_model("mlp", data, hidden=hidden["mlp-1"]), MODELS["mlp"].recipe),
        "mlp-2": (lambda: make_model("mlp", data, hidden=hidden["mlp-2"]), MODELS["mlp"].recipe),
    }
    rows = []
    for name, (build, recipe) in plans.items():
        if name not in skip:
            result = fit(build, data.train, Recipe(recipe.stages, recipe.restarts, seed=seed))
            rows.append(_row(k, seed, name, result.model, data, result.seconds))
    return rows


def run_blended(k: int, seeds: tuple[int, ...], noise: float, points: int,
                shape: dict | None = None) -> list[dict]:
    """The post's plain recipe for several switchboards of one K at once, stacked (stacked.py).

    Each model starts from the weights ``fit`` would draw for its seed, so the numbers match
    training them one by one.
    """
    torch.set_num_threads(1)
    data = [make_dataset("switchboard", n=points, noise=noise, seed=s, relationships=k, **(shape or {}))
            for s in seeds]
    models = []
    for seed, d in zip(seeds, data):
        torch.manual_seed(seed * 1000)
        models.append(make_model("attention-blended", d, experts=k))
    x, z, y = (torch.stack([getattr(d.train, a) for d in data]) for a in "xzy")  # (M, N)
    stage = MODELS["attention-blended"].recipe.stages[0]
    began = time.perf_counter()
    fit_stacked(models, x, z, y, steps=stage.steps, lr=stage.lr, chunk=STACK_CHUNK)
    seconds = (time.perf_counter() - began) / len(seeds)
    return [_row(k, s, "attention-blended", m, d, seconds) for s, m, d in zip(seeds, models, data)]


def read_rows(path: Path) -> list[dict]:
    """The finished runs so far; a last line cut off mid-write is ignored."""
    rows = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    return rows


def append_row(path: Path, row: dict) -> None:
    """Add one finished run, flushed to disk before the next one starts."""
    with path.open("a") as handle:
        handle.write(json.dumps(row) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def run_study(config: StudyConfig, on_cell: Callable[[int, int], None] | None = None) -> list[dict]:
    """Train every cell not already in ``runs.jsonl``, in parallel processes; return all rows."""
    if config.out.exists() and not config.out.is_dir():
        raise NotADirectoryError(f"{config.out} is a file; the study writes into a folder")
    config.out.mkdir(parents=True, exist_ok=True)
    path = config.out / "runs.jsonl"
    kept = read_rows(path)
    if path.exists():  # drop a line cut off mid-write, so new rows start on a line of their own
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in kept))
        os.replace(tmp, path)
    from . import __version__
    rows = [r for r in kept if r["K"] in config.experts and r["seed"] < config.seeds
            and math.isclose(r.get("noise", -1.0), config.noise) and r.get("points") == config.points
            and r.get("version") == __version__
            and r.get("data") == config.describe()]  # rows from another set-up are not reused
    done = {(r["K"], r["seed"], r["model"]) for r in rows}
    cells = [(k, s) for k, s in itertools.product(config.experts, range(config.seeds))
             if any((k, s, m) not in done for m in MODEL_NAMES)]
    total = len(config.experts) * config.seeds * len(MODEL_NAMES)  # runs
    finished = len(done)
    if on_cell:
        on_cell(finished, total)
    def record(new_rows: list[dict]) -> None:
        nonlocal finished
        for row in new_rows:
            row |= {"noise": config.noise, "points": config.points, "version": __version__,
                    "data": config.describe()}
            append_row(path, row)
            rows.append(row)
        finished += len(new_rows)
        if on_cell:
            on_cell(finished, total)

    jobs: list[tuple[Callable, tuple]] = [
        (run_cell, (k, s, config.noise, config.points, frozenset(m for m in MODEL_NAMES if (k, s, m) in done),
                    dict(config.shape)))
        for k, s in cells if any((k, s, m) not in done for m in MODEL_NAMES if m != "attention-blended")]
    for k in config.experts:  # the plain recipe trains stacked, one group of seeds per K
        seeds = tuple(s for s in range(config.seeds) if (k, s, "attention-blended") not in done)
        if seeds:
            jobs.append((run_blended, (k, seeds, config.noise, config.points, dict(config.shape))))
    if not jobs:
        pass
    elif config.backend == "ray":
        _run_on_ray(jobs, config.address, record)
    else:
        with ProcessPoolExecutor(max_workers=config.workers) as pool:
            for future in as_completed([pool.submit(fn, *args) for fn, args in jobs]):
                record(future.result())
    return rows


def _run_on_ray(jobs: list[tuple[Callable, tuple]], address: str | None, record: Callable[[list[dict]], None]) -> None:
    """Each job as a Ray task (one CPU each), recorded as soon as it finishes."""
    try:
        import ray
    except ImportError:
        raise RuntimeError("the ray backend needs Ray: pip install 'graintrain[ray]'") from None
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no phoning home from a study
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        pending = [ray.remote(num_cpus=1)(fn).remote(*args) for fn, args in jobs]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            record(ray.get(ready[0]))
    finally:
        if started_here:
            ray.shutdown()


def mean_ci(values: list[float]) -> dict:
    """The mean with a 95% bootstrap percentile interval (seeded, so reports repeat exactly).

    Percentiles of resampled means stay inside the data's range, where a t-interval around a mean
    pulled up by one exploding run would dip below zero for an error that cannot be negative.
    """
    from scipy import stats  # imported here: the web app reads summaries without needing it

    mean = float(np.mean(values))
    if len(values) < 2 or min(values) == max(values):
        return {"mean": mean, "ci": [mean, mean]}
    result = stats.bootstrap((np.asarray(values),), np.mean, confidence_level=0.95,
                             n_resamples=2000, method="percentile", random_state=0)
    return {"mean": mean, "ci": [float(result.confidence_interval.low),
                                 float(result.confidence_interval.high)]}


def fraction_ci(successes: int, n: int) -> dict:
    """A fraction with a 95% Wilson interval."""
    from scipy import stats

    interval = stats.binomtest(successes, n).proportion_ci(0.95, method="wilson")
    return {"mean": successes / n, "ci": [interval.low, interval.high]}


def summarise(rows: list[dict]) -> dict:
    """{"models": {name: {metric: {"mean", "ci"}}}} over every run, plus per-K breakdowns."""
    out: dict = {"models": {}, "by_K": {}}
    for name in MODEL_NAMES:
        mine = [r for r in rows if r["model"] == name]
        if not mine:
            continue
        out["models"][name] = {m: mean_ci([float(r[m]) for r in mine]) for m in METRICS}
        if name.startswith("attention"):
            out["models"][name]["recovered"] = fraction_ci(sum(r["recovered"] for r in mine), len(mine))
            out["models"][name]["expert_error"] = mean_ci([r["expert_error"] for r in mine])
        for k in sorted({r["K"] for r in mine}):
            at_k = [r for r in mine if r["K"] == k]
            cell = {m: mean_ci([float(r[m]) for r in at_k]) for m in METRICS}
            if name.startswith("attention"):
                cell["recovered"] = fraction_ci(sum(r["recovered"] for r in at_k), len(at_k))
                cell["expert_error"] = mean_ci([r["expert_error"] for r in at_k])
            out["by_K"].setdefault(str(k), {})[name] = cell
    return out


def _fmt(cell: dict, digits: int = 4) -> str:
    lo, hi = cell["ci"]
    return f"{cell['mean']:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def write_outputs(config: StudyConfig, rows: list[dict], summary: dict) -> list[Path]:
    """The Parquet table (one row per run), the Markdown report and the Plotly figures."""
    import plotly.graph_objects as go
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = config.out
    written = [out / "runs.parquet", out / "report.md", out / "figures.html"]
    table = pa.Table.from_pylist(sorted(rows, key=lambda r: (r["K"], r["seed"], r["model"])))
    pq.write_table(table, out / "runs.parquet.tmp")
    os.replace(out / "runs.parquet.tmp", out / "runs.parquet")

    counts = count_table(config.experts)
    lines = ["# The switchboard study", "",
             f"{len({(r['K'], r['seed']) for r in rows})} switchboards (K in "
             f"{', '.join(map(str, config.experts))}, seeds 0 to {config.seeds - 1}, noise "
             f"{config.noise}; {config.describe()}), four models each. Means with 95% intervals over seeds "
             "(bootstrap percentiles; Wilson for fractions).", "",
             "## Parameter counts", "", "| K | attention | mlp-1 | mlp-2 | largest mismatch |",
             "|---|---|---|---|---|"]
    for c in counts:
        lines.append(f"| {c['K']} | {c['attention']} | {c['mlp-1']} (hidden {c['hidden']['mlp-1']}) | "
                     f"{c['mlp-2']} (hidden {c['hidden']['mlp-2']}) | {100 * c['worst_mismatch']:.0f}% |")
    def section(title: str, by_model: dict) -> list[str]:
        rows = ["", title, "", "| model | test MSE | extrapolation MSE | slope error | "
                "largest expert error | experts recovered |", "|---|---|---|---|---|---|"]
        for name, cell in by_model.items():
            rec = _fmt(cell["recovered"], 2) if "recovered" in cell else "n/a"
            err = _fmt(cell["expert_error"], 3) if "expert_error" in cell else "n/a"
            rows.append(f"| {name} | {_fmt(cell['test_mse'])} | {_fmt(cell['extrapolation_mse'])} | "
                        f"{_fmt(cell['slope_error'], 3)} | {err} | {rec} |")
        return rows

    lines += section("## All K together", summary["models"])
    for k, by_model in summary["by_K"].items():
        lines += section(f"## K = {k}", by_model)
    lines += ["", "Recovered: every expert's slope and intercept, matched to the true lines with "
              f"scipy's linear_sum_assignment, within {RECOVERED}; the largest expert error is the "
              "worst of those matched slope and intercept errors. Slope error: within each line's "
              "region of z, the mean absolute difference between the model's slope in x and the "
              "true slope; it applies to every model.", ""]
    (out / "report.md").write_text("\n".join(lines))

    figures = []
    for metric, title in (("extrapolation_mse", "MSE for 1 < |x| ≤ 2"), ("slope_error", "slope error"),
                          ("test_mse", "MSE inside the training range")):
        fig = go.Figure()
        for name in summary["models"]:
            ks = [int(k) for k in summary["by_K"] if name in summary["by_K"][k]]
            cells = [summary["by_K"][str(k)][name][metric] for k in ks]
            fig.add_trace(go.Scatter(x=ks, y=[c["mean"] for c in cells], name=name, mode="lines+markers",
                                     error_y=dict(type="data", symmetric=False,
                                                  array=[c["ci"][1] - c["mean"] for c in cells],
                                                  arrayminus=[c["mean"] - c["ci"][0] for c in cells])))
        fig.update_layout(title=title, xaxis_title="K (hidden lines)", yaxis_type="log")
        figures.append(fig)
    from .web.site import PLOTLY_JS  # the copy inside the plotly package: nothing from a CDN
    (out / "plotly.min.js").write_bytes(PLOTLY_JS.read_bytes())
    with (out / "figures.html").open("w") as handle:
        handle.write('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>The switchboard '
                     'study</title><script src="plotly.min.js"></script></head><body>')
        for fig in figures:
            handle.write(fig.to_html(full_html=False, include_plotlyjs=False))
        handle.write("</body></html>")
    return written

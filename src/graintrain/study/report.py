"""The study's summary: means with 95% intervals, the Markdown report, the Parquet table, the figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..cache import write_whole
from .grid import METRICS, MODEL_NAMES, RECOVERED, StudyConfig, count_table


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
        # In (K, seed) order: runs finish in any order, and the seeded bootstrap should not see it.
        mine = sorted((r for r in rows if r["model"] == name), key=lambda r: (r["K"], r["seed"]))
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
    write_whole(out / "runs.parquet", lambda handle: pq.write_table(table, handle))

    counts = count_table(config.lines)
    lines = ["# The switchboard study", "",
             f"{len({(r['K'], r['seed']) for r in rows})} switchboards (K in "
             f"{', '.join(map(str, config.lines))}, seeds 0 to {config.seeds - 1}, noise "
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
    from ..assets import PLOTLY_JS
    (out / "plotly.min.js").write_bytes(PLOTLY_JS.read_bytes())
    with (out / "figures.html").open("w") as handle:
        handle.write('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>The switchboard '
                     'study</title><script src="plotly.min.js"></script></head><body>')
        for fig in figures:
            handle.write(fig.to_html(full_html=False, include_plotlyjs=False))
        handle.write("</body></html>")
    return written

"""`graintrain study`: the switchboard study, resumable, with its table, report and figures."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..datasets import DATASETS
from .args import UsageError, out_folder


def run_study_command(args: argparse.Namespace, out: Console, err: Console) -> int:
    """``study``: train the grid (resuming), then write the table, the report and the figures."""
    from ..study import StudyBusy, StudyConfig, count_table, run_study, summarise, write_outputs
    from ..study.grid import QUICK

    if args.address is not None and args.backend != "ray":
        raise UsageError("--address goes with --backend ray")
    if args.backend == "ray" and importlib.util.find_spec("ray") is None:
        raise UsageError("--backend ray needs Ray: pip install 'graintrain[ray]'")
    folder = out_folder(args.out, "the study")
    given = {"lines": args.lines, "seeds": args.seeds, "noise": args.noise}
    config = StudyConfig(**(QUICK if args.quick else {}) | {k: v for k, v in given.items() if v is not None},
                         out=folder, backend=args.backend, address=args.address,
                         shape=tuple(sorted((o.name, v) for o in DATASETS["switchboard"].options
                                            if o.name != "lines" and (v := getattr(args, o.name)) is not None)))
    if not args.json:
        table = Table("K", "attention", "mlp-1", "mlp-2", "largest mismatch",
                      title="parameter counts, matched to attention's 4K")
        for c in count_table(config.lines):
            table.add_row(str(c["K"]), str(c["attention"]), f"{c['mlp-1']} {tuple(c['hidden']['mlp-1'])}",
                          f"{c['mlp-2']} {tuple(c['hidden']['mlp-2'])}", f"{100 * c['worst_mismatch']:.0f}%")
        out.print(table)
    with Progress(TextColumn("[bold]study runs"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err, disable=not err.is_terminal) as progress:
        task = progress.add_task("cells", total=None)
        try:
            rows = run_study(config, on_cell=lambda done, total: progress.update(task, completed=done, total=total),
                             on_skipped=lambda bad, again: err.print(_skipped(bad, again), highlight=False, soft_wrap=True))
        except (StudyBusy, IsADirectoryError) as e:
            raise UsageError(str(e)) from None
    summary = summarise(rows)
    written = write_outputs(config, rows, summary)
    if args.json:
        print(json.dumps({"models": summary["models"]}))
    else:
        report = Table("model", "test MSE", "extrapolation MSE", "slope error", "recovered",
                       title="mean [95% interval] over all switchboards")
        for name, cell in summary["models"].items():
            show = lambda c, d=4: f"{c['mean']:.{d}f} [{c['ci'][0]:.{d}f}, {c['ci'][1]:.{d}f}]"
            report.add_row(name, show(cell["test_mse"]), show(cell["extrapolation_mse"]),
                           show(cell["slope_error"], 3), show(cell["recovered"], 2) if "recovered" in cell else "")
        out.print(report)
        out.print(f"wrote {', '.join(str(p) for p in written)}", highlight=False)
    return 0


def _skipped(bad: int, again: int) -> str:
    """One line on what runs.jsonl held besides runs, each once."""
    parts = [f"{bad} that hold no run (cut off or edited)"] * bool(bad) + \
            [f"{again} that repeat a run already there"] * bool(again)
    total = bad + again
    return f"skipped {total} line{'s' * (total != 1)} of runs.jsonl: {' and '.join(parts)}"

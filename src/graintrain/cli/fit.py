"""`graintrain fit`: train a registered model on a registered dataset and print what it learned."""

from __future__ import annotations

import argparse

import torch
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pydantic import ValidationError

from .. import metrics
from ..options import OptionError
from ..runs import OPTIONS, Run
from .args import UsageError


def _named_parameters(model: torch.nn.Module) -> dict:
    return {name: (p.item() if p.numel() == 1 else p.detach().flatten().tolist())
            for name, p in model.named_parameters()}


def run_of(args: argparse.Namespace) -> Run:
    """The run the command line describes, checked; UsageError names the flag that is wrong."""
    texts = {name: text for name in OPTIONS if (text := getattr(args, name, None)) is not None}
    try:
        return Run.parse({"model": args.model, "dataset": args.dataset, **texts})
    except OptionError as err:
        raise UsageError(f"{OPTIONS[err.name].flag} {err.complaint}") from None
    except ValidationError as err:
        first = err.errors()[0]
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, OptionError):
            raise UsageError(f"{OPTIONS[cause.name].flag} {cause.complaint}") from None
        where = f"--{first['loc'][0]}: " if first["loc"] else ""
        raise UsageError(where + first["msg"]) from None


def run_fit(args: argparse.Namespace, console: Console) -> dict:
    """Train as the arguments say, showing progress on stderr; return the JSON-ready summary."""
    run = run_of(args)
    plan = run.plan
    try:
        dataset = plan.data.make()
        run.probe(dataset)  # the one thing only the data can tell: whether it holds what the model reads
    except ValueError as err:
        raise UsageError(str(err)) from None
    total = plan.total_steps
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("step {task.completed}/{task.total}  loss {task.fields[loss]}"),
                  TimeElapsedColumn(), console=console, transient=True,
                  disable=not console.is_terminal) as progress:
        task = progress.add_task(f"{args.model} on {args.dataset}", total=total, loss="…")
        result = plan.fit(dataset, on_step=lambda step, _total, loss: progress.update(
            task, completed=step, loss=f"{loss:.4g}"))
    model = result.model
    summary = {"model": args.model, "dataset": args.dataset, "parameters": _named_parameters(model),
               "seconds": round(result.seconds, 4), "restarts": plan.recipe.restarts,
               "kept_start": result.best, "seed": run.seed, **metrics.evaluate(model, dataset)}
    if "experts" in summary:
        summary["experts"]["largest_error"] = summary["expert_error"]
    return summary


def _print_summary(summary: dict, console: Console) -> None:
    table = Table(title=f"{summary['model']} on {summary['dataset']}", show_header=False)
    for name, value in summary["parameters"].items():
        shown = f"{value:.4f}" if isinstance(value, float) else "[" + ", ".join(f"{v:.3f}" for v in value) + "]"
        table.add_row(name, shown)
    console.print(table)
    console.print(f"parameters: {summary['num_parameters']}   "
                  f"time: {summary['seconds']:.2f} s   starts: {summary['restarts']}")
    if "train_accuracy" in summary:
        console.print(f"train accuracy: {summary['train_accuracy']:.3f}   "
                      f"test accuracy: {summary['test_accuracy']:.3f}")
    else:
        console.print(f"train MSE: {summary['train_mse']:.4f}   test MSE: {summary['test_mse']:.4f}   "
                      f"far MSE: {summary['extrapolation_mse']:.4f}   "
                      f"noise floor: {summary['noise_floor']:.4f}")
    if "experts" in summary:
        e = summary["experts"]
        rows = Table("class", "learned slope", "true slope", "learned intercept", "true intercept",
                     title="experts, matched to the true lines")
        for row in zip(e["classes"], e["slopes"], e["true_slopes"], e["intercepts"], e["true_intercepts"]):
            rows.add_row(row[0], *(f"{v:.3f}" for v in row[1:]))
        console.print(rows)

"""`graintrain fit`: train a registered model on a registered dataset and print what it learned."""

from __future__ import annotations

import argparse

import torch
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .. import metrics
from ..datasets import make_dataset
from ..models import MODELS, make_model, recipe_for
from ..train import check, fit
from .args import UsageError, _data_options


def _named_parameters(model: torch.nn.Module) -> dict:
    return {name: (p.item() if p.numel() == 1 else p.detach().flatten().tolist())
            for name, p in model.named_parameters()}


def run_fit(args: argparse.Namespace, console: Console) -> dict:
    """Train as the arguments say, showing progress on stderr; return the JSON-ready summary."""
    spec = MODELS[args.model]
    options = {}
    if args.hidden is not None:
        options["hidden"] = args.hidden
    if args.experts is not None:
        options["experts"] = args.experts
    for name in options:
        if name not in spec.options:
            takers = [m for m, s in MODELS.items() if name in s.options]
            raise UsageError(f"--{name} applies to {', '.join(takers)}, not to {args.model}")
    try:
        dataset = make_dataset(args.dataset, n=args.n, noise=args.noise, seed=args.seed,
                               **_data_options(args, args.dataset))
    except ValueError as err:
        raise UsageError(str(err)) from None
    recipe = recipe_for(args.model, seed=args.seed, restarts=args.restarts, steps=args.steps,
                        lr=args.lr, optimizer=args.optimizer, objective=args.objective)
    try:
        check(recipe, make_model(args.model, dataset, **options))
    except ValueError as err:
        raise UsageError(str(err)) from None

    total = sum(s.steps for s in recipe.stages) * recipe.restarts
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("step {task.completed}/{task.total}  loss {task.fields[loss]}"),
                  TimeElapsedColumn(), console=console, transient=True,
                  disable=not console.is_terminal) as progress:
        task = progress.add_task(f"{args.model} on {args.dataset}", total=total, loss="…")
        result = fit(lambda: make_model(args.model, dataset, **options), dataset.train, recipe,
                     on_step=lambda step, _total, loss: progress.update(
                         task, completed=step, loss=f"{loss:.4g}"))
    model = result.model
    summary = {"model": args.model, "dataset": args.dataset, "parameters": _named_parameters(model),
               "seconds": round(result.seconds, 4), "restarts": recipe.restarts,
               "kept_start": result.best, "seed": args.seed, **metrics.evaluate(model, dataset)}
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

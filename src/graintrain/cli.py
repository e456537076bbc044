"""The graintrain command: fit a registered model to a registered dataset, and list both registries."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import metrics
from .datasets import DATASETS, make_dataset
from .options import Option
from .models import MODELS, make_model, recipe_for
from .train import OBJECTIVES, OPTIMIZERS, TrainingDiverged, check, fit


class UsageError(Exception):
    """A bad name, flag or value on the command line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line and status 2, never a usage dump or traceback
        raise UsageError(message)


def _whole(low: int, high: int, what: str = "a whole number"):
    """A parser for whole numbers from ``low`` to ``high``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what} from {low} to {high}, got {text!r}")
        return value
    return parse


_seed = _whole(0, 2**31 - 1, "a seed")
_port = _whole(1, 65535, "a port number")


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers such as 2,3,5,8, got {text!r}") from None
    if not sizes or any(not 1 <= s <= 16 for s in sizes):
        raise argparse.ArgumentTypeError(f"each K must be from 1 to 16, got {text!r}")
    return sizes


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected layer sizes such as 10 or 3,2, got {text!r}") from None
    if not sizes or any(not 1 <= s <= 256 for s in sizes):
        raise argparse.ArgumentTypeError(f"each hidden size must be from 1 to 256, got {text!r}")
    return sizes


def _number(low: float, strict: bool, high: float = 1e6):
    """A parser for numbers above ``low`` (or from ``low`` when not strict) up to ``high``."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (value > low if strict else value >= low) or not value <= high:
            raise argparse.ArgumentTypeError(
                f"expected a number {'above' if strict else 'of at least'} {low:g} and at most "
                f"{high:g}, got {text!r}")
        return value
    return parse


def _dataset_flags(parser: argparse.ArgumentParser, options: list[Option]) -> None:
    """One flag per dataset option, from its registry declaration; values are checked against the
    declaration of the dataset named on the command line (see _data_options)."""
    for name in dict.fromkeys(o.name for o in options):
        first = next(o for o in options if o.name == name)
        takers = [d for d, spec in DATASETS.items() if any(o.name == name for o in spec.options)]
        shape = {"floats": "A,B,…", "choice": "{" + ",".join(first.choices) + "}"}.get(first.kind, "N")
        parser.add_argument(first.flag, dest=name, metavar=shape,
                            help=f"{'/'.join(takers)}: {first.help}")


def _data_options(args: argparse.Namespace, dataset: str) -> dict:
    """The dataset options given on the command line, parsed by the dataset's own declarations."""
    given = {}
    declared = {o.name: o for o in DATASETS[dataset].options}
    names = dict.fromkeys(o.name for spec in DATASETS.values() for o in spec.options)
    for name in names:
        text = getattr(args, name, None)
        if text is None:
            continue
        flag = "--" + name.replace("_", "-")
        if name not in declared:
            takers = [d for d, spec in DATASETS.items() if any(o.name == name for o in spec.options)]
            raise UsageError(f"{flag} applies to {', '.join(takers)}, not to {dataset}")
        try:
            given[name] = declared[name].parse(text)
        except ValueError as err:
            raise UsageError(f"{flag}: {err}") from None
    return given


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface, with its subcommands fit, models and datasets."""
    parser = _Parser(prog="graintrain", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                metavar="{fit,models,datasets,serve,build,study}")
    f = sub.add_parser("fit", help="train a model on a dataset and print what it learned")
    f.add_argument("model", choices=list(MODELS), metavar="MODEL",
                   help=f"one of: {', '.join(MODELS)}")
    f.add_argument("dataset", choices=list(DATASETS), metavar="DATASET",
                   help=f"one of: {', '.join(DATASETS)}")
    f.add_argument("--hidden", type=_hidden, help="mlp: hidden layer sizes, e.g. 10 or 3,2")
    f.add_argument("--experts", type=_whole(1, 16), help="attention: number of experts K "
                   "(default: the dataset's number of classes)")
    _dataset_flags(f, [o for spec in DATASETS.values() for o in spec.options])
    f.add_argument("--n", type=_whole(4, 20_000), help="number of training points")
    f.add_argument("--noise", type=_number(0, strict=False, high=5), help="noise standard deviation on the water")
    f.add_argument("--seed", type=_seed, default=0, help="seed for the data and the model (default 0)")
    f.add_argument("--steps", type=_whole(1, 20_000), help="steps of a single-stage run")
    f.add_argument("--lr", type=_number(0, strict=True, high=10), help="learning rate of a single-stage run")
    f.add_argument("--optimizer", choices=OPTIMIZERS, help="optimizer of a single-stage run")
    f.add_argument("--objective", choices=list(OBJECTIVES), help="objective of a single-stage run")
    f.add_argument("--restarts", type=_whole(1, 10), help="random starts to try; the best is kept")
    f.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    sub.add_parser("models", help="list the registered models")
    sub.add_parser("datasets", help="list the registered datasets")
    serve = sub.add_parser("serve", help="serve the interactive article (training what it needs first)")
    serve.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=None, help="port (default 8000)")
    serve.add_argument("--cache", default=None, help="folder of trained models (default ~/.cache/graintrain)")
    study = sub.add_parser("study", help="attention against matched ReLU networks on many switchboards")
    study.add_argument("--experts", type=_sizes, default=None, help="values of K, e.g. 2,3,5,8 (default)")
    study.add_argument("--noise", type=_number(0, strict=False), default=0.05, help="noise (default 0.05)")
    study.add_argument("--seeds", type=_whole(1, 1000), default=None, help="switchboards per K (default 20)")
    study.add_argument("--out", default="study", help="folder for the results (default ./study)")
    study.add_argument("--backend", choices=["local", "ray"], default="local")
    study.add_argument("--address", default=None, help="Ray cluster address, with --backend ray")
    _dataset_flags(study, [o for o in DATASETS["switchboard"].options if o.name != "relationships"])
    study.add_argument("--quick", action="store_true", help="a small grid that runs in well under a minute")
    study.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    build = sub.add_parser("build", help="write the article as a static site")
    build.add_argument("--out", required=True, help="folder to write the site into")
    build.add_argument("--cache", default=None, help="folder of trained models (default ~/.cache/graintrain)")
    return parser


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


def run_study_command(args: argparse.Namespace, out: Console, err: Console) -> int:
    """``study``: train the grid (resuming), then write the table, the report and the figures."""
    from .study import StudyConfig, count_table, run_study, summarise, write_outputs

    if args.address is not None and args.backend != "ray":
        raise UsageError("--address goes with --backend ray")
    if args.backend == "ray" and importlib.util.find_spec("ray") is None:
        raise UsageError("--backend ray needs Ray: pip install 'graintrain[ray]'")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise UsageError(f"--out {args.out} is a file; the study writes into a folder")
    quick = args.quick
    config = StudyConfig(experts=args.experts or ((2, 5) if quick else (2, 3, 5, 8)),
                         seeds=args.seeds or (3 if quick else 20), noise=args.noise,
                         points=300 if quick else 500, out=Path(args.out), backend=args.backend,
                         address=args.address,
                         shape=tuple(sorted(_data_options(args, "switchboard").items())))
    if not args.json:
        table = Table("K", "attention", "mlp-1", "mlp-2", "largest mismatch",
                      title="parameter counts, matched to attention's 4K")
        for c in count_table(config.experts):
            table.add_row(str(c["K"]), str(c["attention"]), f"{c['mlp-1']} {tuple(c['hidden']['mlp-1'])}",
                          f"{c['mlp-2']} {tuple(c['hidden']['mlp-2'])}", f"{100 * c['worst_mismatch']:.0f}%")
        out.print(table)
    with Progress(TextColumn("[bold]study runs"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err, disable=not err.is_terminal) as progress:
        task = progress.add_task("cells", total=None)
        rows = run_study(config, on_cell=lambda done, total: progress.update(task, completed=done, total=total))
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


def run_web(args: argparse.Namespace, out: Console, err: Console) -> int:
    """``serve``: build the article and serve it; ``build``: write it as static files."""
    import socket
    from .cache import Cache
    from .web.settings import Settings
    from .article.site import build_site

    if args.command == "build" and Path(args.out).exists() and not Path(args.out).is_dir():
        raise UsageError(f"--out {args.out} is a file; the site is written into a folder")
    settings = Settings.from_env(cache_dir=args.cache, **(
        {"host": args.host, "port": args.port} if args.command == "serve" else {}))
    if args.command == "serve":  # fail fast, before any training, if the port is taken
        with socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET) as probe:
            try:
                probe.bind((settings.host, settings.port))
            except OSError as e:
                raise UsageError(f"cannot listen on {settings.host}:{settings.port}: {e.strerror}; "
                                 "choose another with --port") from None
    site = build_site(Cache(settings.cache_dir), console=err)
    if args.command == "build":
        written = site.write(Path(args.out))
        out.print(f"wrote {len(written)} files to {args.out}; serve them with any static file "
                  f"server, e.g. python -m http.server -d {args.out}", highlight=False)
        return 0
    import uvicorn

    from .web.main import create_app
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    out.print(f"graintrain: the article is at http://{host}:{settings.port}/  (Ctrl+C stops)",
              highlight=False)
    uvicorn.run(create_app(settings, site), host=settings.host, port=settings.port,
                log_level="warning")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``graintrain`` command; returns the exit status."""
    out, err = Console(), Console(stderr=True)
    try:
        args = build_parser().parse_args(argv)
        if args.command == "models":
            for name, spec in MODELS.items():
                out.print(f"{name:12} {spec.about}", highlight=False, soft_wrap=True)
        elif args.command == "datasets":
            for name, spec in DATASETS.items():
                out.print(f"{name:13} {spec.about}", highlight=False, soft_wrap=True)
                for o in spec.options:
                    out.print(f"{'':15}{o.flag}: {o.help}", highlight=False, soft_wrap=True)
        elif args.command == "study":
            return run_study_command(args, out, err)
        elif args.command in ("serve", "build"):
            torch.set_num_threads(1)
            return run_web(args, out, err)
        else:
            torch.set_num_threads(1)  # tiny tensors: threads cost more than they give
            importlib.import_module("torch._dynamo")  # the first optimizer step would (~1 s): not training
            summary = run_fit(args, err)
            if args.json:
                print(json.dumps(summary))
            else:
                _print_summary(summary, out)
    except UsageError as e:
        print(f"graintrain: error: {e}", file=sys.stderr)
        return 2
    except TrainingDiverged as e:
        print(f"graintrain: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("graintrain: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The command line's parser: its flags, their checks, and the dataset options made from the registry."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ..datasets import DATASETS
from ..models import MODELS
from ..options import Option, takers
from ..run_options import GROUPS, OPTIONS
from ..study.grid import QUICK, StudyConfig


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


_port = _whole(1, 65535, "a port number")


def out_folder(text: str, what: str) -> Path:
    """The --out folder, made if missing and checked writable now, before any work; UsageError
    in one line when it cannot be (empty, a file, a path under a file, a read-only place)."""
    if not text.strip():
        raise UsageError(f"--out needs a folder name; {what} is written into a folder")
    # "~/x" as the shell would read it, had it not been quoted; absolute, as every writer (Parquet's
    # among them, which reads "~" on its own) then sees the same folder.
    folder = Path(text).expanduser().absolute()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {text} is a file; {what} is written into a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise UsageError(f"--out {text}: cannot write there ({err.strerror or err})") from None
    return folder


def _option(option: Option):
    """An argparse type that checks text by the option's declaration."""
    def parse(text: str):
        try:
            return option.parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    return parse


def _each(option: Option):
    """An argparse type for a list a,b,c whose every item the option checks (the study's --lines)."""
    def parse(text: str) -> tuple:
        items = text.split(",")
        return tuple(_option(option)(item) for item in items)
    return parse


def _run_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per run option, from its registry declaration. Values stay text here: Run.parse
    reads them, so a dataset's own declaration (darkness: one reading per grain) has the last word."""
    for group, options in GROUPS.items():
        for o in options:
            shape = {"floats": "A,B,…", "ints": "A,B,…", "choice": "{" + ",".join(o.choices) + "}"}
            who = takers(MODELS if group == "model" else DATASETS, o.name)  # none: every run takes it
            parser.add_argument(o.flag, dest=o.name, metavar=shape.get(o.kind, "N"),
                                help=f"{'/'.join(who) + ': ' if who else ''}{o.help}")


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
    _run_flags(f)
    f.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    sub.add_parser("models", help="list the registered models")
    sub.add_parser("datasets", help="list the registered datasets")
    serve = sub.add_parser("serve", help="serve the interactive article (training what it needs first)")
    serve.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=None, help="port (default 8000)")
    serve.add_argument("--cache", default=None, help="folder of trained models (default ~/.cache/graintrain)")
    study = sub.add_parser("study", help="attention against matched ReLU networks on many switchboards")
    grid = StudyConfig()  # the study's defaults, declared there once
    study.add_argument("--lines", type=_each(OPTIONS["lines"]), default=None,
                       help=f"values of K, the number of hidden lines (default {','.join(map(str, grid.lines))})")
    study.add_argument("--noise", type=_option(OPTIONS["noise"]), default=None, help=f"noise (default {grid.noise:g})")
    study.add_argument("--seeds", type=_whole(1, 1000), default=None, help=f"switchboards per K (default {grid.seeds})")
    study.add_argument("--out", default=str(grid.out), help=f"folder for the results (default ./{grid.out})")
    study.add_argument("--backend", choices=["local", "ray"], default="local")
    study.add_argument("--address", default=None, help="Ray cluster address, with --backend ray")
    for o in DATASETS["switchboard"].options:
        if o.name != "lines":
            study.add_argument(o.flag, dest=o.name, type=_option(o), help=o.help)
    study.add_argument("--quick", action="store_true", help="a small grid that runs in well under a minute ("
                       + ", ".join(f"{k} {','.join(map(str, v)) if isinstance(v, tuple) else v}" for k, v in QUICK.items()) + ")")
    study.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    build = sub.add_parser("build", help="write the article as a static site")
    build.add_argument("--out", required=True, help="folder to write the site into")
    build.add_argument("--cache", default=None, help="folder of trained models (default ~/.cache/graintrain)")
    return parser

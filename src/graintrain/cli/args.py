"""The command line's parser: its flags, their checks, and the dataset options made from the registry."""

from __future__ import annotations

import argparse


from ..datasets import DATASETS
from ..options import Option
from ..models import MODELS
from ..train import OBJECTIVES, OPTIMIZERS


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


def _data_options(args: argparse.Namespace, dataset: str, skip: tuple[str, ...] = ()) -> dict:
    """The dataset options given on the command line, parsed by the dataset's own declarations."""
    given = {}
    declared = {o.name: o for o in DATASETS[dataset].options}
    names = dict.fromkeys(o.name for spec in DATASETS.values() for o in spec.options)
    for name in names:
        text = None if name in skip else getattr(args, name, None)
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
    study.add_argument("--lines", type=_sizes, default=None,
                       help="values of K, the number of hidden lines, e.g. 2,3,5,8 (default)")
    study.add_argument("--noise", type=_number(0, strict=False), default=0.05, help="noise (default 0.05)")
    study.add_argument("--seeds", type=_whole(1, 1000), default=None, help="switchboards per K (default 20)")
    study.add_argument("--out", default="study", help="folder for the results (default ./study)")
    study.add_argument("--backend", choices=["local", "ray"], default="local")
    study.add_argument("--address", default=None, help="Ray cluster address, with --backend ray")
    _dataset_flags(study, [o for o in DATASETS["switchboard"].options if o.name != "lines"])
    study.add_argument("--quick", action="store_true", help="a small grid that runs in well under a minute")
    study.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    build = sub.add_parser("build", help="write the article as a static site")
    build.add_argument("--out", required=True, help="folder to write the site into")
    build.add_argument("--cache", default=None, help="folder of trained models (default ~/.cache/graintrain)")
    return parser

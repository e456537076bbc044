"""The graintrain command: fit a registered model to a registered dataset, and list both registries.

The command is split by job: ``args.py`` builds the parser, and ``fit.py``, ``study.py`` and
``web.py`` each run one command (``serve`` and ``build`` share ``web.py``). Each is imported when
its command runs: listing the models or the datasets needs no PyTorch, and importing it takes
over a second.
"""

from __future__ import annotations

import json
import os
import sys

from rich.console import Console

from ..datasets import DATASETS
from ..models import MODELS
from ..recipe import TrainingDiverged
from .args import UsageError, build_parser

INTERRUPTED = 130  # the status of a command stopped by Ctrl+C, as shells give 128 + SIGINT


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
            from .study import run_study_command
            return run_study_command(args, out, err)
        elif args.command in ("serve", "build"):
            import torch
            from .web import run_web
            torch.set_num_threads(1)
            return run_web(args, out, err)
        else:
            import torch
            from .fit import _print_summary, run_fit
            torch.set_num_threads(1)  # tiny tensors: threads cost more than they give
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
        return INTERRUPTED
    return 0


def command() -> None:
    """The ``graintrain`` console script: main(), then exit with its status. A fit leaves at once
    once its output is written: unloading PyTorch as the interpreter shuts down took 0.3–0.6 s here,
    longer than the fit (benchmarks/cli_latency.py), and a fit holds nothing that needs closing.
    So does any command stopped by Ctrl+C: exiting normally would first wait for its training
    processes to finish what they hold, while everything finished is already on disk, written
    whole, and the processes end themselves once this one has gone."""
    argv = sys.argv[1:]
    # Leaving at once skips multiprocessing's own clean-up, so its resource tracker (a process of
    # its own, which reads this variable) unlinks the training pool's semaphores itself, and warns
    # of "leaked semaphore objects": a note for programmers, about a clean-up that did happen.
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, (os.environ.get("PYTHONWARNINGS"),
                                                          "ignore:resource_tracker:UserWarning")))
    code = main(argv)
    if argv[:1] == ["fit"] or code == INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    command()


__all__ = ["UsageError", "build_parser", "command", "main"]

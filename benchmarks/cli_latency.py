"""Wall time of the graintrain command as a new user meets it, against Python's own start and PyTorch's import.

Each command runs as a fresh process, 5 times, the commands taking turns so that a busy machine
slows them alike; the baselines `python -c pass` and `python -c "import torch"` run in the same
rounds. Then each of `graintrain models` and `graintrain datasets` runs once more with Python's
import timing on (PYTHONPROFILEIMPORTTIME) to tell whether it imported torch.

Run: .venv/bin/python benchmarks/cli_latency.py   (goals: fit line white in 2.0 s or less; models
and datasets import no torch)
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

EXE = str(Path(sys.executable).with_name("graintrain"))
ROUNDS = 5
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    'python -c "import torch"': [sys.executable, "-c", "import torch"],
    "graintrain fit line white --json": [EXE, "fit", "line", "white", "--json"],
    "graintrain models": [EXE, "models"],
    "graintrain datasets": [EXE, "datasets"],
}
HEAVY = ("torch", "scipy", "plotly", "fastapi", "pydantic")  # what a listing should not need


def wall(argv: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - began


def imported(argv: list[str]) -> list[str]:
    """The HEAVY packages the command imports, read from Python's import timing on stderr."""
    env = os.environ | {"PYTHONPROFILEIMPORTTIME": "1"}
    err = subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, env=env).stderr
    names = {line.rsplit("|", 1)[-1].strip() for line in err.splitlines() if line.startswith("import time:")}
    return [name for name in HEAVY if name in names]


def main() -> None:
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(ROUNDS):
        for name, argv in COMMANDS.items():
            times[name].append(wall(argv))
    median = {name: statistics.median(t) for name, t in times.items()}
    python, torch = median["python -c pass"], median['python -c "import torch"']
    print(f"{'command':34} {'median s':>9} {'× import torch':>15} {'− import torch':>15}")
    for name, seconds in median.items():
        print(f"{name:34} {seconds:9.2f} {seconds / torch:15.2f} {seconds - torch:+15.2f}")
    fit = median["graintrain fit line white --json"]
    print(f"\nfit line white: {fit:.2f} s, {'within' if fit <= 2.0 else 'over'} the 2.0 s goal "
          f"(python starts in {python:.2f} s, imports torch in {torch:.2f} s on this machine now)")
    for name in ("graintrain models", "graintrain datasets"):
        heavy = imported(COMMANDS[name])
        said = ", ".join(heavy) if heavy else "none of " + ", ".join(HEAVY)
        print(f"{name} imports: {said}")


if __name__ == "__main__":
    main()

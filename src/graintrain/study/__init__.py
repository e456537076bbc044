"""The switchboard study: attention against ReLU networks of matched size, over many seeds.

Each cell is one switchboard (K hidden lines, one seed). In every cell four models train: attention
by graintrain's recipe, attention by the post's plain recipe (gradient descent on the blended
error), and ReLU networks with one and with two hidden layers whose parameter counts are the
closest to attention's 4K. Each finished run is appended to ``runs.jsonl`` at once, so a study that
is cut off resumes where it stopped.

- ``grid.py``: the study's settings, the matched sizes and the parameter-count table;
- ``runner.py``: one cell's runs, the stacked plain recipe, the process pool and Ray;
- ``ledger.py``: ``runs.jsonl``, each run once, resumed, and the folder held by one study at a time;
- ``jobs.py``: the grid cut into jobs of similar size, handed out longest first;
- ``report.py``: means with intervals, the Markdown report, the Parquet table and the figures;
- ``stacked.py``: many attention models trained side by side as one set of tensors.
"""

import importlib

# Each public name and the module that holds it, imported when first asked for: the command line
# reads the grid's defaults (grid.py) without waiting for PyTorch, which the runner brings.
_WHERE = {**dict.fromkeys(["METRICS", "MODEL_LABELS", "MODEL_NAMES", "RECOVERED", "StudyConfig", "count_table",
                           "matched_hidden"], "grid"),
          **dict.fromkeys(["fraction_ci", "mean_ci", "summarise", "write_outputs"], "report"),
          **dict.fromkeys(["Job", "makespan", "plan"], "jobs"),
          **dict.fromkeys(["Ledger", "StudyBusy", "append_row", "read_rows"], "ledger"),
          **dict.fromkeys(["run_blended", "run_cell", "run_job", "run_study"], "runner")}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)

"""A fingerprint of every number the article shows, to prove that moving code changes none of them.

Each figure gives its stats as printed, and for each column of its data table the count, sum and sum
of squares (numbers) or the joined text (labels). `python tests/article_numbers.py` rewrites the fixture.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "article_numbers.json"
STUDY_SEEDS = 3  # switchboards per K in the tests' chapter 9 study (the article runs its own 10)


def fingerprint(figures: dict) -> dict:
    """{figure: {"stats": [[label, value], ...], "table": {column: [n, sum, sum of squares] or text}}}."""
    out = {}
    for name, fig in sorted(figures.items()):
        table = {}
        for column, values in fig.table.items():
            numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
            if len(numbers) == len(values):
                finite = [float(v) for v in numbers if math.isfinite(v)]
                table[column] = [len(values), sum(finite), sum(v * v for v in finite)]
            else:
                table[column] = "|".join(map(str, values))
        out[name] = {"stats": [list(pair) for pair in fig.stats], "table": table}
    return out


def main() -> None:
    import tempfile

    from graintrain.cache import Cache
    from graintrain.article.build import build_figures

    with tempfile.TemporaryDirectory() as folder:
        figures = build_figures(Cache(Path(folder)), study_seeds=STUDY_SEEDS)
        FIXTURE.write_text(json.dumps(fingerprint(figures), indent=1) + "\n")
    print(f"wrote {FIXTURE}")


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)
    main()

"""Where attention's experts start: the data sorted by z, cut into runs that one line each fits best.

With a linear key on a single selector, softmax(K(z)) can only give each expert one interval of z, in
order of the key weights. So the best place to start is the split of the sorted data into K runs
that minimises the squared error of one least-squares line y = s·x + c per run: segmented
regression, solved exactly by dynamic programming (Bellman 1961) over a coarse grid of cuts, then
refined point by point. Nothing here knows the data's range, the widths of its regions or their
order; it reads them from the points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EXACT = 1500  # up to this many candidate cuts, try them all: K·EXACT² sums, some tens of milliseconds
GRID = 400  # beyond it, a coarse grid of this many cuts first


@dataclass
class Segments:
    """K runs of the data sorted by z: where each border lies, and each run's line."""

    borders: np.ndarray  # (K-1,) z halfway across the gap between neighbouring runs
    gaps: np.ndarray  # (K-1,) the width of that gap in z
    slopes: np.ndarray  # (K,) each run's least-squares slope in x
    intercepts: np.ndarray  # (K,) and intercept


def _line_costs(x: np.ndarray, y: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """cost[i, j]: squared error of one least-squares line through points cuts[i] .. cuts[j]-1."""
    zero = np.zeros(1)
    sums = [np.concatenate([zero, np.cumsum(v)])[cuts] for v in (np.ones_like(x), x, x * x, y, x * y, y * y)]
    n, sx, sxx, sy, sxy, syy = (s[None, :] - s[:, None] for s in sums)  # each (G, G)
    with np.errstate(divide="ignore", invalid="ignore"):
        var_x = sxx - sx * sx / n
        cov = sxy - sx * sy / n
        var_y = syy - sy * sy / n
        cost = var_y - np.where(var_x > 1e-12, cov * cov / var_x, 0.0)
    cost[n < 3] = np.inf  # a line needs three points before its error means anything
    return np.maximum(cost, 0.0)


def _best_split(cost: np.ndarray, k: int) -> list[int]:
    """Indices into the cut grid of the k-run split with the least total cost (dynamic programming)."""
    g = cost.shape[0]
    best = np.full(g, np.inf)
    best[1:] = cost[0, 1:]  # one run from the first point to cut j
    back = []
    for _ in range(k - 1):
        total = best[:, None] + cost  # (G, G): best split up to i, then one run i..j
        back.append(total.argmin(0))
        best = total.min(0)
    ends = [g - 1]
    for choice in reversed(back):
        ends.append(int(choice[ends[-1]]))
    return [0, *ends[::-1]]  # cut indices from 0 to G-1, k+1 of them


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if len(x) >= 2 and np.ptp(x) > 0:
        slope, intercept = np.polyfit(x, y, 1)
        return float(slope), float(intercept)
    return 0.0, float(y.mean()) if len(y) else 0.0


def _split(x: np.ndarray, y: np.ndarray, cuts: np.ndarray, k: int) -> np.ndarray:
    """The best k-run split using only the given cut positions (which include 0 and n)."""
    return cuts[_best_split(_line_costs(x, y, cuts), k)]


def segment(x: np.ndarray, z: np.ndarray, y: np.ndarray, k: int) -> Segments:
    """The k runs along z that one line each fits best, with borders halfway across each gap."""
    order = np.argsort(z, kind="stable")
    x, z, y = x[order], z[order], y[order]
    n = len(z)
    valid = np.flatnonzero(np.diff(z) > 0) + 1  # a cut may only fall where z changes
    k = max(1, min(k, (len(valid) + 1), n // 3))
    if len(valid) <= EXACT:
        positions = _split(x, y, np.concatenate([[0], valid, [n]]), k)
    else:  # a coarse grid of cuts first, then every cut near the coarse answer
        grid = valid[np.linspace(0, len(valid) - 1, GRID).round().astype(int)]
        coarse = _split(x, y, np.concatenate([[0], grid, [n]]), k)
        step = len(valid) // GRID + 1
        near = np.searchsorted(valid, coarse[1:-1])
        local = np.concatenate([valid[max(i - 2 * step, 0):i + 2 * step] for i in near] or [grid])
        positions = _split(x, y, np.unique(np.concatenate([[0], grid, local, [n]])), k)
    lines = [_fit(x[a:b], y[a:b]) for a, b in zip(positions[:-1], positions[1:])]
    inner = np.asarray(positions[1:-1], dtype=int)
    below, above = z[inner - 1], z[inner]
    return Segments((below + above) / 2, above - below, np.array([s for s, _ in lines]),
                    np.array([c for _, c in lines]))

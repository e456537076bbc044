"""Where attention's experts start: the data sorted by z, cut into runs that one line each fits best.

With a linear key on a single selector, softmax(K(z)) can only give each expert one interval of z, in
order of the key weights. So the best place to start is the split of the sorted data into K runs
that minimises the squared error of one least-squares line y = s·x + c per run: segmented
regression, solved exactly by dynamic programming (Bellman 1961) over every place a cut can fall
(for large data, over a coarse grid first and then again with every cut near that answer). Nothing
here knows the data's range, the widths of its regions or their order; it reads them from the
points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_RUN = 3  # the fewest points a run may hold
EXACT = 1000  # up to this many candidate cuts, try them all: K·EXACT² sums, tens of milliseconds
GRID = 400  # beyond it, a coarse grid of this many cuts first
BLOCK = 256  # end cuts per block of the search: memory stays near G·BLOCK numbers...
KEEP = 3000  # ...plus the whole G×G table of run costs, kept for reuse while G is at most this


@dataclass
class Segments:
    """K runs of the data sorted by z: where each border lies, and each run's line."""

    borders: np.ndarray  # (K-1,) z halfway across the gap between neighbouring runs
    gaps: np.ndarray  # (K-1,) the width of that gap in z
    slopes: np.ndarray  # (K,) each run's least-squares slope in x
    intercepts: np.ndarray  # (K,) and intercept


def _sums(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Running sums of 1, x, x², y, xy, y²: any run's least-squares line costs O(1) from them."""
    return [np.concatenate([[0.0], np.cumsum(v)]) for v in (np.ones_like(x), x, x * x, y, x * y, y * y)]


def _cost(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Squared error of one least-squares line through the points between two cuts, given the
    running sums (_sums) at each: arrays of shape (6, ...) that broadcast."""
    n, sx, sxx, sy, sxy, syy = end - start  # one array for all six: each is a view of it
    # syy − sy²/n − cov²/var_x with var_x = sxx − sx²/n and cov = sxy − sx·sy/n, worked in place:
    # the same operations in the same order, so the same numbers, without a new array for each step.
    with np.errstate(divide="ignore", invalid="ignore"):
        var_x, cov, cost, scratch = sxx, sxy, syy, sx * sx
        var_x -= np.divide(scratch, n, out=scratch)
        cov -= np.divide(np.multiply(sx, sy, out=scratch), n, out=scratch)
        cost -= np.divide(np.multiply(sy, sy, out=scratch), n, out=scratch)
        explained = np.divide(np.multiply(cov, cov, out=cov), var_x, out=cov)
        explained[~(var_x > 1e-12)] = 0.0
        cost -= explained
    np.maximum(cost, 0.0, out=cost)
    cost[n < MIN_RUN] = np.inf  # too few points for a line to mean much
    return cost


def _best_split(sums: list[np.ndarray], cuts: np.ndarray, k: int) -> list[int]:
    """The k-run split with the least total cost, each run between two of the given cuts (which
    include 0 and n): dynamic programming, a block of end cuts at a time to bound the memory."""
    g = len(cuts)
    at = np.stack([s[cuts] for s in sums])  # (6, G) the running sums at each cut
    block = lambda lo: _cost(at[:, :, None], at[:, None, lo:lo + BLOCK])  # (G, B): run from cut i to j
    whole = np.hstack([block(lo) for lo in range(0, g, BLOCK)]) if g <= KEEP else None  # (G, G)
    cost = lambda lo: whole[:, lo:lo + BLOCK] if whole is not None else block(lo)
    best = _cost(at[:, :1], at)  # (G,) one run from the first point to cut j
    back, total_cost = [], [best[-1]]  # total_cost[r - 1]: the best split of all points into r runs
    for _ in range(k - 1):
        choice, after = np.empty(g, dtype=int), np.empty(g)
        for lo in range(0, g, BLOCK):
            total = best[:, None] + cost(lo)  # (G, B): best split up to i, then run i..j
            choice[lo:lo + BLOCK], after[lo:lo + BLOCK] = total.argmin(0), total.min(0)
        back.append(choice)
        best = after
        total_cost.append(best[-1])
    # Ties in z can leave no way to give every one of k runs enough points: use the most runs that can.
    runs = max((r for r, c in enumerate(total_cost, 1) if np.isfinite(c)), default=1)
    ends = [g - 1]
    for choice in reversed(back[:runs - 1]):
        ends.append(int(choice[ends[-1]]))
    return [int(cuts[i]) for i in [0, *ends[::-1]]]  # runs+1 positions, from 0 to n


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if len(x) >= 2 and np.ptp(x) > 0:
        slope, intercept = np.polyfit(x, y, 1)
        return float(slope), float(intercept)
    return 0.0, float(y.mean()) if len(y) else 0.0


def predict(runs: Segments, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Each point's answer from the line of the run its z falls in."""
    k = np.searchsorted(runs.borders, z)  # (n,) the run of each point
    return runs.slopes[k] * x + runs.intercepts[k]


def count_runs(x: np.ndarray, z: np.ndarray, y: np.ndarray, most: int, folds: int = 5) -> int:
    """How many runs the data holds, by cross-validation over ``folds`` folds taken in turn along
    z: the fewest runs whose held-out error is within two standard errors of the least found for
    1 to ``most`` runs (more runs always fit the training points better, not new ones). It stops
    counting three runs past the best so far, as more then only fit the noise."""
    order = np.argsort(z, kind="stable")
    fold = np.empty(len(z), dtype=int)
    fold[order] = np.arange(len(z)) % folds  # every fold spans the whole range of z
    errors = []  # for k + 1 runs: each point's held-out squared error, (n,)
    for k in range(most):
        held_out = np.empty(len(z))
        for f in range(folds):
            fit, held = fold != f, fold == f
            runs = segment(x[fit], z[fit], y[fit], k + 1)
            held_out[held] = (predict(runs, x[held], z[held]) - y[held]) ** 2
        errors.append(held_out)
        if k - int(np.argmin([e.mean() for e in errors])) >= 3:
            break
    gain = np.stack(errors) - min(errors, key=np.mean)  # (K, n) how much worse than the best each point fares
    margin = 2 * gain.std(1) / np.sqrt(len(z))  # (K,) two standard errors of the mean gain
    return 1 + int(np.flatnonzero(gain.mean(1) <= margin)[0])


def segment(x: np.ndarray, z: np.ndarray, y: np.ndarray, k: int) -> Segments:
    """The k runs along z that one line each fits best, with borders halfway across each gap."""
    order = np.argsort(z, kind="stable")
    x, z, y = x[order], z[order], y[order]
    n = len(z)
    valid = np.flatnonzero(np.diff(z) > 0) + 1  # a cut may only fall where z changes
    k = max(1, min(k, (len(valid) + 1), n // 3))
    sums = _sums(x, y)
    if len(valid) <= EXACT:
        positions = _best_split(sums, np.concatenate([[0], valid, [n]]), k)
    else:  # a coarse grid of cuts, then again with every cut near the coarse answer added
        grid = valid[np.linspace(0, len(valid) - 1, GRID).round().astype(int)]
        coarse = _best_split(sums, np.concatenate([[0], grid, [n]]), k)
        reach = len(valid) // GRID + 1
        at = np.searchsorted(valid, coarse[1:-1])
        near = [valid[max(i - reach, 0):i + reach] for i in at]
        positions = _best_split(sums, np.unique(np.concatenate([[0], grid, *near, [n]])), k)
    lines = [_fit(x[a:b], y[a:b]) for a, b in zip(positions[:-1], positions[1:])]
    inner = np.asarray(positions[1:-1], dtype=int)
    below, above = z[inner - 1], z[inner]
    return Segments((below + above) / 2, above - below, np.array([s for s, _ in lines]),
                    np.array([c for _, c in lines]))

"""The switchboard data: K random lines, and a selector z whose region picks the line of each point.

Its options (lines, regions, order, the selector's range and noise) are declared in ``datasets.py``.
"""

from __future__ import annotations

import torch

from .datasets import Dataset, Split

MIN_WIDTH = 0.25  # with random widths, no region is narrower than this share of an equal one


def switchboard(n: int, noise: float, seed: int, *, lines: int, regions: str, order: str,
                selector_range: tuple[float, float], selector_noise: float) -> Dataset:
    """K random lines y = s_k·x + c_k, s ~ U(-3, 3), c ~ U(-1, 1); z ~ U(low, high) picks the line
    whose region of z holds it. Regions are equal or of random width; the lines sit along z in
    order (line 1 lowest) or shuffled; the reading of z may carry Gaussian noise (its standard
    deviation a share of the range), so that near a border it can fall in the neighbour's region."""
    low, high = selector_range  # lines, regions, order and LOW < HIGH: checked by SWITCHBOARD_OPTIONS
    if high - low < 1e-4 * max(abs(low), abs(high)) or high - low < 1e-30:
        raise ValueError(f"selector_range {low:g},{high:g} is too narrow for its size: z is stored in "
                         "32-bit floats, which could not tell the regions apart")
    k = lines
    gen = torch.Generator().manual_seed(seed)
    slopes = torch.empty(k).uniform_(-3, 3, generator=gen)  # (K,)
    intercepts = torch.empty(k).uniform_(-1, 1, generator=gen)  # (K,)
    # Draws for the variants come from their own generator, so the standard switchboard's points
    # are the same as before the variants existed.
    shape = torch.Generator().manual_seed(seed + 7919)
    reading = torch.Generator().manual_seed(seed + 104729)
    if regions == "random":
        share = -torch.empty(k).uniform_(0, 1, generator=shape).log()  # (K,) Dirichlet(1) by gamma draws
        width = MIN_WIDTH / k + (1 - MIN_WIDTH) * share / share.sum()  # (K,)
    else:
        width = torch.full((k,), 1 / k)  # (K,)
    edges = torch.cat([torch.zeros(1), width.cumsum(0)]).clamp(max=1.0)  # (K+1,) on the unit scale
    edges[-1] = 1.0
    owner = torch.randperm(k, generator=shape) if order == "shuffled" else torch.arange(k)  # (K,)
    span = high - low

    def points(m: int, lo: float, hi: float, far_from: float | None = None) -> Split:
        x = torch.empty(m).uniform_(lo, hi, generator=gen)  # (m,)
        if far_from is not None:  # push x beyond ±far_from, keeping its sign
            x = x.sign() * (far_from + x.abs() * (hi - far_from) / hi)
        u = torch.rand(m, generator=gen)  # (m,) the selector on the unit scale
        slot = (torch.bucketize(u, edges[1:-1], right=True)).clamp(max=k - 1)  # (m,) region along z
        label = owner[slot]  # (m,)
        y = slopes[label] * x + intercepts[label] + noise * torch.randn(m, generator=gen)  # (m,)
        far = torch.full((m,), far_from is not None)
        if selector_noise > 0:
            u = u + selector_noise * torch.randn(m, generator=reading)  # (m,) what the meter reads
        return Split(x, low + span * u, y, label, far)

    train = points(n, -1.0, 1.0)
    near, out = points(max(n // 2, 2), -1.0, 1.0), points(max(n // 2, 2), -2.0, 2.0, far_from=1.0)
    test = Split(*(torch.cat([a, b]) for a, b in zip(
        (near.x, near.z, near.y, near.label, near.far), (out.x, out.z, out.y, out.label, out.far))))
    classes = tuple(f"line {i + 1}" for i in range(k))
    bounds = low + span * torch.stack([edges[:-1], edges[1:]], -1)  # (K, 2) region by position
    owned = torch.empty_like(bounds)
    owned[owner] = bounds  # (K, 2) region by line
    options = {"lines": k, "regions": regions, "order": order,
               "selector_range": (float(low), float(high)), "selector_noise": selector_noise}
    return Dataset("switchboard", train, test, noise, classes, slopes, intercepts, options, owned)

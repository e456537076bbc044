"""PyTorch's Adam, SGD and L-BFGS, as the trainer uses them, without importing torch._dynamo.

torch.optim marks some of an optimizer's methods (``add_param_group``, ``zero_grad``) for
torch.compile to leave alone, and Adam's and SGD's ``step`` to break its graph. Either mark imports
torch._dynamo the first time it runs, even when nothing is compiled, where the mark does nothing
else. That import takes longer than importing torch itself, and was most of the wait for a small
``graintrain fit`` (benchmarks/cli_latency.py). graintrain never compiles, so these subclasses run
the methods as torch.optim wrote them, without the marks: Adam's and SGD's numbers are the same to
the last bit. L-BFGS also finds its direction another way (see ``lbfgs``), faster for small models.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import torch
from torch.optim import Optimizer


class _Unmarked:
    # inspect.unwrap peels off the marks (and the profiler's hook, which the optimizer puts back).
    add_param_group = inspect.unwrap(Optimizer.add_param_group)
    zero_grad = inspect.unwrap(Optimizer.zero_grad)


class LBFGS(_Unmarked, torch.optim.LBFGS):
    """torch.optim.LBFGS with its strong-Wolfe line search, run by ``lbfgs`` below: the same
    algorithm, with less around each evaluation, which for a small model costs about as much as
    the evaluation itself. The line search works on Python floats, where torch.optim's does a tensor
    operation for each comparison and product, and the parameters move as one vector."""

    @torch.no_grad()
    def step(self, closure):  # type: ignore[override]
        """Up to max_iter iterations of L-BFGS; returns the loss at the start."""
        group = self.param_groups[0]
        if group["line_search_fn"] != "strong_wolfe":
            raise ValueError("graintrain's L-BFGS runs with line_search_fn='strong_wolfe'")
        closure = torch.enable_grad()(closure)
        params = self._params
        sizes = [p.numel() for p in params]
        state = self.state[params[0]]  # L-BFGS's state is global; torch keeps it here too

        def evaluate() -> tuple[float, torch.Tensor]:
            loss = float(closure())
            return loss, torch.cat([p.grad.reshape(-1) if p.grad is not None else p.new_zeros(p.numel())
                                    for p in params])  # (p,) a new tensor: the search may keep it

        first, grad = evaluate()
        run = lbfgs(torch.cat([p.reshape(-1) for p in params]), first, grad, state, group)
        try:
            point = next(run)
            while True:
                for p, value in zip(params, point.split(sizes)):
                    p.copy_(value.view_as(p))
                point = run.send(evaluate())
        except StopIteration as end:
            for p, value in zip(params, end.value.split(sizes)):
                p.copy_(value.view_as(p))
        return torch.tensor(first)


def lbfgs(x: torch.Tensor, loss: float, grad: torch.Tensor, state: dict, group: dict):
    """L-BFGS from x (p,), whose loss and gradient are given, as torch.optim runs it: a generator
    that yields each point to evaluate, is sent (loss, gradient) there, and returns the point it
    settles on. ``state`` carries its memory from one call to the next; ``group`` holds torch's
    settings (lr, history_size, max_iter, max_eval, tolerance_grad, tolerance_change).

    The direction −H·g comes from the compact form of Byrd, Nocedal and Schnabel (1994) instead of
    the two-loop recursion:

        H·g = γg + Sᵀ·R⁻ᵀ((D + γYYᵀ)·u − γYg) − γYᵀ·u,   u = R⁻¹Sg,

    with the last m steps S and gradient changes Y as rows, R the upper triangle of SYᵀ, D its
    diagonal and γ = sᵀy/yᵀy of the newest pair. It is the same direction in exact arithmetic (a
    test checks it against torch.optim's). The recursion costs four tensor operations per pair
    remembered, 0.5 ms an iteration at m = 50, more than a small model's own evaluation; the compact
    form is a few matrix products, done in NumPy in float64. The line search is ``_strong_wolfe``.
    """
    lr, history = group["lr"], group["history_size"]
    tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
    state.setdefault("n_iter", 0)
    evals = 1
    if grad.abs().max() <= tol_grad:
        return x
    S, Y = state.get("S"), state.get("Y")  # (m, p) the remembered steps and gradient changes
    d, t, gamma, last = state.get("d"), state.get("t"), state.get("gamma"), state.get("last")
    for _ in range(group["max_iter"]):
        state["n_iter"] += 1
        g = grad.double().numpy()  # (p,)
        if state["n_iter"] == 1:
            S = Y = np.zeros((0, len(g)))
            gamma = 1.0
        else:
            y, s = g - last, d.double().numpy() * float(t)  # (p,), (p,)
            ys = y @ s
            if ys > 1e-10:  # a pair that keeps H positive definite
                S, Y = np.vstack([S, s])[-history:], np.vstack([Y, y])[-history:]
                gamma = ys / (y @ y)
        d = torch.from_numpy(-_inverse_hessian_times(g, S, Y, gamma)).to(grad.dtype)  # (p,)
        last, last_loss = g, loss
        t = min(1.0, 1.0 / float(grad.abs().sum())) * lr if state["n_iter"] == 1 else lr
        gtd = float(grad.dot(d))
        if gtd > -tol_change:  # not downhill any more
            break
        search = _strong_wolfe(loss, grad, gtd, t, float(d.abs().max()), max_ls=group["max_eval"] - evals)
        try:
            trial = next(search)
            while True:
                f_new, g_new = yield x.add(d, alpha=trial)  # as torch.optim steps its parameters
                trial = search.send((f_new, g_new, float(g_new.dot(d))))
        except StopIteration as end:
            loss, grad, t, used = end.value
        x = x.add(d, alpha=t)
        evals += used
        if (evals >= group["max_eval"] or grad.abs().max() <= tol_grad
                or float(d.abs().max()) * t <= tol_change or abs(loss - last_loss) < tol_change):
            break
    state.update(S=S, Y=Y, d=d, t=t, gamma=gamma, last=last)
    return x


def _inverse_hessian_times(g: np.ndarray, S: np.ndarray, Y: np.ndarray, gamma: float) -> np.ndarray:
    """H·g by the compact form (see lbfgs), for S and Y of shape (m, p)."""
    if len(S) == 0:
        return gamma * g
    SY = S @ Y.T  # (m, m) s_i·y_j
    R = np.triu(SY)  # (m, m)
    u = np.linalg.solve(R, S @ g)  # (m,)
    inner = np.diagonal(SY) * u + gamma * (Y @ (u @ Y - g))  # (m,) (D + γYYᵀ)·u − γYg, no m×m product
    return gamma * g + np.linalg.solve(R.T, inner) @ S - gamma * (u @ Y)  # (p,)


def _cubic_min(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
               bounds: tuple[float, float] | None = None) -> float:
    """Where the cubic through two points, with these values and slopes, is lowest, kept within
    bounds (torch.optim's _cubic_interpolate, on Python floats)."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    try:
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        d2_square = d1 * d1 - g1 * g2
        if d2_square < 0:
            return (low + high) / 2
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    except ZeroDivisionError:  # where torch's tensors would give inf or nan: halve the interval
        return (low + high) / 2
    return min(max(at, low), high)


def _strong_wolfe(f: float, g: torch.Tensor, gtd: float, t: float, d_norm: float,
                  c1: float = 1e-4, c2: float = 0.9, tolerance_change: float = 1e-9, max_ls: int = 25):
    """torch.optim's strong-Wolfe line search along a direction d from a point with loss f,
    gradient g and slope gtd = g·d, on Python floats, as a generator: it yields each step length
    to try, is sent (loss, gradient, slope) there, and returns (loss, gradient, step, evaluations)
    of the step it takes."""
    f_new, g_new, gtd_new = yield t
    evals, ls_iter, done = 1, 0, False
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    while ls_iter < max_ls:  # bracket an interval holding a step that meets the Wolfe conditions
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, values = [t_prev, t], [(f_prev, g_prev, gtd_prev), (f_new, g_new, gtd_new)]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, values, done = [t], [(f_new, g_new, gtd_new)], True
            break
        if gtd_new >= 0:
            bracket, values = [t_prev, t], [(f_prev, g_prev, gtd_prev), (f_new, g_new, gtd_new)]
            break
        t_prev, t = t, _cubic_min(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, (t + 0.01 * (t - t_prev), t * 10))
        f_prev, g_prev, gtd_prev = f_new, g_new, gtd_new
        f_new, g_new, gtd_new = yield t
        evals += 1
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, values = [0.0, t], [(f, g, gtd), (f_new, g_new, gtd_new)]
    insufficient = False  # zoom in on the bracket until a step meets the conditions
    low, high = (0, 1) if values[0][0] <= values[-1][0] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_min(bracket[0], values[0][0], values[0][2], bracket[1], values[1][0], values[1][2])
        # A trial too near an end makes little progress: the second time, move it a tenth inside.
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new, gtd_new = yield t
        evals += 1
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= values[low][0]:  # not low enough: the new high end
            bracket[high], values[high] = t, (f_new, g_new, gtd_new)
            low, high = (0, 1) if values[0][0] <= values[1][0] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:  # the old low end becomes the high
                bracket[high], values[high] = bracket[low], values[low]
            bracket[low], values[low] = t, (f_new, g_new, gtd_new)
    return values[low][0], values[low][1], bracket[low], evals


class Adam(_Unmarked, torch.optim.Adam):
    """torch.optim.Adam. Apart from the graph breaks, its step's mark turns gradients off (we never
    ask for a differentiable optimizer), and so does this step."""

    step = torch.no_grad()(inspect.unwrap(torch.optim.Adam.step))


class SGD(_Unmarked, torch.optim.SGD):
    """torch.optim.SGD, its step unmarked as Adam's is."""

    step = torch.no_grad()(inspect.unwrap(torch.optim.SGD.step))

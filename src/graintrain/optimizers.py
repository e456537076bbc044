"""PyTorch's Adam, SGD and L-BFGS, as the trainer uses them, without importing torch._dynamo.

torch.optim marks some of an optimizer's methods (``add_param_group``, ``zero_grad``) for
torch.compile to leave alone, and Adam's and SGD's ``step`` to break its graph. Either mark imports
torch._dynamo the first time it runs, even when nothing is compiled, where the mark does nothing
else. That import takes longer than importing torch itself, and was most of the wait for a small
``graintrain fit`` (benchmarks/cli_latency.py). graintrain never compiles, so these subclasses run
the methods as torch.optim wrote them, without the marks: Adam's and SGD's numbers are the same to
the last bit. L-BFGS also finds its direction another way (see the class), faster for small models.
"""

from __future__ import annotations

import inspect

import numpy as np
import torch
from torch.optim import Optimizer


class _Unmarked:
    # inspect.unwrap peels off the marks (and the profiler's hook, which the optimizer puts back).
    add_param_group = inspect.unwrap(Optimizer.add_param_group)
    zero_grad = inspect.unwrap(Optimizer.zero_grad)


class LBFGS(_Unmarked, torch.optim.LBFGS):
    """torch.optim.LBFGS with its strong-Wolfe line search, whose direction −H·g comes from the
    compact form of Byrd, Nocedal and Schnabel (1994) instead of the two-loop recursion:

        H·g = γg + Sᵀ·R⁻ᵀ((D + γYYᵀ)·u − γYg) − γYᵀ·u,   u = R⁻¹Sg,

    with the last m steps S and gradient changes Y as rows, R the upper triangle of SYᵀ, D its
    diagonal and γ = sᵀy/yᵀy of the newest pair. It is the same direction in exact arithmetic (a
    test checks it against torch.optim's). The recursion costs four tensor operations per pair
    remembered, 0.5 ms an iteration at m = 50, more than a small model's own evaluation; the compact
    form is a few matrix products, done in NumPy in float64. Only the strong-Wolfe line search.
    """

    @torch.no_grad()
    def step(self, closure):  # type: ignore[override]
        """Up to max_iter iterations of L-BFGS; returns the loss at the start."""
        from torch.optim.lbfgs import _strong_wolfe
        group = self.param_groups[0]
        if group["line_search_fn"] != "strong_wolfe":
            raise ValueError("graintrain's L-BFGS runs with line_search_fn='strong_wolfe'")
        closure = torch.enable_grad()(closure)
        lr, history = group["lr"], group["history_size"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[self._params[0]]  # L-BFGS's state is global; torch keeps it here too
        state.setdefault("n_iter", 0)

        first = closure()
        loss, evals = float(first), 1
        grad = self._gather_flat_grad()
        if grad.abs().max() <= tol_grad:
            return first
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
            d = torch.from_numpy(-self._inverse_hessian_times(g, S, Y, gamma)).to(grad.dtype)  # (p,)
            last, last_loss = g, loss
            t = min(1.0, 1.0 / grad.abs().sum().item()) * lr if state["n_iter"] == 1 else lr
            gtd = grad.dot(d)
            if gtd > -tol_change:  # not downhill any more
                break
            start = self._clone_param()
            loss, grad, t, used = _strong_wolfe(
                lambda x, t_, d_: self._directional_evaluate(closure, x, t_, d_),
                start, t, d, loss, grad, gtd, max_ls=group["max_eval"] - evals)
            self._add_grad(t, d)
            evals += used
            if (evals >= group["max_eval"] or grad.abs().max() <= tol_grad
                    or (d * t).abs().max() <= tol_change or abs(loss - last_loss) < tol_change):
                break
        state.update(S=S, Y=Y, d=d, t=t, gamma=gamma, last=last)
        return first

    @staticmethod
    def _inverse_hessian_times(g: np.ndarray, S: np.ndarray, Y: np.ndarray, gamma: float) -> np.ndarray:
        """H·g by the compact form (see the class), for S and Y of shape (m, p)."""
        if len(S) == 0:
            return gamma * g
        SY = S @ Y.T  # (m, m) s_i·y_j
        R = np.triu(SY)  # (m, m)
        u = np.linalg.solve(R, S @ g)  # (m,)
        inner = (np.diag(np.diag(SY)) + gamma * (Y @ Y.T)) @ u - gamma * (Y @ g)  # (m,)
        return gamma * g + np.linalg.solve(R.T, inner) @ S - gamma * (u @ Y)  # (p,)


class Adam(_Unmarked, torch.optim.Adam):
    """torch.optim.Adam. Apart from the graph breaks, its step's mark turns gradients off (we never
    ask for a differentiable optimizer), and so does this step."""

    step = torch.no_grad()(inspect.unwrap(torch.optim.Adam.step))


class SGD(_Unmarked, torch.optim.SGD):
    """torch.optim.SGD, its step unmarked as Adam's is."""

    step = torch.no_grad()(inspect.unwrap(torch.optim.SGD.step))

"""PyTorch's Adam, SGD and L-BFGS, as the trainer uses them, without importing torch._dynamo.

torch.optim marks some of an optimizer's methods (``add_param_group``, ``zero_grad``) for
torch.compile to leave alone, and Adam's and SGD's ``step`` to break its graph. Either mark imports
torch._dynamo the first time it runs, even when nothing is compiled, where the mark does nothing
else. That import takes longer than importing torch itself, and was most of the wait for a small
``graintrain fit`` (benchmarks/cli_latency.py). graintrain never compiles, so these subclasses run
the methods as torch.optim wrote them, without the marks: every number they compute is the same.
"""

from __future__ import annotations

import inspect

import torch
from torch.optim import Optimizer


class _Unmarked:
    # inspect.unwrap peels off the marks (and the profiler's hook, which the optimizer puts back).
    add_param_group = inspect.unwrap(Optimizer.add_param_group)
    zero_grad = inspect.unwrap(Optimizer.zero_grad)


class LBFGS(_Unmarked, torch.optim.LBFGS):
    """torch.optim.LBFGS. Its own step only turns gradients off, which needs no torch._dynamo."""


class Adam(_Unmarked, torch.optim.Adam):
    """torch.optim.Adam. Apart from the graph breaks, its step's mark turns gradients off (we never
    ask for a differentiable optimizer), and so does this step."""

    step = torch.no_grad()(inspect.unwrap(torch.optim.Adam.step))


class SGD(_Unmarked, torch.optim.SGD):
    """torch.optim.SGD, its step unmarked as Adam's is."""

    step = torch.no_grad()(inspect.unwrap(torch.optim.SGD.step))

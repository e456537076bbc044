"""Training many attention models at once against one at a time, measured in this process.

Run: .venv/bin/python benchmarks/stacked_speed.py [--rounds 5] [--steps 2000]   (goal: ≥ 30×)

Each model is the K = 5 switchboard attention on its own 500-point switchboard, trained with Adam on
the blended error (the study's plain recipe). The baseline is graintrain's trainer called once per
model. This machine's speed drifts by up to 2× over tens of seconds, so the main figure is measured
in rounds: each round times the baseline on a few models, then STACK_CHUNK models stacked (the
study's chunk), back to back, and gives their ratio; the median round is the result. Every other
variant is timed right after a baseline of its own.
"""

import argparse
import time

import torch
from torch.func import functional_call, grad, vmap

from graintrain import Recipe, Stage, fit, make_dataset, make_model
from graintrain.study.grid import STACK_CHUNK
from graintrain.study.stacked import fit_stacked


def fit_jax(x, z, y, experts: int, steps: int, lr: float = 0.05) -> float:
    """The stacked loop in JAX, Adam written out, the whole run one jit-compiled lax.scan.

    Returns the seconds of a second call (the first one compiles)."""
    import jax
    import jax.numpy as jnp

    def loss(p):
        scores = p["kw"][:, :, None] * z[:, None, :] + p["kb"][:, :, None]  # (M, K, N)
        v = p["vw"][:, :, None] * x[:, None, :] + p["vb"][:, :, None]  # (M, K, N)
        yhat = (jax.nn.softmax(scores, axis=1) * v).sum(1)  # (M, N)
        return ((yhat - y) ** 2).mean(1).sum()

    def step(state, t):
        p, m, v = state
        g = jax.grad(loss)(p)
        m = jax.tree.map(lambda a, b: 0.9 * a + 0.1 * b, m, g)
        v = jax.tree.map(lambda a, b: 0.999 * a + 0.001 * b * b, v, g)
        p = jax.tree.map(lambda w, a, b: w - lr * (a / (1 - 0.9 ** t)) / (jnp.sqrt(b / (1 - 0.999 ** t)) + 1e-8),
                         p, m, v)
        return (p, m, v), None

    @jax.jit
    def run(p):
        zeros = jax.tree.map(jnp.zeros_like, p)
        (p, _, _), _ = jax.lax.scan(step, (p, zeros, zeros), jnp.arange(1, steps + 1, dtype=jnp.float32))
        return p

    key = jax.random.PRNGKey(0)
    p = {k: jax.random.uniform(jax.random.fold_in(key, i), (x.shape[0], experts), minval=-1, maxval=1)
         for i, k in enumerate(("kw", "kb", "vw", "vb"))}
    jax.block_until_ready(run(p))  # compile
    began = time.perf_counter()
    jax.block_until_ready(run(p))
    return time.perf_counter() - began


def fit_vmap(models, x, z, y, steps: int, chunk: int) -> None:
    """The same training through torch.func.vmap over the ordinary Attention module."""
    template = models[0]
    for start in range(0, len(models), chunk):
        part = models[start:start + chunk]
        params = {n: torch.stack([dict(m.named_parameters())[n].detach() for m in part]).requires_grad_()
                  for n, _ in template.named_parameters()}
        loss = lambda p, xs, zs, ys: ((functional_call(template, p, (xs, zs)) - ys) ** 2).mean()
        grads_of = vmap(grad(loss))
        opt = torch.optim.Adam(list(params.values()), lr=0.05, fused=True)
        xs, zs, ys = x[start:start + chunk], z[start:start + chunk], y[start:start + chunk]
        for _ in range(steps):
            grads = grads_of(params, xs, zs, ys)
            for name, p in params.items():
                p.grad = grads[name]
            opt.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=256, help="models for the stacked variants")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline-models", type=int, default=2, help="models one at a time, per baseline")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = [make_dataset("switchboard", seed=s, lines=5) for s in range(args.models)]
    x, z, y = (torch.stack([getattr(d.train, k) for d in data]) for k in "xzy")  # (M, N)
    recipe = Recipe((Stage("mse", "adam", steps=args.steps, lr=0.05),))
    fit(lambda: make_model("attention-blended", data[0]), data[0].train, recipe)  # warm-up

    def one_at_a_time() -> float:
        """Seconds per model, graintrain.fit called once per model."""
        began = time.perf_counter()
        for s in range(args.baseline_models):
            fit(lambda s=s: make_model("attention-blended", data[s]), data[s].train, Recipe(recipe.stages, seed=s))
        return (time.perf_counter() - began) / args.baseline_models

    def stacked(models: int, chunk: int) -> float:
        """Seconds per model, the first ``models`` trained by fit_stacked in chunks of ``chunk``."""
        starts = [make_model("attention-blended", d) for d in data[:models]]
        began = time.perf_counter()
        fit_stacked(starts, x[:models], z[:models], y[:models], recipe, chunk=chunk)
        return (time.perf_counter() - began) / models

    def vmapped(models: int, chunk: int) -> float:
        starts = [make_model("attention-blended", d) for d in data[:models]]
        began = time.perf_counter()
        fit_vmap(starts, x[:models], z[:models], y[:models], steps=args.steps, chunk=chunk)
        return (time.perf_counter() - began) / models

    ratios = []
    for r in range(args.rounds):
        base, stack = one_at_a_time(), stacked(STACK_CHUNK, STACK_CHUNK)
        ratios.append(base / stack)
        print(f"round {r + 1}: one at a time {base:.3f} s a model; {STACK_CHUNK} stacked {stack * 1e3:6.2f} ms "
              f"a model -> {ratios[-1]:5.1f}x")
    ratios.sort()
    print(f"stacked in chunks of {STACK_CHUNK} (the study's size): {ratios[len(ratios) // 2]:.1f}x, the median "
          f"of {args.rounds} rounds ({ratios[0]:.1f}x to {ratios[-1]:.1f}x)")
    variants = [(f"all {args.models} stacked at once", lambda: stacked(args.models, args.models)),
                (f"{args.models} stacked in chunks of 64", lambda: stacked(args.models, 64)),
                (f"{args.models} stacked in chunks of 16", lambda: stacked(args.models, 16)),
                ("torch.func.vmap over 64 models", lambda: vmapped(64, 64))]
    for label, run in variants:
        base = one_at_a_time()
        took = run()
        print(f"{label:38} {took * 1e3:7.2f} ms a model against {base:.3f} s -> {base / took:5.1f}x")
    try:
        base = one_at_a_time()
        took = fit_jax(x.numpy(), z.numpy(), y.numpy(), experts=5, steps=args.steps) / args.models
        print(f"JAX, jit over lax.scan, all {args.models} at once {took * 1e3:7.2f} ms a model against {base:.3f} s "
              f"-> {base / took:5.1f}x (reference; JAX is not a dependency)")
    except ImportError:
        print("JAX is not installed; for reference, the issue measured JAX vmap at 4.4 s for 256 "
              "models of 2,000 steps, against about 1 s per model one at a time in eager PyTorch")
    print("(one thread; the study also spreads work over one process per core, about 2x more here)")
    print(f"command: .venv/bin/python benchmarks/stacked_speed.py --rounds {args.rounds} --steps {args.steps}")


if __name__ == "__main__":
    main()

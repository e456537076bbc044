"""Ways to spend less time per training run, on the K = 5 switchboard attention model.

Run: .venv/bin/python benchmarks/step_speed.py

The baseline is 2,000 eager full-batch Adam steps on the blended error, timed in this process.
Each other line prints its time and its speed-up over that baseline, measured here. For scale, the
issue measured JAX (jit over lax.scan of the whole loop) at 16 ms for the same 2,000 steps, plus
0.45 s to compile; JAX is not a dependency, so it is quoted, not run.
"""

import time

import torch

from graintrain import MODELS, fit, make_dataset, make_model

STEPS = 2000


def main() -> None:
    torch.set_num_threads(1)
    data = make_dataset("switchboard", seed=0)
    x, z, y = data.train.x, data.train.z, data.train.y

    def model():
        torch.manual_seed(0)
        return make_model("attention-blended", data)  # PyTorch's start: every step does work

    def adam_loop(loss_of, fused: bool = False) -> float:
        m = model()
        opt = torch.optim.Adam(m.parameters(), lr=0.05, fused=fused)
        loss_fn = loss_of(m)
        opt.zero_grad(); loss_fn().backward(); opt.step()  # warm-up (and compilation)
        began = time.perf_counter()
        for _ in range(STEPS):
            opt.zero_grad(set_to_none=True)
            loss_fn().backward()
            opt.step()
        return time.perf_counter() - began

    def eager(m):
        return lambda: ((m(x, z) - y) ** 2).mean()

    def compiled(m):
        return torch.compile(lambda: ((m(x, z) - y) ** 2).mean())

    base = adam_loop(eager)
    print(f"{'eager Adam, 2,000 steps (baseline)':52} {base:7.3f} s   1.00x")
    fused = adam_loop(eager, fused=True)
    print(f"{'eager loss, fused Adam':52} {fused:7.3f} s   {base / fused:.2f}x")
    began = time.perf_counter()
    comp = adam_loop(compiled, fused=True)
    compile_s = time.perf_counter() - began - comp
    print(f"{'torch.compile loss, fused Adam':52} {comp:7.3f} s   {base / comp:.2f}x"
          f"   (+{compile_s:.1f} s to compile)")
    fit(model, data.train, MODELS["attention"].recipe)  # warm-up
    recipe = fit(model, data.train, MODELS["attention"].recipe).seconds
    steps = sum(s.steps for s in MODELS["attention"].recipe.stages)
    print(f"{f'the attention recipe (data start, {steps} steps)':52} {recipe:7.3f} s   "
          f"{base / recipe:.2f}x")
    print(f"{'JAX jit + lax.scan (quoted from the issue)':52} {0.016:7.3f} s   {base / 0.016:.0f}x"
          f"   (+0.45 s to compile)")


if __name__ == "__main__":
    main()

"""What keeping freed heap memory (train.keep_heap_pad) saves, against glibc's default, per workload.

Run: .venv/bin/python benchmarks/heap_pad.py [--rounds 3]

glibc's setting is for the whole process and stays, so each measurement runs in a fresh child
process: one as graintrain runs, one with keep_heap_pad turned into a no-op. The two alternate,
round by round, and the best time of each is kept, so that a slow spell of the machine does not
land on one side only. Workloads: the article's two photo models (a CNN on 360 photos of 24×24),
a stack of 64 switchboard attention models (the study's chunk) for 300 Adam steps, and the default
attention fit (small tensors: it should not move).
"""

import argparse
import subprocess
import sys
import time

CHILD = r"""
import sys, time, torch
torch.set_num_threads(1)
import graintrain.train, graintrain.study.stacked
if sys.argv[1] == "off":
    graintrain.train.keep_heap_pad = graintrain.study.stacked.keep_heap_pad = lambda: None
from graintrain import Recipe, Run, Stage, make_dataset, make_model
from graintrain.study.stacked import fit_stacked
work = sys.argv[2]
if work == "stack":
    data = [make_dataset("switchboard", seed=s, lines=5) for s in range(64)]
    x, z, y = (torch.stack([getattr(d.train, k) for d in data]) for k in "xzy")
    recipe = Recipe((Stage("mse", "adam", steps=300, lr=0.05),))
    go = lambda: fit_stacked([make_model("attention-blended", d) for d in data], x, z, y, recipe)
else:
    run = Run(model=work, dataset="grain-photos" if work != "attention" else "switchboard")
    data = run.data()
    go = lambda: run.fit(data)
go()  # warm-up: first calls into oneDNN and the allocator
began = time.perf_counter()
go()
print(time.perf_counter() - began)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{'workload':18} {'glibc default':>14} {'heap kept':>10} {'ratio':>6}")
    for work in ("cross-attention", "cnn-mlp", "stack", "attention"):
        best = {"off": float("inf"), "on": float("inf")}
        for _ in range(args.rounds):
            for side in best:
                out = subprocess.run([sys.executable, "-c", CHILD, side, work], capture_output=True,
                                     text=True, check=True).stdout
                best[side] = min(best[side], float(out.split()[-1]))
        print(f"{work:18} {best['off']:13.3f}s {best['on']:9.3f}s {best['off'] / best['on']:5.2f}x")
    print(f"command: .venv/bin/python benchmarks/heap_pad.py --rounds {args.rounds}  "
          f"({time.strftime('%Y-%m-%d')})")


if __name__ == "__main__":
    main()

"""The timer the micro-benchmarks share: the best of a few rounds of many calls, in this process."""

import timeit


def best_time(f, repeats: int, rounds: int = 3) -> float:
    """Seconds per call of ``f``: the best of ``rounds`` rounds of ``repeats`` calls, after one to
    warm up (the best round is the one other work on the machine disturbed least)."""
    f()
    return min(timeit.repeat(f, number=repeats, repeat=rounds)) / repeats

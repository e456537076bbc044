"""The study cut into jobs: every run once, none too long, and the same numbers however it is cut."""

import pytest

from graintrain.study import MODEL_NAMES, Job, StudyConfig, makespan, plan, run_job, run_study
from graintrain.study.jobs import ONE_BY_ONE, STACKED

timeless = lambda rows: sorted(sorted((k, v) for k, v in r.items() if k != "seconds") for r in rows)


def _runs(jobs: list[Job]) -> list[tuple]:
    return sorted((j.k, s, m) for j in jobs for s in j.seeds for m in j.models)


@pytest.mark.parametrize("workers", [1, 2, 4, 8, 16])
def test_the_full_study_is_cut_into_jobs_of_at_most_a_2w_th_of_its_work(workers):
    config = StudyConfig()
    jobs = plan(config, set(), workers)
    every = [(k, s, m) for k in config.lines for s in range(config.seeds) for m in MODEL_NAMES]
    assert _runs(jobs) == sorted(every)  # each run in exactly one job
    total = sum(j.seconds for j in jobs)
    assert max(j.seconds for j in jobs) <= total / (2 * workers)
    assert [j.seconds for j in jobs] == sorted((j.seconds for j in jobs), reverse=True)  # longest first


def test_stacks_and_cells_are_cut_where_they_would_be_the_long_pole():
    config = StudyConfig(lines=(8,), seeds=40)
    assert [len(j.seeds) for j in plan(config, set(), 2) if j.models == (STACKED,)] == [40]
    assert [j.seeds for j in plan(config, set(), 16) if j.models == (STACKED,)] == \
        [tuple(range(20)), tuple(range(20, 40))]
    small = StudyConfig(lines=(2, 5), seeds=3, points=300)
    assert all(j.models in ((STACKED,), ONE_BY_ONE) for j in plan(small, set(), 1))
    assert sum(j.models != (STACKED,) for j in plan(small, set(), 8)) == 2 * 3 * 3  # one job per run
    # Resuming: only what is missing is planned, and a cell's missing runs stay together.
    done = {(2, 0, "mlp-1"), (2, 1, STACKED)}
    resumed = plan(small, done, 1)
    assert _runs(resumed) == sorted(set(_runs(plan(small, set(), 1))) - done)
    assert (2, (0,), ("attention", "mlp-2")) in [(j.k, j.seeds, j.models) for j in resumed]


def test_makespan_hands_each_job_to_the_first_free_worker():
    assert makespan([4, 3, 3, 2], 2) == 6
    assert makespan([3, 3, 2, 2, 2], 2) == 7  # list scheduling, not the best packing (6)
    assert makespan([5.0, 1.0], 16) == 5.0


def test_a_run_gives_the_same_numbers_whichever_job_trains_it():
    settings = (0.05, 150, {})
    # Six models of K = 3 fill a 16-float vector and part of another: alone, a model fills none.
    whole = run_job(Job(3, tuple(range(6)), (STACKED,), 0.0), *settings)[0]
    parts = [row for seeds in ((0, 1), (2,), (3, 4, 5))
             for row in run_job(Job(3, seeds, (STACKED,), 0.0), *settings)[0]]
    assert len(whole) == 6 and timeless(whole) == timeless(parts)
    cell = run_job(Job(3, (1,), ONE_BY_ONE, 0.0), *settings)[0]
    runs = [row for m in reversed(ONE_BY_ONE) for row in run_job(Job(3, (1,), (m,), 0.0), *settings)[0]]
    assert len(cell) == 3 and timeless(cell) == timeless(runs)


def test_the_study_gives_the_same_rows_on_one_worker_and_on_four(tmp_path):
    grid = dict(lines=(2, 3), seeds=2, points=150)
    assert len(plan(StudyConfig(**grid), set(), 1)) < len(plan(StudyConfig(**grid), set(), 4))  # cut finer
    results = {}
    for workers in (1, 4):
        progress, finished = [], []
        rows = run_study(StudyConfig(out=tmp_path / str(workers), workers=workers, **grid),
                         on_cell=lambda done, total: progress.append((done, total)),
                         on_job=lambda job, seconds: finished.append((job, seconds)))
        assert len(finished) == len(plan(StudyConfig(**grid), set(), workers)) and \
            all(s > 0 for _, s in finished)
        assert progress[0] == (0, 16) and progress[-1] == (16, 16) and progress == sorted(progress)
        results[workers] = timeless(rows)
    assert len(results[1]) == 16 and results[1] == results[4]

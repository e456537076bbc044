"""The switchboard study: matched sizes, the faithfulness measure, its outputs, and resuming."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch

from graintrain import Attention, make_dataset, make_model
from graintrain.cli import main
from graintrain.metrics import slope_error
from graintrain.study import count_table, matched_hidden, read_rows


def test_relu_networks_are_matched_to_attentions_size():
    assert matched_hidden(5) == {"mlp-1": (5,), "mlp-2": (3, 2)}
    rows = {r["K"]: r for r in count_table((3, 5, 8))}
    assert rows[5]["attention"] == 20 and rows[5]["mlp-1"] == 21 and rows[5]["mlp-2"] == 20
    assert all(r["worst_mismatch"] <= 0.1 for r in rows.values())  # within 10% from K = 3 up


def test_slope_error_is_zero_for_the_true_lines_and_large_for_a_model_blind_to_z():
    data = make_dataset("switchboard", seed=1, lines=4)
    exact = make_dataset("switchboard", seed=1, lines=4, noise=0.0)
    truth = Attention(experts=4).start(exact.train.x, exact.train.z, exact.train.y)  # one run per line
    with torch.no_grad():
        truth.key.weight.mul_(100)  # the same borders, a hundred times sharper
        truth.key.bias.mul_(100)
        truth.value.weight[:, 0] = data.slopes
        truth.value.bias[:] = data.intercepts
    assert slope_error(truth, data) < 1e-3
    blind = make_model("line", data)  # one slope everywhere
    with torch.no_grad():
        blind.w.fill_(data.slopes.mean())
    expected = (data.slopes - data.slopes.mean()).abs().mean().item()
    assert slope_error(blind, data) == pytest.approx(expected, rel=1e-4)


def test_study_writes_its_outputs_and_resumes_without_redoing_runs(tmp_path, capsys):
    out = tmp_path / "study"
    argv = ["study", "--lines", "2,3", "--seeds", "2", "--out", str(out), "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)["models"]
    assert set(summary) == {"attention", "attention-blended", "mlp-1", "mlp-2"}
    for name, metrics in summary.items():
        assert {"test_mse", "extrapolation_mse", "slope_error", "num_parameters"} <= set(metrics)
        assert ("recovered" in metrics) == ("expert_error" in metrics) == name.startswith("attention")
        lo, hi = metrics["slope_error"]["ci"]
        assert lo <= metrics["slope_error"]["mean"] <= hi
    assert summary["attention"]["recovered"]["mean"] == 1.0
    assert summary["attention"]["expert_error"]["mean"] < 0.15
    assert summary["attention"]["slope_error"]["mean"] < summary["mlp-1"]["slope_error"]["mean"]
    table = pq.read_table(out / "runs.parquet").to_pylist()
    assert len(table) == 2 * 2 * 4
    assert (out / "report.md").read_text().startswith("# The switchboard study")
    assert "plotly.min.js" in (out / "figures.html").read_text() and (out / "plotly.min.js").exists()

    report = (out / "report.md").read_bytes()
    lines = (out / "runs.jsonl").read_text().splitlines()
    with (out / "runs.jsonl").open("w") as handle:  # as if cut off: one run lost, one half-written,
        # the rest finished in another order, and three lines that hold no run
        handle.write("\n".join([*reversed(lines[:-1]), "[]", "{}", "null"]) + "\n" + lines[-1][:20])
    assert main(argv) == 0
    assert "skipped 4 lines of runs.jsonl" in capsys.readouterr().err
    again = read_rows(out / "runs.jsonl")
    assert len(again) == 16  # the lost run was trained again, nothing else
    assert [json.dumps(r) for r in again[:15]] == list(reversed(lines[:15]))
    assert (out / "report.md").read_bytes() == report  # the same report, whatever the order of runs
    timeless = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
    assert timeless(pq.read_table(out / "runs.parquet").to_pylist()) == timeless(table)


def test_study_refuses_what_it_cannot_do(capsys):
    assert main(["study", "--address", "10.0.0.1:6379"]) == 2
    assert "--address goes with --backend ray" in capsys.readouterr().err
    assert main(["study", "--lines", "0"]) == 2
    capsys.readouterr()
    for command in ("study", "build"):
        for out, says in (("/dev/null/x", "cannot write there"), ("/proc/graintrain", "cannot write there"),
                          ("", "needs a folder name")):
            assert main([command, "--out", out]) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and says in err and "Traceback" not in err, err


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            pass
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads child processes from /proc")
def test_pool_workers_end_with_a_killed_study(tmp_path):
    exe = Path(sys.executable).parent / "graintrain"
    study = subprocess.Popen([str(exe), "study", "--lines", "8", "--seeds", "40", "--out", str(tmp_path)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (workers := _children(study.pid)):
            assert time.monotonic() < deadline and study.poll() is None, "no pool worker started"
            time.sleep(0.1)
        time.sleep(1)
        workers = _children(study.pid)
    finally:
        study.kill()  # SIGKILL: the pool gets no chance to shut down
        study.wait()
    deadline = time.monotonic() + 10
    while alive := {w for w in workers if Path(f"/proc/{w}").exists()
                    and "Z" not in Path(f"/proc/{w}/stat").read_text().split(")")[-1][:3]}:
        assert time.monotonic() < deadline, f"workers {alive} outlived their study"
        time.sleep(0.1)


def test_ray_backend_gives_the_same_numbers_as_local(tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed")  # `make test` installs it
    from graintrain.study import StudyConfig, run_study
    grid = dict(lines=(2,), seeds=2, points=150)
    local = run_study(StudyConfig(out=tmp_path / "local", **grid))
    on_ray = run_study(StudyConfig(out=tmp_path / "ray", backend="ray", **grid))
    strip = lambda rows: sorted((tuple(sorted((k, v) for k, v in r.items() if k != "seconds"))
                                 for r in rows))
    assert strip(local) == strip(on_ray) and len(local) == 8


def test_resume_never_reuses_runs_made_with_other_settings(tmp_path):
    from graintrain.study import StudyConfig, run_study
    small = run_study(StudyConfig(lines=(2,), seeds=1, points=100, out=tmp_path))
    large = run_study(StudyConfig(lines=(2,), seeds=1, points=200, out=tmp_path))
    assert {r["points"] for r in small} == {100} and {r["points"] for r in large} == {200}
    assert len(read_rows(tmp_path / "runs.jsonl")) == 8  # both kept; neither mistaken for the other


def test_fewer_experts_than_lines_are_shown_against_their_own_lines(capsys):
    assert main(["fit", "attention", "switchboard", "--experts", "2", "--lines", "3",
                 "--json"]) == 0
    experts = json.loads(capsys.readouterr().out)["experts"]
    data = make_dataset("switchboard", lines=3)
    assert len(experts["classes"]) == 2
    for name, true_slope in zip(experts["classes"], experts["true_slopes"]):
        assert true_slope == pytest.approx(data.slopes[data.classes.index(name)].item())


def test_study_runs_on_a_varied_switchboard_and_says_which(tmp_path, capsys):
    out = tmp_path / "varied"
    argv = ["study", "--lines", "3", "--seeds", "2", "--regions", "random", "--order", "shuffled",
            "--selector-range=-5,5", "--out", str(out), "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)["models"]
    assert summary["attention"]["recovered"]["mean"] == 1.0  # both seeds, every line within 0.15
    rows = read_rows(out / "runs.jsonl")
    described = "regions of random width, lines in shuffled order along z, z read on [-5, 5]"
    assert {r["data"] for r in rows} == {described}
    assert described in (out / "report.md").read_text()
    assert main(["study", "--selector-range", "5,1", "--out", str(out)]) == 2
    assert "--selector-range: selector_range must increase" in capsys.readouterr().err


def test_a_study_counts_each_run_once_whoever_writes_the_folder(tmp_path, capsys):
    """Two studies on one --out gave 160 lines for 80 runs, and a later resume a different report;
    --lines 2,2 and repeated lines did the same; lines of the wrong type and a runs.jsonl that is a
    folder ended in tracebacks. Now the second study is refused while the first holds the folder,
    repeats are dropped and counted, and every bad input ends in one line with status 2."""
    from graintrain.study import Ledger, StudyBusy, StudyConfig
    out = tmp_path / "study"
    argv = ["study", "--lines", "2,2", "--seeds", "1", "--out", str(out), "--json"]
    first = Ledger(StudyConfig(lines=(2,), seeds=1, out=out)).hold()
    with pytest.raises(StudyBusy):
        Ledger(StudyConfig(lines=(2,), seeds=1, out=out)).hold()
    assert main(argv) == 2 and "another study is writing into" in capsys.readouterr().err
    first.release()
    assert main(argv) == 0
    capsys.readouterr()
    lines = (out / "runs.jsonl").read_text().splitlines()
    assert len(lines) == 4  # K = 2 once, one seed, four models
    wrong = json.loads(lines[0]) | {"K": "2", "test_mse": "low"}
    (out / "runs.jsonl").write_text("\n".join([*lines, lines[0], lines[1], json.dumps(wrong)]) + "\n")
    report = (out / "report.md").read_bytes()
    assert main(argv) == 0
    assert "skipped 3 lines of runs.jsonl: 1 that hold no run (cut off or edited) and 2 that repeat" \
        in capsys.readouterr().err
    assert (out / "runs.jsonl").read_text().splitlines() == lines and (out / "report.md").read_bytes() == report
    (out / "runs.jsonl").unlink()
    (out / "runs.jsonl").mkdir()
    assert main(argv) == 2 and "is a folder" in capsys.readouterr().err


def test_two_ledgers_on_one_file_write_each_run_once(tmp_path):
    """Two servers on one cache train the article's study side by side: each run is written once."""
    from graintrain.study import Ledger, StudyConfig, run_job
    config = StudyConfig(lines=(2,), seeds=1, out=tmp_path)
    a, b = Ledger(config), Ledger(config)
    job = a.jobs(1)[0]
    rows, _ = run_job(job, *a.settings)
    a.record([dict(r) for r in rows])
    b.record([dict(r) for r in rows])
    assert len((tmp_path / "runs.jsonl").read_text().splitlines()) == len(rows)
    assert b.finished == a.finished == len(rows)


def test_a_study_out_under_the_home_folder_is_written_there(tmp_path, monkeypatch, capsys):
    """--out '~/x' (quoted, so the shell left it) trained, then failed with a traceback: Parquet read
    "~" as the home folder while the rest wrote to a folder named "~"."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert main(["study", "--lines", "2", "--seeds", "1", "--out", "~/x", "--json"]) == 0
    assert {p.name for p in (tmp_path / "home" / "x").iterdir()} >= {"runs.jsonl", "runs.parquet", "report.md"}
    assert not (tmp_path / "~").exists()


def test_a_fifo_or_a_folder_in_the_cache_never_hangs_a_run(tmp_path):
    """A FIFO where a run's file belongs hung its figure forever (the read waits for a writer), and
    the page never heard that training had failed. Now it is cleared and the run trained; a folder
    there is named in the error; a FIFO where a JSON document belongs reads as missing."""
    import threading
    from graintrain.cache import Cache
    from graintrain.runs import Run
    cache, run = Cache(tmp_path), Run(model="line", dataset="white", steps=5)
    os.mkfifo(cache.path(run))
    os.mkfifo(tmp_path / "figures-x.json")
    def soon(call, seconds):  # in a thread of its own, left behind if it hangs: the test fails, not the suite
        out = []
        worker = threading.Thread(target=lambda: out.append(call()), daemon=True)
        worker.start()
        worker.join(seconds)
        assert out, f"{call} still waits after {seconds} s"
        return out[0]
    assert soon(lambda: cache.load_json("figures-x.json"), 10) is None
    assert not cache.has(run)
    assert len(soon(lambda: cache.get(run), 30).fit.losses) == 5
    assert cache.path(run).is_file() and cache.has(run)
    other = Run(model="line", dataset="white", steps=6)
    cache.path(other).mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder where the cache keeps a file"):
        cache.get(other)

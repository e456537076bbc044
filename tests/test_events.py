"""One event schema, Python to JavaScript: what a job streams is built by graintrain/events.py, and
the lab's scripts read only fields and constants that the registry publishes from it."""

import multiprocessing
import re
from pathlib import Path

import pytest

from graintrain import events
from graintrain.cache import Cache
from graintrain.lab import registry, replay
from graintrain.runs import Run
from graintrain.web.presets import PRESETS
from graintrain.web.routers.lab import Accepted, Preview
from graintrain.web.run_settings import JobSettings
from graintrain.web.worker import STOP, _train

STATIC = Path(events.__file__).parent / "article" / "static"
LAB = {path.name: path.read_text() for path in STATIC.glob("lab*.js")}
PUBLISHED = registry()


def reads(pattern: str) -> dict[str, set[str]]:
    """Each name the lab's scripts read by the pattern's group, with the scripts that read it."""
    found: dict[str, set[str]] = {}
    for name, text in LAB.items():
        for match in re.finditer(pattern, text):
            found.setdefault(match.group(1), set()).add(name)
    return found


def test_every_event_field_the_page_reads_is_published():
    fields = {f for names in PUBLISHED["events"]["fields"].values() for f in names}
    read = reads(r"\bevent\??\.(\w+)")
    assert len(read) > 20  # the pattern still finds what the page reads
    assert {f: where for f, where in read.items() if f not in fields} == {}


def test_every_event_type_the_page_tells_apart_is_published():
    told = reads(r"\.type\s*[!=]==\s*\"(\w+)\"")
    assert set(told) >= {"queued", "started", "progress", "done"}
    assert set(told) <= set(PUBLISHED["events"]["fields"])


def test_every_answer_field_the_page_reads_is_declared():
    read = reads(r"(?<![.\w])body\.(\w+)")  # a response's body, not document.body
    assert set(read) <= set(Accepted.model_fields) | set(Preview.model_fields) | {"detail"}  # detail: a refusal


def test_a_presets_score_is_a_field_of_the_done_event():
    done = set(events.Done.model_fields)
    assert {field for p in PRESETS for field in (p.score, p.floor) if field} <= done


def test_the_scripts_take_their_constants_from_the_registry():
    published = PUBLISHED["events"]
    assert published["final"] == list(events.FINAL) and published["watch_seconds"] == events.WATCH_SECONDS
    upload = re.compile(rf"[\"'`]{PUBLISHED['upload']}[\"'`]")
    ms = re.compile(rf"\b{events.WATCH_SECONDS * 1000:g}\b|\b{events.WATCH_SECONDS:g}\s*\*\s*1000\b")
    for name, text in LAB.items():
        assert not upload.search(text), f"{name} names the upload dataset itself: read registry.upload"
        assert not ms.search(text), f"{name} writes the watch pace itself: read registry.events.watch_seconds"
        lists = re.findall(r"\[[^\[\]]*\]", text)  # every list written out in the script, in any order
        assert not any(all(re.search(f"[\"']{kind}[\"']", written) for kind in events.FINAL) for written in lists), \
            f"{name} lists the final event types itself: read registry.events.final"
    assert "registry.upload" in LAB["lab.js"] and "registry.events.watch_seconds" in LAB["lab.js"]


def streamed(settings: JobSettings, stop: bool = False) -> list[dict]:
    """What a worker sends for one job, trained here through a real pipe; ``stop`` stops it at once."""
    ours, theirs = multiprocessing.Pipe()
    control = multiprocessing.RawValue("b", STOP if stop else 0)
    _train(theirs, control, settings, time_limit=60)
    sent = []
    while ours.poll():
        sent.append(ours.recv())
    return sent


def check(sent: list[dict]) -> None:
    """Each event is its type's model, which gives back the very same event (the pipe's state aside)."""
    for event in sent:
        wire = {k: v for k, v in event.items() if k != "state"}
        assert events.EVENTS[event["type"]].model_validate(wire).dump() == wire


def test_what_a_worker_sends_is_the_schema():
    settings = JobSettings(model="attention", dataset="three-grains", steps=30, optimizer="adam")
    sent = streamed(settings)
    assert [e["type"] for e in sent][:2] == ["started", "progress"] and sent[-1]["type"] == "done"
    assert "state" in sent[-1] and sent[-1]["type"] in events.FINAL
    check(sent)
    stopped = streamed(settings, stop=True)
    assert [e["type"] for e in stopped] == ["started", "stopped"]
    check(stopped)
    kept = events.without_drawing(sent[1])
    assert "losses" in kept and not set(kept) & set(events.Drawing.model_fields)


def test_a_replay_is_what_a_live_job_streams(tmp_path):
    trained = Cache(tmp_path).get(Run(model="plane", dataset="white+brown", steps=40, snapshots=4))
    told = replay(trained)
    assert told[0]["type"] == "started" and told[-1]["type"] == "done" and "losses" in told[-1]
    check(told)


@pytest.mark.parametrize("bad", [{"type": "progress", "step": 1}, {"type": "done", "stray": 1}])
def test_an_event_off_the_schema_is_refused(bad):
    with pytest.raises(ValueError):
        events.EVENTS[bad["type"]].model_validate(bad)

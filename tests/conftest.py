import json
import socket
import threading
import time
import urllib.request

import httpx

import pytest
import torch

from graintrain.events import FINAL
from graintrain.web.worker import WorkerPool

torch.set_num_threads(1)  # the models are tiny: one thread is fastest and keeps runs repeatable

FUZZED: dict = {}  # operation -> Counter of statuses, from the fuzzing tests, shown in the summary


def pytest_sessionfinish(session):
    """Under pytest-xdist, a worker hands its fuzzing counts to the controller that prints them.
    The shared training processes end here."""
    POOL.close()
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["fuzzed"] = json.dumps({op: dict(c) for op, c in FUZZED.items()})


def pytest_testnodedown(node, error):
    """The controller gathers each worker's fuzzing counts (pytest-xdist calls this there)."""
    for operation, statuses in json.loads(getattr(node, "workeroutput", {}).get("fuzzed", "{}")).items():
        mine = FUZZED.setdefault(operation, {})
        for status, n in statuses.items():
            mine[int(status)] = mine.get(int(status), 0) + n


def pytest_terminal_summary(terminalreporter):
    """The fuzzing tests' counts, so the run itself says how many requests got which answer."""
    for operation, statuses in FUZZED.items():
        server_errors = sum(n for status, n in statuses.items() if status >= 500)
        terminalreporter.write_line(f"fuzzed {operation}: {sum(statuses.values())} requests, "
                                    f"statuses {dict(sorted(statuses.items()))}, 5xx: {server_errors}")


@pytest.fixture
def trained():
    """Train a registered model on a registered dataset with its registered recipe."""
    from graintrain import MODELS, Recipe, fit, make_dataset, make_model
    import dataclasses

    def train(model: str, dataset: str, seed: int = 0, recipe: Recipe | None = None, **options):
        data = make_dataset(dataset, seed=seed)
        recipe = dataclasses.replace(recipe or MODELS[model].recipe, seed=seed)
        result = fit(lambda: make_model(model, data, **options), data.train, recipe)
        return result.model, data, result
    return train


def _shared(tmp_path_factory):
    """A folder every pytest-xdist worker of this run sees (the run's own temporary root)."""
    if "PYTEST_XDIST_WORKER" in __import__("os").environ:
        return tmp_path_factory.getbasetemp().parent
    return tmp_path_factory.getbasetemp()


@pytest.fixture(scope="session")
def site_cache(tmp_path_factory):
    """A cache holding every run the article needs, trained once for the whole test run: the
    pytest-xdist workers share it."""
    from graintrain.cache import Cache
    folder = _shared(tmp_path_factory) / "site-cache"
    folder.mkdir(exist_ok=True)
    return Cache(folder)


@pytest.fixture(scope="session")
def site(site_cache, tmp_path_factory):
    """The built article, with a chapter 9 study of STUDY_SEEDS switchboards per K (the size the
    recorded numbers were made with). The first worker to need it trains it, holding a lock; the
    others wait, then load what it kept."""
    from filelock import FileLock
    from graintrain.article.build import build_site
    from article_numbers import STUDY_SEEDS
    with FileLock(_shared(tmp_path_factory) / "site.lock"):
        return build_site(site_cache, study_seeds=STUDY_SEEDS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 20) -> None:
    end = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


# A real lab server on loopback, and the calls a page makes to it --------------------------------

# Two training processes that every lab server of this test process borrows: each new process
# spends seconds importing PyTorch, which a test need not pay again.
POOL = WorkerPool(2)


def serve(site, site_cache, shared=True, **settings):
    """A uvicorn server for the app, on a free loopback port, in a thread; it trains in the shared
    pool unless ``shared`` is false, when it starts and ends processes of its own."""
    from graintrain.web.main import create_app
    from graintrain.web.settings import Settings
    import uvicorn
    port = free_port()
    app = create_app(Settings(cache_dir=site_cache.folder, **settings), site, pool=POOL if shared else None)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(f"http://127.0.0.1:{port}/index.html")
    return server, thread, app, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def lab(site, site_cache):
    """An httpx client on a real lab server (two workers, a short queue), and the app."""
    server, thread, app, url = serve(site, site_cache, workers=2, queue_limit=2, job_seconds=20, body_seconds=2)
    with httpx.Client(base_url=url, timeout=30) as client:
        yield client, app
    server.should_exit = True
    thread.join(timeout=10)


# Two grains whose rows lie exactly on y = (2 + 2d)·x.
GOOD_CSV = "cups,darkness,water,label\n" + "".join(
    f"{x},{d},{r * x},{name}\n" for x in (0.5, 1, 2, 3, 4) for d, r, name in ((0, 2, "white"), (0.5, 3, "brown")))

TOKENS: dict[str, str] = {}  # job id -> the token its start returned


def start(client, **settings) -> str:
    response = client.post("/api/jobs", json=settings)
    assert response.status_code == 202, response.text
    TOKENS[response.json()["id"]] = response.json()["token"]
    return response.json()["id"]


def own(job_id: str, tail: str = "") -> str:
    """A job's path as the page that started it calls it: with its token."""
    return f"/api/jobs/{job_id}{tail}?token={TOKENS[job_id]}"


def events(client, job_id, until=FINAL, on_event=None, owner=True):
    """A job's server-sent events up to the first of ``until``, read as its page (owner) or a watcher."""
    seen = []
    with client.stream("GET", own(job_id, "/events") if owner else f"/api/jobs/{job_id}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
                if on_event:
                    on_event(seen[-1])
                if seen[-1]["type"] in until:
                    break
    return seen

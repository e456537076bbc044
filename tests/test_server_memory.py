"""Validation costs the server little (issue 28, item 1): ten posts of 20,000-photo jobs once took it
to 9.1 GB, and a full queue answered 429 only after 21-24 s, as every job's data was made first.

Against a real server on loopback, in a process of its own, whose peak memory (VmHWM) is read
from /proc. benchmarks/lab_abuse.py measures the same with more clients.
"""

import concurrent.futures
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import free_port, wait_for

SERVER = """
import sys
import uvicorn
from graintrain.article.build import serve_site
from graintrain.cache import Cache
from graintrain.web.main import create_app
from graintrain.web.server import server_config
from graintrain.web.settings import Settings

if __name__ == "__main__":
    settings = Settings(cache_dir=sys.argv[2], port=int(sys.argv[1]), workers=1, queue_limit=4, job_seconds=5)
    site, _ = serve_site(Cache(settings.cache_dir), start=False)  # pages, no training
    uvicorn.Server(server_config(create_app(settings, site), settings)).run()
"""
HEAVY = {"model": "cross-attention", "dataset": "grain-photos", "n": 20000, "steps": 1}


def peak_mb(pid: int) -> float:
    """The process's peak resident memory so far, in MB."""
    line = next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith("VmHWM"))
    return int(line.split()[1]) / 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("memory")
    (folder / "server.py").write_text(SERVER)
    port = free_port()
    process = subprocess.Popen([sys.executable, str(folder / "server.py"), str(port), str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/index.html", seconds=60)
        yield url, process
    finally:
        subprocess.run(["pkill", "-KILL", "-g", str(process.pid)])


def test_25_heavy_posts_at_once_keep_the_server_under_a_gigabyte(server):
    url, process = server
    with httpx.Client(base_url=url, timeout=60) as client:
        assert client.post("/api/preview", json={"model": "line", "dataset": "white"}).status_code == 200
        before = peak_mb(process.pid)
        with concurrent.futures.ThreadPoolExecutor(25) as pool:
            answers = list(pool.map(lambda _: client.post("/api/jobs", json=HEAVY), range(25)))
        statuses = sorted(a.status_code for a in answers)
        assert set(statuses) <= {202, 429} and statuses.count(202) <= 4 + 1, statuses  # the queue, one running
        after_posts = peak_mb(process.pid)
        began = time.perf_counter()
        full = client.post("/api/jobs", json=HEAVY)
        assert full.status_code == 429 and time.perf_counter() - began < 0.5  # no data made for it
        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            previews = list(pool.map(lambda _: client.post("/api/preview", json=HEAVY), range(10)))
        assert {p.status_code for p in previews} <= {200, 429} and 200 in {p.status_code for p in previews}
        huge = client.post("/api/jobs", json=HEAVY | {"size": 64})
        assert huge.status_code in (422, 429)
    peak = peak_mb(process.pid)
    print(f"server peak {peak:.0f} MB: {before:.0f} MB before, {after_posts:.0f} MB after 25 posts")
    assert peak < 1024, f"the server peaked at {peak:.0f} MB (from {before:.0f} MB; {after_posts:.0f} MB after the posts)"


def test_a_job_whose_photos_would_not_fit_is_refused_by_name(server):
    url, _ = server
    with httpx.Client(base_url=url, timeout=60) as client:
        answer = client.post("/api/preview", json=HEAVY | {"size": 64})
        assert answer.status_code == 422
        assert "20,000 photos of 64×64 pixels" in str(answer.json()["detail"])

"""The lab as a hostile client meets it: every bad request gets a clear 4xx, never a 5xx; jobs
belong to the page that started them; bodies are bounded in size and in time.

All against a real uvicorn server on loopback (the ``lab`` fixture in conftest.py).
"""

import socket
import time

import pytest

from conftest import events, own, start

LINE = '{"model":"line","dataset":"white",%s}'


@pytest.mark.parametrize("field, literal", [
    ("lr", "NaN"), ("lr", "Infinity"), ("noise", "-Infinity"), ("lr", "1e400"), ("steps", "1e400"),
    ("n", "NaN"), ("seed", "9" * 5000), ("hidden", "[" * 1000 + "]" * 1000),
])
def test_numbers_json_cannot_hold_get_a_422_that_names_the_field(lab, field, literal):
    client, _ = lab
    model = '"model":"mlp",' if field == "hidden" else ""
    body = (LINE % f'"{field}":{literal}').replace('"model":"line",', model or '"model":"line",')
    response = client.post("/api/jobs", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert any(field in e["loc"] for e in detail), detail
    assert len(response.content) < 2000  # the answer never echoes the input


@pytest.mark.parametrize("body", [
    '{"model":"\\udcff","dataset":"white"}', '{"\\udcff":1,"model":"line","dataset":"white"}',
    '{"model":"line","dataset":"upload","csv":"cups,darkness,water\\n\\udcff,0,1\\n"}',
])
def test_lone_surrogates_get_a_422(lab, body):
    client, _ = lab
    response = client.post("/api/jobs", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["detail"]


@pytest.mark.parametrize("csv, says", [
    ("cups,darkness,water\r1,0,2\r2,0,4\r3,0,6\r4,0,8\r", None),  # CR-only line ends train
    ("\ufeffcups,darkness,water\n1,0,2\n2,0,4\n3,0,6\n4,0,8\n", None),  # so does a byte-order mark
    ("cups,darkness,water\n1,0\r,2\n2,0,4\n", "line 2: expected 3 values, found 2"),
    ("cups,darkness,water\n1,0," + "9" * 200_000 + "\n", "line 2: field larger than field limit"),
    ("cups,darkness,water\n1,0,1e308\n2,0,4\n3,0,6\n4,0,8\n", "line 2, column water: 1e+308 is outside"),
    ("cups,darkness,water\n1,1e30,2\n2,0,4\n3,0,6\n4,0,8\n", "line 2, column darkness: 1e+30 is outside"),
])
def test_awkward_csv_files_train_or_name_their_line(lab, csv, says):
    client, _ = lab
    response = client.post("/api/jobs", json={"model": "line", "dataset": "upload", "csv": csv})
    if says is None:
        assert response.status_code == 202, response.text
        assert events(client, response.json()["id"], owner=False)[-1]["type"] == "done"
    else:
        assert response.status_code == 422 and says in response.text, response.text
        assert len(response.content) < 2000


def test_an_objective_the_model_cannot_take_is_refused_up_front(lab):
    client, _ = lab
    response = client.post("/api/jobs", json={"model": "line", "dataset": "white", "objective": "mixture"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "objective"]
    assert "mixture cannot train line, which trains on mse" in response.text


def _raw(url: str, request: bytes, wait: float = 15) -> bytes:
    """Send bytes as they are and read the answer until the server closes or ``wait`` passes."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as conn:
        conn.sendall(request)
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and b'"}' in answer:
                    break
        except TimeoutError:
            pass
    return answer


def test_a_chunked_body_over_the_limit_is_refused_without_an_echo(lab):
    client, app = lab
    chunk = b"x" * 1_000_000
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(5)) + b"0\r\n\r\n"
    host = client.base_url.host
    answer = _raw(str(client.base_url), b"POST /api/jobs HTTP/1.1\r\nHost: " + host.encode() +
                  b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    assert answer.startswith(b"HTTP/1.1 413") and len(answer) < 2000, answer[:300]


def test_a_body_that_never_arrives_is_cut_off(lab):
    client, app = lab
    began = time.monotonic()
    answer = _raw(str(client.base_url), b"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"model\":")
    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
    assert time.monotonic() - began < app.state.settings.body_seconds + 5


def test_only_the_page_that_started_a_job_controls_or_exports_it(lab):
    client, _ = lab
    job = start(client, model="mlp", dataset="switchboard", hidden=[64, 64], optimizer="adam", steps=20000)
    for method, tail in (("POST", "/pause"), ("POST", "/resume"), ("DELETE", ""), ("GET", "/model"),
                         ("GET", "/model.json")):
        for token in ("", "?token=guess"):
            response = client.request(method, f"/api/jobs/{job}{tail}{token}")
            assert response.status_code == 403, (method, tail, response.text)
    events(client, job, until=("progress",), owner=False)  # a watcher reads, then hangs up
    time.sleep(0.5)
    assert client.get(f"/api/jobs/{job}").json()["status"] == "running"  # the job goes on
    assert client.delete(own(job)).status_code == 200
    assert events(client, job)[-1]["type"] == "stopped"


def test_a_finished_job_keeps_its_parameters_not_its_model(lab):
    client, app = lab
    job = start(client, model="mlp", dataset="white+brown", hidden=[8], steps=20)
    assert events(client, job)[-1]["type"] == "done"
    kept = app.state.jobs.get(job)
    assert set(kept.state) == {"layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"}
    assert len(client.get(own(job, "/model.json")).json()["parameters"]["layers.0.weight"]) == 8


def test_foreign_host_names_and_cdn_docs_are_refused(lab):
    client, _ = lab
    assert client.get("/index.html", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/index.html", headers={"host": "localhost:1"}).status_code == 200
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").status_code == 200


def test_a_stopped_job_cannot_be_paused_and_a_paused_stream_keeps_beating(site, site_cache):
    from conftest import serve
    import httpx
    server, thread, app, url = serve(site, site_cache, workers=1, queue_limit=1, job_seconds=30,
                                     heartbeat_seconds=0.2)
    long = dict(model="mlp", dataset="switchboard", hidden=[64, 64], optimizer="adam", steps=20000)
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            job = start(client, **long)
            while client.get(f"/api/jobs/{job}").json()["status"] != "running":
                time.sleep(0.01)
            began = time.monotonic()
            client.delete(own(job))
            assert client.post(own(job, "/pause")).json()["status"] != "paused"
            assert events(client, job)[-1]["type"] == "stopped"
            assert time.monotonic() - began < 5  # not held paused until its time limit

            job = start(client, **long)
            lines = []
            with client.stream("GET", own(job, "/events")) as stream:
                for line in stream.iter_lines():
                    lines.append(line)
                    if line.startswith("data: ") and '"progress"' in line and len(lines) < 1000:
                        client.post(own(job, "/pause"))
                        lines = ["paused"]
                    if lines[0] == "paused" and sum(x.startswith(": ") for x in lines) >= 3:
                        break
            assert sum(x.startswith(": ") for x in lines) >= 3  # comments while nothing else comes
            client.delete(own(job))
    finally:
        server.should_exit = True
        thread.join(timeout=10)

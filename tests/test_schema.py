"""schemathesis against the app's own OpenAPI schema, and Hypothesis with hostile bodies and CSV
files: whatever a client sends, no answer is a 5xx.

(schemathesis's pytest plugin does not run under pytest 9 here, so its strategies are driven by
Hypothesis directly, one operation at a time.)
"""

import json
from collections import Counter

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from graintrain import DATASETS, MODELS
from graintrain.runs import OPTIONS
from graintrain.upload import CSVError, from_csv

from conftest import FUZZED, POOL

from graintrain.web.main import create_app
from graintrain.web.settings import Settings


@pytest.fixture(scope="module")
def api(site, site_cache):
    # Jobs it starts are cut at 0.2 s and few may wait, so generated runs stay cheap.
    # schemathesis calls the app as host "testserver": the host check (test_hardening.py) is opened
    # here as --host 0.0.0.0 would open it.
    app = create_app(Settings(cache_dir=site_cache.folder, host="0.0.0.0", workers=1, queue_limit=2,
                              job_seconds=0.2), site, pool=POOL)
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    app.state.jobs.shutdown()


def test_no_request_gets_a_server_error(api):
    operations = [result.ok() for result in api.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {
        "POST /api/jobs", "GET /api/jobs/{job_id}/events", "DELETE /api/jobs/{job_id}"}
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(checks=[not_a_server_error])

        check()


# Values as JSON text, hostile ones included: numbers JSON cannot hold, numbers too long to parse,
# nesting too deep to parse, lone surrogates, and plain values of the wrong kind.
HOSTILE = st.one_of(
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "null", "true", "[]", "{}",
                     '"\\udcff"', '"\\ud800x"', '"\\u0000"']),
    st.integers(1, 6000).map(lambda k: "9" * k),
    st.integers(1, 3000).map(lambda d: "[" * d + "]" * d),
    st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
              st.lists(st.one_of(st.integers(-300, 300), st.floats(-10, 10)), max_size=6)).map(json.dumps),
)
KEYS = st.sampled_from([*OPTIONS, "model", "dataset", "csv", "snapshots", "token", "\\udcff", ""])
NAMES = st.one_of(st.sampled_from([*MODELS, *DATASETS, "upload"]).map(json.dumps), HOSTILE)


@st.composite
def bodies(draw) -> bytes:
    """A request body: mostly an object with a model, a dataset and a few hostile fields;
    sometimes cut short, sometimes raw bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))
    fields = [("model", draw(NAMES)), ("dataset", draw(NAMES))]
    fields += draw(st.lists(st.tuples(KEYS, HOSTILE), max_size=4))
    text = "{" + ",".join(f'"{k}":{v}' for k, v in fields) + "}"
    if draw(st.integers(0, 9)) == 0:
        text = text[:draw(st.integers(0, len(text)))]
    return text.encode("utf-8", "surrogatepass")


def test_hostile_bodies_never_get_a_server_error(site, site_cache):
    app = create_app(Settings(cache_dir=site_cache.folder, workers=1, queue_limit=2, job_seconds=0.2), site, pool=POOL)
    statuses: Counter = Counter()
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        @given(body=bodies())
        @example(body=b'{"model":"line","dataset":"white","steps":3}')  # one that trains, for the count
        @settings(max_examples=2000, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def post(body):
            response = client.post("/api/jobs", content=body, headers={"content-type": "application/json"})
            statuses[response.status_code] += 1
            assert response.status_code < 500, (body[:200], response.text[:300])
            assert len(response.content) < 4000  # an error never echoes the input
            json.loads(response.content)  # strict JSON, whatever came in

        post()
    app.state.jobs.shutdown()
    FUZZED["POST /api/jobs"] = statuses
    assert sum(statuses.values()) >= 2000 and statuses[202] > 0 and statuses[422] > 0


LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r", ""])
CELLS = st.one_of(st.sampled_from(["1", "0.5", "-2", "1e308", "nan", "inf", "", " ", '"', '"1"', '"a,b"',
                                   "white", "\x00", "\ufeff", "1e30"]),
                  st.text(max_size=8), st.floats().map(str))


@st.composite
def csv_files(draw) -> str:
    """CSV text: a header (often the right one), then rows of random cells, line ends and quotes."""
    header = draw(st.sampled_from(["cups,darkness,water", "cups,darkness,water,label", "\ufeffcups,darkness,water",
                                   "water,cups,darkness", "cups,water", ""]))
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=5), max_size=12))
    return header + "".join(draw(LINE_ENDS) + ",".join(r) for r in rows)


@settings(max_examples=1500, deadline=None, database=None, derandomize=True)
@given(text=st.one_of(csv_files(), st.text(max_size=300)))
def test_the_csv_reader_gives_a_dataset_or_names_the_problem(text):
    try:
        data = from_csv(text)
    except CSVError as err:
        assert str(err)
        return
    assert len(data.train) + len(data.test) >= 4
    for split in (data.train, data.test):
        assert split.x.isfinite().all() and split.y.isfinite().all() and split.z.abs().max() <= 1e6

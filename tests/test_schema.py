"""schemathesis against the app's own OpenAPI schema: whatever it sends, no answer is a 5xx.

(schemathesis's pytest plugin does not run under pytest 9 here, so its strategies are driven by
Hypothesis directly, one operation at a time.)
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from graintrain.web.main import create_app
from graintrain.web.settings import Settings


@pytest.fixture(scope="module")
def api(site, site_cache):
    # Jobs it starts are cut at 0.2 s and few may wait, so generated runs stay cheap.
    app = create_app(Settings(cache_dir=site_cache.folder, workers=1, queue_limit=2,
                              job_seconds=0.2), site)
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

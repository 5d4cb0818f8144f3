"""Schemathesis against the served OpenAPI document (issue 7, "Bad input and abuse"): every operation, with
generated valid and invalid requests and a valid read-write key on a seeded workspace, never answers 5xx
and never answers with a body its documented schema does not allow.

The app runs in-process (WSGI); the examples per operation are bounded so the whole run stays well
under a minute. It runs in `make test` on SQLite locally and on PostgreSQL in CI (where NUL characters
and out-of-range values would surface as database errors)."""

import uuid
from datetime import timedelta

import hypothesis
import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.api import api as ninja_api
from metrics.services import record_measurement
from pilots.services import api_keys, intake
from pilots.services.intake import Arrival
from tests.api_helpers import BASE, case, prepare
from tests.views.test_metrics_helpers import define, today

# Values that reach past the lookups (a seeded case, a member with the role) for half the valid examples.
KNOWN_BODY = {
    "reviewer": st.just("reviewer"),
    "by": st.sampled_from(["reviewer", "pm"]),
    "on_behalf_of": st.just("pm"),
    "external_id": st.sampled_from([f"c{i}" for i in range(6)]),
    "field": st.sampled_from(["category", "confidence"]),
    "reason": st.just("wrong_extraction"),
}
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 8}
OPERATIONS = [
    (path, method.upper())
    for path, item in ninja_api.get_openapi_schema(path_prefix=f"{BASE}/")["paths"].items()
    for method in item
]


@pytest.fixture
def seeded(team, settings):
    """A workspace with a pilot that has a standard, rules, six cases (c1, c3 and c5 waiting for review), a
    metric with a measurement, and a read-write key."""
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    cache.clear()
    prepare(team)
    key = api_keys.create_key(
        workspace=team.workspace, name="Schemathesis", access="read_write", actor=team.admin
    )
    arrivals = [
        Arrival(
            external_id=c["external_id"],
            inputs=c["inputs"],
            outputs=c["outputs"],
            received_at=c["received_at"],
        )
        for c in (case(f"c{i}", amount=20000 if i % 2 else 50) for i in range(6))
    ]
    intake.ingest(pilot=team.pilot, arrivals=arrivals, source="upload", actor=team.pm)
    metric = define(team)
    record_measurement(metric=metric, actor=team.pm, value=5.0, on=today() - timedelta(days=3))
    yield {"pilot_id": team.pilot.pk, "metric_id": metric.pk, "secret": key.secret}
    cache.clear()


@pytest.fixture(scope="module")
def app():
    """The WSGI app, with requests kept inside the test's transaction as django.test.Client keeps them:
    Django closes "old" connections when a request starts and ends, which on PostgreSQL would end the
    test's transaction (and outside a test needs the database the module fixtures may not touch)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def schema(app):
    """The OpenAPI document the app serves (loaded once: it does not change between tests)."""
    return schemathesis.openapi.from_wsgi(f"{BASE}/openapi.json", app)


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda mode: mode.value)
def test_no_operation_answers_5xx_or_off_schema(seeded, app, schema, path, method, mode):
    operation = schema[path][method]
    fixed = {name: seeded[name] for name in ("pilot_id", "metric_id") if f"{{{name}}}" in path}
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)

    @hypothesis.given(strategy, st.booleans(), st.data())
    @hypothesis.settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    def run(generated, known: bool, data) -> None:
        if known and mode == GenerationMode.POSITIVE:
            if isinstance(generated.body, dict):
                for name in KNOWN_BODY.keys() & generated.body.keys():
                    generated.body[name] = data.draw(KNOWN_BODY[name], label=name)
            if "{external_id}" in path:
                generated.path_parameters["external_id"] = data.draw(KNOWN_BODY["external_id"])
        headers = {"Authorization": f"Bearer {seeded['secret']}", "Idempotency-Key": uuid.uuid4().hex}
        generated.call_and_validate(
            app=app, headers=headers, checks=[not_a_server_error, response_schema_conformance]
        )

    run()

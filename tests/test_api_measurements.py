"""Metrics and measurements through the API (issue 7): the system that knows a business figure records it
as it is measured — the same service as the metric page, with its refusals."""

from datetime import timedelta

import pytest

from metrics.models import Measurement
from pilots.models import AuditEvent
from tests import factories
from tests.api_helpers import api, errors_of, keys
from tests.views.test_metrics_helpers import define, today

USES = (api, keys)  # the shared fixtures (tests/api_helpers.py)


@pytest.fixture
def metric(team):
    return define(team)


def url(team, metric) -> str:
    return f"/pilots/{team.pilot.pk}/metrics/{metric.pk}/measurements"


def test_the_pilots_metrics_are_listed(team, api, metric):
    response = api().get(f"/pilots/{team.pilot.pk}/metrics")
    assert response.status_code == 200
    [listed] = response.json()
    assert (listed["id"], listed["name"], listed["kind"], listed["method"]) == (
        metric.pk,
        "Claim cycle time",
        "cycle_time",
        "manual",
    )


def test_a_measurement_is_recorded(team, api, keys, metric):
    on = today() - timedelta(days=1)
    response = api().post(url(team, metric), {"on": on.isoformat(), "value": 4.5, "note": "From the ERP"})
    assert response.status_code == 201
    assert {k: v for k, v in response.json().items() if k != "id"} == {
        "on": on.isoformat(),
        "value": 4.5,
        "note": "From the ERP",
        "source": "manual",
        "by": None,
        "cases": None,
    }
    stored = Measurement.objects.get()
    assert (stored.value, stored.on, stored.by) == (4.5, on, None)
    event = AuditEvent.objects.get(action="measurement.recorded")
    assert event.api_key == keys.rows["read_write"] and event.actor is None
    assert event.actor_label == "API key “Claims system”"


def test_a_measurement_on_behalf_of_a_member(team, api, metric):
    response = api().post(url(team, metric), {"on": today().isoformat(), "value": 3, "by": "pm"})
    assert response.status_code == 201 and response.json()["by"] == "pm"
    assert AuditEvent.objects.get(action="measurement.recorded").actor == team.pm


def test_the_member_needs_the_right_to_edit_metrics(team, api, metric):
    response = api().post(url(team, metric), {"on": today().isoformat(), "value": 3, "by": "reviewer"})
    assert response.status_code == 403
    assert errors_of(response) == [(("body", "by"), "“reviewer” may not record this pilot's measurements.")]
    response = api().post(url(team, metric), {"on": today().isoformat(), "value": 3, "by": "outsider"})
    assert response.status_code == 422
    assert not Measurement.objects.exists()


def test_a_measurement_that_does_not_hold_is_422_with_its_field(team, api, metric):
    tomorrow = (today() + timedelta(days=1)).isoformat()
    for body, loc in (
        ({"on": tomorrow, "value": 3}, ("body", "on")),
        ({"on": today().isoformat(), "value": -1}, ("body", "value")),
        ({"on": "yesterday", "value": 3}, ("body", "on")),
        ({"on": today().isoformat(), "value": "lots"}, ("body", "value")),
        ({"on": today().isoformat(), "value": 3, "unit": "days"}, ("body", "unit")),
        ({"value": 3}, ("body", "on")),
    ):
        response = api().post(url(team, metric), body)
        assert response.status_code == 422, body
        assert errors_of(response)[0][0] == loc, body
    assert api().post(url(team, metric), raw='{"on": "2026-01-01", "value": NaN}').status_code == 422
    assert not Measurement.objects.exists()


def test_a_metric_computed_from_cases_takes_no_measurements(team, api):
    computed = define(team, name="Error rate", kind="error_rate", baseline=12, target=4, method="from_cases")
    response = api().post(url(team, computed), {"on": today().isoformat(), "value": 3})
    assert response.status_code == 422
    assert "computed from the pilot's cases" in response.json()["detail"]
    assert not Measurement.objects.exists()


def test_a_metric_of_another_pilot_is_404(team, api, keys, metric):
    other_pilot = factories.PilotFactory(workspace=team.workspace)
    response = api().post(
        f"/pilots/{other_pilot.pk}/metrics/{metric.pk}/measurements", {"on": "2026-01-01", "value": 1}
    )
    assert response.status_code == 404
    assert errors_of(response) == [(("path", "metric_id"), "The pilot has no such metric.")]
    assert api().get(f"/pilots/{other_pilot.pk}/metrics/{metric.pk}/measurements").status_code == 404
    assert api(keys.other).get(url(team, metric)).status_code == 404
    assert api(keys.read).post(url(team, metric), {"on": today().isoformat(), "value": 1}).status_code == 403


def test_the_same_figure_is_recorded_once(team, api, metric):
    body = {"on": today().isoformat(), "value": 3}
    first = api().post(url(team, metric), body, key="m1")
    replay = api().post(url(team, metric), body, key="m1")
    resend = api().post(url(team, metric), body)  # a new key: the service itself records the figure once
    assert first.status_code == replay.status_code == resend.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert resend.json()["id"] == first.json()["id"]
    assert Measurement.objects.count() == 1


def test_measurements_are_listed_oldest_first(team, api, metric):
    for days, value in ((10, 5.0), (3, 4.0), (1, 3.5)):
        on = (today() - timedelta(days=days)).isoformat()
        assert api().post(url(team, metric), {"on": on, "value": value}).status_code == 201
    listed = api().get(url(team, metric)).json()
    assert [m["value"] for m in listed] == [5.0, 4.0, 3.5]
    since = (today() - timedelta(days=5)).isoformat()
    until = (today() - timedelta(days=2)).isoformat()
    assert [m["value"] for m in api().get(url(team, metric), {"since": since}).json()] == [4.0, 3.5]
    assert [m["value"] for m in api().get(url(team, metric), {"since": since, "until": until}).json()] == [
        4.0
    ]

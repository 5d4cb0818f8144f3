"""Adding a measurement by hand, inline: htmx gets the refreshed chart and table and an event."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse

from metrics.models import Measurement
from tests import factories
from tests.views.conftest import HTMX, actions
from tests.views.test_metrics_helpers import define, today


def url(metric) -> str:
    return reverse("measurement_add", args=[metric.pilot_id, metric.pk])


def figure(**changes) -> dict:
    return {"on": today().isoformat(), "value": "4.1", "note": "week 12"} | changes


def test_the_program_manager_adds_a_measurement(team, client_for):
    metric = define(team)
    response = client_for(team.pm).post(url(metric), figure())
    assert response.status_code == 302
    assert response.url == reverse("metric_detail", args=[team.pilot.pk, metric.pk])
    m = Measurement.objects.get()
    assert (m.metric, m.value, m.on, m.note, m.source, m.by) == (
        metric, 4.1, today(), "week 12", "manual", team.pm,
    )  # fmt: skip
    assert actions(pilot=team.pilot) == ["metric.defined", "measurement.recorded"]


def test_htmx_gets_the_refreshed_trend_and_the_event_for_the_attainment(team, client_for):
    metric = define(team)
    response = client_for(team.admin).post(url(metric), figure(), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="metric-trend"') and "<html" not in html
    assert "4.1 days on" in html and "recorded" in html
    assert '<svg class="metric-chart"' in html and '<td class="num nowrap">4.1 days</td>' in html
    assert "measurementsChanged" in json.loads(response.headers["HX-Trigger"])
    assert (
        'name="value"' in html
        and 'value="4.1"' not in html.split('id="measurement-form"')[1].split("</form>")[0]
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"value": "four"}, "value", "Enter a number."),
        ({"value": ""}, "value", "This field is required."),
        ({"value": "-2"}, "value", "This metric cannot be negative (-2)."),
        ({"on": "2026-02-30"}, "on", "Enter a valid date."),
        ({"on": "2999-01-01"}, "on", "A measurement cannot be dated in the future."),
    ],
)
def test_a_bad_figure_is_refused_on_its_field(team, client_for, changes, field, message):
    metric = define(team)
    response = client_for(team.pm).post(url(metric), figure(**changes), headers=HTMX)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert "HX-Trigger" not in response.headers
    assert not Measurement.objects.exists()


def test_a_percentage_above_100_is_refused(team, client_for):
    metric = define(team, name="Error rate", kind="error_rate", baseline=8, target=3)
    response = client_for(team.pm).post(url(metric), figure(value="120"))
    assert response.status_code == 422
    assert "A percentage is between 0 and 100, not 120." in response.content.decode()
    assert "<html" in response.content.decode()  # without htmx: the whole page, with the error
    assert not Measurement.objects.exists()


def test_a_computed_metric_takes_no_figure_by_hand(team, client_for):
    metric = define(team, method="from_cases")
    response = client_for(team.pm).post(url(metric), figure(), headers=HTMX)
    assert response.status_code == 422
    assert "computed from the pilot&#x27;s cases; it takes no manual figures" in response.content.decode()
    assert not Measurement.objects.exists()


def test_posting_the_same_figure_twice_records_it_once(team, client_for):
    metric = define(team)
    client = client_for(team.pm)
    client.post(url(metric), figure(), headers=HTMX)
    response = client.post(url(metric), figure(), headers=HTMX)
    assert response.status_code == 200
    assert "is recorded already" in response.content.decode()
    assert Measurement.objects.count() == 1
    assert actions(pilot=team.pilot).count("measurement.recorded") == 1
    client.post(url(metric), figure(value="3.9"))  # another figure the same day is a new measurement
    assert Measurement.objects.count() == 2


def test_forged_fields_are_ignored(team, client_for):
    metric = define(team)
    other = factories.PilotFactory(workspace=team.workspace)
    forged = figure() | {"pilot": other.pk, "metric": 999, "method": "from_cases", "source": "computed",
                         "cases": 50, "by": team.leader.pk}  # fmt: skip
    client_for(team.pm).post(url(metric), forged)
    m = Measurement.objects.get()
    assert (m.metric, m.source, m.cases, m.by) == (metric, "manual", None, team.pm)
    metric.refresh_from_db()
    assert metric.method == "manual"


def test_adding_requires_the_program_manager_or_admin_role(team, client_for):
    metric = define(team)
    for name in ("owner", "reviewer", "leader"):
        assert client_for(team.person(name)).post(url(metric), figure(), headers=HTMX).status_code == 403
    assert not Measurement.objects.exists()


def test_it_is_a_404_for_an_outsider_and_for_another_pilots_metric(team, client_for):
    metric = define(team)
    assert client_for(team.outsider).post(url(metric), figure()).status_code == 404
    other = factories.PilotFactory(workspace=team.workspace)
    through_other = reverse("measurement_add", args=[other.pk, metric.pk])
    assert client_for(team.pm).post(through_other, figure()).status_code == 404
    assert not Measurement.objects.exists()


def test_it_allows_only_post(team, client_for):
    metric = define(team)
    assert client_for(team.pm).get(url(metric)).status_code == 405
    assert client_for(team.pm).put(url(metric)).status_code == 405
    assert not Measurement.objects.exists()


def test_the_status_changes_with_the_new_figure(team, client_for):
    metric = define(team)
    client = client_for(team.pm)
    client.post(url(metric), figure(value="6.0", on=(today() - timedelta(days=7)).isoformat()))
    detail = reverse("metric_detail", args=[team.pilot.pk, metric.pk])
    assert client.get(detail).context["row"].attainment.label == "Off track"
    client.post(url(metric), figure(value="3.5"))
    assert client.get(detail).context["row"].attainment.label == "On track"

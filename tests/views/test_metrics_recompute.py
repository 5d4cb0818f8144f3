"""“Recompute now” for a metric computed from the pilot's cases."""

import json
from datetime import timedelta

from django.urls import reverse

from metrics.models import Measurement
from tests.views.conftest import HTMX
from tests.views.test_metrics_helpers import at_noon, decided_case, define, monday_of, today


def url(metric) -> str:
    return reverse("metric_recompute", args=[metric.pilot_id, metric.pk])


def two_weeks_of_cases(team) -> None:
    this_week = monday_of(today())
    for n, week in enumerate((this_week - timedelta(weeks=2), this_week - timedelta(weeks=1))):
        decided_case(team.pilot, 2 * n, decided_at=at_noon(week), hours=24 * (5 - n))
        decided_case(team.pilot, 2 * n + 1, decided_at=at_noon(week + timedelta(days=1)), hours=24 * (3 - n))


def computed(metric) -> list[tuple]:
    return list(
        Measurement.objects.filter(metric=metric, source="computed")
        .order_by("on")
        .values_list("value", "cases")
    )


def test_the_program_manager_recomputes_the_weekly_figures(
    team, client_for, django_capture_on_commit_callbacks
):
    metric = define(team, method="from_cases")
    two_weeks_of_cases(team)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(team.pm).post(url(metric))
    # The task, enqueued after commit; then the readiness recompute its new figures ask for.
    assert len(callbacks) == 2
    assert response.status_code == 302
    assert response.url == reverse("metric_detail", args=[team.pilot.pk, metric.pk])
    assert computed(metric) == [(4.0, 2), (3.0, 2)]


def test_htmx_gets_the_trend_which_reloads_itself_once(team, client_for, django_capture_on_commit_callbacks):
    metric = define(team, method="from_cases")
    two_weeks_of_cases(team)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(team.admin).post(url(metric), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Recomputing from the pilot&#x27;s decided cases" in html
    detail = reverse("metric_detail", args=[team.pilot.pk, metric.pk])
    assert f'hx-get="{detail}" hx-trigger="load delay:3s"' in html
    assert "measurementsChanged" in json.loads(response.headers["HX-Trigger"])
    again = client_for(team.admin).get(detail, headers=HTMX | {"HX-Target": "metric-trend"})
    assert "load delay:3s" not in again.content.decode() and "from 2 cases" in again.content.decode()
    assert "measurementsChanged" in json.loads(again.headers["HX-Trigger"])


def test_recomputing_twice_gives_the_same_figures(team, client_for, django_capture_on_commit_callbacks):
    metric = define(team, method="from_cases")
    two_weeks_of_cases(team)
    client = client_for(team.pm)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(metric))
        client.post(url(metric))
    assert computed(metric) == [(4.0, 2), (3.0, 2)]


def test_a_metric_measured_by_hand_has_nothing_to_recompute(
    team, client_for, django_capture_on_commit_callbacks
):
    metric = define(team)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(team.pm).post(url(metric), headers=HTMX)
    assert response.status_code == 422
    assert "measured by hand: there is nothing to compute" in response.content.decode()
    assert callbacks == []


def test_forged_fields_are_ignored(team, client_for, django_capture_on_commit_callbacks):
    metric = define(team, method="from_cases")
    two_weeks_of_cases(team)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(team.pm).post(url(metric), {"pilot": 999, "pilot_ids": "1,2,3", "method": "manual"})
    metric.refresh_from_db()
    assert metric.method == "from_cases"
    assert len(computed(metric)) == 2


def test_recomputing_requires_the_program_manager_or_admin_role(
    team, client_for, django_capture_on_commit_callbacks
):
    metric = define(team, method="from_cases")
    two_weeks_of_cases(team)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for name in ("owner", "reviewer", "leader"):
            assert client_for(team.person(name)).post(url(metric)).status_code == 403, name
    assert callbacks == [] and computed(metric) == []


def test_it_is_a_404_for_an_outsider(team, client_for, django_capture_on_commit_callbacks):
    metric = define(team, method="from_cases")
    two_weeks_of_cases(team)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert client_for(team.outsider).post(url(metric)).status_code == 404
    assert callbacks == [] and computed(metric) == []


def test_it_allows_only_post(team, client_for):
    metric = define(team, method="from_cases")
    assert client_for(team.pm).get(url(metric)).status_code == 405

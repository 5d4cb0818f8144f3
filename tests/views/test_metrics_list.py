"""The pilot's metric list: kind, baseline → target, latest figure, attainment, vanity warnings."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from metrics.models import Metric
from tests import factories
from tests.views.test_metrics_helpers import define, measure


def url(pilot) -> str:
    return reverse("metric_list", args=[pilot.pk])


def row(response, metric) -> str:
    return re.search(rf'<tr id="metric-{metric.pk}".*?</tr>', response.content.decode(), re.S).group(0)


def test_every_member_sees_the_metrics_with_their_attainment(team, client_for):
    metric = define(team)
    measure(team, metric, 5.0, 4.1)  # 2.1 of the 4.2 days: 50% of the way with 50% of the time gone
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        response = client_for(team.person(name)).get(url(team.pilot))
        assert response.status_code == 200, name
        html = row(response, metric)
        assert reverse("metric_detail", args=[team.pilot.pk, metric.pk]) in html
        assert "Cycle time" in html
        assert "6.2 days → <strong>2 days</strong>" in html
        assert "<strong>4.1 days</strong>" in html
        assert "2 figures" in html
        assert "50%" in html
        assert "attain-on_track" in html and "On track" in html


def test_the_status_follows_progress_against_time(team, client_for):
    behind = define(team, name="Behind")
    measure(team, behind, 5.8)  # 10% of the way, 50% of the time gone
    risky = define(team, name="Risky")
    measure(team, risky, 4.6)  # about 38%
    waiting = define(team, name="Waiting")
    response = client_for(team.leader).get(url(team.pilot))
    assert "Off track" in row(response, behind)
    assert "At risk" in row(response, risky)
    assert "No measurement yet" in row(response, waiting)
    assert "none yet" in row(response, waiting)


def test_vanity_metrics_are_called_out(team, client_for):
    vanity = define(
        team, name="Weekly active users", kind="custom", unit="users", direction="higher",
        baseline=10, target=200, outcome="adoption",
    )  # fmt: skip
    define(team)
    response = client_for(team.leader).get(url(team.pilot))
    page = response.content.decode()
    assert 'class="vanity-alert" role="alert"' in page
    assert "1 metric looks like a vanity metric" in page
    assert "Counting users shows adoption" in row(response, vanity)
    assert 'class="is-vanity"' in row(response, vanity)


def test_only_program_managers_and_admins_are_offered_to_define_a_metric(team, client_for):
    create = reverse("metric_create", args=[team.pilot.pk])
    for name in ("admin", "pm"):
        assert create in client_for(team.person(name)).get(url(team.pilot)).content.decode(), name
    for name in ("owner", "reviewer", "leader"):
        assert create not in client_for(team.person(name)).get(url(team.pilot)).content.decode(), name


def test_without_metrics_it_says_so(team, client_for):
    assert "No metric yet" in client_for(team.leader).get(url(team.pilot)).content.decode()


def test_it_shows_only_this_pilots_metrics(team, client_for):
    other = factories.PilotFactory(workspace=team.workspace)
    define(team, pilot=other, name="Theirs")
    define(team)
    response = client_for(team.pm).get(url(team.pilot))
    assert [r.metric.name for r in response.context["rows"]] == ["Claim cycle time"]


def test_it_is_a_404_for_an_outsider(team, client_for):
    define(team)
    assert client_for(team.outsider).get(url(team.pilot)).status_code == 404


def test_it_allows_only_get(team, client_for):
    assert client_for(team.pm).post(url(team.pilot), {"name": "x"}).status_code == 405
    assert not Metric.objects.exists()


def count_queries(client, pilot) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(pilot)).status_code == 200
    return len(queries)


def test_the_list_makes_the_same_queries_for_2_or_20_metrics(team, client_for):
    client = client_for(team.pm)
    for i in range(2):
        measure(team, define(team, name=f"Metric {i}"), 5.0, 4.0)
    client.get(url(team.pilot))
    few = count_queries(client, team.pilot)
    for i in range(2, 20):
        measure(team, define(team, name=f"Metric {i}", kind="error_rate", baseline=8, target=3), 7.0, 6.0)
    define(team, name="Vanity logins", kind="custom", unit="logins", direction="higher", baseline=1, target=5,
           outcome="x")  # fmt: skip
    assert count_queries(client, team.pilot) == few

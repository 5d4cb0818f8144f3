"""The metrics panel of the pilot page: loaded by htmx, with a plain link when JavaScript is off."""

from django.urls import reverse

from metrics.models import Metric
from tests.views.conftest import HTMX
from tests.views.test_metrics_helpers import define, measure


def url(pilot) -> str:
    return reverse("metric_panel", args=[pilot.pk])


def test_the_pilot_page_loads_the_panel_and_links_to_the_metrics(team, client_for):
    page = client_for(team.leader).get(reverse("pilot_detail", args=[team.pilot.pk])).content.decode()
    assert f'hx-get="{url(team.pilot)}" hx-trigger="load"' in page
    assert f'<a href="{reverse("metric_list", args=[team.pilot.pk])}">Open the metrics</a>' in page


def test_every_member_sees_the_headline_metrics_attainment_and_trend(team, client_for):
    metric = define(team)
    measure(team, metric, 5.0, 4.1)
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        response = client_for(team.person(name)).get(url(team.pilot), headers=HTMX)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert 'id="metrics-panel"' in html and "<html" not in html
        assert reverse("metric_detail", args=[team.pilot.pk, metric.pk]) in html
        assert "50%" in html and "On track" in html
        assert '<g class="baseline-line">' in html and '<g class="target-line">' in html


def test_the_headline_is_a_business_metric_computed_from_cases(team, client_for):
    define(team, name="Weekly active users", kind="custom", unit="users", direction="higher", baseline=1,
           target=5, outcome="adoption")  # fmt: skip
    define(team, name="Manual cycle time")
    define(team, name="Computed error rate", kind="error_rate", baseline=8, target=3, method="from_cases")
    response = client_for(team.pm).get(url(team.pilot), headers=HTMX)
    assert response.context_data["lead"].metric.name == "Computed error rate"
    assert [r.metric.name for r in response.context_data["others"]] == [
        "Weekly active users",
        "Manual cycle time",
    ]
    html = response.content.decode()
    assert "1 vanity metric" in html
    assert "vanity?" in html


def test_without_metrics_the_panel_invites_to_define_one(team, client_for):
    create = reverse("metric_create", args=[team.pilot.pk])
    html = client_for(team.pm).get(url(team.pilot), headers=HTMX).content.decode()
    assert "No success metric yet" in html and create in html
    assert create not in client_for(team.leader).get(url(team.pilot), headers=HTMX).content.decode()


def test_it_is_a_404_for_an_outsider(team, client_for):
    define(team)
    assert client_for(team.outsider).get(url(team.pilot), headers=HTMX).status_code == 404


def test_it_allows_only_get(team, client_for):
    assert client_for(team.pm).post(url(team.pilot)).status_code == 405
    assert not Metric.objects.exists()

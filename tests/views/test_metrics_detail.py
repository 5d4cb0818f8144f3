"""A metric's page: the trend chart, the attainment, the measurements and who may add to them."""

import re
from datetime import timedelta

from django.urls import reverse

from metrics import compute
from metrics.models import Measurement
from tests import factories
from tests.views.conftest import HTMX
from tests.views.test_metrics_helpers import at_noon, decided_case, define, measure, monday_of, today


def url(metric) -> str:
    return reverse("metric_detail", args=[metric.pilot_id, metric.pk])


def svg(response) -> str:
    return re.search(r'<svg class="metric-chart".*?</svg>', response.content.decode(), re.S).group(0)


def test_every_member_sees_the_chart_the_attainment_and_the_figures(team, client_for):
    metric = define(team)
    measure(team, metric, 5.0, 4.1)
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        response = client_for(team.person(name)).get(url(metric))
        assert response.status_code == 200, name
        page = response.content.decode()
        assert 'id="metric-attainment"' in page and 'id="metric-trend"' in page
        assert "On track" in page
    assert response.context["row"].progress_text == "50%"
    assert response.context["row"].expected_text == "50%"


def test_the_chart_draws_the_baseline_and_the_target_with_their_labels(team, client_for):
    metric = define(team)
    measure(team, metric, 5.5, 5.0, 4.6, 4.1)
    chart = svg(client_for(team.leader).get(url(metric)))
    baseline = re.search(r'<g class="baseline-line">\s*<line [^>]*y1="([\d.]+)" y2="([\d.]+)"/>', chart)
    target = re.search(r'<g class="target-line">\s*<line [^>]*y1="([\d.]+)" y2="([\d.]+)"/>', chart)
    assert baseline and target
    assert baseline.group(1) == baseline.group(2) and target.group(1) == target.group(2)  # horizontal
    assert float(baseline.group(1)) < float(target.group(1))  # lower is better: the target is drawn below
    start = metric.baseline_on
    assert f"Baseline 6.2 days · {start.day} {start:%b %Y}" in chart
    due = metric.target_date
    assert f"Target 2 days by {due.day} {due:%b %Y}" in chart
    assert f"Target date {due.day} {due:%b %Y}" in chart  # the target date is marked
    assert '<g class="today">' in chart
    assert chart.count("<circle cx=") == 4  # one point per figure
    assert '<circle class="target-mark"' in chart
    assert '<polyline points="' in chart
    assert 'class="axis-title"' in chart and "Cycle time (days)" in chart
    assert '<text class="label latest"' in chart and ">4.1 days<" in chart


def test_the_chart_is_accessible(team, client_for):
    metric = define(team)
    measure(team, metric, 5.0, 4.1)
    response = client_for(team.leader).get(url(metric))
    page = response.content.decode()
    chart = svg(response)
    assert 'role="img"' in chart and 'aria-labelledby="metric-chart-title metric-chart-desc"' in chart
    assert '<title id="metric-chart-title">Claim cycle time: measured figures' in chart
    desc = re.search(r'<desc id="metric-chart-desc">(.*?)</desc>', chart, re.S).group(1)
    assert "baseline 6.2 days" in desc and "target 2 days" in desc
    assert "latest 4.1 days" in desc and "50% of the way to the target with 50% of the time gone" in desc
    hidden = re.search(r'<table class="visually-hidden">.*?</table>', page, re.S).group(0)
    assert hidden.count('<th scope="row">') == 2
    assert f'<th scope="row">{today():%Y-%m-%d}</th><td>4.1 days</td>' in hidden


def test_without_figures_the_chart_still_shows_baseline_and_target(team, client_for):
    metric = define(team)
    chart = svg(client_for(team.leader).get(url(metric)))
    assert "No measurement yet" in chart
    assert '<g class="baseline-line">' in chart and '<g class="target-line">' in chart


def test_a_percentage_axis_stays_within_0_and_100(team, client_for):
    metric = define(team, name="Error rate", kind="error_rate", baseline=96, target=99, direction="higher",
                     unit="%")  # fmt: skip
    measure(team, metric, 97.0)
    response = client_for(team.leader).get(url(metric))
    labels = [t["label"] for t in response.context["chart"]["y_ticks"]]
    assert labels[-1] == "100%" and all(label.endswith("%") for label in labels)


def test_the_measurements_table_lists_figures_newest_first_with_their_source(team, client_for):
    metric = define(team)
    measure(team, metric, 5.0, 4.1)
    Measurement.objects.filter(value=5.0).update(note="after the first release")
    page = client_for(team.leader).get(url(metric)).content.decode()
    table = re.search(r'<table class="table measurement-table">.*?</table>', page, re.S).group(0)
    assert table.index("4.1 days") < table.index("5 days")
    assert "after the first release" in table and "Entered" in table and "Pm" in table


def test_a_computed_figure_links_to_the_cases_it_came_from(team, client_for):
    metric = define(team, method="from_cases")
    week = monday_of(today()) - timedelta(weeks=1)
    decided_case(team.pilot, 1, decided_at=at_noon(week + timedelta(days=1)), hours=48)
    decided_case(team.pilot, 2, decided_at=at_noon(week + timedelta(days=2)), hours=96)
    compute.recompute([team.pilot.pk])
    page = client_for(team.leader).get(url(metric)).content.decode()
    cases = reverse("case_list", args=[team.pilot.pk])
    sunday = week + timedelta(days=6)
    link = f'<a href="{cases}?decided_from={week:%Y-%m-%d}&amp;decided_to={sunday:%Y-%m-%d}">from 2 cases</a>'
    assert link in page
    assert "3 days" in page  # (2 + 4) / 2
    assert "ProdReady" in page


def test_program_managers_get_the_forms_readers_do_not(team, client_for):
    metric = define(team)
    add = reverse("measurement_add", args=[team.pilot.pk, metric.pk])
    imports = reverse("measurement_import", args=[team.pilot.pk, metric.pk])
    edit = reverse("metric_edit", args=[team.pilot.pk, metric.pk])
    page = client_for(team.pm).get(url(metric)).content.decode()
    assert f'action="{add}"' in page and f'action="{imports}"' in page and edit in page
    assert 'id="recompute-form"' not in page
    for name in ("owner", "reviewer", "leader"):
        page = client_for(team.person(name)).get(url(metric)).content.decode()
        assert add not in page and imports not in page and edit not in page, name


def test_a_computed_metric_offers_recompute_instead_of_manual_figures(team, client_for):
    metric = define(team, method="from_cases")
    page = client_for(team.admin).get(url(metric)).content.decode()
    assert reverse("metric_recompute", args=[team.pilot.pk, metric.pk]) in page
    assert 'id="measurement-form"' not in page and 'id="import-form"' not in page
    assert "Recompute now" not in client_for(team.leader).get(url(metric)).content.decode()


def test_a_vanity_metric_is_flagged_on_its_page(team, client_for):
    metric = define(team, name="Documents processed", kind="custom", unit="documents", direction="higher",
                    baseline=100, target=500, outcome="throughput")  # fmt: skip
    page = client_for(team.leader).get(url(metric)).content.decode()
    assert '<div class="vanity-alert" role="alert"><strong>This looks like a vanity metric.</strong>' in page


def test_htmx_reloads_the_attainment_alone(team, client_for):
    metric = define(team)
    measure(team, metric, 4.1)
    response = client_for(team.leader).get(url(metric), headers=HTMX | {"HX-Target": "metric-attainment"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card attainment-card" id="metric-attainment"')
    assert "<html" not in html and "On track" in html
    assert 'hx-trigger="measurementsChanged from:body"' in html


def test_it_is_a_404_for_an_outsider(team, client_for):
    metric = define(team)
    assert client_for(team.outsider).get(url(metric)).status_code == 404


def test_another_pilots_metric_is_a_404_through_this_pilot(team, client_for):
    other = factories.PilotFactory(workspace=team.workspace)
    theirs = define(team, pilot=other)
    assert (
        client_for(team.pm).get(reverse("metric_detail", args=[team.pilot.pk, theirs.pk])).status_code == 404
    )
    assert client_for(team.pm).get(url(theirs)).status_code == 200


def test_it_allows_only_get(team, client_for):
    metric = define(team)
    assert client_for(team.pm).post(url(metric), {"value": "3"}).status_code == 405
    assert not Measurement.objects.exists()

"""The inputs panel of the pilot page: links, conformance over 30 days, the weekly chart."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pilots.models import Pilot
from tests.views.test_step2_helpers import add_cases, age_cases, publish


def url(pilot) -> str:
    return reverse("pilot_detail", args=[pilot.pk])


def panel(response) -> str:
    return re.search(
        r'<section class="card inputs-panel" id="inputs-panel".*?</section>', response.content.decode(), re.S
    ).group(0)


def test_every_member_sees_the_panel_with_its_links(team, client_for):
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        html = panel(client_for(team.person(name)).get(url(team.pilot)))
        for target in ("standard", "case_list", "uploads", "ai_versions"):
            assert reverse(target, args=[team.pilot.pk]) in html, (name, target)
    assert reverse("case_create", args=[team.pilot.pk]) in panel(client_for(team.pm).get(url(team.pilot)))
    assert reverse("case_create", args=[team.pilot.pk]) not in panel(
        client_for(team.leader).get(url(team.pilot))
    )


def test_without_a_standard_the_panel_says_so(team, client_for):
    html = panel(client_for(team.pm).get(url(team.pilot)))
    assert "No input standard yet" in html
    assert "No cases in these weeks yet" in html


def test_the_panel_shows_conformance_and_the_problem_kinds(team, client_for):
    publish(team)
    add_cases(team, 10, bad_every=5)  # 2 of 10 miss their amount
    response = client_for(team.leader).get(url(team.pilot))
    html = panel(response)
    assert "80%" in html
    assert "8 of 10 cases" in html
    assert f"{reverse('case_list', args=[team.pilot.pk])}?problem=missing" in html
    assert "inputs.amount (missing)" in html  # the top failing field
    assert response.context["conformance"]["kinds"]["missing"] == 2


def test_the_chart_is_accessible_and_draws_the_threshold(team, client_for):
    publish(team)
    add_cases(team, 10, bad_every=5)
    add_cases(team, 4, start=10)
    age_cases(team, 7)  # the same day last week
    add_cases(team, 5, start=20, bad_every=5)  # this week: 4 of 5
    html = panel(client_for(team.pm).get(url(team.pilot)))
    assert 'role="img"' in html
    assert '<title id="conformance-chart-title">' in html
    assert "<desc id=" in html and "80% in W" in html
    assert '<g class="threshold">' in html and "threshold 95%" in html
    assert html.count("<circle") == 2
    assert "<polyline" in html
    hidden = re.search(r'<table class="visually-hidden">.*?</table>', html, re.S).group(0)
    assert hidden.count("<tr>") == 13  # the header and 12 weeks
    assert "<td>14</td><td>12</td>" in hidden  # last week: 14 cases, 12 conforming


def test_the_threshold_form_is_for_those_who_may_set_it(team, client_for):
    form = reverse("conformance_threshold", args=[team.pilot.pk])
    assert form in panel(client_for(team.pm).get(url(team.pilot)))
    assert form not in panel(client_for(team.reviewer).get(url(team.pilot)))
    Pilot.objects.filter(pk=team.pilot.pk).update(conformance_threshold=0.875)
    assert "threshold 87.5%" in panel(client_for(team.reviewer).get(url(team.pilot)))


def count_queries(client, pilot) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(pilot)).status_code == 200
    return len(queries)


def test_the_pilot_page_makes_the_same_queries_for_5_or_50_cases(team, client_for):
    publish(team)
    client = client_for(team.pm)
    add_cases(team, 5, bad_every=2)
    client.get(url(team.pilot))
    few = count_queries(client, team.pilot)
    add_cases(team, 45, start=5, bad_every=3)
    age_cases(team, 9)
    add_cases(team, 5, start=50)
    assert count_queries(client, team.pilot) == few

"""Step 4's card on the pilot page: loaded by htmx, with a plain link when JavaScript is off; the verdict,
the latest weekly rate with its interval, the corrections and the backlog."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.models import Target
from feedback.services import corrections, incorporation
from pilots.models import Case
from pilots.services import standards
from tests.views.conftest import HTMX
from tests.views.test_learning import SPEC, decided, flat, improving, weeks_ago


def url(pilot) -> str:
    return reverse("feedback_panel", args=[pilot.pk])


def panel(team, client_for, user=None):
    response = client_for(user or team.leader).get(url(team.pilot), headers=HTMX)
    assert response.status_code == 200
    return response


def correct(team, cases, *, reason="wrong_extraction", at=None):
    return [
        corrections.record_correction(
            case=case, field="category", corrected_value="theft", reason_code=reason, actor=team.pm, now=at
        )
        for case in cases
    ]


def test_the_pilot_page_loads_the_card_and_links_to_the_learning_view(team, client_for):
    page = client_for(team.leader).get(reverse("pilot_detail", args=[team.pilot.pk])).content.decode()
    assert f'hx-get="{url(team.pilot)}" hx-trigger="load"' in page
    assert f'<a href="{reverse("learning", args=[team.pilot.pk])}">Open the learning view</a>' in page


def test_without_cases_or_corrections_it_says_what_it_will_show(team, client_for):
    html = panel(team, client_for).content.decode()
    assert 'id="feedback-panel"' in html and "<html" not in html
    assert "No decided cases and no corrections yet" in html
    assert "Acceptable correction rate: 5%" in html
    assert reverse("learning", args=[team.pilot.pk]) in html


def test_it_shows_the_verdict_the_latest_week_and_the_backlog(team, client_for):
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)
    improving(team)
    old = timezone.now() - timedelta(days=9)
    made = correct(team, Case.objects.order_by("id")[:3], at=old)
    incorporation.incorporate(
        pilot=team.pilot,
        correction_ids=[made[0].pk],
        into=Target.REGRESSION_SET,
        target_id=None,
        actor=team.pm,
    )
    response = panel(team, client_for)
    context = response.context_data
    assert context["verdict"].kind == "improving"
    iso = weeks_ago(team, 2).isocalendar()
    assert context["latest"].week.label == f"{iso.year}-W{iso.week:02d}"
    assert (context["backlog"].total, context["backlog"].waiting, context["backlog"].incorporated) == (
        3,
        2,
        1,
    )
    html = response.content.decode()
    assert 'verdict-badge verdict-improving">Improving<' in html
    assert ">4.0%<" in html and f"corrected in {iso.year}-W{iso.week:02d}" in html
    assert "2 of 50 decided · 95% interval 1.1%–13.5%" in html
    assert "the oldest recorded 1\xa0week, 2\xa0days ago" in html
    for name in ("learning", "corrections", "regression_set"):
        assert reverse(name, args=[team.pilot.pk]) in html, name


def test_a_flat_pilot_within_its_acceptable_rate_says_so(team, client_for):
    flat(team)
    standards.set_acceptable_correction_rate(pilot=team.pilot, actor=team.pm, rate=0.15)
    html = panel(team, client_for).content.decode()
    assert "Flat but within the acceptable rate" in html


def test_corrections_without_decided_cases_still_show_the_backlog(team, client_for):
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)
    decided(team, "c", 2, 0, at=weeks_ago(team, 1))
    Case.objects.update(decided_at=None)  # as if still waiting for a decision
    correct(team, Case.objects.all())
    response = panel(team, client_for)
    assert response.context_data["has_cases"] is False
    html = response.content.decode()
    assert "No decided cases yet to judge." in html
    assert response.context_data["backlog"].waiting == 2


@pytest.mark.parametrize("size", [1, 4])
def test_its_query_count_does_not_grow_with_the_data(team, client_for, django_assert_max_num_queries, size):
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)
    for v in range(size):
        standards.register_ai_version(
            pilot=team.pilot, actor=team.pm, identifier=f"v{v}", released_on=weeks_ago(team, 20 - v).date()
        )
        decided(team, f"v{v}", 10 * size, size, at=weeks_ago(team, 10 - v), version=f"v{v}")
    correct(team, Case.objects.all()[: 3 * size])
    client = client_for(team.leader)
    with django_assert_max_num_queries(9):
        response = client.get(url(team.pilot), headers=HTMX)
    assert response.context_data["backlog"].total == 3 * size


def test_every_member_sees_it_and_a_repeat_is_the_same(team, client_for):
    flat(team, weeks=(2, 1))
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        client = client_for(team.person(name))
        first = client.get(url(team.pilot), headers=HTMX)
        assert first.status_code == 200, name
        assert client.get(url(team.pilot), headers=HTMX).content == first.content, name


def test_it_is_a_404_for_an_outsider(team, client_for):
    assert client_for(team.outsider).get(url(team.pilot), headers=HTMX).status_code == 404


def test_it_allows_only_get(team, client_for):
    assert client_for(team.pm).post(url(team.pilot)).status_code == 405


def test_the_latest_rate_is_of_the_latest_week_with_enough_cases(team, client_for):
    improving(team)
    decided(team, "today", 4, 0, at=weeks_ago(team, 0, hour=0) + timedelta(hours=1), version="v2")
    iso = weeks_ago(team, 2).isocalendar()
    response = panel(team, client_for)
    assert response.context_data["latest"].week.label == f"{iso.year}-W{iso.week:02d}"
    assert "fewer than 30 cases" not in response.content.decode()


def test_without_a_week_of_enough_cases_the_latest_week_is_flagged(team, client_for):
    decided(team, "few", 6, 1, at=weeks_ago(team, 1))
    response = panel(team, client_for)
    assert response.context_data["latest"].week.decided == 6
    assert "(fewer than 30 cases)" in response.content.decode()

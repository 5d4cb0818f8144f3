"""The learning page: the verdict stated honestly (improving, flat, not enough data) with the acceptable
correction rate beside it, the weekly chart, the per-version table, the top reasons, the backlog — built
from cases ingested through the hub's intake with their outcome columns."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.models import Target
from feedback.services import corrections, incorporation
from pilots.models import Case
from pilots.services import intake, standards
from pilots.services.intake import Arrival
from tests.views.conftest import HTMX

SPEC = {
    "inputs": [{"name": "amount", "type": "number", "required": True}],
    "outputs": [{"name": "category", "type": "enum", "allowed": ["glass", "theft", "fire"]}],
}


def url(pilot) -> str:
    return reverse("learning", args=[pilot.pk])


def weeks_ago(team, weeks: int, *, hour: int = 12) -> datetime:
    """Wednesday noon (the workspace's time) of the ISO week `weeks` before this one: safely inside it."""
    zone = team.workspace.zone
    today = timezone.localtime(timezone.now(), zone).date()
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks)
    return datetime.combine(monday + timedelta(days=2), time(hour), tzinfo=zone)


def decided(team, prefix: str, n: int, corrected: int, *, at: datetime, version: str = "") -> None:
    """`n` cases decided at `at`, the first `corrected` of them corrected, produced by AI `version`."""
    arrivals = []
    for i in range(n):
        outcome = {"decided_at": at.isoformat(), "corrected": "true" if i < corrected else "false"}
        if version:
            outcome["ai_version"] = version
        arrivals.append(
            Arrival(
                external_id=f"{prefix}-{i}",
                inputs={"amount": "100"},
                outputs={"category": "glass"},
                received_at=at.isoformat(),
                outcome=outcome,
            )
        )
    intake.ingest(pilot=team.pilot, arrivals=arrivals, source="upload", actor=team.pm)


def version(team, identifier: str, weeks: int):
    released = weeks_ago(team, weeks).date() - timedelta(days=2)  # its Monday
    return standards.register_ai_version(
        pilot=team.pilot, actor=team.pm, identifier=identifier, released_on=released
    )


def improving(team) -> None:
    """v1 corrected 20% of 200 cases, v2 5% of 200: the intervals are apart."""
    version(team, "v1", 20)
    version(team, "v2", 8)
    for weeks in (16, 15, 14, 13):
        decided(team, f"v1-{weeks}", 50, 10, at=weeks_ago(team, weeks), version="v1")
    for weeks in (5, 4, 3, 2):
        decided(team, f"v2-{weeks}", 50, 3 if weeks % 2 else 2, at=weeks_ago(team, weeks), version="v2")


def flat(team, weeks=(12, 11, 9, 8, 4, 3, 2, 1)) -> None:
    """About 10% every week, no AI version: the first and last quarter overlap."""
    for w in weeks:
        decided(team, f"w{w}", 50, 5, at=weeks_ago(team, w))


def page(team, client_for, user=None, **headers):
    response = client_for(user or team.leader).get(url(team.pilot), headers=headers or None)
    assert response.status_code == 200
    return response


def test_an_improving_pilot_says_so_and_why(team, client_for):
    improving(team)
    response = page(team, client_for)
    found = response.context_data["verdict"]
    assert (found.kind, found.verdict.basis) == ("improving", "versions")
    assert (found.verdict.earlier.label, found.verdict.later.label) == ("v1", "v2")
    html = response.content.decode()
    assert 'verdict-badge verdict-improving">Improving<' in html
    assert "v2: 5.0% of 200 (95% interval 2.7%–9.0%) lies wholly below v1: 20.0% of 200" in html
    assert "the last two AI versions with at least 30 decided cases each, v1 and v2" in html
    assert "The later rate (v2: 5.0%) is at or under the acceptable 5%." in html
    rows = {row.version.label: row for row in response.context_data["version_rows"]}
    assert (rows["v1"].version.decided, rows["v1"].version.corrected, rows["v1"].rate_text) == (
        200,
        40,
        "20.0%",
    )
    assert rows["v2"].rate_text == "5.0%" and rows["v1"].compared and rows["v2"].compared


def test_the_chart_draws_each_week_with_cases_and_marks_the_releases(team, client_for):
    improving(team)
    html = page(team, client_for).content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert len(re.findall(r'<rect class="interval[^"]*" data-week=', svg)) == 8
    assert len(re.findall(r'<circle class="rate[^"]*" data-week=', svg)) == 8
    assert svg.count('<g class="version" data-version=') == 2
    assert "Acceptable 5%" in svg
    line = re.search(r'<path class="rate-line" d="([^"]+)"', svg)[1]
    assert line.count("M") == 2  # two runs of weeks, a gap between them
    assert "<title" in svg and "<desc" in svg
    # The same figures as a table, every week of the window (empty ones said so).
    assert html.count("no decided cases</td>") == 26 - 8
    assert '<td class="num">20.0%</td>' in html


def test_a_flat_pilot_is_flat_and_the_acceptable_rate_decides_whether_that_is_fine(team, client_for):
    flat(team)
    response = page(team, client_for)
    found = response.context_data["verdict"]
    assert (found.kind, found.verdict.basis) == ("flat", "quarters")
    html = response.content.decode()
    assert "Flat, above the acceptable rate" in html
    assert "first and the last quarter of the weeks with decided cases" in html
    standards.set_acceptable_correction_rate(pilot=team.pilot, actor=team.pm, rate=0.12)
    html = page(team, client_for).content.decode()
    assert "Flat but within the acceptable rate" in html
    assert 'id="acceptable-rate">12%<' in html


def test_a_quarter_of_one_week_is_named_by_that_week(team, client_for):
    flat(team, weeks=(3, 1))
    found = page(team, client_for).context_data["verdict"].verdict
    first, last = (weeks_ago(team, w).isocalendar() for w in (3, 1))
    assert found.earlier.label == f"{first.year}-W{first.week:02d}"
    assert found.later.label == f"{last.year}-W{last.week:02d}"


def test_a_tiny_pilot_has_not_enough_data(team, client_for):
    version(team, "v1", 6)
    version(team, "v2", 3)
    decided(team, "a", 8, 3, at=weeks_ago(team, 5), version="v1")
    decided(team, "b", 6, 0, at=weeks_ago(team, 2), version="v2")
    response = page(team, client_for)
    assert response.context_data["verdict"].kind == "not_enough_data"
    html = response.content.decode()
    assert "Not enough data" in html
    assert "Each side needs at least 30 decided cases" in html
    rows = response.context_data["version_rows"]
    assert [row.rate_text for row in rows] == ["Not enough data", "Not enough data"]


def test_a_newer_version_without_enough_cases_is_named_not_judged(team, client_for):
    improving(team)
    version(team, "v3", 1)
    decided(team, "v3", 12, 0, at=weeks_ago(team, 0, hour=0) + timedelta(hours=1), version="v3")
    html = page(team, client_for).content.decode()
    assert "v3 is newer but has 12 decided cases, fewer than 30: it is not judged yet." in html


def test_without_decided_cases_it_explains_what_will_be_measured(team, client_for):
    html = page(team, client_for, team.pm).content.decode()
    assert "No decided cases yet" in html
    assert "<svg" not in html
    assert (
        'id="learning-verdict"' in html
        and reverse("acceptable_correction_rate", args=[team.pilot.pk]) in html
    )
    assert reverse("corrections", args=[team.pilot.pk]) in html


def test_the_top_reasons_and_the_backlog(team, client_for):
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)
    decided(team, "c", 40, 0, at=weeks_ago(team, 3))
    cases = list(Case.objects.order_by("id"))
    start = timezone.now() - timedelta(days=10)
    made = []
    for i, case in enumerate(cases[:5]):
        reason = "wrong_extraction" if i < 3 else "missing_context"
        made.append(
            corrections.record_correction(
                case=case,
                field="category",
                corrected_value="theft",
                reason_code=reason,
                actor=team.reviewer,
                now=start + timedelta(hours=i),
            )
        )
    # Incorporated 1, 3 and 5 days after they were made: the median is 3 days.
    for correction, days in zip(made[:3], (1, 3, 5), strict=True):
        incorporation.incorporate(
            pilot=team.pilot,
            correction_ids=[correction.pk],
            into=Target.REGRESSION_SET,
            target_id=None,
            actor=team.pm,
            now=correction.at + timedelta(days=days),
        )
    response = page(team, client_for)
    backlog = response.context_data["backlog"]
    assert (backlog.total, backlog.waiting, backlog.incorporated) == (5, 2, 3)
    assert backlog.oldest_at == made[3].at
    assert backlog.median == timedelta(days=3)
    reasons = response.context_data["reasons"]
    assert [(row["label"], row["total"]) for row in reasons["rows"]] == [
        ("Wrong extraction", 3),
        ("Missing context", 2),
    ]
    html = response.content.decode()
    assert "3 days" in html
    assert reverse("corrections", args=[team.pilot.pk]) in html


def test_an_htmx_request_for_the_chart_gets_the_chart_alone(team, client_for):
    flat(team)
    response = page(team, client_for, **(HTMX | {"HX-Target": "learning-chart"}))
    html = response.content.decode()
    assert 'id="learning-chart"' in html and "<html" not in html and 'id="learning-verdict"' not in html
    assert 'hx-trigger="correctionRateSet from:body"' in html


@pytest.mark.parametrize("size", [1, 3])
def test_its_query_count_does_not_grow_with_the_data(team, client_for, django_assert_max_num_queries, size):
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)
    for v in range(size):
        version(team, f"v{v}", 20 - v)
        for w in range(size):
            decided(team, f"v{v}-{w}", 10 * size, size, at=weeks_ago(team, 12 - 3 * v - w), version=f"v{v}")
    for case in Case.objects.all()[: 2 * size]:
        c = corrections.record_correction(
            case=case, field="category", corrected_value="fire", reason_code="other", actor=team.pm
        )
        incorporation.incorporate(
            pilot=team.pilot, correction_ids=[c.pk], into=Target.REGRESSION_SET, target_id=None, actor=team.pm
        )
    client = client_for(team.leader)
    with django_assert_max_num_queries(11):
        response = client.get(url(team.pilot))
    assert response.status_code == 200
    assert response.context_data["backlog"].incorporated == 2 * size


def test_every_member_sees_it_and_a_repeat_is_the_same(team, client_for):
    flat(team, weeks=(3, 2))
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        client = client_for(team.person(name))
        first = client.get(url(team.pilot), headers=HTMX | {"HX-Target": "learning-chart"})
        assert first.status_code == 200, name
        again = client.get(url(team.pilot), headers=HTMX | {"HX-Target": "learning-chart"})
        assert again.content == first.content, name


def test_only_those_who_may_set_the_rate_see_its_form(team, client_for):
    form = f'action="{reverse("acceptable_correction_rate", args=[team.pilot.pk])}"'
    for name in ("admin", "pm"):
        assert form in page(team, client_for, team.person(name)).content.decode(), name
    for name in ("owner", "reviewer", "leader"):
        assert form not in page(team, client_for, team.person(name)).content.decode(), name


def test_it_is_a_404_for_an_outsider(team, client_for):
    assert client_for(team.outsider).get(url(team.pilot)).status_code == 404


def test_it_allows_only_get(team, client_for):
    assert client_for(team.pm).post(url(team.pilot)).status_code == 405

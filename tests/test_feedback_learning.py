"""Whether the pilot learns (feedback/learning.py): Wilson intervals and the verdict on known figures,
the correction rate per ISO week (in the workspace's time zone) and per AI version, the verdict of a
pilot (the last two versions with enough data, else the first and last quarter of the window), and the
batch the readiness check uses."""

from datetime import UTC, date, datetime, time, timedelta
from math import sqrt
from statistics import NormalDist

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback import learning
from feedback.learning import MIN_CASES, Rate
from feedback.services import corrections
from pilots.models import Case
from pilots.services import intake, standards
from pilots.services.intake import Arrival
from tests import factories

Z = NormalDist().inv_cdf(0.975)


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval, derived independently of exceptions/stats.py: the two roots p of
    (k/n − p)² = z²·p(1 − p)/n, i.e. (1 + z²/n)·p² − (2k/n + z²/n)·p + (k/n)² = 0."""
    phat = k / n
    a, b, c = 1 + Z * Z / n, -(2 * phat + Z * Z / n), phat * phat
    root = sqrt(b * b - 4 * a * c)
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


def decide_cases(pilot, prefix: str, n: int, corrected: int, at: datetime, version: str | None = None):
    """`n` cases decided at `at` by the pilot's own system, `corrected` of them corrected."""
    intake.ingest(
        pilot=pilot,
        arrivals=[
            Arrival(
                external_id=f"{prefix}-{i}",
                inputs={},
                received_at=(at - timedelta(hours=1)).isoformat(),
                outcome={
                    "decided_at": at.isoformat(),
                    "corrected": "true" if i < corrected else "false",
                    **({"ai_version": version} if version else {}),
                },
            )
            for i in range(n)
        ],
        source="upload",
        actor=pilot.program_manager,
    )


def version(pilot, identifier: str, released_on: date):
    return standards.register_ai_version(
        pilot=pilot, actor=pilot.program_manager, identifier=identifier, released_on=released_on
    )


def weeks_ago(pilot, k: int) -> datetime:
    """Wednesday noon (the workspace's time) of the week `k` weeks before this one."""
    today = timezone.localdate(timezone.now(), pilot.workspace.zone)
    monday = today - timedelta(days=today.weekday(), weeks=k)
    return datetime.combine(monday + timedelta(days=2), time(12), tzinfo=pilot.workspace.zone)


# --- Wilson intervals on known figures ---


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # Published 95% Wilson intervals (e.g. Newcombe 1998, table I; Brown, Cai & DasGupta 2001).
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
    ],
)
def test_the_wilson_interval_on_published_figures(k, n, low, high):
    assert Rate("x", n, k).interval == pytest.approx((low, high), abs=5e-5)
    assert wilson(k, n) == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize(
    ("k", "n"), [(0, 1), (1, 1), (1, 3), (20, 400), (80, 400), (8, 100), (29, 30), (30, 30)]
)
def test_the_wilson_interval_is_the_closed_form(k, n):
    assert Rate("x", n, k).interval == pytest.approx(wilson(k, n), abs=1e-12)


def test_a_rate_knows_its_figures():
    rate = Rate("v1", 400, 80)
    assert (rate.rate, rate.enough) == (0.2, True)
    assert Rate("v1", MIN_CASES - 1, 0).enough is False and Rate("v1", MIN_CASES, 0).enough is True
    empty = Rate("v0", 0, 0)
    assert (empty.rate, empty.interval, empty.enough) == (None, (0.0, 1.0), False)


# --- the verdict on known figures ---


def test_80_of_400_then_20_of_400_is_improving():
    earlier, later = Rate("v1", 400, 80), Rate("v2", 400, 20)
    (e_low, _), (_, l_high) = wilson(80, 400), wilson(20, 400)
    assert l_high < e_low  # the intervals do not overlap: 3.3–7.6% lies below 16.4–24.2%
    found = learning.judge(earlier, later, "versions")
    assert (found.kind, found.basis, found.earlier, found.later) == (
        learning.IMPROVING,
        "versions",
        earlier,
        later,
    )
    assert found.label == "Improving"
    assert found.explanation() == (
        "v2: 5.0% of 400 (95% interval 3.3%–7.6%) lies wholly below "
        "v1: 20.0% of 400 (95% interval 16.4%–24.2%)."
    )


def test_20_of_400_then_80_of_400_is_worse():
    found = learning.judge(Rate("v1", 400, 20), Rate("v2", 400, 80), "versions")
    assert (found.kind, found.label) == (learning.WORSE, "Worse")
    assert "lies wholly above" in found.explanation()


def test_10_of_100_then_8_of_100_is_flat():
    (e_low, e_high), (l_low, l_high) = wilson(10, 100), wilson(8, 100)
    assert l_high >= e_low and l_low <= e_high  # overlapping
    found = learning.judge(Rate("v1", 100, 10), Rate("v2", 100, 8), "quarters")
    assert (found.kind, found.basis, found.label) == (learning.FLAT, "quarters", "Flat")
    assert "overlaps" in found.explanation()


def test_5_of_10_then_0_of_10_is_not_enough_data_though_the_rates_differ():
    found = learning.judge(Rate("v1", 10, 5), Rate("v2", 10, 0), "versions")
    assert (found.kind, found.label) == (learning.NOT_ENOUGH, "Not enough data")
    assert found.explanation().startswith(f"Each side needs at least {MIN_CASES} decided cases")


def test_exactly_min_cases_on_each_side_is_enough():
    assert wilson(0, MIN_CASES)[1] < wilson(15, MIN_CASES)[0]
    assert (
        learning.judge(Rate("a", MIN_CASES, 15), Rate("b", MIN_CASES, 0), "versions").kind
        == learning.IMPROVING
    )
    assert (
        learning.judge(Rate("a", MIN_CASES, 0), Rate("b", MIN_CASES, 15), "versions").kind == learning.WORSE
    )


@pytest.mark.parametrize(("before", "after"), [(MIN_CASES - 1, MIN_CASES), (MIN_CASES, MIN_CASES - 1)])
def test_one_case_short_on_either_side_is_not_enough_data(before, after):
    found = learning.judge(Rate("a", before, before // 2), Rate("b", after, 0), "versions")
    assert found.kind == learning.NOT_ENOUGH


# --- weeks, in the workspace's time zone ---

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a Monday


def test_weekly_has_26_iso_weeks_ending_with_this_one(team):
    weeks = learning.weekly(team.pilot, now=NOW)
    assert len(weeks) == learning.WINDOW_WEEKS == 26
    assert weeks[-1].label == "2026-W49" and weeks[-1].start == date(2026, 11, 30)
    assert weeks[0].start == date(2026, 11, 30) - timedelta(weeks=25)
    assert all(b.start - a.start == timedelta(weeks=1) for a, b in zip(weeks, weeks[1:], strict=False))
    assert all((w.decided, w.corrected, w.rate) == (0, 0, None) for w in weeks)


def test_weeks_are_iso_weeks_in_the_workspace_zone(team):
    # Both moments are on Sunday 22 November in UTC; in Berlin (UTC+1) the second is already Monday.
    sunday_night = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)  # Sunday 23:30 in Berlin
    monday_morning = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # Monday 00:30 in Berlin
    decide_cases(team.pilot, "sun", 3, 1, sunday_night)
    decide_cases(team.pilot, "mon", 2, 2, monday_morning)
    found = {w.label: (w.decided, w.corrected) for w in learning.weekly(team.pilot, now=NOW) if w.decided}
    assert found == {"2026-W47": (3, 1), "2026-W48": (2, 2)}


def test_weekly_counts_only_decided_cases_inside_the_window(team):
    inside = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    decide_cases(team.pilot, "in", 4, 1, inside)
    decide_cases(team.pilot, "old", 5, 5, NOW - timedelta(weeks=27))
    intake.ingest(
        pilot=team.pilot, arrivals=[Arrival(external_id="open", inputs={}, received_at=inside.isoformat())],
        source="upload", actor=team.pm,
    )  # fmt: skip
    weeks = learning.weekly(team.pilot, now=NOW)
    assert [(w.label, w.decided, w.corrected, w.rate) for w in weeks if w.decided] == [
        ("2026-W48", 4, 1, 0.25)
    ]


# --- per AI version ---


def test_by_version_lists_every_version_by_release_with_its_cases_of_all_time(team):
    late = version(team.pilot, "v-late", date(2026, 9, 1))  # registered first, released last
    early = version(team.pilot, "v-early", date(2026, 3, 1))
    version(team.pilot, "v-unused", date(2026, 10, 1))
    decide_cases(team.pilot, "e", 40, 10, NOW - timedelta(weeks=40), version="v-early")  # outside the window
    decide_cases(team.pilot, "l", 35, 2, NOW - timedelta(days=3), version="v-late")
    decide_cases(team.pilot, "none", 50, 50, NOW - timedelta(days=3))  # no version: not counted here
    found = learning.by_version(team.pilot)
    assert [(v.label, v.decided, v.corrected, v.version_id, v.released_on) for v in found] == [
        ("v-early", 40, 10, early.pk, date(2026, 3, 1)),
        ("v-late", 35, 2, late.pk, date(2026, 9, 1)),
        ("v-unused", 0, 0, found[2].version_id, date(2026, 10, 1)),
    ]


# --- a pilot's verdict ---


def test_a_pilot_without_decided_cases_has_not_enough_data(team):
    found = learning.verdict(team.pilot)
    assert (found.kind, found.basis, found.earlier, found.later) == (learning.NOT_ENOUGH, "", None, None)
    assert found.explanation() == f"Fewer than {MIN_CASES} decided cases to compare."


def test_the_verdict_compares_the_last_two_versions_with_enough_data(team):
    pilot = team.pilot
    version(pilot, "v1", date(2026, 1, 1))
    version(pilot, "v2", date(2026, 4, 1))
    version(pilot, "v3", date(2026, 7, 1))
    version(pilot, "v4", date(2026, 10, 1))
    at = weeks_ago(pilot, 1)
    decide_cases(pilot, "a", 100, 50, at, version="v1")  # v1 → v3 would be improving…
    decide_cases(pilot, "b", 100, 10, at, version="v2")
    decide_cases(pilot, "c", 100, 9, at, version="v3")  # …but v2 → v3 is flat
    decide_cases(pilot, "d", MIN_CASES - 1, 0, at, version="v4")  # too few to count
    found = learning.verdict(pilot)
    assert (found.kind, found.basis) == (learning.FLAT, "versions")
    assert (found.earlier.label, found.later.label) == ("v2", "v3")
    assert (found.later.decided, found.later.corrected) == (100, 9)


def test_versions_are_ordered_by_release_not_by_registration(team):
    pilot = team.pilot
    version(pilot, "v-new", date(2026, 9, 1))
    version(pilot, "v-old", date(2026, 3, 1))
    at = weeks_ago(pilot, 1)
    decide_cases(pilot, "old", 400, 80, at, version="v-old")
    decide_cases(pilot, "new", 400, 20, at, version="v-new")
    found = learning.verdict(pilot)
    assert (found.kind, found.earlier.label, found.later.label) == (learning.IMPROVING, "v-old", "v-new")


def quarters_pilot(pilot, first_rate: int, last_rate: int, weeks: int = 8, per_week: int = 40):
    """`weeks` consecutive weeks of decided cases ending last week: the first two weeks with
    `first_rate` corrected per week, the last two with `last_rate`, the middle ones at 5."""
    for i in range(weeks):
        corrected = first_rate if i < 2 else last_rate if i >= weeks - 2 else 5
        decide_cases(pilot, f"w{i}", per_week, corrected, weeks_ago(pilot, weeks - i))


def test_with_fewer_than_two_versions_with_enough_data_the_verdict_compares_quarters(team):
    pilot = team.pilot
    version(pilot, "v1", date(2026, 1, 1))
    decide_cases(pilot, "v", 100, 10, weeks_ago(pilot, 12), version="v1")  # the only version with enough
    quarters_pilot(pilot, first_rate=16, last_rate=1)
    found = learning.verdict(pilot)
    assert (found.kind, found.basis) == (learning.IMPROVING, "quarters")
    # 9 active weeks → quarters of 2: the v1 week and the first new week, then the last two.
    active = [w for w in learning.weekly(pilot) if w.decided]
    first, last = active[:2], active[-2:]
    assert found.earlier == Rate(f"{first[0].label}–{first[-1].label}", 140, 26)
    assert found.later == Rate(f"{last[0].label}–{last[-1].label}", 80, 2)


@pytest.mark.parametrize(
    ("first_rate", "last_rate", "kind"),
    [(16, 1, learning.IMPROVING), (1, 16, learning.WORSE), (4, 3, learning.FLAT)],
)
def test_the_quarters_verdict(team, first_rate, last_rate, kind):
    quarters_pilot(team.pilot, first_rate, last_rate)
    found = learning.verdict(team.pilot)
    assert (found.kind, found.basis) == (kind, "quarters")
    assert (found.earlier.decided, found.later.decided) == (80, 80)


def test_quarters_with_too_few_cases_are_not_enough_data(team):
    quarters_pilot(team.pilot, 3, 0, per_week=10)  # 20 cases per quarter
    found = learning.verdict(team.pilot)
    assert (found.kind, found.basis) == (learning.NOT_ENOUGH, "quarters")
    assert found.explanation().startswith(f"Each side needs at least {MIN_CASES} decided cases")


def test_a_single_week_of_cases_is_not_enough_data(team):
    decide_cases(team.pilot, "one", 200, 20, weeks_ago(team.pilot, 1))
    found = learning.verdict(team.pilot)
    assert (found.kind, found.basis) == (learning.NOT_ENOUGH, "quarters")
    assert found.earlier == found.later


def test_cases_decided_before_the_window_do_not_count_for_quarters(team):
    decide_cases(team.pilot, "old", 100, 90, weeks_ago(team.pilot, 30))
    found = learning.verdict(team.pilot)
    assert (found.kind, found.earlier) == (learning.NOT_ENOUGH, None)


# --- the batch, for the readiness check ---


def varied_pilots(team) -> list:
    """Five pilots with five different stories."""
    by_versions, by_quarters, flat, few, empty = (
        factories.PilotFactory(workspace=team.workspace, program_manager=team.pm, workflow_owner=team.owner)
        for _ in range(5)
    )
    version(by_versions, "v1", date(2026, 1, 1))
    version(by_versions, "v2", date(2026, 6, 1))
    decide_cases(by_versions, "a", 200, 40, weeks_ago(by_versions, 3), version="v1")
    decide_cases(by_versions, "b", 200, 4, weeks_ago(by_versions, 1), version="v2")
    quarters_pilot(by_quarters, 16, 1)
    quarters_pilot(flat, 4, 3)
    decide_cases(few, "x", 12, 3, weeks_ago(few, 1))
    return [by_versions, by_quarters, flat, few, empty]


def test_the_batch_verdicts_equal_each_pilots_verdict(team):
    pilots = varied_pilots(team)
    batch = learning.verdicts([p.pk for p in pilots])
    assert set(batch) == {p.pk for p in pilots}
    for pilot in pilots:
        single = learning.verdict(pilot)
        assert batch[pilot.pk] == (single, single.later.rate if single.later else None)
    assert [batch[p.pk][0].kind for p in pilots] == [
        learning.IMPROVING, learning.IMPROVING, learning.FLAT, learning.NOT_ENOUGH, learning.NOT_ENOUGH,
    ]  # fmt: skip
    assert batch[pilots[0].pk][1] == 4 / 200


def test_the_batch_answers_pilots_of_different_time_zones(team):
    pilots = varied_pilots(team)[:2]
    elsewhere = factories.PilotFactory(workspace=factories.WorkspaceFactory(timezone="America/New_York"))
    quarters_pilot(elsewhere, 1, 16)
    batch = learning.verdicts([*(p.pk for p in pilots), elsewhere.pk])
    for pilot in [*pilots, elsewhere]:
        assert batch[pilot.pk][0] == learning.verdict(pilot)
    assert batch[elsewhere.pk][0].kind == learning.WORSE


def test_the_batch_runs_a_fixed_number_of_queries(team):
    pilots = varied_pilots(team)
    with CaptureQueriesContext(connection) as one:
        learning.verdicts([pilots[0].pk])  # two versions with enough decided cases: no weeks needed
    with CaptureQueriesContext(connection) as five:
        learning.verdicts([p.pk for p in pilots])
    # Zones, versions, the counts by pilot and version; and one query for the weeks of the pilots
    # that need them (one per time zone), however many there are.
    assert (len(one), len(five)) == (3, 4)


def test_undecided_cases_count_nowhere(team):
    intake.ingest(
        pilot=team.pilot,
        arrivals=[Arrival(external_id=f"o{i}", inputs={}) for i in range(40)],
        source="upload",
        actor=team.pm,
    )
    assert Case.objects.filter(pilot=team.pilot).count() == 40
    assert learning.verdict(team.pilot).kind == learning.NOT_ENOUGH
    assert learning.verdicts([team.pilot.pk])[team.pilot.pk] == (learning.verdict(team.pilot), None)


# --- top reasons over time ---


def test_top_reasons_count_corrections_per_month_in_the_workspace_zone(team):
    spec = {
        "inputs": [{"name": "amount", "type": "number"}],
        "outputs": [{"name": "category", "type": "enum", "allowed": ["glass", "theft"]}],
    }
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=spec)
    intake.ingest(
        pilot=team.pilot,
        arrivals=[Arrival(external_id=f"c{i}", inputs={}, outputs={"category": "glass"}) for i in range(6)],
        source="upload",
        actor=team.pm,
    )
    moments = [
        ("wrong_extraction", datetime(2026, 10, 31, 23, 30, tzinfo=UTC)),  # 1 November, 00:30 in Berlin
        ("wrong_extraction", datetime(2026, 11, 10, 9, 0, tzinfo=UTC)),
        ("wrong_extraction", datetime(2026, 10, 5, 9, 0, tzinfo=UTC)),
        ("input_defect", datetime(2026, 10, 31, 22, 30, tzinfo=UTC)),  # 31 October, 23:30 in Berlin
        ("input_defect", datetime(2026, 11, 2, 9, 0, tzinfo=UTC)),
        ("other", datetime(2026, 1, 5, 9, 0, tzinfo=UTC)),  # before the window
    ]
    for case, (code, at) in zip(Case.objects.order_by("id"), moments, strict=True):
        corrections.record_correction(
            case=case, field="category", corrected_value="theft", reason_code=code, actor=team.pm, now=at
        )
    assert learning.top_reasons(team.pilot, now=NOW) == [
        ("Wrong extraction", [(date(2026, 10, 1), 1), (date(2026, 11, 1), 2)], 3),
        ("Input defect", [(date(2026, 10, 1), 1), (date(2026, 11, 1), 1)], 2),
    ]

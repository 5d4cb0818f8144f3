"""The portfolio dashboard (issue 9): its arithmetic on hand-built portfolios, the stuck rules, the filters,
who may see it, a query count that does not grow with the portfolio, and the CSV export.

The dashboard reads snapshots only, so these tests build the snapshots they need (tests/test_portfolio_
services.py shows the recompute filling the same columns from a pilot's real data)."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pilots import selectors
from pilots.models import AuditEvent, ReadinessSnapshot, Stage, Status
from pilots.selectors import PortfolioFilters
from tests import factories

NOW = timezone.now()


def snap(pilot, **columns) -> ReadinessSnapshot:
    """A snapshot for `pilot` with the dashboard columns given (the rest as a fresh pilot would have them)."""
    for name in ("stage", "status", "business_unit"):
        if name in columns:
            setattr(pilot, name, columns[name])
    pilot.save()
    values = {
        "workspace_id": pilot.workspace_id,
        "score": 50,
        "weakest_section": "ownership",
        "stage": pilot.stage,
        "status": pilot.status,
        "business_unit": pilot.business_unit,
        "program_manager_id": pilot.program_manager_id,
        "workflow_owner_id": pilot.workflow_owner_id,
        "computed_at": NOW,
        "stage_entered_at": NOW - timedelta(days=2),
        "last_gate_decision_at": NOW - timedelta(days=2),
    } | columns
    snapshot, _ = ReadinessSnapshot.objects.update_or_create(pilot=pilot, defaults=values)
    return snapshot


def pilot_in(team, **fields):
    return factories.PilotFactory(
        workspace=team.workspace, program_manager=team.pm, workflow_owner=team.owner, **fields
    )


def summary(team, **filters):
    return selectors.portfolio_summary(team.workspace, PortfolioFilters(**filters), now=timezone.now())


def lists(team, number=1, **filters):
    """The page of stuck pilots and the pilots whose readiness fell, as the dashboard reads them."""
    chosen = PortfolioFilters(**filters)
    now = timezone.now()
    return selectors.watch_lists(
        team.workspace,
        chosen,
        selectors.portfolio_summary(team.workspace, chosen, now=now),
        now=now,
        number=number,
    )


# --- the funnel ----------------------------------------------------------------------------------------


def test_the_funnel_counts_how_far_pilots_got_and_the_conversion_between_stages(team):
    snap(team.pilot, stage=Stage.PROPOSED)
    snap(pilot_in(team), stage=Stage.PROPOSED)
    snap(pilot_in(team), stage=Stage.DEFINE_SUCCESS)
    snap(pilot_in(team), stage=Stage.EXCEPTION_PATHS, status=Status.STOPPED)
    snap(pilot_in(team), stage=Stage.PRODUCTION)
    got = summary(team)
    assert got.pilots == 5 and got.stopped == 1
    assert got.reached == {
        "proposed": 5,
        "define_success": 3,
        "standardize_inputs": 2,
        "exception_paths": 2,
        "feedback_loops": 1,
        "production": 1,
    }
    assert got.at_stage["exception_paths"] == 0  # the stopped pilot is not "there now"
    funnel = {row["stage"]: row for row in got.funnel}
    assert funnel["proposed"]["conversion"] is None
    assert funnel["define_success"]["conversion"] == 60.0  # 3 of 5
    assert funnel["standardize_inputs"]["conversion"] == 66.7  # 2 of 3
    assert funnel["feedback_loops"]["conversion"] == 50.0
    assert funnel["production"]["width"] == 20.0  # 1 of 5 got there


def test_the_comparison_puts_the_portfolio_beside_the_study_and_says_what_each_counts(team):
    for stage in [Stage.PROPOSED] * 6 + [Stage.FEEDBACK_LOOPS] * 3 + [Stage.PRODUCTION]:
        snap(pilot_in(team), stage=stage)
    snap(team.pilot, stage=Stage.PROPOSED)
    c = summary(team).comparison
    assert (c["ideas"], c["started"], c["production"]) == (11, 4, 1)
    assert c["started_share"] == 36.4 and c["production_share"] == 9.1 and c["production_of_started"] == 25.0
    # The study: 60% of organisations investigated, 20% piloted, 5% reached production.
    assert c["study_started_share"] == 33.3
    assert c["study_production_share"] == 8.3
    assert c["study_production_of_started"] == 25.0


def test_the_median_days_in_each_stage_count_only_pilots_that_spent_time_there(team):
    snap(team.pilot, stage=Stage.DEFINE_SUCCESS, days_proposed=10, days_define_success=3)
    snap(pilot_in(team), stage=Stage.STANDARDIZE_INPUTS, days_proposed=20, days_define_success=7)
    snap(pilot_in(team), stage=Stage.PROPOSED, days_proposed=40)
    got = summary(team)
    assert got.median_days["proposed"] == 20
    assert got.median_days["define_success"] == 5  # the median of 3 and 7
    assert got.median_days["exception_paths"] is None


# --- readiness -----------------------------------------------------------------------------------------


def test_readiness_is_spread_over_bands_and_the_weakest_sections_are_ranked(team):
    snap(team.pilot, score=10, weakest_section="value")
    snap(pilot_in(team), score=45, weakest_section="value")
    snap(pilot_in(team), score=55, weakest_section="trust")
    snap(pilot_in(team), score=100, weakest_section="value")
    snap(pilot_in(team), score=None, weakest_section="")
    snap(pilot_in(team), score=0, weakest_section="trust", status=Status.STOPPED)  # left out
    got = summary(team)
    assert dict(got.bands) == {"0–19": 1, "20–39": 0, "40–59": 2, "60–79": 0, "80–100": 1}
    assert (got.scored, got.unscored, got.median_score) == (4, 1, 50)
    weakest = selectors.weakest_sections(summary(team))
    assert [(row["label"], row["pilots"]) for row in weakest] == [("Value", 3), ("Trust", 1)]


def test_pilots_whose_readiness_fell_are_listed_the_largest_fall_first(team):
    snap(team.pilot, score=40, score_14_days_ago=50)
    big = snap(pilot_in(team, name="Fell hard"), score=20, score_14_days_ago=75)
    snap(pilot_in(team), score=80, score_14_days_ago=60)  # rose
    snap(pilot_in(team), score=30, score_14_days_ago=None)  # no earlier figure
    _stuck, fell = lists(team)
    assert [row["pilot_id"] for row in fell] == [big.pilot_id, team.pilot.pk]
    assert fell[0]["name"] == "Fell hard"
    assert summary(team).fell == 2


# --- value ---------------------------------------------------------------------------------------------


def test_value_is_summed_per_kind_against_the_targets_and_per_business_unit(team):
    snap(
        team.pilot,
        business_unit="Claims",
        value_hours=100.0,
        target_hours=200.0,
        value_spend=5000.0,
        target_spend=10000.0,
    )
    snap(pilot_in(team), business_unit="Claims", value_hours=50.0, target_hours=100.0)
    snap(
        pilot_in(team),
        business_unit="Finance",
        value_hours=None,
        target_hours=80.0,
        value_errors=12.5,
        target_errors=20.0,
    )
    snap(
        pilot_in(team), business_unit="Finance", value_hours=999.0, target_hours=999.0, status=Status.STOPPED
    )
    value = summary(team).value
    assert (value["hours"]["per_month"], value["hours"]["target"]) == (150.0, 380.0)
    assert (value["hours"]["measured"], value["hours"]["tracked"]) == (2, 3)
    assert value["hours"]["share"] == 39.5
    assert value["spend"]["unit"] == "EUR" and value["spend"]["per_month"] == 5000.0
    assert value["touchpoints"]["per_month"] is None and value["touchpoints"]["share"] is None
    assert "cases per month" in value["hours"]["how"]
    units = {row["name"]: row for row in summary(team).units}
    assert units["Claims"]["value_hours"] == 150.0 and units["Claims"]["pilots"] == 2
    assert units["Finance"]["value_errors"] == 12.5 and units["Finance"]["pilots"] == 1  # stopped left out


# --- stuck ---------------------------------------------------------------------------------------------


def stuck(team, **filters):
    page, _fell = lists(team, **filters)
    return {row["pilot_id"]: row for row in page.object_list}


def test_a_pilot_with_no_gate_decision_for_30_days_is_stuck_and_its_program_manager_can_unblock_it(team):
    quiet = snap(team.pilot, last_gate_decision_at=NOW - timedelta(days=31))
    fresh = snap(pilot_in(team), last_gate_decision_at=NOW - timedelta(days=29))
    never = snap(pilot_in(team), last_gate_decision_at=None, stage_entered_at=NOW - timedelta(days=40))
    done = snap(pilot_in(team), stage=Stage.PRODUCTION, last_gate_decision_at=NOW - timedelta(days=90))
    rows = stuck(team)
    assert quiet.pilot_id in rows and never.pilot_id in rows
    assert fresh.pilot_id not in rows and done.pilot_id not in rows
    (reason,) = rows[quiet.pilot_id]["reasons"]
    assert reason.reason == "No gate decision in 30 days"
    assert (reason.who_id, reason.action) == (team.pm.pk, "request the next gate")


def test_the_quiet_period_is_a_setting(team, settings):
    settings.PORTFOLIO_STUCK_DAYS = 60
    snap(team.pilot, last_gate_decision_at=NOW - timedelta(days=45))
    assert stuck(team) == {}


def test_a_gate_request_waiting_over_7_days_is_stuck_on_the_workflow_owner(team):
    late = snap(
        team.pilot,
        pending_request_since=NOW - timedelta(days=8),
        last_gate_decision_at=NOW - timedelta(days=50),
    )
    recent = snap(pilot_in(team), pending_request_since=NOW - timedelta(days=6))
    rows = stuck(team)
    assert recent.pilot_id not in rows
    # One reason, not two: the late request already says what "no decision in 30 days" would.
    (reason,) = rows[late.pilot_id]["reasons"]
    assert reason.reason == "Gate request waiting over 7 days"
    assert (reason.who_id, reason.action) == (team.owner.pk, "decide the gate")


def test_overdue_conditions_are_stuck_on_the_condition_owner_and_late_escalations_on_the_workflow_owner(team):
    conditions = snap(
        team.pilot, overdue_conditions=2, figures={"pilots": {"overdue_condition_owner_id": team.admin.pk}}
    )
    queue = snap(pilot_in(team), overdue_escalations=1)
    on_hold = snap(pilot_in(team), status=Status.ON_HOLD)
    stopped = snap(pilot_in(team), status=Status.STOPPED, overdue_escalations=3)
    rows = stuck(team)
    assert stopped.pilot_id not in rows
    assert [(r.reason, r.who_id) for r in rows[conditions.pilot_id]["reasons"]] == [
        ("2 overdue conditions", team.admin.pk)
    ]
    assert [(r.reason, r.who_id) for r in rows[queue.pilot_id]["reasons"]] == [
        ("1 escalation past service level", team.owner.pk)
    ]
    assert [(r.reason, r.action) for r in rows[on_hold.pilot_id]["reasons"]] == [
        ("On hold", "resume it or stop it")
    ]


def test_stuck_pilots_come_longest_held_first_a_page_at_a_time(team):
    pilots = [snap(pilot_in(team), last_gate_decision_at=NOW - timedelta(days=31 + n)) for n in range(25)]
    page, _fell = lists(team)
    assert page.paginator.count == 25 and len(page.object_list) == 20
    assert page.object_list[0]["pilot_id"] == pilots[-1].pilot_id
    second, _fell = lists(team, number=2)
    assert [row["pilot_id"] for row in second.object_list] == [p.pilot_id for p in reversed(pilots[:5])]


# --- filters -------------------------------------------------------------------------------------------


def test_filters_narrow_every_figure(team):
    other_owner = factories.member(team.workspace, "workflow_owner", username="owner2")
    snap(team.pilot, business_unit="Claims", stage=Stage.PROPOSED)
    snap(pilot_in(team), business_unit="Finance", stage=Stage.PRODUCTION)
    theirs = factories.PilotFactory(
        workspace=team.workspace, program_manager=team.pm, workflow_owner=other_owner
    )
    snap(theirs, business_unit="Claims", stage=Stage.PRODUCTION, status=Status.ON_HOLD)
    assert summary(team, business_unit="Claims").pilots == 2
    assert summary(team, stage=Stage.PRODUCTION).pilots == 2
    assert summary(team, status=Status.ON_HOLD).pilots == 1
    assert summary(team, owner=other_owner.pk).pilots == 1
    assert summary(team, business_unit="Claims", stage=Stage.PRODUCTION).pilots == 1


def test_filters_from_the_query_string_ignore_what_is_not_a_choice():
    f = PortfolioFilters.from_query(
        {"stage": "nirvana", "status": "active", "owner": "x1", "business_unit": " Claims "}
    )
    assert f == PortfolioFilters(business_unit="Claims", status="active")
    assert f.query() == "business_unit=Claims&status=active"
    assert PortfolioFilters.from_query({"owner": "7"}).owner == 7


# --- the page ------------------------------------------------------------------------------------------


def url(team, query: str = "") -> str:
    return f"/w/{team.workspace.slug}/portfolio/" + (f"?{query}" if query else "")


@pytest.mark.parametrize("persona", ["leader", "admin", "pm"])
def test_leaders_admins_and_program_managers_see_the_dashboard(team, client_for, persona):
    snap(team.pilot)
    response = client_for(team.person(persona)).get(url(team))
    assert response.status_code == 200
    assert b'id="funnel"' in response.content and b"GenAI Divide" in response.content


@pytest.mark.parametrize("persona", ["reviewer", "owner"])
def test_reviewers_and_workflow_owners_alone_may_not(team, client_for, persona):
    assert client_for(team.person(persona)).get(url(team)).status_code == 403


def test_another_workspace_is_not_there(team, client_for):
    assert client_for(team.outsider).get(url(team)).status_code == 404
    assert client_for(team.outsider).get(url(team) + "export.csv").status_code == 404


def test_signed_out_people_are_sent_to_sign_in(team, client):
    response = client.get(url(team))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_page_only_reads(team, client_for):
    assert client_for(team.leader).post(url(team)).status_code == 405


def test_an_htmx_request_gets_the_dashboard_alone_and_the_filters_apply(team, client_for):
    snap(team.pilot, business_unit="Claims", last_gate_decision_at=NOW - timedelta(days=40))
    snap(
        pilot_in(team, name="Ledger bot"),
        business_unit="Finance",
        last_gate_decision_at=NOW - timedelta(days=40),
    )
    response = client_for(team.leader).get(url(team, "business_unit=Finance"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<div id="dashboard">')
    assert "Ledger bot" in body and team.pilot.name not in body
    assert "export.csv?business_unit=Finance" in body
    assert "HX-Request" in response["Vary"]  # the browser's cache keeps the partial apart from the page


def test_a_history_restore_gets_the_whole_page(team, client_for):
    """htmx fetches a pushed URL again when its history cache lost it, and puts the answer in the body."""
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    response = client_for(team.leader).get(url(team, "business_unit=Finance"), headers=headers)
    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert "HX-Request" in response["Vary"]


def test_an_empty_workspace_says_so(team, client_for):
    response = client_for(team.leader).get(url(team))
    assert b"No pilots yet" in response.content


def test_names_are_escaped(team, client_for):
    snap(pilot_in(team, name="<script>alert(1)</script>"), last_gate_decision_at=NOW - timedelta(days=40))
    body = client_for(team.leader).get(url(team)).content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_the_query_count_does_not_grow_with_the_portfolio(team, client_for):
    client = client_for(team.leader)

    def queries() -> int:
        client.get(url(team))  # warm the session
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(team)).status_code == 200
        return len(captured.captured_queries)

    def add(n: int) -> None:
        for i in range(n):
            snap(
                pilot_in(team, business_unit=f"Unit {i % 4}"),
                last_gate_decision_at=NOW - timedelta(days=31 + i),
                pending_request_since=NOW - timedelta(days=9),
                overdue_escalations=i % 2,
                score_14_days_ago=90,
            )

    add(3)
    small = queries()
    add(30)
    assert queries() == small
    # session, user, workspace, membership, the workspace menu; the summary (with the weakest sections and
    # the stuck count), business units, the stuck page, fallen, their pilots' names and condition owners,
    # the people's names, trend, business-unit and owner choices
    assert small == 14, small


# --- the export ----------------------------------------------------------------------------------------


def export(client, team, query: str = "") -> list[list[str]]:
    response = client.get(url(team, query).replace("/portfolio/", "/portfolio/export.csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_holds_the_filtered_portfolio_safe_from_spreadsheet_formulas(team, client_for):
    snap(team.pilot, business_unit="Claims", score=70, value_hours=12.345, target_hours=20.0)
    snap(pilot_in(team, name='=HYPERLINK("http://evil")'), business_unit="Claims", status=Status.ON_HOLD)
    snap(pilot_in(team, name="Elsewhere"), business_unit="Finance")
    rows = export(client_for(team.leader), team, "business_unit=Claims")
    header, *body = rows
    assert header[:6] == ["pilot", "link", "business unit", "stage", "status", "readiness"]
    assert sorted(row[0] for row in body) == sorted([team.pilot.name, '\'=HYPERLINK("http://evil")'])
    mine = next(row for row in body if row[0] == team.pilot.name)
    assert mine[5] == "70" and mine[header.index("Cycle time saved per month")] == "12.35"
    assert mine[1].endswith(f"/pilots/{team.pilot.pk}/")
    held = next(row for row in body if row[0].startswith("'"))
    assert held[header.index("stuck because")] == "On hold"
    assert held[header.index("who can unblock")] == f"{team.owner.first_name} (resume it or stop it)"
    event = AuditEvent.objects.get(action="portfolio.exported")
    assert event.actor == team.leader and event.after == {"filters": "business_unit=Claims"}


def test_reviewers_may_not_export(team, client_for):
    assert client_for(team.reviewer).get(url(team) + "export.csv").status_code == 403

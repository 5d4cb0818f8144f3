"""Readiness end to end in a real browser (issue 8): on the pilot page, upload cases and watch the
readiness panel update without a reload — the edge cases section fills, the weakest section moves on,
the score follows, and the next gate's checks refresh with it."""

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from metrics.models import Measurement
from pilots.models import Pilot, ReadinessMark, Stage
from pilots.services import gates, readiness, standards
from pilots.services import pilots as pilot_services
from tests import factories
from tests.e2e.journey import Navigations, assert_not_reloaded, mark_page, sign_in
from tests.test_checks_inputs import SPEC
from tests.views.test_metrics_helpers import define, measure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class Team:
    def __init__(self):
        self.workspace = factories.WorkspaceFactory(name="Acme", slug="acme")
        self.pm = factories.member(
            self.workspace, "program_manager", user=factories.UserFactory(username="pm")
        )
        self.owner = factories.member(self.workspace, "workflow_owner", username="owner")
        factories.member(self.workspace, "reviewer", username="reviewer")
        self.pilot = factories.PilotFactory(
            workspace=self.workspace,
            name="Claims triage",
            program_manager=self.pm,
            workflow_owner=self.owner,
            integration_points=["Guidewire"],
        )


def ready_but_for_its_inputs() -> Team:
    """A pilot in "standardize inputs" whose ownership and value hold, whose integration is attested,
    and whose inputs have a standard but no case yet: edge cases is its weakest section, at 0."""
    team = Team()
    pilot_services.accept_accountability(pilot=team.pilot, actor=team.owner)
    Pilot.objects.filter(pk=team.pilot.pk).update(stage=Stage.STANDARDIZE_INPUTS)
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)
    define(team, kind="error_rate", name="Error rate", unit="%", baseline=12, target=4, method="from_cases")
    by_hand = define(team)  # a cycle time, measured by hand this week
    measure(team, by_hand, 5.1)
    assert Measurement.objects.filter(metric=by_hand).exists()
    gates.attest_check(
        pilot=team.pilot, actor=team.pm, check_id="integration.points_declared",
        note="The Guidewire feed goes live next month.", evidence_url="https://wiki.example/guidewire",
        expires_on=timezone.localdate() + timedelta(days=30),
    )  # fmt: skip
    readiness.recompute(pilot_ids=[team.pilot.pk])
    assert not ReadinessMark.objects.exists()
    return team


def cases_csv(path: Path, rows: int = 60) -> None:
    """Real cases with the mess real feeds have: a few contradictory (end before start), a few late."""
    now = timezone.now()
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["external_id", "amount", "start", "end", "at"])
        for i in range(rows):
            end = "2026-01-01" if i % 20 == 0 else "2026-01-09"
            at = now - timedelta(hours=40 if i % 15 == 0 else 2)
            writer.writerow([f"claim-{i:03d}", 100 + i, "2026-01-02", end, at.isoformat()])


def section_score(page: Page, key: str):
    return page.locator(f"#readiness-panel [data-section={key}] .section-score")


def test_uploading_cases_on_the_pilot_page_updates_the_readiness_panel_in_place(
    page: Page, live_server, tmp_path
):
    team = ready_but_for_its_inputs()
    ARTIFACTS.mkdir(exist_ok=True)
    sign_in(page, live_server.url, "pm")
    page.goto(f"{live_server.url}/pilots/{team.pilot.pk}/")
    panel = page.locator("#readiness-panel")
    expect(panel.locator(".readiness-score strong")).to_have_text("0")
    expect(panel.locator(".weakest-section")).to_have_text("Edge cases")
    expect(section_score(page, "ownership")).to_have_text("100")
    expect(section_score(page, "integration")).to_have_text("50")
    expect(section_score(page, "trust")).to_have_text("not yet due")
    expect(panel.locator(".failing-checks [data-check='inputs.standard'] .badge")).to_have_text("missing")
    expect(page.locator("#gate-checks [data-check='inputs.standard'] .badge")).to_have_text("missing")
    page.screenshot(path=str(ARTIFACTS / "readiness-1-before-upload.png"), full_page=True)

    navigations = Navigations(page)
    mark_page(page)
    cases_csv(tmp_path / "cases.csv")
    page.set_input_files("#inputs-upload-file", str(tmp_path / "cases.csv"))
    page.click("#inputs-upload")
    expect(page.locator("#upload-status")).to_contain_text("done — 60 created")

    # The panel refreshes itself (casesChanged): edge cases now verified, integration is the weakest.
    expect(section_score(page, "edge_cases")).to_have_text("100")
    expect(panel.locator(".weakest-section")).to_have_text("Integration")
    expect(panel.locator(".readiness-score strong")).to_have_text("50")
    expect(panel.locator(".failing-checks [data-check='inputs.standard']")).to_have_count(
        0
    )  # no longer failing
    expect(panel.locator(".failing-checks [data-check='integration.points_declared'] .badge")).to_have_text(
        "attested"
    )
    expect(page.locator("#readiness-panel .recomputing")).to_have_count(0)
    # The stage track's checks and the inputs figures follow the same event.
    expect(page.locator("#gate-checks [data-check='inputs.standard'] .badge")).to_have_text("verified")
    expect(page.locator("#gate-checks [data-check='inputs.edge_rules'] .badge")).to_have_text("verified")
    expect(page.locator("#inputs-figures")).to_contain_text("of 60 cases")
    assert_not_reloaded(page, navigations)
    page.screenshot(path=str(ARTIFACTS / "readiness-2-after-upload.png"), full_page=True)


def test_a_pending_recompute_shows_and_the_panel_follows_it_to_the_new_snapshot(page: Page, live_server):
    """What a user sees while a worker is busy: "recomputing…", polled until the snapshot lands; then
    the stage track's checks refresh with it (readinessChanged)."""
    team = ready_but_for_its_inputs()
    # A change is waiting for the worker (the mark), as after any write with a real broker.
    ReadinessMark.objects.create(pilot=team.pilot, generation=1, marked_at=timezone.now())
    sign_in(page, live_server.url, "pm")
    page.goto(f"{live_server.url}/pilots/{team.pilot.pk}/")
    expect(page.locator("#readiness-panel .recomputing")).to_have_text("recomputing…")
    navigations = Navigations(page)
    mark_page(page)
    # The worker's part, done here: it finds the owner's acceptance gone, and its recompute lands.
    Pilot.objects.filter(pk=team.pilot.pk).update(accountability_accepted_by=None)
    readiness.recompute(pilot_ids=[team.pilot.pk])
    expect(page.locator("#readiness-panel .recomputing")).to_have_count(0, timeout=5000)
    expect(page.locator("#readiness-panel .weakest-section")).to_have_text("Edge cases")
    expect(
        page.locator("#readiness-panel .failing-checks [data-check='ownership.accountability_accepted']")
    ).to_have_count(1)
    expect(page.locator("#gate-checks [data-check='ownership.accountability_accepted'] .badge")).to_have_text(
        "missing"
    )
    assert_not_reloaded(page, navigations)

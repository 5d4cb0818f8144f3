"""The first gate end to end in a real browser: request, refusal, accountability, go — without reloads."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pilots.models import GateRequest, Pilot
from tests import factories
from tests.e2e.journey import MARKER, Navigations, assert_not_reloaded, mark_page, sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_pm_requests_the_first_gate_and_the_owner_decides_go_in_place(page: Page, live_server):
    base = live_server.url
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    workspace = factories.WorkspaceFactory(name="Acme", slug="acme")
    factories.member(workspace, "program_manager", user=factories.UserFactory(username="pat"))
    factories.member(workspace, "workflow_owner", user=factories.UserFactory(username="olivia"))

    # The program manager registers a pilot and asks for the first gate.
    sign_in(page, base, "pat")
    page.goto(f"{base}/w/acme/pilots/new/")
    page.fill("#id_name", "Claims triage assistant")
    page.fill("#id_problem", "Manual triage of incoming claims takes two days.")
    page.fill("#id_workflow", "Claims intake")
    page.fill("#id_business_unit", "Claims")
    page.select_option("#id_program_manager", label="Pat (pat)")
    page.select_option("#id_workflow_owner", label="Olivia (olivia)")
    page.get_by_role("button", name="Register pilot").click()

    pilot = Pilot.objects.get(name="Claims triage assistant")
    expect(page).to_have_url(f"{base}/pilots/{pilot.pk}/")
    track = page.locator("#stage-track")
    expect(track).to_have_attribute("data-stage", "proposed")

    navigations = Navigations(page)
    mark_page(page)
    page.click("#request-gate")
    expect(track).to_contain_text("Decision requested")
    expect(track.locator("#request-gate")).to_have_count(0)
    assert_not_reloaded(page, navigations)
    assert GateRequest.objects.filter(pilot=pilot, state=GateRequest.State.PENDING).count() == 1

    sign_out(page, base)

    # The workflow owner finds the decision waiting for them.
    sign_in(page, base, "olivia")
    waiting = page.locator("#waiting")
    expect(waiting).to_contain_text("Waiting for my decision")
    waiting.get_by_role("link", name="Claims triage assistant").click()
    expect(page).to_have_url(f"{base}/pilots/{pilot.pk}/")

    navigations = Navigations(page)
    mark_page(page)
    activity = page.locator("#activity")
    expect(activity).to_contain_text("gate requested")

    # Go is refused: the owner has not accepted accountability yet.
    page.check("input[name=outcome][value=go]")
    page.click("#decide")
    refusal = track.get_by_role("alert")
    expect(refusal).to_contain_text("Go refused")
    expect(refusal).to_contain_text("Workflow owner accepted accountability")
    expect(track).to_have_attribute("data-stage", "proposed")
    assert_not_reloaded(page, navigations)

    page.click("#accept-accountability")
    expect(track).to_contain_text("You accepted accountability for this workflow.")
    expect(track.locator("#accept-accountability")).to_have_count(0)
    assert_not_reloaded(page, navigations)

    # Go again: the track advances in place, and the activity feed refreshes itself.
    page.check("input[name=outcome][value=go]")
    page.click("#decide")
    expect(track).to_have_attribute("data-stage", "define_success")
    expect(track.locator("li.step-current")).to_have_text("Define success")
    expect(track.locator("li.step-current")).to_have_attribute("data-stage", "define_success")
    expect(track.locator(".current-stage")).to_have_text("Define success")
    expect(track).to_contain_text("Decision recorded: Go.")
    expect(track.get_by_role("alert")).to_have_count(0)
    expect(activity).to_contain_text("gate decided: go")
    assert_not_reloaded(page, navigations)

    pilot.refresh_from_db()
    assert pilot.stage == "define_success"
    assert script_errors == []

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "gate-journey.png"), full_page=True)


def test_pilot_list_filters_in_place_and_the_url_can_be_shared(page: Page, live_server):
    base = live_server.url
    workspace = factories.WorkspaceFactory(name="Acme", slug="acme")
    pm = factories.member(workspace, "program_manager", user=factories.UserFactory(username="pat"))
    for name, stage in (
        ("Invoice matching", "proposed"),
        ("Claims triage", "define_success"),
        ("Contract review", "define_success"),
        ("Email routing", "feedback_loops"),
    ):
        factories.PilotFactory(workspace=workspace, name=name, stage=stage, program_manager=pm)

    sign_in(page, base, "pat")
    page.goto(f"{base}/w/acme/pilots/")
    table = page.locator("#pilot-table")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(4)

    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    mark_page(page)
    page.select_option("form.filters select[name=stage]", "define_success")

    expect(table).to_contain_text("2 pilots")
    expect(rows).to_have_count(2)
    expect(rows.locator("td:first-child a")).to_have_text(["Claims triage", "Contract review"])
    expect(page).to_have_url(re.compile(r"[?&]stage=define_success"))
    assert page.evaluate("window.__journeyMarker") == MARKER, "the page was reloaded"
    assert loads == []

    # The pushed URL is a shareable link: loading it afresh shows the same filtered list.
    page.reload()
    expect(page.locator("form.filters select[name=stage]")).to_have_value("define_success")
    expect(table).to_contain_text("2 pilots")
    expect(rows.locator("td:first-child a")).to_have_text(["Claims triage", "Contract review"])
    assert page.evaluate("window.__journeyMarker") is None

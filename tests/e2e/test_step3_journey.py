"""Step 3 end to end in a real browser: a program manager writes a rule in the decision-table editor,
uploads cases that the rule escalates, a reviewer works the queue with the keyboard, and a suggestion
drawn from the decisions appears and is applied as a new rule version."""

import csv
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from exceptions.models import Decision, Escalation, RoutingRule, RuleTable
from exceptions.services import queue
from pilots.models import Case
from pilots.services import standards
from tests import factories
from tests.e2e.journey import Navigations, assert_not_reloaded, htmx_settled, mark_page, sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SPEC = {
    "inputs": [
        {"name": "amount", "type": "number", "required": True, "min": 0},
        {"name": "channel", "type": "enum", "allowed": ["web", "phone"], "required": True},
    ],
    "outputs": [
        {"name": "category", "type": "enum", "allowed": ["glass", "theft"]},
        {"name": "confidence", "type": "number"},
    ],
}
LARGE, SMALL = 50, 20


def people_and_pilot():
    workspace = factories.WorkspaceFactory(name="Acme", slug="acme")
    pm = factories.member(workspace, "program_manager", user=factories.UserFactory(username="pm"))
    owner = factories.member(workspace, "workflow_owner", user=factories.UserFactory(username="owner"))
    factories.member(workspace, "reviewer", user=factories.UserFactory(username="rita"))
    pilot = factories.PilotFactory(
        workspace=workspace, name="Claims triage", program_manager=pm, workflow_owner=owner
    )
    standards.publish_standard(pilot=pilot, actor=pm, spec=SPEC)
    return pm, pilot


def cases_csv(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["external_id", "amount", "channel", "output.category", "output.confidence"])
        for i in range(LARGE):
            writer.writerow([f"big-{i:02d}", 5000 + i, "web", "glass", 0.9])
        for i in range(SMALL):
            writer.writerow([f"small-{i:02d}", 40 + i, "phone", "theft", 0.95])


def write_a_rule(page: Page, base: str, pilot) -> None:
    page.goto(f"{base}/pilots/{pilot.pk}/rules/")
    expect(page.locator("#rules-current-title")).to_have_text("No rules yet")
    page.get_by_role("link", name="Write the rules").first.click()
    expect(page).to_have_url(f"{base}/pilots/{pilot.pk}/rules/edit/")
    # The editor starts from the starter table: three escalations of problem inputs and a default.
    cards = page.locator("#rules-editor .rule-card")
    expect(cards).to_have_count(4)

    navigations = Navigations(page)
    mark_page(page)
    page.get_by_role("button", name="+ Add a rule").click()
    expect(cards).to_have_count(5)
    htmx_settled(page)
    assert_not_reloaded(page, navigations)
    # The new rule sits above the default: rule 4. Choosing a number field swaps in its operators.
    with page.expect_response(lambda response: "/rules/clause/" in response.url):
        page.select_option("#rule-3-clause-0-field", "inputs.amount")
    operator = page.locator("#rule-3-clause-0-op")
    expect(operator.locator("option[value=gt]")).to_have_count(1)
    expect(operator.locator("option[value=contains]")).to_have_count(0)
    operator.select_option("gt")
    page.fill("#rule-3-clause-0-value", "lots")  # not a number: refused on the clause
    page.fill("#rule-3-name", "Large claims")
    page.select_option("#rule-3-action", "escalate")
    page.fill("#rule-3-service_level_hours", "8")
    page.click("#publish")
    expect(page.locator("#rule-3")).to_contain_text("is not a number")
    expect(page.locator("#rule-3-name")).to_have_value("Large claims")  # nothing typed is lost
    assert not RuleTable.objects.exists()

    page.fill("#rule-3-clause-0-value", "1000")
    page.fill("#rules-note", "Large claims go to a person")
    page.click("#publish")
    expect(page).to_have_url(f"{base}/pilots/{pilot.pk}/rules/")
    expect(page.locator(".messages")).to_contain_text("Published version 1.")
    expect(page.locator("#rules-current")).to_contain_text("inputs.amount > 1000")
    rule = RoutingRule.objects.get(table__version=1, position=4)
    assert (rule.name, rule.action, rule.service_level_hours) == ("Large claims", "escalate", 8)
    assert rule.clauses == [{"field": "inputs.amount", "op": "gt", "value": 1000}]


def upload(page: Page, base: str, pilot, tmp_path: Path) -> None:
    path = tmp_path / "cases-step3.csv"
    cases_csv(path)
    page.goto(f"{base}/pilots/{pilot.pk}/uploads/")
    page.set_input_files("#id_file", str(path))
    page.locator("#upload-form button[type=submit]").click()
    expect(page.locator("#upload-progress")).to_have_attribute("data-state", "done")
    assert Case.objects.filter(route="escalated").count() == LARGE
    assert Case.objects.filter(route__in=("automated", "sampled")).count() == SMALL


def work_the_queue_with_the_keyboard(page: Page, base: str) -> None:
    # A member who only reviews lands on the review queue (signed in once queue.js has bound the keys).
    sign_in(page, base, "rita", lands_on="/w/acme/review/")
    # The 50 escalations and the automated cases the default rule sampled for audit (5%).
    waiting = Escalation.objects.count()
    sampled = Escalation.objects.filter(reason="sampled").count()
    assert waiting == LARGE + sampled
    expect(page.locator("#queue-list")).to_contain_text(f"{waiting} cases waiting")
    navigations = Navigations(page)
    mark_page(page)
    panel = page.locator("#review-case")
    page.keyboard.press("j")  # open the oldest case beside the list
    for n in range(3):
        # After each decision the panel moves on to the next case by itself.
        expect(panel.locator("h2")).to_contain_text(f"big-{n:02d}")
        page.keyboard.press("c")  # claim it
        expect(panel.locator("[data-key=claim]")).to_contain_text("Extend my claim")
        page.keyboard.press("a")  # approve: the rationale takes the focus
        expect(page.locator("#review-rationale")).to_be_focused()
        page.keyboard.type("Amount matches the invoice.")
        page.keyboard.press("Control+Enter")
        expect(page.locator("#queue-list")).to_contain_text(f"{waiting - n - 1} cases waiting")
    assert_not_reloaded(page, navigations)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "step3-queue.png"), full_page=True)
    decisions = Decision.objects.order_by("decided_at")
    assert [(d.outcome, d.reviewer.username) for d in decisions] == [("approve", "rita")] * 3
    assert all(d.case.decided_at is not None and d.case.touchpoints == 1 for d in decisions)


def test_a_rule_escalates_uploaded_cases_a_reviewer_decides_them_and_a_suggestion_is_applied(
    page: Page, live_server, settings, tmp_path
):
    base = live_server.url
    settings.UPLOAD_DIR = tmp_path / "uploads"
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    pm, pilot = people_and_pilot()

    sign_in(page, base, "pm")
    write_a_rule(page, base, pilot)
    upload(page, base, pilot, tmp_path)
    sign_out(page, base)

    work_the_queue_with_the_keyboard(page, base)
    sign_out(page, base)

    # Other reviewers approve the rest unchanged (as they would through the same service).
    owner = pilot.workflow_owner
    for escalation in Escalation.objects.filter(decided_at=None, reason="escalated"):
        queue.decide(
            escalation_id=escalation.pk,
            reviewer=owner,
            outcome="approve",
            rationale="Fine.",
            now=timezone.now() + timedelta(minutes=5),
        )

    sign_in(page, base, "pm")
    page.goto(f"{base}/pilots/{pilot.pk}/rules/")
    suggestions = page.locator("#suggestions")
    expect(suggestions).to_contain_text("No open suggestion")
    navigations = Navigations(page)
    mark_page(page)
    suggestions.get_by_role("button", name="Refresh suggestions").click()
    suggestion = page.locator("#suggestions .suggestion")
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_contain_text("Consider automating")
    expect(suggestion).to_contain_text(f"approved the AI output unchanged in {LARGE} of {LARGE} (100%")
    page.screenshot(path=str(ARTIFACTS / "step3-suggestion.png"), full_page=True)
    suggestion.get_by_role("button", name="Apply: publish a new version").click()
    expect(page.locator("#suggestions")).to_contain_text("Published version 2.")
    expect(page.locator("#rules-current-title")).to_contain_text("Version 2")
    assert_not_reloaded(page, navigations)
    rule = RoutingRule.objects.get(table__version=2, position=4)
    assert (rule.action, rule.sample_percent) == ("automate", 10)
    assert script_errors == []
    assert re.search(r"Large claims", RuleTable.objects.get(version=2).rules.get(position=4).label)

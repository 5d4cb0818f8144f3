"""Step 4 end to end in a real browser: a program manager corrects a case, finds the correction in the
unincorporated backlog, incorporates it into a new AI version, and sees the learning chart follow."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from feedback.models import Correction, Target
from pilots.models import AIVersion, Case
from pilots.services import intake, standards
from pilots.services.intake import Arrival
from tests import factories
from tests.e2e.journey import Navigations, assert_not_reloaded, htmx_settled, mark_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SPEC = {
    "inputs": [{"name": "amount", "type": "number", "required": True}],
    "outputs": [{"name": "category", "type": "enum", "allowed": ["glass", "theft", "water"]}],
}


def arrive(pilot, pm, prefix: str, n: int, corrected: int, version: str, decided: date) -> None:
    moment = timezone.make_aware(
        timezone.datetime.combine(decided, timezone.datetime.min.time())
    ) + timedelta(hours=10)
    intake.ingest(
        pilot=pilot,
        arrivals=[
            Arrival(
                external_id=f"{prefix}-{i:03d}",
                inputs={"amount": 100 + i},
                outputs={"category": "glass"},
                received_at=(moment - timedelta(hours=2)).isoformat(),
                outcome={
                    "decided_at": moment.isoformat(),
                    "corrected": "true" if i < corrected else "false",
                    "ai_version": version,
                },
            )
            for i in range(n)
        ],
        source="upload",
        actor=pm,
    )


def week_row(page: Page, monday: date):
    return page.locator("table.learning-weeks tbody tr", has_text=monday.isoformat())


def test_pm_corrects_a_case_incorporates_it_into_a_new_ai_version_and_sees_the_pilot_learn(
    page: Page, live_server
):
    base = live_server.url
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    workspace = factories.WorkspaceFactory(name="Acme", slug="acme")
    pm = factories.member(workspace, "program_manager", user=factories.UserFactory(username="pm"))
    pilot = factories.PilotFactory(workspace=workspace, name="Claims triage", program_manager=pm)
    standards.publish_standard(pilot=pilot, actor=pm, spec=SPEC)
    today = timezone.localdate()
    v1_day = today - timedelta(days=21)
    standards.register_ai_version(
        pilot=pilot, actor=pm, identifier="v1", released_on=v1_day - timedelta(days=7)
    )
    arrive(pilot, pm, "old", 100, 25, "v1", v1_day)  # 25% corrected
    v1_monday = v1_day - timedelta(days=v1_day.weekday())

    sign_in(page, base, "pm")
    page.goto(f"{base}/pilots/{pilot.pk}/learning/")
    expect(week_row(page, v1_monday)).to_contain_text("100")
    expect(week_row(page, v1_monday).locator("td.num").nth(1)).to_have_text("25")

    # Correct an uncorrected case on its page: the form opens in place.
    case = Case.objects.get(external_id="old-050")
    page.goto(f"{base}/pilots/{pilot.pk}/cases/{case.pk}/")
    navigations = Navigations(page)
    mark_page(page)
    page.get_by_role("link", name="Record a correction").click()
    expect(page.locator("#correct-form")).to_be_visible()
    assert_not_reloaded(page, navigations)
    page.select_option("#correct-field", "category")
    htmx_settled(page)  # the field's change swaps the form for that output's value widget
    page.locator(
        "#correct-form select[name=corrected_value], #correct-form input[name=corrected_value]"
    ).first.wait_for()
    value = page.locator("#correct-form [name=corrected_value]")
    if value.evaluate("e => e.tagName") == "SELECT":
        value.select_option("theft")
    else:
        value.fill("theft")
    page.select_option("#correct-reason", "wrong_extraction")
    page.fill("#correct-note", "A stolen phone, not a cracked screen.")
    page.get_by_role("button", name="Record the correction").click()
    # The page comes back with the correction listed (and the form closed).
    expect(page.locator("#case-corrections strong", has_text="theft")).to_be_visible()
    expect(page.locator("#correct-form")).to_have_count(0)
    correction = Correction.objects.get()
    assert (correction.field, correction.ai_value, correction.corrected_value) == (
        "category",
        "glass",
        "theft",
    )
    case.refresh_from_db()
    assert case.corrected and case.touchpoints == 1

    # The backlog lists it; the team ships v2 with the fix and marks it incorporated there.
    v2 = standards.register_ai_version(
        pilot=pilot, actor=pm, identifier="v2", released_on=today - timedelta(days=7)
    )
    page.goto(f"{base}/pilots/{pilot.pk}/corrections/")
    expect(page.locator("#backlog-count")).to_have_text("1")
    row = page.locator(f"#correction-{correction.pk}")
    expect(row).to_contain_text("glass")
    expect(row).to_contain_text("theft")
    row.locator("input[type=checkbox]").check()
    page.select_option("#incorporate-target", f"{Target.AI_VERSION}:{v2.pk}")
    page.get_by_role("button", name="Mark as incorporated").click()
    expect(page.locator("#backlog-count")).to_have_text("0")
    correction.refresh_from_db()
    assert (correction.incorporated_into, correction.into_ai_version) == (Target.AI_VERSION, v2)

    # v2 makes far fewer mistakes: the chart shows it, the corrected case counts in its week, and the
    # verdict compares the two versions.
    arrive(pilot, pm, "new", 100, 2, "v2", today - timedelta(days=3))
    page.goto(f"{base}/pilots/{pilot.pk}/learning/")
    expect(week_row(page, v1_monday).locator("td.num").nth(1)).to_have_text("26")
    expect(page.locator("svg.learning-chart")).to_contain_text("v2")
    expect(page.locator("#learning-verdict")).to_contain_text("Improving")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "step4-learning.png"), full_page=True)
    assert AIVersion.objects.filter(pilot=pilot).count() == 2
    assert script_errors == []

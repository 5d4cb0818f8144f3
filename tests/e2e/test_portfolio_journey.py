"""The portfolio dashboard end to end in a real browser (issue 9): a leader logs in, filters by business
unit without a reload, sees the charts, drills into a stuck pilot, and exports the filtered portfolio as
CSV — whose content is checked. Members without the portfolio's roles are refused it."""

import csv
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from pilots.models import AuditEvent, PortfolioWeek, ReadinessSnapshot, Stage, Status
from pilots.services import portfolio as portfolio_services
from pilots.services import readiness
from tests import factories
from tests.e2e.journey import MARKER, TIMEOUT_MS, mark_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

EXPORT_HEADER = [
    "pilot", "link", "business unit", "stage", "status", "readiness", "weakest section",
    "readiness 14 days ago",
    "Cycle time saved per month", "Errors avoided per month", "Touchpoints removed per month",
    "External spend reduced per month",
    "Cycle time saved per month at target", "Errors avoided per month at target",
    "Touchpoints removed per month at target", "External spend reduced per month at target",
    "program manager", "workflow owner", "stuck because", "who can unblock",
]  # fmt: skip


class Portfolio:
    """A small hand-made portfolio in two business units. In Claims, "Claims triage" has had no gate
    decision since it entered its stage 45 days ago (stuck: its program manager can request the next gate)
    and "Claims letters" is fresh; in Finance, "Invoice matching" is on hold (stuck: its owner can resume
    it) and "Expense audit" is fresh. Readiness is computed from their data, and two weeks are recorded."""

    def __init__(self):
        now = timezone.now()
        self.workspace = factories.WorkspaceFactory(name="Acme", slug="acme")
        self.leader = factories.member(self.workspace, "leader", username="lena")
        pat = factories.member(self.workspace, "program_manager", username="pat")
        priya = factories.member(self.workspace, "program_manager", username="priya")
        olivia = factories.member(self.workspace, "workflow_owner", username="olivia")
        fred = factories.member(self.workspace, "workflow_owner", username="fred")
        self.reviewer = factories.member(self.workspace, "reviewer", username="rita")
        self.owner = olivia

        def pilot(name, unit, pm, owner, **fields):
            return factories.PilotFactory(
                workspace=self.workspace,
                name=name,
                business_unit=unit,
                program_manager=pm,
                workflow_owner=owner,
                **fields,
            )

        self.stuck_claims = pilot(
            "Claims triage", "Claims", pat, olivia,
            stage=Stage.DEFINE_SUCCESS, stage_entered_at=now - timedelta(days=45),
        )  # fmt: skip
        self.fresh_claims = pilot("Claims letters", "Claims", pat, olivia)
        self.on_hold_finance = pilot(
            "Invoice matching", "Finance", priya, fred,
            stage=Stage.STANDARDIZE_INPUTS, status=Status.ON_HOLD,
        )  # fmt: skip
        self.fresh_finance = pilot("Expense audit", "Finance", priya, fred, stage=Stage.DEFINE_SUCCESS)
        self.pilots = [self.stuck_claims, self.fresh_claims, self.on_hold_finance, self.fresh_finance]

        readiness.recompute(pilot_ids=[p.pk for p in self.pilots])
        assert ReadinessSnapshot.objects.filter(workspace=self.workspace).count() == 4
        portfolio_services.record_week(workspace=self.workspace, now=now - timedelta(days=7))
        portfolio_services.record_week(workspace=self.workspace, now=now)
        assert PortfolioWeek.objects.filter(workspace=self.workspace).count() == 2


def stuck_rows(page: Page):
    return page.locator("#dashboard #stuck tbody tr")


def settled(page: Page) -> None:
    """Wait until htmx has settled the swapped dashboard (new content is wired up once it has)."""
    expect(page.locator("#dashboard.htmx-added, #dashboard.htmx-settling, .htmx-request")).to_have_count(0)


def test_a_leader_filters_the_portfolio_drills_into_a_stuck_pilot_and_exports_it(page: Page, live_server):
    base = live_server.url
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    team = Portfolio()
    ARTIFACTS.mkdir(exist_ok=True)

    # The leader finds the portfolio in the navigation.
    sign_in(page, base, "lena")
    page.get_by_role("link", name="Portfolio", exact=True).click()
    expect(page).to_have_url(f"{base}/w/acme/portfolio/")
    expect(page.get_by_role("heading", name="Portfolio", exact=True)).to_be_visible()

    # The charts: the funnel, the readiness histogram, and the trend's SVG charts.
    dashboard = page.locator("#dashboard")
    funnel = dashboard.locator("#funnel")
    expect(funnel).to_be_visible()
    expect(funnel.locator("tbody tr")).to_have_count(len(Stage.values))
    expect(funnel.locator("tbody tr").first).to_contain_text("Proposed")
    histogram = dashboard.locator("#readiness .histogram")
    expect(histogram).to_be_visible()
    expect(histogram.locator(".hist-col")).to_have_count(5)
    expect(dashboard.locator("#comparison")).to_be_visible()
    trend = page.locator("#trend")
    expect(trend).to_be_visible()
    expect(trend.locator("svg").first).to_be_visible()
    expect(trend.locator("svg polyline").first).to_be_attached()
    expect(dashboard.locator(".tiles .tile").first.locator(".tile-figure")).to_have_text("4")

    # Both business units' stuck pilots, each naming who can unblock it.
    rows = stuck_rows(page)
    expect(rows).to_have_count(2)
    expect(rows.locator("td:first-child a")).to_have_text(["Claims triage", "Invoice matching"])
    expect(rows.nth(0)).to_contain_text("No gate decision in 30 days")
    expect(rows.nth(0).locator("td").nth(4)).to_contain_text("Pat")
    expect(rows.nth(0).locator("td").nth(4)).to_contain_text("request the next gate")
    expect(rows.nth(1)).to_contain_text("On hold")
    expect(rows.nth(1).locator("td").nth(4)).to_contain_text("Fred")
    page.screenshot(path=str(ARTIFACTS / "portfolio-1-whole.png"), full_page=True)

    # Filter by business unit: the dashboard is swapped in place and the URL pushed.
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    mark_page(page)
    page.select_option("form.filters select[name=business_unit]", "Claims")
    expect(page).to_have_url(re.compile(r"/w/acme/portfolio/\?(.*&)?business_unit=Claims(&|$)"))
    expect(dashboard).to_contain_text("Filtered: 2 pilots match.")
    expect(rows).to_have_count(1)
    expect(rows.locator("td:first-child a")).to_have_text(["Claims triage"])
    expect(rows.locator("td").nth(2)).to_have_text("Claims")
    expect(dashboard.locator("#stuck")).not_to_contain_text("Invoice matching")
    expect(dashboard.locator(".tiles .tile").first.locator(".tile-figure")).to_have_text("2")
    expect(page.locator("#export-link")).to_have_attribute(
        "href", "/w/acme/portfolio/export.csv?business_unit=Claims"
    )
    expect(funnel).to_be_visible()
    expect(histogram).to_be_visible()
    expect(trend.locator("svg").first).to_be_visible()  # outside the swapped partial: still there
    assert page.evaluate("window.__journeyMarker") == MARKER, "the page was reloaded"
    assert loads == []
    settled(page)
    page.screenshot(path=str(ARTIFACTS / "portfolio-2-claims.png"), full_page=True)

    # Drill into the stuck pilot, then come back to the filtered dashboard.
    rows.get_by_role("link", name="Claims triage").click()
    expect(page).to_have_url(f"{base}/pilots/{team.stuck_claims.pk}/")
    expect(page.get_by_role("heading", name="Claims triage", level=1)).to_be_visible()
    expect(page.locator("#stage-track")).to_have_attribute("data-stage", Stage.DEFINE_SUCCESS)
    page.go_back()
    expect(page).to_have_url(re.compile(r"/w/acme/portfolio/\?(.*&)?business_unit=Claims(&|$)"))
    expect(page.get_by_role("heading", name="Portfolio", exact=True)).to_be_visible()
    expect(page.locator("form.filters select[name=business_unit]")).to_have_value("Claims")
    expect(rows).to_have_count(1)
    expect(rows.locator("td:first-child a")).to_have_text(["Claims triage"])

    # Export the filtered portfolio: Claims only, with the stuck reason and who can unblock it.
    with page.expect_download() as got:
        page.click("#export-link")
    download = got.value
    assert re.fullmatch(r"acme-portfolio-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    with open(download.path(), newline="", encoding="utf-8") as exported:
        lines = list(csv.reader(exported))
    assert lines[0] == EXPORT_HEADER
    by_name = {line[0]: dict(zip(EXPORT_HEADER, line, strict=True)) for line in lines[1:]}
    assert [line[0] for line in lines[1:]] == ["Claims letters", "Claims triage"]  # name order
    stuck = by_name["Claims triage"]
    assert stuck["link"].endswith(f"/pilots/{team.stuck_claims.pk}/")
    assert stuck["business unit"] == "Claims"
    assert stuck["stage"] == "Define success"
    assert stuck["status"] == "Active"
    assert stuck["program manager"] == "Pat"
    assert stuck["workflow owner"] == "Olivia"
    assert stuck["stuck because"] == "No gate decision in 30 days"
    assert stuck["who can unblock"] == "Pat (request the next gate)"
    fresh = by_name["Claims letters"]
    assert fresh["business unit"] == "Claims"
    assert fresh["stage"] == "Proposed"
    assert fresh["stuck because"] == ""
    assert fresh["who can unblock"] == ""
    # Who took the portfolio out of ProdReady, and with which filters, is on record.
    exported_event = AuditEvent.objects.get(workspace=team.workspace, action="portfolio.exported")
    assert exported_event.actor == team.leader
    assert exported_event.after == {"filters": "business_unit=Claims"}
    assert script_errors == []


def filter_twice(page: Page, base: str):
    """The leader opens the portfolio and filters Claims, then Finance: two history entries pushed."""
    Portfolio()
    sign_in(page, base, "lena")
    page.goto(f"{base}/w/acme/portfolio/")
    units = page.locator("form.filters select[name=business_unit]")
    rows = stuck_rows(page)
    mark_page(page)
    units.select_option("Claims")
    expect(page).to_have_url(re.compile(r"[?&]business_unit=Claims(&|$)"))
    expect(rows.locator("td:first-child a")).to_have_text(["Claims triage"])
    settled(page)
    units.select_option("Finance")
    expect(page).to_have_url(re.compile(r"[?&]business_unit=Finance(&|$)"))
    expect(rows.locator("td:first-child a")).to_have_text(["Invoice matching"])
    settled(page)
    return units, rows


def test_going_back_between_filters_keeps_the_filter_form_in_step_with_the_dashboard(page: Page, live_server):
    """Back within the page, from htmx's history cache: the dashboard shows Claims again, and so must the
    business unit select; and "Show the whole portfolio" must clear the select along with the filters."""
    units, rows = filter_twice(page, live_server.url)
    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]business_unit=Claims(&|$)"))
    expect(rows.locator("td:first-child a")).to_have_text(["Claims triage"])
    expect(page.locator("#export-link")).to_have_attribute(
        "href", "/w/acme/portfolio/export.csv?business_unit=Claims"
    )
    assert page.evaluate("window.__journeyMarker") == MARKER, "the page was reloaded"
    expect(units).to_have_value("Claims")
    settled(page)
    # "Show the whole portfolio" clears the filters: the select says so too.
    page.get_by_role("link", name="Show the whole portfolio").click()
    expect(page).to_have_url(f"{live_server.url}/w/acme/portfolio/")
    expect(rows).to_have_count(2)
    expect(units).to_have_value("")
    assert page.evaluate("window.__journeyMarker") == MARKER, "the page was reloaded"


def test_a_history_entry_restored_from_the_server_is_the_whole_page(page: Page, live_server):
    """Back within the page with htmx's history cache lost (evicted past historyCacheSize, or no
    sessionStorage): htmx fetches the URL again (HX-Request and HX-History-Restore-Request) and puts the
    answer in the body, which must be the whole page, not the dashboard partial."""
    units, rows = filter_twice(page, live_server.url)
    page.evaluate("sessionStorage.removeItem('htmx-history-cache')")
    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]business_unit=Claims(&|$)"))
    expect(rows.locator("td:first-child a")).to_have_text(["Claims triage"])
    assert page.evaluate("window.__journeyMarker") == MARKER, "the page was reloaded"
    expect(page.get_by_role("heading", name="Portfolio", exact=True)).to_be_visible()
    expect(units).to_have_value("Claims")
    expect(page.locator("#trend svg").first).to_be_visible()


@pytest.mark.parametrize("role", ["reviewer", "workflow_owner"])
def test_members_without_a_portfolio_role_are_refused_the_dashboard_and_its_export(client, role):
    team = Portfolio()
    user = team.reviewer if role == "reviewer" else team.owner
    client.force_login(user)
    assert client.get(reverse("portfolio", args=["acme"])).status_code == 403
    assert client.get(f"{reverse('portfolio_export', args=['acme'])}?business_unit=Claims").status_code == 403
    assert not AuditEvent.objects.filter(action="portfolio.exported").exists()
    home = client.get(reverse("workspace_home", args=["acme"]))
    assert home.status_code == 200
    assert reverse("portfolio", args=["acme"]) not in home.content.decode()
    # The leader, for contrast, is let in.
    client.force_login(team.leader)
    assert client.get(reverse("portfolio", args=["acme"])).status_code == 200


def test_the_filters_apply_without_javascript(browser, live_server):
    """The plain form: with scripts off, picking a business unit and pressing Apply filters the page."""
    Portfolio()
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        base = live_server.url
        sign_in(page, base, "lena")
        page.goto(f"{base}/w/acme/portfolio/")
        page.select_option("form.filters select[name=business_unit]", "Finance")
        page.get_by_role("button", name="Apply").click()
        expect(page).to_have_url(re.compile(r"/w/acme/portfolio/\?(.*&)?business_unit=Finance(&|$)"))
        rows = stuck_rows(page)
        expect(rows).to_have_count(1)
        expect(rows.locator("td:first-child a")).to_have_text(["Invoice matching"])
        expect(page.locator("#export-link")).to_have_attribute(
            "href", "/w/acme/portfolio/export.csv?business_unit=Finance"
        )
    finally:
        context.close()

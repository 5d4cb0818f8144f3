"""Step 2 end to end in a real browser: define a standard, upload a CSV with problems, watch the progress
bar, read the report, download the problem rows, open a case."""

import csv
import io
import re
import time
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from pilots.models import Case, CaseUpload, InputStandard
from tests import factories
from tests.e2e.journey import MARKER, Navigations, assert_not_reloaded, mark_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ROWS = 300
HEADER = ["line", "external_id", "outcome", "field", "kind", "message"]
FORMULA_ID = "=cmd|' /C calc'!A0"


def pilot_of_pm():
    workspace = factories.WorkspaceFactory(name="Acme", slug="acme")
    pm = factories.member(workspace, "program_manager", user=factories.UserFactory(username="pm"))
    pilot = factories.PilotFactory(workspace=workspace, name="Claims triage", program_manager=pm)
    return pm, pilot


def cases_csv(path: Path) -> dict[str, int]:
    """300 cases, every tenth with exactly one problem; returns the expected problems per field and kind."""
    expected = {
        "inputs.amount: invalid": 0,
        "inputs.channel: invalid": 0,
        "inputs.phone: contradictory": 0,
        "inputs.amount: missing": 0,
    }
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["external_id", "amount", "channel", "phone", "output.category"])
        for i in range(1, ROWS + 1):
            external_id = f"c{i:04d}"
            amount, channel, phone = f"{i % 97 + 0.5}", "web", ""
            if i % 2:
                channel, phone = "phone", f"030 {i:07d}"
            category = "glass" if i % 3 else "theft"
            if i % 10 == 0:
                j = i // 10  # 1 … 30
                if j <= 10:
                    amount, key = "-5", "inputs.amount: invalid"
                    if j == 1:
                        external_id = FORMULA_ID  # must come back neutralised in the problem rows
                elif j <= 18:
                    channel, key = "fax", "inputs.channel: invalid"
                elif j <= 25:
                    channel, phone, key = "phone", "", "inputs.phone: contradictory"
                else:
                    amount, key = "", "inputs.amount: missing"
                expected[key] += 1
            writer.writerow([external_id, amount, channel, phone, category])
    return expected


def define_standard_in_the_editor(page: Page, base: str, pilot) -> None:
    page.goto(f"{base}/pilots/{pilot.pk}/standard/")
    expect(page.locator("#current-title")).to_have_text("No standard yet")
    rows = page.locator("#inputs-rows tr")
    expect(rows).to_have_count(2)

    # "Add an input field" appends a third row in place (htmx), and the formset total follows.
    navigations = Navigations(page)
    mark_page(page)
    page.get_by_role("button", name="+ Add an input field").click()
    expect(rows).to_have_count(3)
    expect(page.locator("#inputs-2")).to_be_visible()
    expect(page.locator("#id_inputs-TOTAL_FORMS")).to_have_value("3")
    assert_not_reloaded(page, navigations)

    page.fill("#id_inputs-0-name", "amount")
    page.fill("#id_inputs-0-label", "Amount")
    page.fill("#id_inputs-0-min", "0")
    page.fill("#id_inputs-1-name", "channel")
    page.fill("#id_inputs-1-label", "Contact channel")
    page.fill("#id_inputs-1-allowed", "web, phone")
    page.fill("#id_inputs-2-name", "phone")
    page.fill("#id_outputs-0-name", "category")
    page.fill("#id_outputs-0-allowed", "glass, theft")
    page.select_option("#id_outputs-0-type", "enum")
    page.locator("#id_outputs-0-allowed").blur()
    # The rule selects follow the input names as they are typed: the last change of the input rows
    # refreshes them; wait for that refresh to land before choosing, or it would reset the choice.
    page.select_option("#id_inputs-0-type", "number")
    page.check("#id_inputs-0-required")
    page.select_option("#id_inputs-1-type", "enum")
    page.check("#id_inputs-1-required")
    page.select_option("#id_inputs-2-type", "string")
    if_field, then_field = page.locator("#id_requires-0-if_field"), page.locator("#id_requires-0-then_field")
    expect(if_field.locator("option")).to_have_text(["—", "amount", "channel", "phone"])
    expect(then_field.locator("option")).to_have_text(["—", "amount", "channel", "phone"])
    page.wait_for_timeout(300)  # past the 150 ms debounce of the refresh
    expect(page.locator("[hx-get$='/standard/names/']")).not_to_have_class(re.compile(r"htmx-request"))
    if_field.select_option("channel")
    page.fill("#id_requires-0-equals", "phone")
    then_field.select_option("phone")
    page.fill("#id_note", "First version")
    expect(if_field).to_have_value("channel")
    expect(then_field).to_have_value("phone")
    assert_not_reloaded(page, navigations)

    page.click("#publish")
    expect(page.locator("#standard-body [role=status]")).to_have_text("Version 1 published.")
    expect(page.locator("#current-title")).to_contain_text("Version 1")
    expect(page.locator("#current-title")).to_contain_text("current")
    expect(page.locator("#standard-body")).to_contain_text(
        "3 input fields, 1 AI output field, 1 cross-field rule"
    )
    assert_not_reloaded(page, navigations)

    standard = InputStandard.objects.get(pilot=pilot)
    assert standard.version == 1
    fields = {f["name"]: f for f in standard.inputs}
    assert list(fields) == ["amount", "channel", "phone"]
    amount = fields["amount"]
    assert (amount["type"], amount["required"], amount["min"]) == ("number", True, 0)
    assert fields["channel"]["allowed"] == ["web", "phone"] and fields["channel"]["required"]
    assert fields["phone"]["type"] == "string" and not fields["phone"]["required"]
    assert [(f["name"], f["type"], f["allowed"]) for f in standard.outputs] == [
        ("category", "enum", ["glass", "theft"])
    ]
    assert [(r["kind"], r["if_field"], r["equals"], r["then_field"]) for r in standard.rules] == [
        ("requires", "channel", "phone", "phone")
    ]


def test_pm_defines_a_standard_uploads_a_csv_reads_the_report_and_opens_a_case(
    page: Page, live_server, settings, tmp_path
):
    base = live_server.url
    settings.UPLOAD_DIR = tmp_path / "uploads"
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    _pm, pilot = pilot_of_pm()

    sign_in(page, base, "pm")
    define_standard_in_the_editor(page, base, pilot)

    # Upload a CSV of 300 cases, 30 of them with a problem.
    csv_path = tmp_path / "cases-step2.csv"
    expected_fields = cases_csv(csv_path)
    page.goto(f"{base}/pilots/{pilot.pk}/uploads/")
    expect(page.locator("#upload-form")).to_contain_text("CSV template")
    page.set_input_files("#id_file", str(csv_path))
    page.locator("#upload-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/pilots/{pilot.pk}/uploads/\d+/$"))
    upload = CaseUpload.objects.get(pilot=pilot)
    expect(page).to_have_url(f"{base}/pilots/{pilot.pk}/uploads/{upload.pk}/")
    upload.refresh_from_db()
    assert (upload.state, upload.rows_done, upload.standard_version) == ("done", ROWS, 1)

    # With eager Celery the file is processed in the request's on_commit, before the redirect: the page
    # opens on the finished report, and does not poll.
    progress = page.locator("#upload-progress")
    expect(progress).to_have_attribute("data-state", "done")
    expect(progress.locator("progress")).to_have_attribute("value", "100")
    expect(progress.locator(".progress-figure")).to_have_text("100% · 300 rows")
    expect(progress.locator("h2")).to_contain_text("Report")
    assert progress.get_attribute("hx-trigger") is None

    # The report: counts per outcome, then the problems per field, most frequent first.
    expect(progress.locator(".count-created td")).to_have_text("300")
    expect(progress.locator(".count-with_problems td")).to_have_text("30")
    for outcome in ("unchanged", "updated", "conflict", "rejected"):
        expect(progress.locator(f".count-{outcome} td")).to_have_text("0")
    expect(progress).to_contain_text("Checked against standard v1")
    field_rows = progress.locator(".field-errors-table tbody tr")
    expect(field_rows).to_have_count(4)
    shown = field_rows.evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))")
    assert shown == [
        ["inputs.amount", "invalid", "10"],
        ["inputs.channel", "invalid", "8"],
        ["inputs.phone", "contradictory", "7"],
        ["inputs.amount", "missing", "5"],
    ]
    assert {f"{field}: {kind}": int(count) for field, kind, count in shown} == expected_fields
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "step2-report.png"), full_page=True)

    # Download the problem rows: one line per problem, nothing a spreadsheet would run as a formula.
    with page.expect_download() as download_info:
        progress.get_by_role("link", name="Download the problem rows (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == "cases-step2-problems.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == HEADER
    assert len(lines) == 1 + 30
    assert all(len(line) == len(HEADER) for line in lines)
    assert not [cell for line in lines for cell in line if cell.startswith(("=", "+", "-", "@"))]
    ids = [line[1] for line in lines[1:]]
    assert "'" + FORMULA_ID in ids and FORMULA_ID not in ids
    assert {line[2] for line in lines[1:]} == {"created"}
    assert {line[1]: line[0] for line in lines[1:]}["c0020"] == "21"  # the file's line, header included
    contradictory = [line for line in lines[1:] if line[4] == "contradictory"]
    assert len(contradictory) == 7
    assert {line[5] for line in contradictory} == {"Phone is required when Contact channel is phone."}

    # From the report to the cases with problems, then narrowed in place to one kind.
    progress.get_by_role("link", name="Cases with problems").click()
    expect(page).to_have_url(re.compile(r"/cases/\?conforms=no&upload=\d+$"))
    table = page.locator("#case-table")
    rows = table.locator("tbody tr")
    expect(table).to_contain_text("30 cases match")
    expect(rows).to_have_count(30)

    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    mark_page(page)
    page.select_option("form.filters select[name=problem]", "contradictory")
    expect(table).to_contain_text("7 cases match")
    expect(rows).to_have_count(7)
    expect(rows.locator(".kind-contradictory")).to_have_count(7)
    expect(page).to_have_url(re.compile(r"[?&]problem=contradictory(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]conforms=no(&|$)"))
    assert page.evaluate("window.__journeyMarker") == MARKER, "the page was reloaded"
    assert loads == []

    # The pushed URL is shareable: loading it afresh shows the same narrowed list.
    page.reload()
    expect(page.locator("form.filters select[name=problem]")).to_have_value("contradictory")
    expect(rows).to_have_count(7)

    first = rows.first.locator("td:first-child a")
    external_id = first.inner_text()
    first.click()
    case = Case.objects.get(pilot=pilot, external_id=external_id)
    expect(page).to_have_url(f"{base}/pilots/{pilot.pk}/cases/{case.pk}/")
    expect(page.locator("h1")).to_have_text(f"Case {external_id}")
    problems = page.get_by_role("region", name=re.compile(r"^Problems"))
    expect(problems).to_contain_text("(1)")
    expect(problems).to_contain_text("contradictory")
    expect(problems).to_contain_text("inputs.phone — Phone is required when Contact channel is phone.")
    phone_row = page.locator(".value-table tr.row-error")
    expect(phone_row).to_have_count(1)
    expect(phone_row).to_contain_text("Phone is required when Contact channel is phone.")
    expect(page.get_by_role("region", name="Facts")).to_contain_text("standard v1")
    expect(page.get_by_role("region", name="History")).to_contain_text("cases-step2.csv")

    # The pilot page's inputs panel: 270 of 300 conform, below the default 95% threshold.
    page.goto(f"{base}/pilots/{pilot.pk}/")
    panel = page.locator("#inputs-panel")
    expect(panel.locator(".figure-value")).to_have_text("90%")
    expect(panel.locator(".figure-value")).to_have_class(re.compile(r"\bbelow\b"))
    expect(panel).to_contain_text("270 of 300 cases")
    expect(panel.get_by_role("link", name="Standard v1")).to_be_visible()
    expect(panel.locator("svg.conformance-chart circle")).to_have_count(1)
    expect(panel.locator("svg.conformance-chart .no-data")).to_have_count(0)
    expect(panel.locator(".top-fields li")).to_have_text(
        [
            "inputs.amount (invalid) 10",
            "inputs.channel (invalid) 8",
            "inputs.phone (contradictory) 7",
            "inputs.amount (missing) 5",
        ]
    )
    kinds = panel.get_by_role("list", name=re.compile("Cases per problem kind"))
    expect(kinds).to_contain_text("invalid 18")
    expect(kinds).to_contain_text("contradictory 7")
    panel.screenshot(path=str(ARTIFACTS / "step2-panel.png"))
    page.screenshot(path=str(ARTIFACTS / "step2-pilot.png"), full_page=True)

    assert script_errors == []


def test_the_progress_bar_follows_a_running_upload_and_stops_polling_when_it_is_done(page: Page, live_server):
    base = live_server.url
    pm, pilot = pilot_of_pm()
    upload = CaseUpload.objects.create(
        pilot=pilot,
        uploaded_by=pm,
        file_name="big.csv",
        path="/nonexistent/big.csv",
        size=2_000_000,
        state=CaseUpload.State.RUNNING,
        bytes_done=1_000_000,
        rows_done=5000,
        started_at=timezone.now(),
    )
    url = f"{base}/pilots/{pilot.pk}/uploads/{upload.pk}/"
    polls: list[float] = []
    page.on(
        "request",
        lambda request: (
            polls.append(time.monotonic())
            if request.url == url and request.headers.get("hx-request") == "true"
            else None
        ),
    )

    sign_in(page, base, "pm")
    navigations = Navigations(page)
    page.goto(url)
    progress = page.locator("#upload-progress")
    expect(progress).to_have_attribute("data-state", "running")
    expect(progress.locator("h2")).to_contain_text("Processing…")
    expect(progress.locator("progress")).to_have_attribute("value", "50")
    expect(progress.locator(".progress-figure")).to_have_text("50% · 5000 rows")
    expect(progress.get_by_role("status")).to_contain_text("processed in the background")
    mark_page(page)
    navigations.count = 0

    page.wait_for_timeout(2500)
    assert len(polls) >= 2, f"the page polled {len(polls)} time(s) in 2.5 s"
    expect(progress).to_have_attribute("data-state", "running")

    CaseUpload.objects.filter(pk=upload.pk).update(
        state=CaseUpload.State.DONE,
        bytes_done=upload.size,
        rows_done=10_000,
        counts={"created": 9_000, "with_problems": 1_000},
        field_errors={"inputs.amount: invalid": 1_000},
        finished_at=timezone.now(),
    )
    expect(progress).to_have_attribute("data-state", "done", timeout=5_000)
    expect(progress.locator("progress")).to_have_attribute("value", "100")
    expect(progress.locator(".progress-figure")).to_have_text("100% · 10000 rows")
    expect(progress.locator(".count-created td")).to_have_text("9000")
    expect(progress.locator(".count-with_problems td")).to_have_text("1000")
    expect(progress.get_by_role("status")).to_have_count(0)
    assert_not_reloaded(page, navigations)

    settled = len(polls)
    page.wait_for_timeout(2500)
    assert len(polls) == settled, f"the page kept polling: {len(polls) - settled} request(s) after done"
    assert_not_reloaded(page, navigations)

"""Step 1 end to end in a real browser: define a metric, add measurements, see the chart and the status
change, import a CSV (a bad file first, then the corrected one)."""

import re
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from metrics.models import Measurement, Metric
from tests import factories
from tests.e2e.journey import Navigations, assert_not_reloaded, mark_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NAME = "Claims rework rate"
OUTCOME = "Fewer claims sent back for rework"
TARGET_RULE = "Lower is better, so the target must be below the baseline."


def day(on: date) -> str:
    """A date as the chart labels it: 3 Mar 2026."""
    return f"{on.day} {on:%b %Y}"


def series(chart: Locator) -> list[tuple[float, float]]:
    """The (x, y) of each measured point of a chart, oldest first."""
    coordinates = chart.locator("g.series circle").evaluate_all(
        "circles => circles.map(c => [c.getAttribute('cx'), c.getAttribute('cy')])"
    )
    return [(float(x), float(y)) for x, y in coordinates]


def test_pm_defines_a_metric_adds_measurements_and_sees_the_chart_and_status_change(page: Page, live_server):
    base = live_server.url
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    workspace = factories.WorkspaceFactory(name="Acme", slug="acme")  # Europe/Berlin
    pm = factories.member(workspace, "program_manager", user=factories.UserFactory(username="pm"))
    pilot = factories.PilotFactory(workspace=workspace, name="Claims triage", program_manager=pm)
    # The workspace's today, as the server reckons it: the baseline 60 days back, the target 60 days on,
    # so half the time is gone and "on track" needs at least half the way from 12 % to 4 % (8 % or less).
    today = timezone.localtime(timezone.now(), ZoneInfo(workspace.timezone)).date()
    baseline_on, target_date = today - timedelta(days=60), today + timedelta(days=60)

    # From the pilot page's (htmx-loaded) metrics panel to the pilot's metrics, to the form.
    sign_in(page, base, "pm")
    page.goto(f"{base}/pilots/{pilot.pk}/")
    panel = page.locator("#metrics-panel")
    expect(panel).to_contain_text("No success metric yet")
    panel.get_by_role("link", name="All metrics").click()
    expect(page).to_have_url(f"{base}/pilots/{pilot.pk}/metrics/")
    expect(page.locator("h1")).to_have_text("Success metrics")
    expect(page.locator(".empty")).to_contain_text("No metric yet.")
    page.click("#define-metric")
    expect(page).to_have_url(f"{base}/pilots/{pilot.pk}/metrics/new/")

    # Choosing a kind swaps in its unit (htmx, in place), keeping what was typed in the swapped fields.
    unit, kind = page.locator("#id_unit"), page.locator("#id_kind")
    expect(kind).to_have_value("cycle_time")
    expect(unit).to_have_value("days")
    navigations = Navigations(page)
    mark_page(page)
    page.fill("#id_name", NAME)
    page.fill("#id_outcome", OUTCOME)
    kind.select_option("error_rate")
    expect(unit).to_have_value("%")
    expect(page.locator("#id_outcome")).to_have_value(OUTCOME)
    expect(page.locator("#field-direction input[value=lower]")).to_be_checked()
    expect(page.locator("#field-method input[value=manual]")).to_be_checked()
    assert_not_reloaded(page, navigations)

    # A target above the baseline, while lower is better: refused next to the field, everything kept.
    page.fill("#id_baseline", "12")
    page.fill("#id_baseline_on", baseline_on.isoformat())
    page.fill("#id_baseline_source", "QA sample of 400 claims")
    page.fill("#id_target", "15")
    page.fill("#id_target_date", target_date.isoformat())
    page.click("#save-metric")
    expect(page.locator("#form-errors")).to_contain_text("Not saved.")
    expect(page.locator("#field-target")).to_have_class(re.compile(r"\bhas-error\b"))
    expect(page.locator("#field-target .error")).to_have_text(TARGET_RULE)
    expect(page.locator(".field .error, .choice-field .error")).to_have_count(1)
    expect(page).to_have_url(f"{base}/pilots/{pilot.pk}/metrics/new/")
    for selector, value in (
        ("#id_kind", "error_rate"),
        ("#id_name", NAME),
        ("#id_unit", "%"),
        ("#id_outcome", OUTCOME),
        ("#id_baseline", "12"),
        ("#id_baseline_on", baseline_on.isoformat()),
        ("#id_baseline_source", "QA sample of 400 claims"),
        ("#id_target", "15"),
        ("#id_target_date", target_date.isoformat()),
        ("#id_owner", str(pm.pk)),
    ):
        expect(page.locator(selector)).to_have_value(value)
    expect(page.locator("#field-method input[value=manual]")).to_be_checked()
    assert not Metric.objects.exists()

    page.fill("#id_target", "4")
    page.click("#save-metric")
    metric = Metric.objects.get(pilot=pilot)
    expect(page).to_have_url(f"{base}/pilots/{pilot.pk}/metrics/{metric.pk}/")
    assert (metric.name, metric.kind, metric.unit, metric.direction, metric.method) == (
        NAME,
        "error_rate",
        "%",
        "lower",
        "manual",
    )
    assert (metric.baseline, metric.baseline_on, metric.target, metric.target_date) == (
        12.0,
        baseline_on,
        4.0,
        target_date,
    )
    assert (metric.owner, metric.outcome, metric.vanity_warning) == (pm, OUTCOME, "")

    # The metric's page: no figure yet, but the chart already draws the baseline and the target.
    expect(page.locator("h1")).to_have_text(NAME)
    expect(page.get_by_text(f"Metric “{NAME}” defined.")).to_be_visible()
    status = page.locator("#attainment-status")
    expect(status).to_have_text("No measurement yet")
    attainment = page.locator("#metric-attainment")
    expect(attainment.locator(".expected-value")).to_have_text("50%")
    chart = page.locator("#metric-trend svg.metric-chart")
    expect(chart.locator("g.baseline-line line")).to_have_count(1)
    expect(chart.locator("g.target-line line")).to_have_count(1)
    expect(chart.locator("g.baseline-line text")).to_have_text(f"Baseline 12% · {day(baseline_on)}")
    expect(chart.locator("g.target-line text")).to_have_text(f"Target 4% by {day(target_date)}")
    expect(chart.locator("g.series circle")).to_have_count(0)
    expect(chart.locator(".no-data")).to_have_text("No measurement yet")
    expect(page.locator("#measurement-form label[for=id_value] .unit")).to_have_text("%")
    expect(page.locator("#id_on")).to_have_value(today.isoformat())
    baseline_y = float(chart.locator("g.baseline-line line").get_attribute("y1"))
    target_y = float(chart.locator("g.target-line line").get_attribute("y1"))
    assert baseline_y < target_y  # 12 % drawn above 4 %

    # Figures added in place: far from the target, then closer, then on the planned path's good side.
    navigations = Navigations(page)
    mark_page(page)
    trend = page.locator("#metric-trend")
    steps = (
        (today - timedelta(days=40), "11.5", "11.5%", "6%", "Off track"),
        (today - timedelta(days=20), "9.5", "9.5%", "31%", "At risk"),
        (today, "7.5", "7.5%", "56%", "On track"),
    )
    for count, (on, value, text, progress, label) in enumerate(steps, start=1):
        page.fill("#id_on", on.isoformat())
        page.fill("#id_value", value)
        page.fill("#id_note", f"QA sample {count}")
        page.click("#add-measurement")
        expect(trend.get_by_role("status")).to_have_text(f"{text} on {on.isoformat()} recorded.")
        expect(status).to_have_text(label)
        expect(status).to_have_class(re.compile(rf"\battain-{label.lower().replace(' ', '_')}\b"))
        expect(attainment.locator(".attain-figure")).to_have_text(progress)
        expect(attainment.locator(".latest-value")).to_have_text(text)
        expect(chart.locator("g.series circle")).to_have_count(count)
        expect(chart.locator("g.series polyline")).to_have_count(1 if count > 1 else 0)
        expect(chart.locator("g.series text.latest")).to_have_text(text)
        expect(chart.locator(".no-data")).to_have_count(0)
        expect(trend.locator("h3 .count")).to_have_text(f"({count})")
        expect(trend.locator(".measurement-table tbody tr").first).to_contain_text(text)
        assert_not_reloaded(page, navigations)
    expect(chart.locator("desc")).to_contain_text("3 measurements")
    expect(chart.locator("desc")).to_contain_text("56% of the way to the target with 50% of the time gone")
    points = series(chart)
    assert [x for x, _ in points] == sorted(x for x, _ in points) and len({x for x, _ in points}) == 3
    assert all(baseline_y < y < target_y for _, y in points), points  # 11.5, 9.5, 7.5: between the lines
    assert [y for _, y in points] == sorted(y for _, y in points)  # falling figures: lower on the chart
    assert list(Measurement.objects.filter(metric=metric).values_list("value", "source").order_by("on")) == [
        (11.5, "manual"),
        (9.5, "manual"),
        (7.5, "manual"),
    ]

    # A CSV with one bad row imports nothing, and says which line is wrong.
    earlier = [today - timedelta(days=d) for d in (55, 50, 45)]
    bad = f"date,value,note\n{earlier[0]},12.2,QA\n{earlier[1]},abc,QA\n{earlier[2]},11.9,QA\n"
    page.set_input_files(
        "#id_file", files=[{"name": "history.csv", "mimeType": "text/csv", "buffer": bad.encode()}]
    )
    page.click("#import-measurements")
    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("Nothing imported.")
    expect(errors).to_contain_text("Fix this row and import the file again")
    expect(errors.locator("li")).to_have_text(["Line 3: “abc” is not a number."])
    expect(chart.locator("g.series circle")).to_have_count(3)
    expect(trend.locator("h3 .count")).to_have_text("(3)")
    expect(status).to_have_text("On track")
    assert Measurement.objects.filter(metric=metric).count() == 3
    assert_not_reloaded(page, navigations)

    # The corrected file imports all three rows; the chart gains the earlier points.
    good = bad.replace(",abc,", ",12.0,")
    page.set_input_files(
        "#id_file", files=[{"name": "history.csv", "mimeType": "text/csv", "buffer": good.encode()}]
    )
    page.click("#import-measurements")
    expect(trend.get_by_role("status")).to_have_text("3 measurements imported.")
    expect(page.locator("#import-errors")).to_have_count(0)
    expect(chart.locator("g.series circle")).to_have_count(6)
    expect(trend.locator("h3 .count")).to_have_text("(6)")
    expect(trend.locator(".measurement-table tbody tr").filter(has_text="Imported")).to_have_count(3)
    expect(chart.locator("desc")).to_contain_text(f"6 measurements from {day(earlier[0])} to {day(today)}")
    expect(status).to_have_text("On track")  # the latest figure is still today's 7.5 %
    expect(attainment.locator(".latest-value")).to_have_text("7.5%")
    assert_not_reloaded(page, navigations)
    assert sorted(
        Measurement.objects.filter(metric=metric, source="import").values_list("value", flat=True)
    ) == [
        11.9,
        12.0,
        12.2,
    ]

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "step1-metric.png"), full_page=True)

    # The list and the pilot page's panel tell the same story.
    page.goto(f"{base}/pilots/{pilot.pk}/metrics/")
    row = page.locator(f"#metric-{metric.pk}")
    expect(row.locator(".attain-badge")).to_have_text("On track")
    expect(row).to_contain_text("12% → 4%")
    expect(row).to_contain_text("6 figures")
    page.goto(f"{base}/pilots/{pilot.pk}/")
    headline = page.locator("#metrics-panel .headline-metric")
    expect(headline.get_by_role("link", name=NAME)).to_be_visible()
    expect(headline.locator(".attain-badge")).to_have_text("On track")
    expect(page.locator("#metrics-panel svg.metric-chart g.series circle")).to_have_count(6)

    assert script_errors == []

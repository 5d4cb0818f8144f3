"""The learning chart's geometry on known weekly figures: a point and an interval bar per week with
cases at the heights of its rate and its 95% Wilson bounds, a gap for an empty week, the acceptable rate
as a dashed line, AI version releases as vertical lines at their release day."""

import re
from datetime import date, timedelta

import pytest
from django.template.loader import render_to_string

from exceptions.stats import wilson_interval
from feedback.charts import pct, rate_chart, rate_ticks
from feedback.learning import Week

MONDAY = date(2026, 1, 5)  # ISO 2026-W02


def weeks(figures: list[tuple[int, int]]) -> list[Week]:
    """Consecutive weeks from MONDAY with (decided, corrected) each."""
    found = []
    for i, (decided, corrected) in enumerate(figures):
        start = MONDAY + timedelta(weeks=i)
        iso = start.isocalendar()
        found.append(Week(f"{iso.year}-W{iso.week:02d}", decided, corrected, start=start))
    return found


# 200 cases at 20%, 100 at 10%, an empty week, 50 at 4%.
KNOWN = [(200, 40), (100, 10), (0, 0), (50, 2)]


def y_of(chart: dict, share: float) -> float:
    top, bottom = chart["plot_top"], chart["plot_bottom"]
    return bottom - min(share, chart["y_high"]) / chart["y_high"] * (bottom - top)


def test_each_week_with_cases_is_a_point_and_a_bar_at_its_rate_and_interval():
    chart = rate_chart(weeks(KNOWN), acceptable=0.05)
    drawn = {m.label: m for m in chart["drawn"]}
    assert list(drawn) == ["2026-W02", "2026-W03", "2026-W05"]
    for label, (decided, corrected) in zip(drawn, [KNOWN[0], KNOWN[1], KNOWN[3]], strict=True):
        mark = drawn[label]
        low, high = wilson_interval(corrected, decided)
        assert float(mark.y) == pytest.approx(y_of(chart, corrected / decided), abs=0.06)
        assert float(mark.low_y) == pytest.approx(y_of(chart, low), abs=0.06)
        assert float(mark.bar_y) == pytest.approx(y_of(chart, high), abs=0.06)
        assert float(mark.bar_y) + float(mark.bar_height) == pytest.approx(y_of(chart, low), abs=0.11)
        assert float(mark.bar_y) < float(mark.y) < float(mark.low_y)  # the rate lies inside its interval
    # A higher rate is drawn higher up.
    assert float(drawn["2026-W02"].y) < float(drawn["2026-W03"].y) < float(drawn["2026-W05"].y)
    assert chart["y_high"] >= wilson_interval(40, 200)[1]


def test_an_empty_week_is_a_gap_not_a_zero():
    chart = rate_chart(weeks(KNOWN), acceptable=0.05)
    empty = chart["weeks"][2]
    assert empty.empty and empty.y == "" and empty.bar_y == ""
    assert "2026-W04" not in [m.label for m in chart["drawn"]]
    runs = chart["line"].split("M")[1:]
    assert len(runs) == 2
    assert runs[0].count(",") == 2 and runs[1].count(",") == 1  # W02–W03, then W05 alone
    zero = y_of(chart, 0)
    assert f",{zero:.1f}" not in chart["line"]


def test_the_acceptable_rate_is_a_line_at_its_height():
    chart = rate_chart(weeks(KNOWN), acceptable=0.075)
    assert float(chart["acceptable"]["y"]) == pytest.approx(y_of(chart, 0.075), abs=0.06)
    assert chart["acceptable"]["label"] == "Acceptable 7.5%"


def test_versions_released_in_the_window_are_vertical_lines_at_their_release_day():
    figures = [(40, 4)] * 8
    chart = rate_chart(
        weeks(figures),
        acceptable=0.05,
        versions=[
            ("v1", MONDAY - timedelta(days=30)),
            ("v2", MONDAY + timedelta(weeks=3)),
            ("v3", MONDAY + timedelta(weeks=6, days=3)),
        ],
    )
    marks = {v.identifier: v for v in chart["versions"]}
    assert list(marks) == ["v2", "v3"]
    slot = (chart["plot_right"] - chart["plot_left"]) / 8
    assert float(marks["v2"].x) == pytest.approx(chart["plot_left"] + 3 * slot, abs=0.06)
    assert float(marks["v3"].x) == pytest.approx(chart["plot_left"] + (6 + 3 / 7) * slot, abs=0.06)
    assert chart["versions_outside"] == [("v1", MONDAY - timedelta(days=30))]
    assert "v2 released 26 Jan 2026" in chart["description"]


def test_labels_of_versions_released_close_together_take_separate_rows():
    chart = rate_chart(
        weeks([(40, 4)] * 26),
        acceptable=0.05,
        versions=[
            ("claims-model-2.3", MONDAY + timedelta(weeks=10)),
            ("claims-model-2.4", MONDAY + timedelta(weeks=11)),
        ],
    )
    first, second = chart["versions"]
    assert first.label_y != second.label_y


def test_a_small_weeks_wide_interval_is_cut_at_the_top_and_marked():
    chart = rate_chart(weeks([(400, 20), (400, 24), (3, 1)]), acceptable=0.05)
    small = chart["drawn"][2]
    assert wilson_interval(1, 3)[1] > chart["y_high"]
    assert small.clipped and small.few and small.clip_d
    assert float(small.bar_y) == pytest.approx(chart["plot_top"])
    assert chart["y_high"] >= 1 / 3  # the rate itself is always on the axis


def test_without_any_case_the_chart_says_so():
    chart = rate_chart(weeks([(0, 0)] * 26), acceptable=0.05)
    assert not chart["has_data"] and chart["line"] == "" and chart["drawn"] == []
    assert "No decided cases in these weeks." in chart["description"]


def test_the_rendered_svg_has_a_bar_and_a_point_per_week_with_cases(team):
    chart = rate_chart(weeks(KNOWN), acceptable=0.05, versions=[("v2", MONDAY + timedelta(weeks=1))])
    svg = render_to_string(
        "feedback/learning.html#learning-chart",
        {"pilot": team.pilot, "chart": chart, "window_weeks": 26, "min_cases": 30},
    )
    rects = re.findall(r'<rect class="interval[^"]*" data-week="([^"]+)" x="[^"]+" y="([^"]+)"', svg)
    assert rects == [(m.label, m.bar_y) for m in chart["drawn"]]
    points = re.findall(r'<circle class="rate[^"]*" data-week="([^"]+)" cx="[^"]+" cy="([^"]+)"', svg)
    assert points == [(m.label, m.y) for m in chart["drawn"]]
    assert 'data-week="2026-W04"' not in svg.split("</svg>")[0]
    assert f'y1="{chart["acceptable"]["y"]}" y2="{chart["acceptable"]["y"]}"' in svg
    assert '<g class="version" data-version="v2">' in svg
    assert "<title" in svg and "<desc" in svg and "no decided cases</td>" in svg


@pytest.mark.parametrize(
    ("share", "trim", "text"),
    [
        (0.047, False, "4.7%"),
        (0.2, False, "20.0%"),
        (0.2555, False, "25.6%"),
        (None, False, "–"),
        (0.05, True, "5%"),
        (0.0, True, "0%"),
        (0.1, True, "10%"),
    ],
)
def test_percentages_read_plainly(share, trim, text):
    assert pct(share, trim=trim) == text


def test_rate_ticks_are_round_and_cover_the_top():
    assert rate_ticks(0.22) == [0.0, 0.1, 0.2, 0.3]
    assert rate_ticks(0.09) == [0.0, 0.025, 0.05, 0.075, 0.1]
    assert rate_ticks(1.3)[-1] == 1.0
    assert rate_ticks(0)[-1] > 0


def test_the_acceptable_rate_label_moves_off_the_points_it_would_hide():
    # Rates on the acceptable line at the right end, far above it at the left: the label goes left.
    chart = rate_chart(weeks([(400, 120)] * 4 + [(400, 20)] * 22), acceptable=0.05)
    assert chart["acceptable"]["anchor"] == "start"
    # The other way round, it stays at the right end.
    chart = rate_chart(weeks([(400, 20)] * 22 + [(400, 120)] * 4), acceptable=0.05)
    assert chart["acceptable"]["anchor"] == "end"

"""The trend chart of a metric: the geometry of a server-rendered SVG that reads well to a leader.

The measurements as a line with points; the baseline and the target as dashed lines, each labelled
with its value and date; the target date and today as vertical lines; the planned path from baseline
to target as a faint dotted line (a figure on the good side of it at today is on track). The y axis
is labelled with the unit, the x axis with months (or weeks, for a short span). Coordinates are
plain text with one decimal, so no locale's decimal comma can creep into the drawing.
"""

import math
from dataclasses import dataclass
from datetime import date, timedelta

from metrics.attainment import Attainment
from metrics.models import Kind, Measurement, Metric

FULL = {"width": 760, "height": 320, "left": 70, "right": 28, "top": 34, "bottom": 40}
COMPACT = {"width": 600, "height": 230, "left": 62, "right": 22, "top": 30, "bottom": 36}
PERCENT_UNITS = {"%", "percent", "per cent"}


def number(value: float) -> str:
    """A figure as people read it: 40,000 · 6.2 · 2.35 · 0.125 (no trailing zeros, no 1e+04)."""
    if value is None:
        return "–"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.0f}"
    text = f"{value:.2f}" if size >= 1 else f"{value:.3f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def tick(value: float, *, largest: float, percent: bool) -> str:
    """An axis label, short enough for the margin: 40k, 1.2M (the points and labels keep full figures)."""
    if percent:
        return f"{number(value)}%"
    if largest >= 1_000_000:
        return f"{number(value / 1_000_000)}M" if value else "0"
    if largest >= 10_000:
        return f"{number(value / 1000)}k" if value else "0"
    return number(value)


def quantity(value: float | None, unit: str) -> str:
    """A figure with its unit: "6.2 days", "8%", "40,000 EUR/month"."""
    if value is None:
        return "–"
    unit = unit.strip()
    if unit in PERCENT_UNITS:
        return f"{number(value)}%"
    first, _, rest = unit.partition(" ")
    plural = len(first) > 2 and first.endswith("s") and not first.endswith(("ss", "us", "is"))
    if number(value) == "1" and plural and "/" not in first:
        unit = f"{first[:-1]} {rest}".strip()  # 1 day, 1 touchpoint per case
    return f"{number(value)} {unit}".strip()


def day(on: date) -> str:
    return f"{on.day} {on:%b %Y}"


def _nice_step(span: float, count: int) -> float:
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * magnitude:
            return multiple * magnitude
    return 10 * magnitude


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering low..high (about `count` intervals)."""
    if high <= low:
        high = low + (abs(low) or 1)
    step = _nice_step(high - low, count)
    start = math.floor(low / step + 1e-9) * step
    end = math.ceil(high / step - 1e-9) * step
    steps = max(1, round((end - start) / step))
    return [round(start + i * step, 10) for i in range(steps + 1)]


def _month_starts(start: date, end: date) -> list[date]:
    months, current = [], date(start.year, start.month, 1)
    while current <= end:
        if current >= start:
            months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return months


def date_ticks(start: date, end: date) -> list[tuple[date, str]]:
    """Month starts (every 1, 2, 3, 6 or 12 months, at most 8 ticks), or Mondays for a short span."""
    span = (end - start).days
    if span <= 100:
        monday = start + timedelta(days=(7 - start.weekday()) % 7)
        every = 1 if span <= 50 else 2
        mondays = []
        while monday <= end:
            mondays.append(monday)
            monday += timedelta(weeks=every)
        return [(m, f"{m.day} {m:%b}") for m in mondays]
    months = _month_starts(start, end)
    every = next((n for n in (1, 2, 3, 6, 12) if len(months) / n <= 8), 12)
    shown = [m for m in months if (m.month - 1) % every == 0]
    ticks = []
    for i, month in enumerate(shown):
        label = f"{month:%b %Y}" if i == 0 or month.month == 1 else f"{month:%b}"
        ticks.append((month, label))
    return ticks


@dataclass
class Point:
    on: date
    value: float
    x: str
    y: str
    text: str  # the figure with its unit
    source: str
    cases: int | None


SMALL, LABEL, LATEST = (11.5, False), (12, True), (13, True)  # font size, bold


@dataclass
class Label:
    x: str
    y: str
    anchor: str
    text: str


class Layout:
    """A greedy label placer: each label takes, among its candidate spots, the one that covers the
    least weight of figures and lines and overlaps no label placed before it (earlier candidates win
    ties). Text width is estimated from the number of characters, which is close enough for labels."""

    def __init__(self, *, left: float, right: float, top: float, bottom: float, width: float):
        self.plot = (left, top, right, bottom)
        self.width = width
        self.obstacles: list[tuple[float, float, float, float]] = []  # x, y, weight, radius
        self.boxes: list[tuple[float, float, float, float]] = []

    def obstacle(self, x: float, y: float, weight: float, radius: float = 3) -> None:
        self.obstacles.append((x, y, weight, radius))

    def segment(self, x0: float, y0: float, x1: float, y1: float, weight: float) -> None:
        steps = max(1, int(math.hypot(x1 - x0, y1 - y0) / 4))
        for i in range(steps + 1):
            self.obstacle(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps, weight / 2, 0)

    @staticmethod
    def box(x: float, y: float, anchor: str, text: str, size: tuple) -> tuple[float, float, float, float]:
        font, bold = size
        width = len(text) * font * (0.6 if bold else 0.55)
        x0 = x if anchor == "start" else x - width if anchor == "end" else x - width / 2
        return (x0, y - font * 0.8, x0 + width, y + font * 0.25)

    def place(self, text: str, candidates: list[tuple], *, size: tuple, inside: bool = True) -> Label:
        left, top, right, bottom = self.plot
        best, best_score = None, None
        for order, (x, y, anchor) in enumerate(candidates):
            x0, y0, x1, y1 = self.box(x, y, anchor, text, size)
            score = order * 0.01
            if (
                (x0 < left or x1 > right or y0 < top or y1 > bottom)
                if inside
                else (x0 < 2 or x1 > self.width - 2)
            ):
                score += 1000
            for ox, oy, weight, radius in self.obstacles:
                if x0 - 2 - radius <= ox <= x1 + 2 + radius and y0 - 2 - radius <= oy <= y1 + 2 + radius:
                    score += weight
            for bx0, by0, bx1, by1 in self.boxes:
                if x0 < bx1 + 4 and bx0 - 4 < x1 and y0 < by1 + 2 and by0 - 2 < y1:
                    score += 100
            if best_score is None or score < best_score:
                best, best_score = (x, y, anchor, (x0, y0, x1, y1)), score
        x, y, anchor, placed = best
        self.boxes.append(placed)
        return Label(x=_c(x), y=_c(y), anchor=anchor, text=text)


def _c(value: float) -> str:
    return f"{value:.1f}"


def trend_chart(
    metric: Metric,
    measurements: list[Measurement],
    *,
    attainment: Attainment,
    today: date,
    compact: bool = False,
) -> dict:
    """Everything the template needs to draw the chart, in SVG coordinates."""
    box = COMPACT if compact else FULL
    plot_left, plot_right = box["left"], box["width"] - box["right"]
    plot_top, plot_bottom = box["top"], box["height"] - box["bottom"]
    unit = metric.unit.strip()
    percent = unit in PERCENT_UNITS
    measured = sorted(measurements, key=lambda m: (m.on, m.pk or 0))

    # The time axis covers the baseline date, the target date, every measurement and today.
    dates = [metric.baseline_on, metric.target_date] + [m.on for m in measured]
    start, end = min(dates), max(dates)
    if today >= start:
        end = max(end, today)
    pad = max(3, round((end - start).days * 0.03))
    first_day, last_day = start - timedelta(days=pad), end + timedelta(days=pad)
    span_days = (last_day - first_day).days or 1

    def x_of(on: date) -> float:
        return plot_left + (on - first_day).days / span_days * (plot_right - plot_left)

    # The value axis covers baseline, target and every figure, with round ticks.
    values = [metric.baseline, metric.target] + [m.value for m in measured]
    low, high = min(values), max(values)
    margin = (high - low) * 0.12 or abs(high) * 0.1 or 1
    low, high = low - margin, high + margin
    if min(values) >= 0:
        low = max(low, 0)
    if percent and max(values) <= 100:
        high = min(high, 100)
    ticks = nice_ticks(low, high, 4 if compact else 5)
    y_low, y_high = ticks[0], ticks[-1]
    largest_tick = max(abs(y_low), abs(y_high))

    def y_of(value: float) -> float:
        return plot_bottom - (value - y_low) / (y_high - y_low) * (plot_bottom - plot_top)

    points = [
        Point(
            on=m.on,
            value=m.value,
            x=_c(x_of(m.on)),
            y=_c(y_of(m.value)),
            text=quantity(m.value, unit),
            source=m.get_source_display(),
            cases=m.cases,
        )
        for m in measured
    ]
    baseline_y, target_y = y_of(metric.baseline), y_of(metric.target)
    target_x, today_x = x_of(metric.target_date), x_of(today)
    show_today = first_day <= today <= last_day

    # Labels go where they hide the fewest figures and lines: each takes the first free spot among
    # its candidates (baseline and target labels prefer the outside of the band between the lines).
    layout = Layout(left=plot_left, right=plot_right, top=plot_top, bottom=plot_bottom, width=box["width"])
    xs = [float(p.x) for p in points]
    ys = [float(p.y) for p in points]
    for x, y in zip(xs, ys, strict=True):
        layout.obstacle(x, y, 2.0)
    for i in range(1, len(points)):
        layout.segment(xs[i - 1], ys[i - 1], xs[i], ys[i], 1.0)
    layout.segment(plot_left, baseline_y, plot_right, baseline_y, 1.0)
    layout.segment(plot_left, target_y, plot_right, target_y, 1.0)
    layout.segment(x_of(metric.baseline_on), baseline_y, target_x, target_y, 0.2)
    layout.segment(target_x, plot_top, target_x, plot_bottom, 0.3)
    layout.obstacle(target_x, target_y, 6.0, radius=7)
    if show_today:
        layout.segment(today_x, plot_top, today_x, plot_bottom, 0.3)

    top_row = plot_top - 9
    target_date_label = layout.place(
        f"Target date {day(metric.target_date)}",
        [(target_x, top_row, "middle"), (target_x - 4, top_row, "end"), (target_x + 4, top_row, "start")],
        size=SMALL,
        inside=False,
    )
    today_label = None
    if show_today:
        today_label = layout.place(
            "Today",
            [
                (today_x, top_row, "middle"),
                (today_x + 4, top_row, "start"),
                (today_x - 4, top_row, "end"),
                (today_x + 4, plot_bottom - 6, "start"),
                (today_x - 4, plot_bottom - 6, "end"),
            ],
            size=SMALL,
            inside=False,
        )
    baseline_above = baseline_y <= target_y
    b_out, b_in = (baseline_y - 7, baseline_y + 16) if baseline_above else (baseline_y + 16, baseline_y - 7)
    t_out, t_in = (target_y + 16, target_y - 7) if baseline_above else (target_y - 7, target_y + 16)
    left, right = plot_left + 6, plot_right - 6
    baseline_label = layout.place(
        f"Baseline {quantity(metric.baseline, unit)} · {day(metric.baseline_on)}",
        [(left, b_out, "start"), (right, b_out, "end"), (left, b_in, "start"), (right, b_in, "end")],
        size=LABEL,
    )
    target_label = layout.place(
        f"Target {quantity(metric.target, unit)} by {day(metric.target_date)}",
        [
            (target_x - 12, t_out, "end"),
            (right, t_out, "end"),
            (left, t_out, "start"),
            (target_x + 12, t_out, "start"),
            (target_x - 12, t_in, "end"),
            (right, t_in, "end"),
            (left, t_in, "start"),
        ],
        size=LABEL,
    )
    latest_label = None
    if points:
        lx, ly = xs[-1], ys[-1]
        latest_label = layout.place(
            points[-1].text,
            [
                (lx + 9, ly + 5, "start"),
                (lx, ly - 11, "middle"),
                (lx, ly + 21, "middle"),
                (lx - 9, ly + 5, "end"),
                (lx - 4, ly - 11, "end"),
                (lx - 4, ly + 21, "end"),
            ],
            size=LATEST,
            inside=False,
        )

    kind_label = Kind(metric.kind).label if metric.kind in Kind.values else ""
    if metric.kind == Kind.CUSTOM or not kind_label:
        y_title = unit or metric.name
    else:
        y_title = f"{kind_label} ({'per cent' if percent else unit})" if unit else kind_label
    return {
        **box,
        "plot_left": plot_left,
        "plot_right": plot_right,
        "plot_top": plot_top,
        "plot_bottom": plot_bottom,
        "plot_width": plot_right - plot_left,
        "plot_height": plot_bottom - plot_top,
        "center_x": _c((plot_left + plot_right) / 2),
        "center_y": _c((plot_top + plot_bottom) / 2),
        "y_title": y_title[:48],
        "y_title_x": 14,
        "y_title_y": _c((plot_top + plot_bottom) / 2),
        "x_label_y": plot_bottom + 18,
        "y_ticks": [
            {"y": _c(y_of(t)), "label": tick(t, largest=largest_tick, percent=percent)} for t in ticks
        ],
        "x_ticks": [{"x": _c(x_of(on)), "label": label} for on, label in date_ticks(first_day, last_day)],
        "baseline": {"y": _c(baseline_y), "label": baseline_label},
        "target": {
            "y": _c(target_y),
            "x": _c(target_x),
            "label": target_label,
            "date_label": target_date_label,
        },
        "planned": f"{_c(x_of(metric.baseline_on))},{_c(baseline_y)} {_c(target_x)},{_c(target_y)}",
        "today": {"show": show_today, "x": _c(today_x), "label": today_label},
        "points": points,
        "line": " ".join(f"{p.x},{p.y}" for p in points),
        "latest": latest_label,
        "has_data": bool(points),
        "description": describe(metric, points, attainment),
    }


def describe(metric: Metric, points: list[Point], attainment: Attainment) -> str:
    unit = metric.unit
    text = (
        f"{metric.name}, {metric.get_direction_display().lower()}: baseline "
        f"{quantity(metric.baseline, unit)} on {day(metric.baseline_on)}, target "
        f"{quantity(metric.target, unit)} by {day(metric.target_date)}. "
    )
    if not points:
        return text + "No measurement yet."
    first, last = points[0], points[-1]
    text += (
        f"{len(points)} measurement{'s' if len(points) != 1 else ''} from {day(first.on)} to {day(last.on)}; "
        f"latest {last.text} on {day(last.on)}"
    )
    if attainment.progress is not None:
        text += (
            f": {attainment.progress:.0%} of the way to the target with {attainment.expected:.0%} "
            f"of the time gone — {attainment.label.lower()}."
        )
    return text + ("" if text.endswith(".") else ".")

"""The learning chart: the geometry of a server-rendered SVG of the weekly correction rate.

One slot per ISO week of the window. A week with decided cases gets its rate as a point and its 95%
Wilson interval as a bar behind it (the bar is the honest part: a week of five cases is a tall bar);
consecutive weeks are joined by a line, and a week without decided cases is a gap — nothing is drawn
for it, because "no cases" is not "no corrections". The pilot's acceptable correction rate is a dashed
line; each AI version released inside the window is a vertical line at its release day, labelled with
its identifier. Coordinates are plain text with one decimal, so no locale's decimal comma can creep into
the drawing (house style of metrics/charts.py, which a step app may not import).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from feedback.learning import MIN_CASES, Week

FULL = {"width": 760, "height": 320, "left": 56, "right": 24, "top": 52, "bottom": 40}
BAR_WIDTH = 12.0
LABEL_FONT = 11.5  # px, for the width estimate of version labels
VERSION_ROWS = 2  # label rows above the plot before labels may overlap


def pct(share: float | None, digits: int = 1, *, trim: bool = False) -> str:
    """A share as a percentage: 4.7% · 20.0% (a measured rate keeps its decimal); with `trim`, as a
    setting or an axis tick reads: 5% · 2.5%. "–" for none."""
    if share is None:
        return "–"
    text = f"{share * 100:.{digits}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def interval_text(interval: tuple[float, float]) -> str:
    low, high = interval
    return f"{pct(low)}–{pct(high)}"


def day(on: date) -> str:
    return f"{on.day} {on:%b %Y}"


def _c(value: float) -> str:
    return f"{value:.1f}"


def _nice_step(span: float, count: int) -> float:
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * magnitude + 1e-12:
            return multiple * magnitude
    return 10 * magnitude


def rate_ticks(high: float, count: int = 4) -> list[float]:
    """Round shares from 0 covering 0..high (about `count` intervals), never past 100%."""
    high = min(max(high, 0.01), 1.0)
    step = _nice_step(high, count)
    steps = max(1, math.ceil(high / step - 1e-9))
    return [round(i * step, 10) for i in range(steps + 1)]


@dataclass
class WeekMark:
    label: str  # ISO week, e.g. 2026-W05
    start: date  # its Monday
    decided: int
    corrected: int
    rate: float | None
    interval: tuple[float, float] | None
    x: str  # the slot's centre
    y: str = ""  # the rate
    bar_x: str = ""
    bar_y: str = ""  # the interval's top (its upper bound, or the plot's top edge when clipped)
    bar_height: str = ""
    low_y: str = ""
    high_y: str = ""
    clipped: bool = False  # the upper bound lies above the axis
    clip_d: str = ""  # the chevron that marks a clipped interval
    few: bool = False  # fewer than MIN_CASES decided cases

    @property
    def empty(self) -> bool:
        return not self.decided

    @property
    def rate_text(self) -> str:
        return pct(self.rate)

    @property
    def interval_text(self) -> str:
        return interval_text(self.interval) if self.interval else "–"

    @property
    def text(self) -> str:
        """The week in words (tooltip and table)."""
        head = f"{self.label} (week of {day(self.start)})"
        if self.empty:
            return f"{head}: no decided cases"
        low, high = self.interval
        text = (
            f"{head}: {pct(self.rate)} corrected — {self.corrected} of {self.decided} decided "
            f"case{'s' if self.decided != 1 else ''}; 95% interval {pct(low)}–{pct(high)}"
        )
        return text + (f" (fewer than {MIN_CASES} cases)" if self.few else "")


@dataclass
class VersionMark:
    identifier: str
    released_on: date
    x: str
    label_x: str
    label_y: str
    anchor: str
    line_top: str


def _version_marks(
    versions: Sequence[tuple[str, date]],
    x_of_day,
    first: date,
    days: int,
    *,
    right: float,
    top: float,
) -> tuple[list[VersionMark], list[tuple[str, date]]]:
    """Vertical lines for the versions released inside the window, with labels in rows above the plot
    (a label takes the first row where it overlaps no label placed before it); the versions released
    outside the window come back separately."""
    marks: list[VersionMark] = []
    outside: list[tuple[str, date]] = []
    placed: list[tuple[int, float, float]] = []  # row, x0, x1

    def free(row: int, x0: float, x1: float) -> bool:
        return all(not (x0 < p1 + 6 and p0 - 6 < x1) for r, p0, p1 in placed if r == row)

    for identifier, released_on in sorted(versions, key=lambda v: (v[1], v[0])):
        offset = (released_on - first).days
        if not 0 <= offset < days:
            outside.append((identifier, released_on))
            continue
        x = x_of_day(offset)
        width = len(identifier) * LABEL_FONT * 0.6
        anchor = "start" if x + 3 + width <= right else "end"
        x0 = x + 3 if anchor == "start" else x - 3 - width
        row = next((r for r in range(VERSION_ROWS) if free(r, x0, x0 + width)), len(marks) % VERSION_ROWS)
        placed.append((row, x0, x0 + width))
        marks.append(
            VersionMark(
                identifier=identifier,
                released_on=released_on,
                x=_c(x),
                label_x=_c(x + 3 if anchor == "start" else x - 3),
                label_y=_c(top - 8 - row * 15),
                anchor=anchor,
                line_top=_c(top - 18 - row * 15),
            )
        )
    return marks, outside


def _acceptable_label(
    drawn: list[WeekMark], y: float, text: str, *, left: float, right: float, top: float, bottom: float
) -> tuple[float, float, str]:
    """Where the acceptable rate's label goes: at either end of its line, above or below it — the
    first spot that hides the fewest points and interval bars."""
    width = len(text) * LABEL_FONT * 0.6
    candidates = [
        (right - 4, y - 5, "end"),
        (left + 4, y - 5, "start"),
        (right - 4, y + 14, "end"),
        (left + 4, y + 14, "start"),
    ]
    best, best_score = candidates[0], None
    for order, (x, label_y, anchor) in enumerate(candidates):
        x0 = x - width if anchor == "end" else x
        x1, y0, y1 = x0 + width, label_y - 10, label_y + 3
        score = order * 0.01 + (1000 if y0 < top or y1 > bottom else 0)
        for mark in drawn:
            if not x0 - 8 <= float(mark.x) <= x1 + 8:
                continue
            if y0 - 4 <= float(mark.y) <= y1 + 4:
                score += 3  # the week's point
            elif float(mark.bar_y) <= y1 and float(mark.bar_y) + float(mark.bar_height) >= y0:
                score += 1  # its interval bar
        if best_score is None or score < best_score:
            best, best_score = (x, label_y, anchor), score
    return best


def rate_chart(
    weeks: Sequence[Week],
    *,
    acceptable: float,
    versions: Sequence[tuple[str, date]] = (),
) -> dict:
    """Everything the template needs to draw the weekly correction rate, in SVG coordinates.

    `weeks` are consecutive ISO weeks (learning.weekly), `acceptable` the pilot's acceptable correction
    rate (a share), `versions` (identifier, release day) pairs."""
    box = FULL
    plot_left, plot_right = box["left"], box["width"] - box["right"]
    plot_top, plot_bottom = box["top"], box["height"] - box["bottom"]
    count = max(len(weeks), 1)
    slot = (plot_right - plot_left) / count
    first = weeks[0].start if weeks else date.today()

    # The rate axis covers every weekly rate, the acceptable rate, and the intervals of the weeks with
    # enough cases; a small week's wide interval is cut at the top edge (and marked) rather than
    # flattening every other week against the bottom.
    active = [w for w in weeks if w.decided]
    reach = [acceptable] + [w.rate for w in active] + [w.interval[1] for w in active if w.enough]
    ticks = rate_ticks(max(reach) * 1.1 if max(reach) > 0 else 0.1)
    y_high = ticks[-1]

    def y_of(share: float) -> float:
        return plot_bottom - min(share, y_high) / y_high * (plot_bottom - plot_top)

    def x_of_day(offset_days: float) -> float:
        return plot_left + offset_days / 7 * slot

    marks = []
    for i, week in enumerate(weeks):
        centre = plot_left + (i + 0.5) * slot
        mark = WeekMark(
            label=week.label,
            start=week.start,
            decided=week.decided,
            corrected=week.corrected,
            rate=week.rate,
            interval=week.interval if week.decided else None,
            x=_c(centre),
        )
        if week.decided:
            low, high = week.interval
            top = y_of(high)
            mark.y = _c(y_of(week.rate))
            mark.low_y, mark.high_y = _c(y_of(low)), _c(top)
            mark.bar_x = _c(centre - BAR_WIDTH / 2)
            mark.bar_y = _c(top)
            mark.bar_height = _c(max(y_of(low) - top, 1.0))
            mark.clipped = high > y_high
            if mark.clipped:
                mark.clip_d = (
                    f"M{_c(centre - 5)},{_c(top + 6)} L{_c(centre)},{_c(top)} L{_c(centre + 5)},{_c(top + 6)}"
                )
            mark.few = not week.enough
        marks.append(mark)

    # The line breaks at every empty week: each run of consecutive weeks with cases is its own subpath.
    segments, run = [], []
    for mark in marks + [None]:
        if mark is not None and not mark.empty:
            run.append(f"{mark.x},{mark.y}")
            continue
        if run:
            segments.append("M" + " L".join(run))
        run = []

    version_marks, outside = _version_marks(
        versions, x_of_day, first, 7 * len(weeks), right=plot_right, top=plot_top
    )
    x_ticks = [
        {"x": m.x, "label": f"{m.start.day} {m.start:%b}"}
        for i, m in enumerate(marks)
        if (len(marks) - 1 - i) % 4 == 0
    ]
    acceptable_y = y_of(acceptable)
    drawn = [m for m in marks if not m.empty]
    acceptable_label = f"Acceptable {pct(acceptable, 2, trim=True)}"
    edges = {"left": plot_left, "right": plot_right, "top": plot_top, "bottom": plot_bottom}
    label_x, label_y, label_anchor = _acceptable_label(drawn, acceptable_y, acceptable_label, **edges)
    return {
        **box,
        "plot_left": plot_left,
        "plot_right": plot_right,
        "plot_top": plot_top,
        "plot_bottom": plot_bottom,
        "center_x": _c((plot_left + plot_right) / 2),
        "center_y": _c((plot_top + plot_bottom) / 2),
        "y_title_x": 14,
        "y_title_y": _c((plot_top + plot_bottom) / 2),
        "x_label_y": plot_bottom + 18,
        "y_ticks": [{"y": _c(y_of(t)), "label": pct(t, trim=True)} for t in ticks],
        "y_high": y_high,
        "x_ticks": x_ticks,
        "weeks": marks,
        "bar_width": _c(BAR_WIDTH),
        "drawn": drawn,
        "line": " ".join(segments),
        "acceptable": {
            "share": acceptable,
            "y": _c(acceptable_y),
            "text": pct(acceptable, 2, trim=True),
            "label": acceptable_label,
            "label_x": _c(label_x),
            "label_y": _c(label_y),
            "anchor": label_anchor,
        },
        "versions": version_marks,
        "versions_outside": outside,
        "has_data": bool(active),
        "any_clipped": any(m.clipped for m in marks),
        "description": describe(marks, acceptable=acceptable, versions=version_marks, outside=outside),
    }


def describe(
    marks: list[WeekMark],
    *,
    acceptable: float,
    versions: list[VersionMark],
    outside: list[tuple[str, date]],
) -> str:
    """The chart in sentences, for its <desc>."""
    if not marks:
        return "No weeks to show."
    text = (
        f"Weekly correction rate (corrected ÷ decided cases), {len(marks)} ISO weeks from {marks[0].label} "
        f"to {marks[-1].label}. Acceptable correction rate: {pct(acceptable, 2, trim=True)}. "
    )
    active = [m for m in marks if not m.empty]
    if not active:
        text += "No decided cases in these weeks."
    else:
        empty = len(marks) - len(active)
        text += f"{len(active)} week{'s' if len(active) != 1 else ''} with decided cases"
        text += f", {empty} without (shown as gaps). " if empty else ". "
        text += f"Latest: {active[-1].text}. "
        best = min(active, key=lambda m: (m.rate, m.start))
        worst = max(active, key=lambda m: (m.rate, m.start))
        if len(active) > 1:
            text += f"Lowest {pct(best.rate)} in {best.label}; highest {pct(worst.rate)} in {worst.label}. "
    if versions:
        shown = "; ".join(f"{v.identifier} released {day(v.released_on)}" for v in versions)
        text += f"AI versions released in the window: {shown}."
    elif outside:
        text += "No AI version was released in these weeks."
    return text.strip()

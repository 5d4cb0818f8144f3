"""The portfolio dashboard's charts (issue 9): the geometry of small server-rendered SVG line charts and of
CSS bars, so the page needs no charting script. Coordinates are plain text with one decimal."""

from dataclasses import dataclass, field

from pilots.models import PortfolioWeek, Stage

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 560, 200, 44, 16, 14, 30
PILOTING = [Stage.DEFINE_SUCCESS, Stage.STANDARDIZE_INPUTS, Stage.EXCEPTION_PATHS, Stage.FEEDBACK_LOOPS]


def bars(counts: list[tuple[str, int]]) -> list[dict]:
    """Bars for a distribution: each label's count and its height as a share of the tallest."""
    largest = max((count for _label, count in counts), default=0)
    return [
        {"label": label, "count": count, "height": round(100 * count / largest, 1) if largest else 0}
        for label, count in counts
    ]


@dataclass
class Series:
    label: str
    css: str  # the class that colours the line
    points: str = ""  # "x,y x,y …" for <polyline>
    dots: list[tuple[str, str, str]] = field(default_factory=list)  # (x, y, title)
    last: float | None = None


@dataclass
class LineChart:
    title: str
    unit: str
    series: list[Series]
    ticks: list[tuple[str, str]]  # (y, label)
    weeks: list[tuple[str, str]]  # (x, label)
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def empty(self) -> bool:
        return not any(s.dots for s in self.series)


def _scale(largest: float) -> float:
    """A round top for the y axis."""
    if largest <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 50_000, 100_000):
        if largest <= step * 4:
            return step * 4
    return largest * 1.1


def line_chart(
    title: str, unit: str, weeks: list, series: dict[str, tuple[str, list]], *, top=None
) -> LineChart:
    """A chart of weekly figures: `series` maps a label to (css class, one value or None per week)."""
    count = len(weeks)
    values = [v for _css, vs in series.values() for v in vs if v is not None]
    high = top if top is not None else _scale(max(values, default=0))
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (inner_w * i / (count - 1) if count > 1 else inner_w / 2)

    def y(v: float) -> float:
        return TOP + inner_h * (1 - v / high)

    drawn = []
    for label, (css, vs) in series.items():
        line = Series(label, css)
        coords = [(x(i), y(v), v, weeks[i]) for i, v in enumerate(vs) if v is not None]
        line.points = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy, _v, _w in coords)
        line.dots = [(f"{cx:.1f}", f"{cy:.1f}", f"{w:%d %b}: {_fmt(v)}") for cx, cy, v, w in coords]
        line.last = coords[-1][2] if coords else None
        drawn.append(line)
    ticks = [(f"{y(high * i / 4):.1f}", _fmt(high * i / 4)) for i in range(5)]
    every = max(1, count // 6)
    labels = [(f"{x(i):.1f}", f"{w:%d %b}") for i, w in enumerate(weeks) if i % every == 0 or i == count - 1]
    return LineChart(title, unit, drawn, ticks, labels)


def trend(weeks: list[PortfolioWeek]) -> list[LineChart]:
    """The portfolio's weekly record as three charts: pilots by phase, median readiness, value delivered."""
    if not weeks:
        return []
    days = [w.week for w in weeks]
    charts = [
        line_chart(
            "Pilots by phase",
            "pilots",
            days,
            {
                "Ideas (proposed)": ("s-ideas", [w.stages.get(Stage.PROPOSED, 0) for w in weeks]),
                "Piloting": ("s-piloting", [sum(w.stages.get(s, 0) for s in PILOTING) for w in weeks]),
                "In production": ("s-production", [w.stages.get(Stage.PRODUCTION, 0) for w in weeks]),
            },
        ),
        line_chart(
            "Median readiness",
            "0–100",
            days,
            {"Median readiness": ("s-readiness", [w.median_score for w in weeks])},
            top=100,
        ),
    ]
    value = {
        label: (f"s-{suffix}", [w.value.get(suffix) for w in weeks])
        for suffix, label in (
            ("hours", "Hours saved"),
            ("errors", "Errors avoided"),
            ("touchpoints", "Touchpoints removed"),
        )
    }
    charts.append(line_chart("Value delivered per month", "per month", days, value))
    return charts


def _fmt(value: float) -> str:
    if abs(value) >= 10_000:
        return f"{value / 1000:,.0f}k"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.1f}"

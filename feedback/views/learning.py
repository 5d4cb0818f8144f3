"""Step 4's learning page: does the pilot make fewer mistakes over time and across AI versions? The
verdict (stated with its basis and the acceptable correction rate beside it), the weekly correction rate
as a chart with its 95% intervals, the rate per AI version, the top reasons over time, and the backlog of
corrections waiting to be incorporated. Also the pilot page's step-4 card, and the form that sets the
pilot's acceptable correction rate.

Setting the rate answers a plain post with a redirect to the learning page and a message; htmx gets the
refreshed verdict block and the event `correctionRateSet` (the chart reloads itself on it, to move its
acceptable-rate line)."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Min, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from feedback import learning as trend  # the figures (the module's name is this view's)
from feedback.charts import interval_text, pct, rate_chart
from feedback.learning import MIN_CASES, WINDOW_WEEKS, Verdict, VersionRate, Week
from feedback.models import Correction
from pilots import access
from pilots.models import Case, Pilot
from pilots.services import standards as standard_services

EVENT = "correctionRateSet"
# Fragments of the learning page an htmx request may ask for by its target.
PARTIALS = ("learning-verdict", "learning-chart")
MAX_PERCENT = Decimal(50)


# --- the acceptable correction rate ---


def setting(share: float) -> str:
    """The acceptable rate as it was set: 5% · 2.5% · 0.25%."""
    return pct(share, 2, trim=True)


def percent_number(share: float) -> str:
    """The share as the number a person types in the percentage field: 0.05 → "5", 0.025 → "2.5"."""
    return setting(share).removesuffix("%")


class AcceptableRateForm(forms.Form):
    percent = forms.CharField(
        label="Acceptable correction rate (%)",
        max_length=32,
        help_text="The share of decided cases people may correct, e.g. 5 for 5% (0–50).",
        error_messages={"required": "Give the acceptable correction rate as a percentage, e.g. 5 for 5%."},
    )

    def clean_percent(self) -> Decimal:
        given = self.cleaned_data["percent"]
        text = given.strip().removesuffix("%").strip().replace(",", ".")
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            raise ValidationError(f"“{given}” is not a number: give a percentage, e.g. 5 for 5%.")
        if value < 0:
            raise ValidationError("A correction rate cannot be negative: give a percentage from 0 to 50.")
        if value > MAX_PERCENT:
            raise ValidationError(f"Give at most {MAX_PERCENT}%: the rate is a share of decided cases.")
        if value.as_tuple().exponent < -2:
            raise ValidationError("Give at most two decimals, e.g. 2.5 or 0.25.")
        return value

    @classmethod
    def for_pilot(cls, pilot: Pilot) -> "AcceptableRateForm":
        return cls(initial={"percent": percent_number(pilot.acceptable_correction_rate)})


# --- what the page shows ---


@dataclass
class VerdictView:
    """The verdict as the page states it: with its basis and against the acceptable correction rate."""

    verdict: Verdict
    acceptable: float
    newer_unjudged: list[VersionRate] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.verdict.kind

    @property
    def later_rate(self) -> float | None:
        return self.verdict.later.rate if self.verdict.later else None

    @property
    def within_acceptable(self) -> bool | None:
        """Whether the later side's rate is at or under the acceptable rate (None without figures)."""
        rate = self.later_rate
        return None if rate is None else rate <= self.acceptable

    @property
    def flat_within(self) -> bool:
        return self.kind == trend.FLAT and bool(self.within_acceptable)

    @property
    def headline(self) -> str:
        if self.kind == trend.FLAT:
            within = self.within_acceptable
            return "Flat but within the acceptable rate" if within else "Flat, above the acceptable rate"
        return self.verdict.label

    @property
    def css(self) -> str:
        return "flat-within" if self.flat_within else self.kind.replace("_", "-")

    @property
    def basis_text(self) -> str:
        verdict = self.verdict
        if verdict.basis == "versions":
            return (
                f"Compared: the last two AI versions with at least {MIN_CASES} decided cases each, "
                f"{verdict.earlier.label} and {verdict.later.label} (all their decided cases)."
            )
        if verdict.basis == "quarters":
            return (
                f"Compared: the first and the last quarter of the weeks with decided cases in the last "
                f"{WINDOW_WEEKS} weeks ({verdict.earlier.label} against {verdict.later.label}), because "
                f"fewer than two AI versions have {MIN_CASES} decided cases each."
            )
        return "Nothing to compare yet."

    @property
    def acceptable_text(self) -> str:
        rate, later = self.later_rate, self.verdict.later
        if rate is None or later is None:
            return "No rate to hold against it yet."
        side = "at or under" if rate <= self.acceptable else "above"
        limit = setting(self.acceptable)
        return f"The later rate ({later.label}: {pct(rate)}) is {side} the acceptable {limit}."

    @property
    def notes(self) -> list[str]:
        return [
            f"{v.label} is newer but has {v.decided} decided case{'s' if v.decided != 1 else ''}, fewer "
            f"than {MIN_CASES}: it is not judged yet."
            for v in self.newer_unjudged
        ]


def verdict_view(pilot: Pilot, verdict: Verdict, versions: list[VersionRate]) -> VerdictView:
    newer: list[VersionRate] = []
    if verdict.basis == "versions":
        labels = [v.label for v in versions]
        after = labels.index(verdict.later.label) + 1 if verdict.later.label in labels else len(versions)
        newer = [v for v in versions[after:] if v.decided and not v.enough]
    return VerdictView(verdict=verdict, acceptable=pilot.acceptable_correction_rate, newer_unjudged=newer)


@dataclass
class VersionRow:
    version: VersionRate
    compared: bool

    @property
    def rate_text(self) -> str:
        return pct(self.version.rate) if self.version.enough else "Not enough data"

    @property
    def interval_text(self) -> str:
        return interval_text(self.version.interval) if self.version.enough else "–"


@dataclass
class WeekFigure:
    """The latest week with decided cases, as the pilot page's card states it."""

    week: Week

    @property
    def few(self) -> bool:
        return not self.week.enough

    @property
    def rate_text(self) -> str:
        return pct(self.week.rate)

    @property
    def detail(self) -> str:
        w = self.week
        return f"{w.corrected} of {w.decided} decided · 95% interval {interval_text(w.interval)}"


def latest_week(weeks: list[Week]) -> WeekFigure | None:
    """The latest week with at least MIN_CASES decided cases (a week of four cases says little — often
    it is this week, just begun); without one, the latest week with any."""
    active = [w for w in weeks if w.decided]
    enough = [w for w in active if w.enough]
    if enough:
        return WeekFigure(enough[-1])
    return WeekFigure(active[-1]) if active else None


@dataclass
class Backlog:
    total: int
    waiting: int
    oldest_at: datetime | None
    incorporated: int
    median: timedelta | None = None


def backlog_of(pilot: Pilot, *, with_median: bool = False) -> Backlog:
    """The pilot's corrections: how many, how many wait to be incorporated (and since when), and — for
    the learning page — the median time from a correction to its incorporation."""
    done = ~Q(incorporated_into="") & Q(incorporated_at__isnull=False)
    counts = Correction.objects.filter(pilot=pilot).aggregate(
        total=Count("id"),
        waiting=Count("id", filter=Q(incorporated_into="")),
        oldest_at=Min("at", filter=Q(incorporated_into="")),
        incorporated=Count("id", filter=done),
    )
    found = Backlog(**counts)
    if with_median and found.incorporated:
        found.median = median_time_to_incorporate(pilot, found.incorporated)
    return found


def median_time_to_incorporate(pilot: Pilot, count: int) -> timedelta | None:
    """The median of incorporated_at − at over the pilot's incorporated corrections (`count` of them), in
    one query that reads only the middle one or two."""
    if not count:
        return None
    durations = (
        Correction.objects.filter(pilot=pilot, incorporated_at__isnull=False)
        .exclude(incorporated_into="")
        .annotate(took=F("incorporated_at") - F("at"))
        .order_by("took", "id")
        .values_list("took", flat=True)
    )
    middle = list(durations[(count - 1) // 2 : count // 2 + 1])
    if not middle:
        return None
    return sum(middle, timedelta()) / len(middle)


def duration_text(span: timedelta | None) -> str:
    if span is None:
        return "–"
    hours = span.total_seconds() / 3600
    if hours < 1:
        return "under an hour"
    if hours < 48:
        return f"{hours:.0f} hour{'s' if round(hours) != 1 else ''}"
    days = hours / 24
    return f"{days:.1f}".rstrip("0").rstrip(".") + " days"


def reason_table(pilot: Pilot) -> dict:
    """Corrections per reason (rows, most frequent first) and month (columns) over the window."""
    rows = trend.top_reasons(pilot)
    months: list[date] = sorted({month for _, counts, _ in rows for month, _ in counts})
    return {
        "months": months,
        "rows": [
            {"label": label, "cells": [dict(counts).get(month, 0) for month in months], "total": total}
            for label, counts, total in rows
        ],
    }


def _has_decided_cases(pilot: Pilot, weeks: list[Week], versions: list[VersionRate]) -> bool:
    if any(w.decided for w in weeks) or any(v.decided for v in versions):
        return True
    # Decided cases older than the window, or without an AI version.
    return Case.objects.filter(pilot=pilot, decided_at__isnull=False).exists()


def _learning_context(pilot: Pilot, **extra) -> dict:
    weeks = trend.weekly(pilot)
    versions = trend.by_version(pilot)
    verdict = trend.verdict(pilot, weeks=weeks, versions=versions)
    compared = set()
    if verdict.basis == "versions" and verdict.later:
        compared = {verdict.earlier.label, verdict.later.label}
    context = {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "can": access.allowed_actions(pilot.workspace.membership, pilot),
        "has_cases": _has_decided_cases(pilot, weeks, versions),
        "verdict": verdict_view(pilot, verdict, versions),
        "acceptable_text": setting(pilot.acceptable_correction_rate),
        "rate_form": AcceptableRateForm.for_pilot(pilot),
        "chart": rate_chart(
            weeks,
            acceptable=pilot.acceptable_correction_rate,
            versions=[(v.label, v.released_on) for v in versions if v.released_on],
        ),
        "version_rows": [VersionRow(v, v.label in compared) for v in versions],
        "reasons": reason_table(pilot),
        "backlog": backlog_of(pilot, with_median=True),
        "min_cases": MIN_CASES,
        "window_weeks": WINDOW_WEEKS,
    }
    context["median_text"] = duration_text(context["backlog"].median)
    return context | extra


def _page(
    request: HttpRequest, pilot: Pilot, *, partial: str = "", status: int = 200, **extra
) -> HttpResponse:
    context = _learning_context(pilot, **extra)
    name = f"feedback/learning.html#{partial}" if partial else "feedback/learning.html"
    return TemplateResponse(request, name, context, status=status)


@require_GET
def learning(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    target = request.htmx.target if request.htmx else None
    return _page(request, pilot, partial=target if target in PARTIALS else "")


@require_POST
def acceptable_rate(request: HttpRequest, pilot_id: int) -> HttpResponse:
    """Set the pilot's acceptable correction rate from a percentage (5 → 5%)."""
    pilot = access.pilot_for(request.user, pilot_id, need="set_acceptable_correction_rate")
    form = AcceptableRateForm(request.POST)
    if form.is_valid():
        share = float(form.cleaned_data["percent"] / 100)
        unchanged = share == pilot.acceptable_correction_rate
        try:
            updated = standard_services.set_acceptable_correction_rate(
                pilot=pilot, actor=request.user, rate=share
            )
        except ValidationError as error:
            form.add_error("percent", error.messages)
        else:
            pilot.acceptable_correction_rate = updated.acceptable_correction_rate
            shown = setting(share)
            message = (
                f"The acceptable correction rate stays at {shown}."
                if unchanged
                else f"Acceptable correction rate set to {shown}."
            )
            if not request.htmx:
                messages.success(request, message)
                return redirect("learning", pilot_id=pilot.pk)
            response = _page(request, pilot, partial="learning-verdict", rate_message=message)
            return trigger_client_event(response, EVENT)
    partial = "learning-verdict" if request.htmx else ""
    return _page(request, pilot, partial=partial, rate_form=form, status=422)


# --- the pilot page's card ---


@require_GET
def feedback_panel(request: HttpRequest, pilot_id: int) -> HttpResponse:
    """Step 4 on the pilot page (loaded by htmx once the page is shown): the verdict, the latest weekly
    rate with its interval, the corrections and the backlog — a fixed number of queries."""
    pilot = access.pilot_for(request.user, pilot_id)
    weeks = trend.weekly(pilot)
    versions = trend.by_version(pilot)
    verdict = trend.verdict(pilot, weeks=weeks, versions=versions)
    latest = latest_week(weeks)
    context = {
        "pilot": pilot,
        "can": access.allowed_actions(pilot.workspace.membership, pilot),
        "has_cases": _has_decided_cases(pilot, weeks, versions),
        "verdict": verdict_view(pilot, verdict, versions),
        "acceptable_text": setting(pilot.acceptable_correction_rate),
        "latest": latest,
        "backlog": backlog_of(pilot),
        "window_weeks": WINDOW_WEEKS,
        "min_cases": MIN_CASES,
    }
    return TemplateResponse(request, "feedback/_panel.html#panel", context)

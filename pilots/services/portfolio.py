"""The portfolio's weekly work (issue 9): record each workspace's week for the trend, and send its leaders
the digest — the dashboard's figures and links, by email, once a week. Both are claimed in the database,
so a task delivered twice records one row and sends one email."""

import logging
from datetime import date, datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from pilots import selectors
from pilots.models import PortfolioWeek, Role, Stage, Workspace
from pilots.services import audit
from pilots.services.notifications import absolute, notify_people

log = logging.getLogger(__name__)


def week_of(workspace: Workspace, now: datetime) -> date:
    """The Monday of `now`'s ISO week in the workspace's timezone."""
    today = now.astimezone(workspace.zone).date()
    return today - timedelta(days=today.weekday())


@transaction.atomic
def record_week(*, workspace: Workspace, now: datetime | None = None) -> PortfolioWeek:
    """This week's row of the trend (recorded again within the week, it is brought up to date)."""
    now = now or timezone.now()
    summary = selectors.portfolio_summary(workspace, selectors.PortfolioFilters(), now=now)
    week, created = PortfolioWeek.objects.update_or_create(
        workspace=workspace,
        week=week_of(workspace, now),
        defaults={
            "pilots": summary.pilots,
            "stages": summary.at_stage,
            "median_score": summary.median_score,
            "value": {suffix: figure["per_month"] for suffix, figure in summary.value.items()},
            "recorded_at": now,
        },
    )
    if created:
        audit.record(workspace=workspace, actor=None, action="portfolio.week_recorded", obj=week)
    return week


def record_all_weeks(*, now: datetime | None = None) -> int:
    count = 0
    for workspace in Workspace.objects.order_by("id"):
        record_week(workspace=workspace, now=now)
        count += 1
    return count


def record_export(*, workspace: Workspace, actor, filters: str) -> None:
    """The portfolio left ProdReady as a file: who took it, and with which filters."""
    audit.record(
        workspace=workspace,
        actor=actor,
        action="portfolio.exported",
        obj=workspace,
        after={"filters": filters},
    )


def digest_text(*, workspace: Workspace, now: datetime) -> tuple[str, str]:
    """The digest's subject and body: the same figures the dashboard opens with, and where to look."""
    filters = selectors.PortfolioFilters()
    summary = selectors.portfolio_summary(workspace, filters, now=now)
    stuck, fell = selectors.watch_lists(
        workspace, filters, summary, now=now, number=1, per_page=5, fallen_limit=5
    )
    weakest = selectors.weakest_sections(summary)[:3]
    names = selectors.people({r.who_id for row in stuck.object_list for r in row["reasons"]})
    compare = summary.comparison
    lines = [
        f"Your AI portfolio in {workspace.name}, week of {week_of(workspace, now):%d %B %Y}.",
        "",
        f"{summary.pilots} pilots: {compare['started']} started,"
        f" {summary.reached[Stage.PRODUCTION]} in production"
        f" ({_pct(compare['production_of_started'])} of those started; in the GenAI Divide study, 5 in 20"
        " organisations that piloted reached production).",
        f"Median readiness: {_num(summary.median_score)}. Fell in the last 14 days: {summary.fell}.",
    ]
    if weakest:
        held = ", ".join(f"{row['label']} ({row['pilots']})" for row in weakest)
        lines.append(f"Held back most by: {held}.")
    lines += ["", "Value delivered per month (against what the targets would deliver):"]
    for figure in summary.value.values():
        if figure["tracked"]:
            delivered, target = _num(figure["per_month"]), _num(figure["target"])
            lines.append(f"  {figure['label']}: {delivered} of {target} {figure['unit']}")
    lines += ["", f"Stuck: {stuck.paginator.count} pilots."]
    for row in stuck.object_list:
        reason = row["reasons"][0] if row["reasons"] else None
        who = names.get(reason.who_id, "nobody named") if reason else ""
        link = absolute(reverse("pilot_detail", args=[row["pilot_id"]]))
        lines.append(f"  {row['name']}: {reason.reason if reason else ''}; {who} can {reason.action}. {link}")
    if fell:
        lines += ["", "Readiness fell:"]
        for row in fell:
            lines.append(
                f"  {row['name']}: {row['score_14_days_ago']} → {row['score']} (weakest: {row['weakest']})"
            )
    lines += ["", f"The dashboard: {absolute(reverse('portfolio', args=[workspace.slug]))}"]
    return f"ProdReady weekly portfolio: {workspace.name}", "\n".join(lines) + "\n"


def send_digest(*, workspace_id: int, now: datetime | None = None) -> int:
    """Email this week's digest to the workspace's leaders, once: the week's row is claimed first."""
    now = now or timezone.now()
    workspace = Workspace.objects.get(pk=workspace_id)
    week = record_week(workspace=workspace, now=now)
    if PortfolioWeek.objects.filter(pk=week.pk, digest_sent_at=None).update(digest_sent_at=now) != 1:
        return 0  # Return early: this week's digest already went out
    leaders = [m.user for m in selectors.members_with_role(workspace, Role.LEADER)]
    subject, body = digest_text(workspace=workspace, now=now)
    try:
        sent = notify_people(users=leaders, subject=subject, body=body)
    except OSError:  # the mail server failed: give the claim back, so the task's retry sends it
        PortfolioWeek.objects.filter(pk=week.pk).update(digest_sent_at=None)
        raise
    log.info("portfolio digest sent", extra={"workspace": workspace.slug, "recipients": sent})
    return sent


def send_all_digests(*, now: datetime | None = None) -> int:
    return sum(send_digest(workspace_id=pk, now=now) for pk in Workspace.objects.values_list("pk", flat=True))


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}".rstrip("0").rstrip(".")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:g}%"

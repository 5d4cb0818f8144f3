"""The portfolio dashboard (issue 9): one page for leaders, filtered through htmx with the URL pushed (and
by a plain form without JavaScript), and the filtered portfolio as CSV."""

from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from pilots import access, charts, csvio, portfolio, selectors
from pilots.checks import SECTIONS
from pilots.htmx import swaps_part
from pilots.models import Role, Stage, Status, Workspace
from pilots.services import portfolio as portfolio_services
from pilots.services.notifications import absolute

STAGE_LABELS = dict(Stage.choices)
STATUS_LABELS = dict(Status.choices)


@require_GET
def portfolio_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = access.workspace_for(request.user, slug, need="view_portfolio")
    filters = selectors.PortfolioFilters.from_query(request.GET)
    now = timezone.now()
    summary = selectors.portfolio_summary(workspace, filters, now=now)
    stuck, fell = selectors.watch_lists(workspace, filters, summary, now=now, number=request.GET.get("page"))
    names = selectors.people(
        {r.who_id for row in stuck.object_list for r in row["reasons"]}
        | {row["workflow_owner_id"] for row in fell}
    )
    for row in stuck.object_list:
        row["reasons"] = [(r, names.get(r.who_id, "nobody named")) for r in row["reasons"]]
    for row in fell:
        row["owner_name"] = names.get(row["workflow_owner_id"], "—")
    context = {
        "workspace": workspace,
        "filters": filters,
        "summary": summary,
        "funnel": summary.funnel,
        "comparison": summary.comparison,
        "weakest": selectors.weakest_sections(summary),
        "units": summary.units,
        "stuck": stuck,
        "fell": fell,
        "bands": charts.bars(summary.bands),
        "stuck_days": portfolio.stuck_days(),
        "waiting_days": portfolio.waiting_days(),
        "export_url": f"{reverse('portfolio_export', args=[workspace.slug])}?{filters.query()}",
        # The filter form is swapped with the dashboard, so that it always says what the dashboard shows.
        "stages": Stage.choices,
        "statuses": Status.choices,
        "owners": selectors.members_with_role(workspace, Role.WORKFLOW_OWNER),
        "business_units": selectors.snapshot_business_units(workspace),
    }
    if swaps_part(request):
        return TemplateResponse(request, "pilots/portfolio.html#dashboard", context)
    context["trend"] = charts.trend(selectors.portfolio_trend(workspace))
    return TemplateResponse(request, "pilots/portfolio.html", context)


EXPORT_HEADER = [
    "pilot", "link", "business unit", "stage", "status", "readiness", "weakest section",
    "readiness 14 days ago",
    *(f"{label} per month" for _s, label, _u in portfolio.VALUE_KINDS.values()),
    *(f"{label} per month at target" for _s, label, _u in portfolio.VALUE_KINDS.values()),
    "program manager", "workflow owner", "stuck because", "who can unblock",
]  # fmt: skip


def export_lines(workspace: Workspace, filters: selectors.PortfolioFilters) -> Iterator[str]:
    """The filtered portfolio as CSV lines: every cell neutralised against spreadsheet formulas."""
    now = timezone.now()
    names = selectors.people(set(workspace.memberships.values_list("user_id", flat=True)))
    out = csvio.streaming_writer()
    yield out.writerow(EXPORT_HEADER)
    for row in selectors.portfolio_rows(workspace, filters):
        reasons = portfolio.stuck_reasons(row, now=now) if row["status"] != Status.STOPPED else []
        yield out.writerow(
            [
                row["name"],
                absolute(reverse("pilot_detail", args=[row["pilot_id"]])),
                row["business_unit"],
                STAGE_LABELS.get(row["stage"], row["stage"]),
                STATUS_LABELS.get(row["status"], row["status"]),
                row["score"],
                SECTIONS.get(row["weakest_section"], ""),
                row["score_14_days_ago"],
                *(_round(row[f"value_{suffix}"]) for suffix, _l, _u in portfolio.VALUE_KINDS.values()),
                *(_round(row[f"target_{suffix}"]) for suffix, _l, _u in portfolio.VALUE_KINDS.values()),
                names.get(row["program_manager_id"], ""),
                names.get(row["workflow_owner_id"], ""),
                "; ".join(r.reason for r in reasons),
                "; ".join(f"{names.get(r.who_id, 'nobody named')} ({r.action})" for r in reasons),
            ]
        )


def _round(value: float | None) -> float | str:
    return "" if value is None else round(value, 2)


@require_GET
def portfolio_export(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    workspace = access.workspace_for(request.user, slug, need="view_portfolio")
    filters = selectors.PortfolioFilters.from_query(request.GET)
    portfolio_services.record_export(workspace=workspace, actor=request.user, filters=filters.query())
    response = StreamingHttpResponse(export_lines(workspace, filters), content_type="text/csv; charset=utf-8")
    name = f"{workspace.slug}-portfolio-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response

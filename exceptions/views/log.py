"""The decision log of a pilot: every routing decision (by the rules) and review decision (by a person),
filterable, 50 a page, and the same rows as a CSV download."""

from collections.abc import Iterator
from datetime import datetime

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from exceptions import selectors
from exceptions.models import Decision, Outcome
from exceptions.selectors import LogFilters
from pilots import access, csvio
from pilots.htmx import swaps_part
from pilots.models import Case, Pilot

PAGE_SIZE = 50
FILTER_NAMES = tuple(LogFilters.__dataclass_fields__)
KINDS = [("routing", "Routing (by the rules)"), ("review", "Review (by a person)")]
OUTCOME_LABELS = {**dict(Case.Route.choices), **dict(Outcome.choices)}
CSV_HEADER = ["time", "kind", "outcome", "external_id", "rule_version", "rule", "actor", "rationale"]


def _filters(params: QueryDict) -> LogFilters:
    return LogFilters(**{name: params.get(name, "").strip()[:200] for name in FILTER_NAMES})


def _query(params: QueryDict) -> str:
    """The filters of this request, urlencoded (for the pager and the CSV link)."""
    kept = QueryDict(mutable=True)
    for name in FILTER_NAMES:
        value = params.get(name, "").strip()[:200]
        if value:
            kept[name] = value
    return kept.urlencode()


def _actors(pilot: Pilot) -> list[tuple[str, str]]:
    """The reviewers who decided on this pilot's cases."""
    found = (
        Decision.objects.filter(pilot=pilot, reviewer__isnull=False)
        .values_list("reviewer_id", "actor_label")
        .distinct()
        .order_by("actor_label", "reviewer_id")
    )
    seen: dict[str, str] = {}
    for reviewer_id, label in found:
        seen.setdefault(str(reviewer_id), label)
    return list(seen.items())


@require_GET
def decision_log(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    filters = _filters(request.GET)
    page = Paginator(selectors.decision_log(pilot, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = _query(request.GET)
    context = {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "page": page,
        "filters": filters,
        "query": query,
        "filtered": bool(query),
        "outcome_labels": OUTCOME_LABELS,
    }
    if swaps_part(request):
        return TemplateResponse(request, "exceptions/decision_log.html#log-table", context)
    context |= {
        "kinds": KINDS,
        "routes": Case.Route.choices,
        "review_outcomes": Outcome.choices,
        "versions": list(selectors.rule_tables_of(pilot).values_list("version", flat=True)),
        "actors": _actors(pilot),
    }
    return TemplateResponse(request, "exceptions/decision_log.html", context)


def _local(at: datetime | None, zone) -> str:
    return timezone.localtime(at, zone).isoformat() if at else ""


def csv_lines(rows, zone) -> Iterator[str]:
    """The log as CSV lines, every cell neutralised against spreadsheet formulas."""
    out = csvio.streaming_writer()
    yield out.writerow(CSV_HEADER)
    for row in rows.iterator(chunk_size=2000):
        yield out.writerow(
            [
                _local(row["log_at"], zone),
                row["log_kind"],
                row["log_outcome"],
                row["log_external_id"],
                row["log_version"] if row["log_version"] is not None else "",
                row["log_rule"] or "",
                row["log_actor"] or "",
                row["log_rationale"] or "",
            ]
        )


@require_GET
def decision_log_csv(request: HttpRequest, pilot_id: int) -> StreamingHttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    rows = selectors.decision_log(pilot, _filters(request.GET))
    response = StreamingHttpResponse(csv_lines(rows, pilot.workspace.zone), content_type="text/csv")
    name = f"{slugify(pilot.name) or 'pilot'}-decisions.csv"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response

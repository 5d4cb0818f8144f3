"""The regression set: the corrected cases the pilot's AI team tests the next version against — a page
and two downloads (JSON Lines, CSV). Every download is recorded (and announced to webhooks)."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from feedback.forms import shown
from feedback.models import ReasonCode
from feedback.services import incorporation
from pilots import access, csvio
from pilots.models import Case, Pilot

REGRESSION_PAGE_CAP = 200
CSV_HEADER = ["external_id", "inputs", "ai_outputs", "corrected_outputs", "reasons"]


# --- recording a correction on a case ------------------------------------------------------------------


@dataclass
class Entry:
    external_id: str
    case_id: int | None
    changes: list[tuple[str, str, str]]  # (output, AI value, corrected value)
    reasons: list[str]


@require_GET
def regression_set(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    totals = incorporation.regression_set(pilot).aggregate(
        corrections=Count("id"), cases=Count("case_id", distinct=True)
    )
    first = list(islice(incorporation.regression_cases(pilot), REGRESSION_PAGE_CAP))
    case_ids = dict(
        Case.objects.filter(pilot=pilot, external_id__in=[e["external_id"] for e in first]).values_list(
            "external_id", "pk"
        )
    )
    labels = dict(ReasonCode.objects.filter(pilot=pilot).values_list("code", "label"))
    entries = [
        Entry(
            external_id=e["external_id"],
            case_id=case_ids.get(e["external_id"]),
            changes=[
                (name, shown(e["ai_outputs"].get(name)), shown(value))
                for name, value in e["corrected_outputs"].items()
                if value != e["ai_outputs"].get(name)
            ],
            reasons=[labels.get(code, code) for code in e["reasons"]],
        )
        for e in first
    ]
    context = {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "entries": entries,
        "cases": totals["cases"],
        "corrections": totals["corrections"],
        "cap": REGRESSION_PAGE_CAP,
        "capped": totals["cases"] > len(entries),
    }
    return TemplateResponse(request, "feedback/regression_set.html", context)


def _download(pilot: Pilot, lines: Iterator[str], suffix: str, content_type: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type=content_type)
    name = f"{slugify(pilot.name) or 'pilot'}-regression-set.{suffix}"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response


@require_GET
def regression_set_jsonl(request: HttpRequest, pilot_id: int) -> StreamingHttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    incorporation.record_export(pilot=pilot, actor=request.user, file_format="jsonl")
    return _download(pilot, incorporation.jsonl_lines(pilot), "jsonl", "application/x-ndjson; charset=utf-8")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def csv_lines(pilot: Pilot) -> Iterator[str]:
    """The regression set as CSV: the JSON columns as JSON text, every cell neutralised against formulas."""
    out = csvio.streaming_writer()
    yield out.writerow(CSV_HEADER)
    for entry in incorporation.regression_cases(pilot):
        yield out.writerow(
            [
                entry["external_id"],
                _json(entry["inputs"]),
                _json(entry["ai_outputs"]),
                _json(entry["corrected_outputs"]),
                ";".join(entry["reasons"]),
            ]
        )


@require_GET
def regression_set_csv(request: HttpRequest, pilot_id: int) -> StreamingHttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    incorporation.record_export(pilot=pilot, actor=request.user, file_format="csv")
    return _download(pilot, csv_lines(pilot), "csv", "text/csv; charset=utf-8")


# --- the reason taxonomy ---------------------------------------------------------------------------------

"""Integration: does the pilot plug into the systems people already use? (DESIGN.md checks table)

Verified by what the integration API records: cases that arrived with `source=api`, webhook deliveries
that a receiver accepted, and exports of the regression set (an audit event).
"""

from datetime import timedelta

from django.db.models import Count, Max, Q
from django.db.models.fields.json import KT
from django.utils import timezone

from pilots.checks import (
    MISSING,
    VERIFIED,
    Evidence,
    Result,
    case_counts,
    case_facts,
    check,
    pilot_facts,
    pilot_url,
)
from pilots.models import AuditEvent, Case, WebhookDelivery

LIVE_WINDOW = timedelta(days=7)
FLOW_BACK_WINDOW = timedelta(days=30)


def _pilot_link(pilot_id: int) -> tuple[str, str]:
    return ("Pilot settings", pilot_url("pilot_edit", pilot_id))


@case_counts
def _api_counts(now) -> dict:
    api = Q(source=Case.Source.API)
    return {
        "api_total": Count("id", filter=api),
        "api_recent": Count("id", filter=api & Q(received_at__gte=now - LIVE_WINDOW)),
        "api_last": Max("received_at", filter=api),
    }


def _api_cases(pilot_ids: list[int]) -> dict[int, dict]:
    """pilot id → {"total": API cases ever, "recent": in the last 7 days, "last": latest arrival}, for
    pilots that received any."""
    return {
        pilot_id: {"total": row["api_total"], "recent": row["api_recent"], "last": row["api_last"]}
        for pilot_id, row in case_facts(pilot_ids).items()
        if row["api_total"]
    }


@check(
    id="integration.points_declared",
    section="integration",
    title="Integration points declared and feeding cases",
    gate="standardize_inputs",
    attestable=True,
)
def points_declared(pilot_ids: list[int]) -> dict[int, Result]:
    api = _api_cases(pilot_ids)
    results = {}
    for pilot_id, row in pilot_facts(pilot_ids).items():
        points = row["integration_points"]
        arrived = api.get(pilot_id, {}).get("total", 0)
        if not points:
            results[pilot_id] = Result(
                MISSING,
                Evidence("No integration points declared.", (_pilot_link(pilot_id),)),
                "List the systems the pilot plugs into on the pilot's settings.",
            )
        elif not arrived:
            results[pilot_id] = Result(
                MISSING,
                Evidence(
                    f"Declared: {', '.join(points)}; no case has arrived from them through the API yet."
                ),
                f"Feed cases from {points[0]} through the API, or attest with a link to the plan.",
            )
        else:
            results[pilot_id] = Result(
                VERIFIED,
                Evidence(
                    f"Declared: {', '.join(points)}; {arrived} case(s) arrived through the API.",
                    (("API cases", pilot_url("case_list", pilot_id) + "?source=api"),),
                ),
            )
    return results


@check(
    id="integration.live_feed",
    section="integration",
    title="Cases arrive through the API every week",
    gate="production",
)
def live_feed(pilot_ids: list[int]) -> dict[int, Result]:
    api = _api_cases(pilot_ids)
    results = {}
    for pilot_id in pilot_ids:
        row = api.get(pilot_id)
        if row and row["recent"]:
            results[pilot_id] = Result(
                VERIFIED,
                Evidence(
                    f"{row['recent']} case(s) arrived through the API in the last 7 days "
                    f"(latest {row['last']:%Y-%m-%d %H:%M})."
                ),
            )
        elif row:
            results[pilot_id] = Result(
                MISSING,
                Evidence(
                    f"The last case arrived through the API on {row['last']:%Y-%m-%d}, over 7 days ago."
                ),
                "Find out why the feed stopped: the pilot's system should send its cases as they happen.",
            )
        else:
            results[pilot_id] = Result(
                MISSING,
                Evidence("No case has arrived through the API."),
                "Connect the pilot's system to the API (POST /api/v1/pilots/{id}/cases/batch) so cases "
                "arrive as they happen.",
            )
    return results


@check(
    id="integration.outcomes_flow_back",
    section="integration",
    title="Outcomes flow back to other systems",
    gate="production",
    attestable=True,
)
def outcomes_flow_back(pilot_ids: list[int]) -> dict[int, Result]:
    since = timezone.now() - FLOW_BACK_WINDOW
    delivered: dict[int, int] = {}
    # Deliveries belong to the workspace's endpoints; the event names the pilot it is about.
    rows = (
        WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.SUCCEEDED,
            delivered_at__gte=since,
            payload__data__pilot__id__in=pilot_ids,
        )
        .exclude(event="readiness.changed")  # about ProdReady's own scores, not the pilot's outcomes
        # An annotation, not values_list("payload__data__pilot__id"): Django resolves a JSON path in
        # values_list by catching a FieldError whose traceback keeps every caller's frame alive (a
        # reference cycle that held a whole recompute batch until the next full garbage collection).
        .annotate(about=KT("payload__data__pilot__id"))
        .values_list("about")
        .annotate(n=Count("id"))
    )
    for pilot_id, n in rows:
        delivered[int(pilot_id)] = n
    exported = dict(
        AuditEvent.objects.filter(pilot_id__any_of=pilot_ids, action="regression_set.exported", at__gte=since)
        .values("pilot_id")
        .annotate(last=Max("at"))
        .values_list("pilot_id", "last")
    )
    results = {}
    for pilot_id in pilot_ids:
        facts = []
        if delivered.get(pilot_id):
            facts.append(f"{delivered[pilot_id]} webhook delivery(ies) accepted by a receiver in 30 days")
        if pilot_id in exported:
            facts.append(f"the regression set was exported on {exported[pilot_id]:%Y-%m-%d}")
        if facts:
            results[pilot_id] = Result(VERIFIED, Evidence("; ".join(facts).capitalize() + "."))
        else:
            results[pilot_id] = Result(
                MISSING,
                Evidence("No webhook delivery succeeded and the regression set was not exported in 30 days."),
                "Register a webhook endpoint for gate and escalation events, or export the regression set "
                "for the AI team.",
            )
    return results

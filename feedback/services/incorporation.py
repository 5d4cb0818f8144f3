"""Incorporating corrections — into an AI version, an input-standard version, a routing-rule version, or
the regression set — and exporting the regression set for the pilot's AI team."""

import json
from collections.abc import Iterator
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from exceptions.models import RuleTable
from feedback.models import Correction, Target
from pilots.models import AIVersion, InputStandard, Pilot
from pilots.services import audit, webhooks

TARGET_MODELS = {Target.AI_VERSION: AIVersion, Target.STANDARD: InputStandard, Target.RULES: RuleTable}
TARGET_FIELDS = {
    Target.AI_VERSION: "into_ai_version",
    Target.STANDARD: "into_standard",
    Target.RULES: "into_rules",
}
MAX_AT_ONCE = 1000


@transaction.atomic
def incorporate(
    *,
    pilot: Pilot,
    correction_ids: list[int],
    into: str,
    target_id: int | None,
    actor,
    now: datetime | None = None,
) -> int:
    """Mark the pilot's corrections as incorporated into `into` (a Target; `target_id` names the AI
    version, standard version or rule table, of this pilot). Corrections incorporated already keep their
    first incorporation. Returns how many were marked. Refused (ValidationError) for a target of another
    pilot, an unknown target, or corrections that are not this pilot's."""
    now = now or timezone.now()
    if into not in Target.values:
        raise ValidationError({"into": "Choose where the corrections were incorporated."})
    try:
        ids = sorted({int(i) for i in correction_ids})
    except (TypeError, ValueError):  # a tampered form: refused like any foreign id, not a crash
        raise ValidationError({"corrections": "Choose corrections from the list."}) from None
    if not ids:
        raise ValidationError({"corrections": "Choose at least one correction."})
    if len(ids) > MAX_AT_ONCE:
        raise ValidationError({"corrections": f"At most {MAX_AT_ONCE} corrections at once."})
    target = None
    if into != Target.REGRESSION_SET:
        try:
            target_pk = int(target_id) if target_id not in (None, "") else None
        except (TypeError, ValueError):
            target_pk = None
        target = TARGET_MODELS[into].objects.filter(pk=target_pk, pilot=pilot).first() if target_pk else None
        if target is None:
            raise ValidationError({"target": f"Choose {Target(into).label.lower()} of this pilot."})
    found = Correction.objects.select_for_update().filter(pilot=pilot, pk__in=ids)
    if found.count() != len(ids):
        raise ValidationError({"corrections": "Some of these corrections are not this pilot's."})
    fields = {"incorporated_into": into, "incorporated_at": now, "incorporated_by": actor}
    if target is not None:
        fields[TARGET_FIELDS[into]] = target
    marked = found.filter(incorporated_into="").update(**fields)
    if marked:
        audit.record(
            workspace=pilot.workspace,
            actor=actor,
            action="corrections.incorporated",
            obj=pilot,
            pilot=pilot,
            after={
                "into": into,
                "target": str(target) if target else "regression set",
                "corrections": marked,
            },
        )
    return marked


def regression_set(pilot: Pilot):
    return (
        Correction.objects.filter(pilot=pilot, incorporated_into=Target.REGRESSION_SET)
        .select_related("case", "reason")
        .order_by("case_id", "field", "at", "id")  # per field, the latest correction is applied last
    )


def regression_cases(pilot: Pilot) -> Iterator[dict]:
    """One entry per case of the regression set: its inputs, the AI's outputs, the corrected outputs
    (the AI's with every correction applied, the latest winning), and the reasons."""
    current: dict | None = None
    for correction in regression_set(pilot).iterator(chunk_size=1000):
        case = correction.case
        if current is None or current["external_id"] != case.external_id:
            if current is not None:
                yield current
            current = {
                "external_id": case.external_id,
                "inputs": case.inputs,
                "ai_outputs": case.outputs,
                "corrected_outputs": dict(case.outputs),
                "reasons": [],
            }
        current["corrected_outputs"][correction.field] = correction.corrected_value
        if correction.reason.code not in current["reasons"]:
            current["reasons"].append(correction.reason.code)
    if current is not None:
        yield current


def jsonl_lines(pilot: Pilot) -> Iterator[str]:
    for entry in regression_cases(pilot):
        yield json.dumps(entry, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def record_export(*, pilot: Pilot, actor, file_format: str) -> None:
    """An export of the regression set leaves an audit event: the hub's integration checks read it
    ("outcomes flow back")."""
    audit.record(
        workspace=pilot.workspace,
        actor=actor,
        action="regression_set.exported",
        obj=pilot,
        pilot=pilot,
        after={"format": file_format, "corrections": regression_set(pilot).count()},
    )
    webhooks.emit_event(
        workspace=pilot.workspace,
        event="regression_set.exported",
        payload={"pilot": {"id": pilot.pk, "name": pilot.name}, "format": file_format},
    )

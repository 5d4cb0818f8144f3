"""A pilot's reason codes: the defaults on first use, then edited by its program manager."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from feedback.models import DEFAULT_REASONS, ReasonCode
from pilots.models import Pilot
from pilots.services import audit


def reasons(pilot: Pilot) -> list[ReasonCode]:
    """The pilot's reason codes for reading (forms, lists): the stored ones, or — before the first
    correction or edit stores them — the defaults, unsaved. Never writes."""
    codes = list(ReasonCode.objects.filter(pilot=pilot).order_by("position", "id"))
    if codes:
        return codes
    return [
        ReasonCode(pilot=pilot, code=code, label=label, position=i)
        for i, (code, label) in enumerate(DEFAULT_REASONS)
    ]


def ensure_taxonomy(pilot: Pilot) -> list[ReasonCode]:
    """The pilot's reason codes, creating the defaults the first time (idempotent)."""
    codes = list(ReasonCode.objects.filter(pilot=pilot).order_by("position", "id"))
    if codes:
        return codes
    with transaction.atomic():
        created = ReasonCode.objects.bulk_create(
            [
                ReasonCode(pilot=pilot, code=code, label=label, position=i)
                for i, (code, label) in enumerate(DEFAULT_REASONS)
            ],
            ignore_conflicts=True,
        )
        codes = list(ReasonCode.objects.filter(pilot=pilot).order_by("position", "id"))
        if created and codes:
            audit.record(
                workspace=pilot.workspace, actor=None, action="reason_codes.defaults_created", obj=pilot,
                pilot=pilot, after={"codes": [c.code for c in codes]},
            )  # fmt: skip
    return codes


@transaction.atomic
def add_reason(*, pilot: Pilot, label: str, actor) -> ReasonCode:
    label = label.strip()
    code = slugify(label).replace("-", "_")[:40]
    if not label or not code:
        raise ValidationError({"label": "Name the reason (letters or digits)."})
    codes = ensure_taxonomy(pilot)
    # The same code, or the same label as a renamed reason: both would show as the same reason twice.
    if any(c.code == code or c.label.casefold() == label[:80].casefold() for c in codes):
        raise ValidationError({"label": f"“{label}” is in the taxonomy already."})
    reason = ReasonCode.objects.create(
        pilot=pilot, code=code, label=label[:80], position=max((c.position for c in codes), default=0) + 1
    )
    audit.record(
        workspace=pilot.workspace, actor=actor, action="reason_code.added", obj=reason, pilot=pilot,
        after={"code": code, "label": reason.label},
    )  # fmt: skip
    return reason


@transaction.atomic
def update_reason(*, reason: ReasonCode, label: str, active: bool, actor) -> ReasonCode:
    """Rename or retire a reason. A retired reason keeps its corrections and is no longer offered."""
    label = label.strip()[:80]
    if not label:
        raise ValidationError({"label": "Name the reason."})
    reason = ReasonCode.objects.select_for_update().select_related("pilot__workspace").get(pk=reason.pk)
    if (
        ReasonCode.objects.filter(pilot_id=reason.pilot_id, label__iexact=label)
        .exclude(pk=reason.pk)
        .exists()
    ):
        raise ValidationError({"label": f"“{label}” is in the taxonomy already."})
    if (
        not active
        and not ReasonCode.objects.filter(pilot=reason.pilot, active=True).exclude(pk=reason.pk).exists()
    ):
        raise ValidationError({"active": "Keep at least one reason in use."})
    before = {"label": reason.label, "active": reason.active}
    if before == {"label": label, "active": active}:
        return reason
    reason.label, reason.active = label, active
    reason.save(update_fields=["label", "active"])
    audit.record(
        workspace=reason.pilot.workspace, actor=actor, action="reason_code.changed", obj=reason,
        pilot=reason.pilot, before=before, after={"label": label, "active": active},
    )  # fmt: skip
    return reason

"""Publishing input standards, registering AI versions, setting the conformance threshold."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from pilots.models import AIVersion, InputStandard, Pilot
from pilots.services import audit
from pilots.validation import StandardError, validate_standard


@transaction.atomic
def publish_standard(*, pilot: Pilot, actor, spec: dict, note: str = "") -> InputStandard:
    """Publish the next version of the pilot's standard (an identical one publishes nothing)."""
    try:
        clean = validate_standard(spec)
    except StandardError as error:
        raise ValidationError(error.errors) from None
    pilot = Pilot.objects.select_for_update().select_related("workspace").get(pk=pilot.pk)
    current = InputStandard.objects.filter(pilot=pilot).order_by("-version").first()
    if current is not None and current.spec() == clean:
        return current  # Return early: publishing the same standard twice makes no new version.
    standard = InputStandard.objects.create(
        pilot=pilot,
        version=(current.version + 1) if current else 1,
        published_by=actor,
        note=note.strip()[:300],
        **clean,
    )
    audit.record(
        workspace=pilot.workspace,
        actor=actor,
        action="standard.published",
        obj=standard,
        pilot=pilot,
        before={"version": current.version} if current else None,
        after={
            "version": standard.version,
            "inputs": len(clean["inputs"]),
            "outputs": len(clean["outputs"]),
            "rules": len(clean["rules"]),
        },
    )
    return standard


@transaction.atomic
def register_ai_version(
    *, pilot: Pilot, actor, identifier: str, released_on: date, notes: str = ""
) -> AIVersion:
    identifier = identifier.strip()
    if not identifier or len(identifier) > 80:
        raise ValidationError(
            {"identifier": "Name the version (at most 80 characters), e.g. claims-model-2.3."}
        )
    existing = AIVersion.objects.filter(pilot=pilot, identifier=identifier).first()
    if existing is not None:
        raise ValidationError(
            {"identifier": f"{identifier} is registered already (released {existing.released_on})."}
        )
    version = AIVersion.objects.create(
        pilot=pilot, identifier=identifier, released_on=released_on, notes=notes.strip()
    )
    audit.record(
        workspace=pilot.workspace,
        actor=actor,
        action="ai_version.registered",
        obj=version,
        pilot=pilot,
        after={"identifier": identifier, "released_on": released_on, "notes": version.notes},
    )
    return version


@transaction.atomic
def set_conformance_threshold(*, pilot: Pilot, actor, threshold: float) -> Pilot:
    if not 0.5 <= threshold <= 1:
        raise ValidationError({"conformance_threshold": "Give a share between 50% and 100%."})
    pilot = Pilot.objects.select_for_update().select_related("workspace").get(pk=pilot.pk)
    before = pilot.conformance_threshold
    if before == threshold:
        return pilot
    pilot.conformance_threshold = threshold
    pilot.save(update_fields=["conformance_threshold", "updated_at"])
    audit.record(
        workspace=pilot.workspace,
        actor=actor,
        action="pilot.conformance_threshold_set",
        obj=pilot,
        pilot=pilot,
        before={"conformance_threshold": before},
        after={"conformance_threshold": threshold},
    )
    return pilot


@transaction.atomic
def set_acceptable_correction_rate(*, pilot: Pilot, actor, rate: float) -> Pilot:
    """The pilot's acceptable correction rate (a share, 0–50%), read by step 4's learning verdict."""
    if not 0 <= rate <= 0.5:
        raise ValidationError({"acceptable_correction_rate": "Give a share between 0% and 50%."})
    pilot = Pilot.objects.select_for_update().select_related("workspace").get(pk=pilot.pk)
    before = pilot.acceptable_correction_rate
    if before == rate:
        return pilot
    pilot.acceptable_correction_rate = rate
    pilot.save(update_fields=["acceptable_correction_rate", "updated_at"])
    audit.record(
        workspace=pilot.workspace,
        actor=actor,
        action="pilot.acceptable_correction_rate_set",
        obj=pilot,
        pilot=pilot,
        before={"acceptable_correction_rate": before},
        after={"acceptable_correction_rate": rate},
    )
    return pilot

"""The one-time backfill of issue 6: every override decided in the review queue before step 4 existed
becomes corrections pointing at its decision (one per changed output), as `feedback/outcomes.py` does for
every override since. Idempotent: unique per decision and field, and overrides with corrections are
skipped. Written against the historical models, so it keeps working as the app's code moves on."""

from django.db import migrations

DEFAULT_REASONS = [
    ("wrong_extraction", "Wrong extraction"),
    ("missing_context", "Missing context"),
    ("policy_changed", "Policy changed"),
    ("input_defect", "Input defect"),
    ("other", "Other"),
]


def backfill(apps, schema_editor):
    Decision = apps.get_model("exceptions", "Decision")
    Correction = apps.get_model("feedback", "Correction")
    ReasonCode = apps.get_model("feedback", "ReasonCode")
    reasons: dict[int, object] = {}
    overrides = (
        Decision.objects.filter(outcome="override", corrections=None)
        .select_related("case")
        .order_by("id")
    )
    for decision in overrides.iterator(chunk_size=500):
        if not decision.corrected_outputs:
            continue
        if decision.pilot_id not in reasons:
            if not ReasonCode.objects.filter(pilot_id=decision.pilot_id).exists():
                ReasonCode.objects.bulk_create(
                    [
                        ReasonCode(pilot_id=decision.pilot_id, code=code, label=label, position=i)
                        for i, (code, label) in enumerate(DEFAULT_REASONS)
                    ]
                )
            reason = ReasonCode.objects.filter(pilot_id=decision.pilot_id, code="other").first()
            reasons[decision.pilot_id] = reason or ReasonCode.objects.filter(pilot_id=decision.pilot_id).last()
        Correction.objects.bulk_create(
            [
                Correction(
                    case_id=decision.case_id,
                    pilot_id=decision.pilot_id,
                    decision_id=decision.pk,
                    field=field,
                    ai_value=(decision.ai_outputs or {}).get(field),
                    corrected_value=value,
                    reason=reasons[decision.pilot_id],
                    note=decision.rationale,
                    ai_version_id=decision.case.ai_version_id,
                    by_id=decision.reviewer_id,
                    actor_label=decision.actor_label,
                    at=decision.decided_at,
                )
                for field, value in sorted(decision.corrected_outputs.items())
            ],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]

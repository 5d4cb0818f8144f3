"""Helpers shared by the step 2 view tests (this module holds no test): a standard, cases, the
editor's POST data."""

from datetime import timedelta

from django.utils import timezone

from pilots.models import Case
from pilots.services import intake
from pilots.services import standards as standard_services

SPEC = {
    "inputs": [
        {"name": "claim_id", "label": "Claim", "type": "string", "required": True, "pattern": r"^C-\d+$"},
        {"name": "amount", "type": "number", "required": True, "min": 0, "max": 10000},
        {"name": "channel", "type": "enum", "required": True, "allowed": ["web", "phone"]},
        {"name": "phone_number", "type": "string"},
        {"name": "start_date", "type": "date"},
        {"name": "end_date", "type": "date"},
        {"name": "submitted_at", "type": "datetime"},
        {"name": "urgent", "type": "boolean"},
    ],
    "outputs": [
        {"name": "category", "type": "enum", "allowed": ["glass", "theft"]},
        {"name": "confidence", "type": "number", "min": 0, "max": 1},
    ],
    "rules": [
        {"kind": "compare", "left": "end_date", "op": ">=", "right": "start_date"},
        {"kind": "requires", "if_field": "channel", "equals": "phone", "then_field": "phone_number"},
    ],
    "event_time_field": "submitted_at",
    "max_lateness_hours": 48,
}

GOOD = {"claim_id": "C-1", "amount": "120.5", "channel": "web"}


def publish(team, spec: dict | None = None):
    return standard_services.publish_standard(pilot=team.pilot, actor=team.pm, spec=spec or SPEC)


def add_cases(team, count: int, *, start: int = 0, bad_every: int = 0, source: str = "api") -> None:
    """`count` cases through intake (every `bad_every`-th one with a missing amount)."""
    arrivals = []
    for i in range(start, start + count):
        inputs = dict(GOOD, claim_id=f"C-{i}")
        if bad_every and i % bad_every == 0:
            inputs.pop("amount")
        arrivals.append(
            intake.Arrival(external_id=f"case-{i:04}", inputs=inputs, outputs={"category": "glass"})
        )
    intake.ingest(pilot=team.pilot, arrivals=arrivals, source=source, actor=team.pm)


def age_cases(team, days: int) -> None:
    Case.objects.filter(pilot=team.pilot).update(received_at=timezone.now() - timedelta(days=days))


def row_data(prefix: str, rows: list[dict]) -> dict:
    """Formset POST data for the editor's table `prefix`."""
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            if value is True:
                data[f"{prefix}-{i}-{key}"] = "on"
            elif value is False or value is None:
                continue
            elif isinstance(value, list):
                data[f"{prefix}-{i}-{key}"] = ", ".join(value)
            else:
                data[f"{prefix}-{i}-{key}"] = str(value)
    return data


def editor_data(spec: dict, *, note: str = "") -> dict:
    """What the editor posts for `spec` (a standard in the service's format)."""
    compare = [
        {k: r.get(k, "") for k in ("left", "op", "right", "message")}
        for r in spec.get("rules", [])
        if r["kind"] == "compare"
    ]
    requires = [
        {k: r.get(k, "") for k in ("if_field", "equals", "then_field", "message")}
        for r in spec.get("rules", [])
        if r["kind"] == "requires"
    ]
    data = {
        **row_data("inputs", spec["inputs"]),
        **row_data("outputs", spec.get("outputs", [])),
        **row_data("compare", compare),
        **row_data("requires", requires),
        "event_time_field": spec.get("event_time_field", ""),
        "max_lateness_hours": str(spec.get("max_lateness_hours") or ""),
        "note": note,
    }
    return data

"""Intake: every arriving case — a form, an uploaded CSV, the API — goes through the same pipeline.

parse (the caller) → validate against the pilot's standard → every app's discovered `intake.py` on the
in-memory batch (`process_batch`: step 3 routes there) → one upsert by (pilot, external_id) → each
hook's optional `after_store` (work that needs the stored rows' ids, on each draft as `case_id`: step 3
opens escalations).

A decided case is never overwritten: a later arrival with different content is reported as a
conflict. Re-sending identical content changes nothing ("unchanged"). Invalid cases are stored with
their problems, never dropped: they are the evidence of edge cases.
"""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from json.encoder import c_make_encoder, encode_basestring_ascii
from typing import Any

from django.db import transaction
from django.utils import timezone

from pilots.discovery import app_modules
from pilots.models import AIVersion, InputStandard, Pilot
from pilots.services import audit, case_store
from pilots.validation import Problem, parse_boolean, parse_datetime, parse_number, validator_for

BATCH_SIZE = 10000  # rows per round trip; memory stays flat at this size
OUTCOME_COLUMNS = ("decided_at", "corrected", "touchpoints", "cost", "ai_version")


@dataclass
class Arrival:
    """One case as it arrives, before validation. Values may be text (CSV) or typed (JSON)."""

    external_id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    received_at: Any = None
    due_at: Any = None
    outcome: dict[str, Any] = field(default_factory=dict)  # any of OUTCOME_COLUMNS
    row: int | None = None  # the line in the file, for reports
    extra_problems: list[Problem] = field(default_factory=list)  # found while parsing (e.g. a ragged row)


@dataclass
class Draft:
    """A validated case in memory: what intake hooks see and may change, then what the upsert stores."""

    arrival: Arrival
    values: dict[str, Any]  # Case field → value
    problems: list[Problem]
    case_id: int | None = None  # the stored row's id, once the upsert has run (for `after_store`)

    @property
    def external_id(self) -> str:
        return self.values["external_id"]


@dataclass
class BatchResult:
    counts: Counter = field(default_factory=Counter)  # created / unchanged / updated / conflict
    field_errors: Counter = field(default_factory=Counter)  # "inputs.amount: invalid" → count
    with_problems: list[Draft] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    rejected: list[tuple["Draft", str]] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)  # external_id → created / unchanged / …
    routes: dict[str, str] = field(default_factory=dict)  # external_id → the route its stored row has


def current_standard(pilot: Pilot) -> InputStandard | None:
    return InputStandard.objects.filter(pilot=pilot).order_by("-version").first()


def _moment(value: Any, zone, name: str, problems: list[Problem]) -> datetime | None:
    if value in (None, ""):
        return None
    moment = parse_datetime(value, zone)
    if moment is None:
        problems.append((name, "invalid", f"{name} must be a date and time (ISO 8601), got {value!r}."))
    return moment


def _outcome(arrival: Arrival, zone, versions: dict[str, int], problems: list[Problem]) -> dict[str, Any]:
    """The outcome columns a pilot's own system may supply, checked and typed."""
    given = arrival.outcome
    out: dict[str, Any] = {}
    if given.get("decided_at") not in (None, ""):
        out["decided_at"] = _moment(given["decided_at"], zone, "decided_at", problems)
    if given.get("corrected") not in (None, ""):
        value = parse_boolean(given["corrected"])
        if value is None:
            problems.append(
                ("corrected", "invalid", f"corrected must be true or false, got {given['corrected']!r}.")
            )
        else:
            out["corrected"] = value
    if given.get("touchpoints") not in (None, ""):
        value = parse_number(given["touchpoints"], True)
        if value is None or value < 0:
            problems.append(
                (
                    "touchpoints",
                    "invalid",
                    f"touchpoints must be a whole number ≥ 0, got {given['touchpoints']!r}.",
                )
            )
        else:
            out["touchpoints"] = value
    if given.get("cost") not in (None, ""):
        try:
            cost = Decimal(str(given["cost"]).strip())
            if not cost.is_finite() or cost < 0 or cost >= Decimal("1e12"):
                raise InvalidOperation
            out["cost"] = cost.quantize(Decimal("0.01"))
        except InvalidOperation:
            problems.append(("cost", "invalid", f"cost must be an amount ≥ 0, got {given['cost']!r}."))
    if given.get("ai_version") not in (None, ""):
        identifier = str(given["ai_version"]).strip()
        if identifier in versions:
            out["ai_version_id"] = versions[identifier]
        else:
            problems.append(
                ("ai_version", "invalid", f"AI version {identifier!r} is not registered for this pilot.")
            )
    return out


def validate(
    pilot: Pilot, arrivals: list[Arrival], *, source: str, standard: InputStandard | None
) -> list[Draft]:
    zone = pilot.workspace.zone
    validator = validator_for(standard.spec(), pilot.workspace.timezone) if standard else None
    versions = dict(AIVersion.objects.filter(pilot=pilot).values_list("identifier", "id"))
    now = timezone.now()
    pilot_id = pilot.pk
    drafts = []
    for arrival in arrivals:
        problems: list[Problem] = list(arrival.extra_problems)
        given_received = _moment(arrival.received_at, zone, "received_at", problems)
        received_at = given_received or now
        due_at = _moment(arrival.due_at, zone, "due_at", problems)
        if validator is not None:
            checked = validator.check(arrival.inputs, arrival.outputs, received_at=received_at, due_at=due_at)
            inputs, outputs, event_at = checked.inputs, checked.outputs, checked.event_at
            problems += checked.problems
        else:
            inputs, outputs, event_at = dict(arrival.inputs), dict(arrival.outputs), None
        values = {
            "pilot_id": pilot_id,
            "external_id": str(arrival.external_id).strip(),
            "source": source,
            "received_at": received_at,
            "given_received_at": given_received.isoformat() if given_received else None,
            "event_at": event_at,
            "due_at": due_at,
            "inputs": inputs,
            "outputs": outputs,
            "standard_version": standard.version if standard else None,
        }
        if arrival.outcome:
            values.update(_outcome(arrival, zone, versions, problems))
        drafts.append(Draft(arrival=arrival, values=values, problems=problems))
    return drafts


_encode = json.JSONEncoder().encode  # built once: dumps() builds one a call
if c_make_encoder is not None:
    # The C encoder behind json.dumps(value, sort_keys=True, default=str), built once: encode() builds it
    # again, with a map for finding cycles, for every value (a third of the cost of a case's inputs and
    # outputs). The values are parsed JSON, CSV text or the validator's copies of them: never cyclic.
    _sorted_chunks = c_make_encoder(None, str, encode_basestring_ascii, None, ": ", ", ", True, False, True)

    def _encode_sorted(value: Any) -> str:
        return "".join(_sorted_chunks(value, 0))

else:  # an interpreter without the C accelerator
    _encode_sorted = json.JSONEncoder(sort_keys=True, default=str).encode


def _row(draft: Draft, upload_id: int | None) -> tuple[tuple, str]:
    """The case's row for the store (its JSON values and moments as the text the database reads), and
    the digest of its content (to recognise an unchanged re-send)."""
    values = draft.values
    problems = draft.problems
    kinds = {kind for _, kind, _ in problems}
    inputs = _encode_sorted(values["inputs"])
    outputs = _encode_sorted(values["outputs"])
    get = values.get
    given_received_at, event_at, due_at = get("given_received_at"), get("event_at"), get("due_at")
    # The digest covers what arrived (outcome columns included), not what routing decided.
    outcome = (get("decided_at"), get("corrected"), get("touchpoints"), get("cost"), get("ai_version_id"))
    content = (inputs, outputs, given_received_at, due_at, *outcome)
    digest = hashlib.md5(repr(content).encode(), usedforsecurity=False).hexdigest()
    # Each moment written once: a given received_at is already text, and routing decides a case at the
    # moment it was received.
    received_at = values["received_at"]
    received = given_received_at or received_at.isoformat()
    decided_at = outcome[0] or get("routed_decided_at")
    row = (
        values["pilot_id"],
        values["external_id"],
        values["source"],
        received,
        event_at.isoformat() if event_at is not None else None,
        due_at.isoformat() if due_at is not None else None,
        inputs,
        outputs,
        get("standard_version"),
        _encode([{"field": f, "kind": k, "message": m} for f, k, m in problems]) if problems else "[]",
        "missing" in kinds,
        "invalid" in kinds,
        "contradictory" in kinds,
        "late" in kinds,
        "outside_boundary" in kinds,
        get("ai_version_id"),
        get("route", ""),
        get("rule_version"),
        get("rule_clause", ""),
        received if decided_at is received_at else decided_at.isoformat() if decided_at is not None else None,
        get("corrected", False),
        get("touchpoints", 0),
        get("cost"),
        digest,
        upload_id,
    )  # fmt: skip  (the order of case_store.COLUMNS)
    return row, digest


@transaction.atomic
def ingest(
    *,
    pilot: Pilot,
    arrivals: list[Arrival],
    source: str,
    actor,
    standard: InputStandard | None = None,
    audit_event: bool = True,
    upload_id: int | None = None,
) -> BatchResult:
    """Validate, hand to the intake hooks, and upsert one batch of cases."""
    result = BatchResult()
    if standard is None:
        standard = current_standard(pilot)
    kept: dict[str, Draft] = {}
    for draft in validate(pilot, arrivals, source=source, standard=standard):
        external_id = draft.values["external_id"]
        if not external_id or len(external_id) > 200:
            # Without its id a case cannot be stored idempotently: report the row instead.
            result.counts["rejected"] += 1
            result.rejected.append((draft, "external_id is required (at most 200 characters)."))
        else:
            kept[external_id] = draft  # a later row of the same batch wins, as if it had arrived later
    drafts = list(kept.values())
    hooks = app_modules("intake")
    for module in hooks:
        module.process_batch(pilot=pilot, drafts=drafts)

    existing = case_store.existing(pilot.pk, list(kept))
    new, updates = [], []
    outcomes, routes = result.outcomes, result.routes
    for draft in drafts:
        external_id = draft.values["external_id"]
        previous = existing.get(external_id)
        if previous is None:
            outcome, stored_route = "created", ""
            new.append(draft)
        else:
            row, digest = _row(draft, upload_id)
            case_id, decided_at, stored_digest, stored_route = previous
            draft.case_id = case_id
            if digest == stored_digest:
                outcome = "unchanged"
            elif decided_at is not None:
                outcome = "conflict"
                result.conflicts.append(external_id)
            else:
                outcome = "updated"
                updates.append((case_id, row))
        result.counts[outcome] += 1
        outcomes[external_id] = outcome
        # What the stored row says: the new route when this batch writes it, the old one otherwise.
        writes = outcome in ("created", "updated")
        routes[external_id] = draft.values.get("route", "") if writes else stored_route
        if draft.problems and outcome != "conflict":
            result.with_problems.append(draft)
            result.counts["with_problems"] += 1
            for path, kind, _message in draft.problems:
                result.field_errors[f"{path}: {kind}"] += 1
    # A new case's row is made while the store writes the rows before it.
    creates = case_store.Rows(len(new), (_row(draft, upload_id)[0] for draft in new))
    created = case_store.store(creates, updates)
    for draft in new:
        draft.case_id = created.get(draft.values["external_id"])  # None: a concurrent upload stored it first
    for module in hooks:
        # Work that needs the stored rows (their ids), e.g. step 3 opening escalations.
        if hasattr(module, "after_store"):
            module.after_store(pilot=pilot, drafts=drafts, outcomes=result.outcomes)
    if audit_event:
        audit.record(
            workspace=pilot.workspace,
            actor=actor,
            action="cases.ingested",
            obj=pilot,
            pilot=pilot,
            after={"source": source, **{k: result.counts[k] for k in sorted(result.counts)}},
        )
    return result

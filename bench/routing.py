"""Part e: routing (issue 5) — records per second through a 10-rule table compiled by exceptions.router, vs
Step 2's validation of the same records measured side by side in the same run.

The records are part a's (bench/records.py), validated once (untimed) into the drafts intake hands to
`exceptions.intake.process_batch`: the validator's typed inputs and outputs and its problems. What is
timed is the whole routing step, `exceptions.services.routing.route_drafts` — the match, the problem
flags, audit sampling and setting route, rule version, clause and decided_at on every draft — as well as
the bare generated `match` function for comparison.
"""

from collections import Counter
from datetime import UTC, datetime

from bench.measure import median_time, row, say, verdict
from bench.records import SPEC, records
from bench.validation import _count_prodready
from exceptions.models import ROUTE_OF
from exceptions.router import CompiledTable, Router, RuleInfo
from exceptions.rules import clean_table, fields_of, label_of
from exceptions.services.routing import route_drafts
from pilots.services.intake import Draft
from pilots.validation import Validator

TARGET_RATE = 200_000
TARGET_RATIO = 1.0
BENCH_PILOT = 1

# A claims pilot's table, as a program manager would write it: problem flags first, then the risky
# classes, a default that automates with audit sampling. Number comparisons, enum in-lists, a string
# contains, problem flags, a date-time compare, and two AND-ed clauses.
TABLE = [
    {"name": "Incomplete", "clauses": [{"field": "problems.missing", "op": "is_true"}],
     "action": "escalate", "service_level_hours": 24},
    {"name": "Unreadable values", "clauses": [{"field": "problems.invalid", "op": "is_true"}],
     "action": "escalate", "service_level_hours": 24},
    {"name": "Contradictory", "clauses": [{"field": "problems.contradictory", "op": "is_true"}],
     "action": "reject"},
    {"name": "Test policies",
     "clauses": [{"field": "inputs.policy_number", "op": "contains", "value": "TEST"}], "action": "reject"},
    {"name": "Large loss", "clauses": [{"field": "inputs.amount", "op": "gt", "value": "20000"}],
     "action": "escalate", "service_level_hours": 24},
    {"name": "Injury", "clauses": [{"field": "inputs.injured", "op": "is_true"}],
     "action": "escalate", "service_level_hours": 8},
    {"name": "Brokered mid-size", "clauses": [
        {"field": "inputs.channel", "op": "in", "value": ["broker", "email"]},
        {"field": "inputs.amount", "op": "gt", "value": "5000"}],
     "action": "escalate", "service_level_hours": 48},
    {"name": "Before the migration", "clauses": [
        {"field": "inputs.incident_at", "op": "lt", "value": "2026-03-05 00:00"}],
     "action": "escalate", "service_level_hours": 48},
    {"name": "Unsure liability", "clauses": [
        {"field": "outputs.confidence", "op": "lt", "value": "0.15"},
        {"field": "outputs.category", "op": "in", "value": ["liability", "injury"]}],
     "action": "escalate", "service_level_hours": 24},
    {"name": "Routine", "clauses": [], "action": "automate", "sample_percent": "5"},
]  # fmt: skip


def compiled_table() -> CompiledTable:
    """The table checked as publish_rules checks it, compiled as `exceptions.router.compiled` compiles a
    published version (without the database: the rule ids are positions)."""
    clean = clean_table(TABLE, spec=SPEC, zone=UTC, reviewer_ids=set())
    types = {path: info.type for path, info in fields_of(SPEC).items()}
    rules = tuple(
        RuleInfo(
            id=position,
            position=position,
            action=rule["action"],
            route=ROUTE_OF[rule["action"]],
            label=label_of(position, rule["clauses"], rule["name"]),
            sample_threshold=int(rule["sample_percent"] * 100),
            service_level_hours=rule["service_level_hours"],
            reviewer_id=None,
        )
        for position, rule in enumerate(clean, start=1)
    )
    return CompiledTable(0, 1, rules, Router([rule["clauses"] for rule in clean], types))


def drafts_of(batch: list[dict], validator: Validator) -> list[Draft]:
    """What intake's validation hands the routing hook: typed values and the problems found."""
    received = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    drafts = []
    for record in batch:
        checked = validator.check(record["inputs"], record["outputs"], received_at=received)
        values = {
            "external_id": record["external_id"],
            "received_at": received,
            "inputs": checked.inputs,
            "outputs": checked.outputs,
        }
        drafts.append(Draft(arrival=None, values=values, problems=checked.problems))
    return drafts


def _match_only(table: CompiledTable, drafts: list[Draft]) -> int:
    """The generated function alone (no flags set, no sampling, nothing written): for comparison."""
    match, hits = table.router.match, 0
    for draft in drafts:
        values = draft.values
        kinds = {kind for _, kind, _ in draft.problems} if draft.problems else frozenset()
        hits += match(values["inputs"], values["outputs"], kinds)
    return hits


def run(*, quick: bool, repetitions: int) -> dict:
    n = 50_000 if quick else 200_000
    batch = records(n)
    validator = Validator(SPEC)
    table = compiled_table()
    drafts = drafts_of(batch, validator)
    routing_time, _ = median_time(lambda: route_drafts(BENCH_PILOT, table, drafts), repetitions)
    match_time, _ = median_time(lambda: _match_only(table, drafts), repetitions)
    validation_time, _ = median_time(lambda: _count_prodready(validator, batch), repetitions)
    rate, bare, reference = n / routing_time, n / match_time, n / validation_time
    ratio = rate / reference
    routes = Counter(draft.values["route"] for draft in drafts)
    mix = ", ".join(
        f"{routes[route] / n:.1%} {route}" for route in ("automated", "sampled", "escalated", "rejected")
    )
    say(f"e. Routing: {len(table.rules)}-rule table, {n:,} validated records ({mix}), "
        f"median of {repetitions} runs")  # fmt: skip
    row(
        "route_drafts (whole step)",
        f"{rate:,.0f} records/s",
        f"target ≥ {TARGET_RATE:,}/s: {verdict(rate >= TARGET_RATE)}",
    )
    row("compiled match alone", f"{bare:,.0f} records/s", "the generated function, for comparison")
    row("Step 2 validation", f"{reference:,.0f} records/s", "reference: the Validator on the same records")
    row("ratio", f"{ratio:.1f}× validation", f"target ≥ {TARGET_RATIO:g}×: {verdict(ratio >= TARGET_RATIO)}")
    return {"rate": rate, "bare": bare, "reference": reference, "ratio": ratio, "routes": routes}

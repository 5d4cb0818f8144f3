"""The decision-table language: which fields and operators a clause may use, checking a table before it
is published, how a clause reads, and what it means (the reference semantics the compiled router follows).

A clause is {"field", "op", "value"}. Fields are `inputs.<name>` and `outputs.<name>` as declared by the
pilot's input standard, and the problem flags `problems.<kind>`. What a clause means:

- `is_empty` holds when the value is absent or ""; `is_present` when it is not.
- Every other operator holds only for a value of the field's type; a value that is absent or "", or that
  failed validation (kept as given), never meets it — not even `ne` or `not_in`. So `inputs.amount > 10000`
  is false for a case whose amount is "n/a" — route such cases with `problems.invalid is true`.
- Text comparisons `eq`, `ne`, `in`, `not_in` are exact; `contains` and `starts_with` ignore case.
- Dates and times compare as moments; a rule's date-time value is read in the workspace's time zone.

A table is a list of rules, first match wins (DMN hit policy "first"); its last rule has no clauses and
matches every case (the default); no other rule may be empty.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pilots.validation import PROBLEM_KINDS, parse_date, parse_datetime, parse_number

OPERATORS: dict[str, str] = {
    "lt": "<",
    "le": "≤",
    "eq": "=",
    "ne": "≠",
    "ge": "≥",
    "gt": ">",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "starts_with": "starts with",
    "is_true": "is true",
    "is_false": "is false",
    "is_empty": "is empty",
    "is_present": "is present",
}
NO_VALUE = frozenset({"is_true", "is_false", "is_empty", "is_present"})
LIST_VALUE = frozenset({"in", "not_in"})
ORDER_OPS = ("lt", "le", "eq", "ne", "ge", "gt")
PRESENCE = ("is_empty", "is_present")

OPS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "integer": (*ORDER_OPS, "in", "not_in", *PRESENCE),
    "number": (*ORDER_OPS, "in", "not_in", *PRESENCE),
    "string": ("eq", "ne", "in", "not_in", "contains", "starts_with", *PRESENCE),
    "email": ("eq", "ne", "in", "not_in", "contains", "starts_with", *PRESENCE),
    "enum": ("eq", "ne", "in", "not_in", *PRESENCE),
    "boolean": ("is_true", "is_false", *PRESENCE),
    "date": (*ORDER_OPS, *PRESENCE),
    "datetime": (*ORDER_OPS, *PRESENCE),
    "flag": ("is_true", "is_false"),
}
FLAG_LABELS = {kind: kind.replace("_", " ") for kind in PROBLEM_KINDS}
ACTIONS = ("automate", "escalate", "reject")
MAX_RULES = 50
MAX_CLAUSES = 10
MAX_SERVICE_LEVEL_HOURS = 24 * 90


class RuleTableError(ValueError):
    """The table cannot be published; `errors` maps a location ("rules[2].clauses[0].value") to why."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass(frozen=True)
class FieldInfo:
    path: str  # inputs.amount / outputs.confidence / problems.missing
    label: str
    type: str  # a standard field type, or "flag"
    allowed: tuple[str, ...] = ()

    @property
    def operators(self) -> tuple[str, ...]:
        return OPS_BY_TYPE[self.type]


def fields_of(spec: dict | None) -> dict[str, FieldInfo]:
    """Every field a clause may name, given a standard's spec (InputStandard.spec())."""
    found: dict[str, FieldInfo] = {}
    for part in ("inputs", "outputs"):
        for item in (spec or {}).get(part) or []:
            path = f"{part}.{item['name']}"
            label = f"{'Input' if part == 'inputs' else 'AI output'}: {item.get('label') or item['name']}"
            found[path] = FieldInfo(path, label, item["type"], tuple(map(str, item.get("allowed") or [])))
    for kind, text in FLAG_LABELS.items():
        found[f"problems.{kind}"] = FieldInfo(f"problems.{kind}", f"Problem: {text} input", "flag")
    return found


def _typed(value: Any, info: FieldInfo, zone) -> tuple[Any, str | None]:
    """A clause value as the field's type (as stored in JSON), or an error message."""
    kind = info.type
    if kind in ("integer", "number"):
        number = parse_number(value.strip() if isinstance(value, str) else value, False)
        if number is None or isinstance(value, bool):
            return None, f"“{value}” is not a number."
        return number, None
    if kind == "date":
        day = parse_date(value) if isinstance(value, str | date) else None
        return (day.isoformat(), None) if day else (None, f"“{value}” is not a date (YYYY-MM-DD).")
    if kind == "datetime":
        moment = parse_datetime(value, zone) if isinstance(value, str | datetime) else None
        if moment is None:
            return None, f"“{value}” is not a date and time (YYYY-MM-DD HH:MM)."
        return moment.isoformat(), None
    text = str(value).strip() if value is not None else ""
    if not text:
        return None, "Give a value."
    if kind == "enum" and text not in info.allowed:
        return None, f"“{text}” is not one of the allowed values ({', '.join(info.allowed)})."
    return text, None


def _clean_clause(clause: dict, fields: dict[str, FieldInfo], zone) -> tuple[dict, dict[str, str]]:
    errors: dict[str, str] = {}
    path = str(clause.get("field") or "").strip()
    op = str(clause.get("op") or "").strip()
    info = fields.get(path)
    if info is None:
        return {}, {"field": f"The input standard has no field “{path}”." if path else "Choose a field."}
    if op not in info.operators:
        shown = ", ".join(OPERATORS[o] for o in info.operators)
        what = OPERATORS.get(op, op) or "(none)"
        return {}, {"op": f"“{what}” does not fit {info.type} field {path}; use one of: {shown}."}
    value: Any = None
    if op in LIST_VALUE:
        raw = clause.get("value")
        items = raw if isinstance(raw, list) else [part for part in str(raw or "").split(",")]
        items = [item for item in items if str(item).strip() != ""]
        if not items:
            errors["value"] = "List at least one value, separated by commas."
        typed = []
        for item in items:
            one, error = _typed(item, info, zone)
            if error:
                errors["value"] = error
                break
            if one not in typed:
                typed.append(one)
        value = typed
    elif op not in NO_VALUE:
        value, error = _typed(clause.get("value"), info, zone)
        if error:
            errors["value"] = error
    return {"field": path, "op": op, "value": value}, errors


def _percent(value: Any) -> tuple[Decimal, str | None]:
    if value in (None, ""):
        return Decimal(0), None
    try:
        number = Decimal(str(value).strip().rstrip("%"))
    except InvalidOperation:
        return Decimal(0), f"“{value}” is not a percentage."
    if not number.is_finite() or number < 0 or number > 100:
        return Decimal(0), "A sampling percentage lies between 0 and 100."
    return number.quantize(Decimal("0.01")), None


def clean_table(rules: list[dict], *, spec: dict | None, zone, reviewer_ids: set[int]) -> list[dict]:
    """Check a whole table against the standard's fields; return it normalised or raise RuleTableError.

    `reviewer_ids` are the members a rule may name as its reviewer."""
    errors: dict[str, str] = {}
    fields = fields_of(spec)
    if not rules:
        raise RuleTableError({"rules": "A table needs at least its default rule."})
    if len(rules) > MAX_RULES:
        raise RuleTableError({"rules": f"A table has at most {MAX_RULES} rules."})
    clean = []
    for i, rule in enumerate(rules):
        where = f"rules[{i}]"
        clauses = []
        # Blank rows (a form sends them) are skipped; a message keeps the index of the row as submitted.
        raw_clauses = [
            (j, c)
            for j, c in enumerate(rule.get("clauses") or [])
            if any(str(c.get(k) or "") for k in ("field", "op"))
        ]
        if len(raw_clauses) > MAX_CLAUSES:
            errors[f"{where}.clauses"] = f"A rule has at most {MAX_CLAUSES} clauses."
        for j, clause in raw_clauses:
            item, clause_errors = _clean_clause(clause, fields, zone)
            for key, message in clause_errors.items():
                errors[f"{where}.clauses[{j}].{key}"] = message
            if item:
                clauses.append(item)
        last = i == len(rules) - 1
        if not raw_clauses and not last:
            errors[f"{where}.clauses"] = (
                "Only the last rule (the default) may match every case: add a clause."
            )
        if raw_clauses and last:
            errors[f"{where}.clauses"] = (
                "The last rule is the default and matches every case: add a default rule below this one."
            )
        action = str(rule.get("action") or "")
        if action not in ACTIONS:
            errors[f"{where}.action"] = "Choose automate, escalate or reject."
        sample, error = _percent(rule.get("sample_percent"))
        if error:
            errors[f"{where}.sample_percent"] = error
        elif sample and action != "automate":
            errors[f"{where}.sample_percent"] = "Only automated cases are sampled for audit."
        hours = rule.get("service_level_hours")
        if hours in (None, ""):
            hours = None
            if action == "escalate":
                errors[f"{where}.service_level_hours"] = "Say within how many hours a reviewer decides."
        else:
            number = parse_number(str(hours).strip(), True)
            if number is None or not 1 <= number <= MAX_SERVICE_LEVEL_HOURS:
                errors[f"{where}.service_level_hours"] = (
                    f"Give a whole number of hours from 1 to {MAX_SERVICE_LEVEL_HOURS}."
                )
            hours = number
        reviewer = rule.get("reviewer") or None
        if reviewer is not None:
            reviewer = parse_number(str(reviewer), True)
            if action != "escalate":
                errors[f"{where}.reviewer"] = "Only escalations go to a named reviewer."
            elif reviewer not in reviewer_ids:
                errors[f"{where}.reviewer"] = "Choose a member who may review this pilot's cases."
        clean.append(
            {
                "name": str(rule.get("name") or "").strip()[:80],
                "clauses": clauses,
                "action": action,
                "sample_percent": sample,
                "service_level_hours": hours if action != "reject" else None,
                "reviewer": reviewer if action == "escalate" else None,
            }
        )
    if errors:
        raise RuleTableError(errors)
    return clean


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def clause_text(clause: dict) -> str:
    field, op = clause["field"], clause["op"]
    if op in NO_VALUE:
        return f"{field} {OPERATORS[op]}"
    return f"{field} {OPERATORS[op]} {_shown(clause['value'])}"


def condition_text(clauses: list[dict]) -> str:
    return " and ".join(clause_text(c) for c in clauses) if clauses else "every other case (default)"


def label_of(position: int, clauses: list[dict], name: str = "") -> str:
    """What a case records as the clause that routed it (Case.rule_clause, at most 200 characters)."""
    text = (
        f"#{position} {name}: {condition_text(clauses)}" if name else f"#{position} {condition_text(clauses)}"
    )
    return text if len(text) <= 200 else text[:199] + "…"


def signature_of(clauses: list[dict], action: str) -> str:
    canonical = json.dumps([clauses, action], sort_keys=True, default=str)
    return hashlib.md5(canonical.encode(), usedforsecurity=False).hexdigest()


# --- the reference semantics (readable; the compiled router must agree with it) ---

NUMBER_TYPES = (int, float)


def _moment(value: Any, kind: str):
    if type(value) is not str:
        return None
    try:
        if kind == "date":
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def clause_holds(clause: dict, field_type: str, inputs: dict, outputs: dict, kinds) -> bool:
    field, op, expected = clause["field"], clause["op"], clause.get("value")
    part, name = field.split(".", 1)
    if part == "problems":
        return (name in kinds) == (op == "is_true")
    value = (inputs if part == "inputs" else outputs).get(name)
    present = value is not None and value != ""
    if op == "is_empty":
        return not present
    if op == "is_present":
        return present
    if not present:
        return False
    if field_type == "boolean":
        return type(value) is bool and value == (op == "is_true")
    if field_type in ("integer", "number"):
        if type(value) not in NUMBER_TYPES:
            return False
    elif field_type in ("date", "datetime"):
        value = _moment(value, field_type)
        if value is None:
            return False
        expected = _moment(expected, field_type)
    elif type(value) is not str:
        return False
    if op == "in":
        return value in expected
    if op == "not_in":
        return value not in expected
    if op == "contains":
        return expected.casefold() in value.casefold()
    if op == "starts_with":
        return value.casefold().startswith(expected.casefold())
    return {
        "lt": value < expected,
        "le": value <= expected,
        "eq": value == expected,
        "ne": value != expected,
        "ge": value >= expected,
        "gt": value > expected,
    }[op]


def first_match(rules: list[dict], types: dict[str, str], inputs: dict, outputs: dict, kinds) -> int:
    """The index of the first rule whose clauses all hold (the default always does)."""
    for index, rule in enumerate(rules):
        if all(
            clause_holds(c, types.get(c["field"], "flag"), inputs, outputs, kinds) for c in rule["clauses"]
        ):
            return index
    return len(rules) - 1

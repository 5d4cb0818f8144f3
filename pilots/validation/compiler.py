"""Checking cases against an input standard (DESIGN.md "Contracts: Case", step 2).

A standard is compiled once per version into plain Python source — one straight-line block per field,
no per-field function calls — because intake validates hundreds of thousands of records per second.
Values may arrive typed (JSON from the API or a form) or as text (CSV); both are accepted and
normalised. Nothing is dropped: a value that does not fit is kept as given and reported.

A problem is (field path, kind, message) with kind one of missing, invalid, contradictory, late,
outside_boundary; the field path is `inputs.<name>` or `outputs.<name>`.
"""

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from pilots.validation.values import parse_boolean, parse_date, parse_datetime, parse_number

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

Problem = tuple[str, str, str]


@dataclass(frozen=True)
class Checked:
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    problems: list[Problem]
    event_at: datetime | None

    def kinds(self) -> set[str]:
        return {kind for _, kind, _ in self.problems}


def _describe(spec: dict) -> str:
    kind = spec["type"]
    if kind == "enum":
        return "one of " + ", ".join(map(str, spec.get("allowed") or []))
    return {
        "string": "text",
        "integer": "a whole number",
        "number": "a number",
        "boolean": "true or false",
        "date": "a date (YYYY-MM-DD)",
        "datetime": "a date and time (ISO 8601)",
        "email": "an email address",
    }[kind]


def _field_block(spec: dict, prefix: str, consts: dict) -> list[str]:
    """Source lines that check one field of `values` and write its normalised value to `out`."""
    name, label, kind = spec["name"], spec.get("label") or spec["name"], spec["type"]
    path, q = f"{prefix}.{name}", repr
    key = f"c{len(consts)}"
    consts[key] = spec

    def problem(message: str, detail: str = "", indent: str = "            ") -> str:
        # `detail` is an f-string fragment evaluated at check time (e.g. ", got {v!r}.").
        return f"{indent}problems.append(({q(path)}, 'invalid', {q(message)} + f{q(detail)}))"

    lines = [f"    v = values.get({q(name)})", "    if v is None or v == '':"]
    if spec.get("required"):
        lines.append(f"        problems.append(({q(path)}, 'missing', {q(label + ' is required.')}))")
    else:
        lines.append("        pass")
    lines.append("    else:")
    bad = f"{label} must be {_describe(spec)}"
    if kind in ("integer", "number"):
        fast = "type(v) is int" if kind == "integer" else "type(v) is int or type(v) is float"
        lines += [
            f"        x = v if {fast} else _number(v, {kind == 'integer'})",
            "        if x is None:",
            problem(bad, ", got {v!r}."),
            f"            out[{q(name)}] = v",
            "        else:",
        ]
        if spec.get("min") is not None:
            lines += [
                f"            if x < {spec['min']!r}:",
                problem(f"{label} must be at least {spec['min']}", ", got {x}.", "                "),
            ]
        if spec.get("max") is not None:
            lines += [
                f"            if x > {spec['max']!r}:",
                problem(f"{label} must be at most {spec['max']}", ", got {x}.", "                "),
            ]
        lines += [f"            out[{q(name)}] = x", f"            typed[{q(name)}] = x"]
        return lines
    if kind in ("boolean", "date", "datetime"):
        parse = {"boolean": "_boolean(v)", "date": "_parse_date(v)", "datetime": "_parse_datetime(v, zone)"}[
            kind
        ]
        stored = "x" if kind == "boolean" else "x.isoformat()"
        return lines + [
            f"        x = {parse}",
            "        if x is None:",
            problem(bad, ", got {v!r}."),
            f"            out[{q(name)}] = v",
            "        else:",
            f"            out[{q(name)}] = {stored}",
            f"            typed[{q(name)}] = x",
        ]
    # string, enum, email: text; a number given for a text field is taken as its text
    lines += [
        "        if type(v) is str:",
        "            x = v",
        "        elif type(v) is int or type(v) is float:",
        "            x = str(v)",
        "        else:",
        "            x = None",
        "        if x is None:",
        problem(bad, ", got {v!r}."),
        f"            out[{q(name)}] = v",
        "        else:",
    ]
    inner = "            "
    if kind == "enum" or spec.get("allowed"):
        allowed_key = f"{key}_allowed"
        consts[allowed_key] = frozenset(str(a) for a in spec.get("allowed") or [])
        one_of = "one of " + ", ".join(map(str, spec.get("allowed") or []))
        lines += [
            f"{inner}if x not in {allowed_key}:",
            problem(f"{label} must be {one_of}", ", got {x!r}.", inner + "    "),
        ]
    if spec.get("min_length") is not None:
        n = int(spec["min_length"])
        lines += [
            f"{inner}if len(x) < {n}:",
            problem(f"{label} must be at least {n} characters", ", got {len(x)}.", inner + "    "),
        ]
    if spec.get("max_length") is not None:
        n = int(spec["max_length"])
        lines += [
            f"{inner}if len(x) > {n}:",
            problem(f"{label} must be at most {n} characters", ", got {len(x)}.", inner + "    "),
        ]
    pattern = EMAIL_PATTERN if kind == "email" else spec.get("pattern")
    if pattern:
        pattern_key = f"{key}_pattern"
        consts[pattern_key] = re.compile(pattern)
        what = "a valid email address" if kind == "email" else f"text matching {pattern}"
        lines += [
            f"{inner}if {pattern_key}.search(x) is None:",
            problem(f"{label} must be {what}", ", got {x!r}.", inner + "    "),
        ]
    lines += [f"{inner}out[{q(name)}] = x", f"{inner}typed[{q(name)}] = x"]
    return lines


def _rule_block(rule: dict, labels: dict[str, str], types: dict[str, str]) -> list[str]:
    q = repr
    if rule["kind"] == "compare":
        left, op, right = rule["left"], rule["op"], rule["right"]
        message = rule.get("message") or f"{labels[left]} must be {op} {labels[right]}."
        return [
            f"    a = typed.get({q(left)}, MISSING); b = typed.get({q(right)}, MISSING)",
            "    if a is not MISSING and b is not MISSING:",
            "        try:",
            f"            ok = a {op} b",
            "        except TypeError:",
            "            ok = True",
            "        if not ok:",
            f"            problems.append(({q('inputs.' + left)}, 'contradictory', {q(message)}))",
        ]
    # requires: if <if_field> equals <equals> then <then_field> is required
    # The condition compares typed values, so "yes", "TRUE" and true all meet "if injured = true".
    if_field, then_field = rule["if_field"], rule["then_field"]
    equals = str(rule["equals"])
    message = rule.get("message") or f"{labels[then_field]} is required when {labels[if_field]} is {equals}."
    kind = types[if_field]
    expected = (
        parse_boolean(equals) if kind == "boolean"
        else parse_number(equals, kind == "integer") if kind in ("integer", "number")
        else equals
    )  # fmt: skip
    if expected is None:
        return []  # a condition its own field can never hold: the rule never fires
    return [
        f"    c = typed.get({q(if_field)}, MISSING)",
        f"    if c is not MISSING and c == {expected!r}:",
        f"        d = inputs.get({q(then_field)})",
        "        if d is None or d == '':",
        f"            problems.append(({q('inputs.' + then_field)}, 'contradictory', {q(message)}))",
    ]


MISSING = object()


class Validator:
    """A compiled standard. `check(inputs, outputs, received_at=…, due_at=…)` → Checked."""

    def __init__(self, spec: dict, *, zone=UTC):
        self.spec = spec
        self.zone = zone
        consts: dict[str, Any] = {}
        input_names = {f["name"] for f in spec["inputs"]}
        labels = {f["name"]: f["label"] for f in spec["inputs"]}
        source = ["def check_inputs(values, problems, zone):", "    out = {}", "    typed = {}"]
        for field in spec["inputs"]:
            source += _field_block(field, "inputs", consts)
        source += [
            "    for k in values:",
            "        if k not in INPUT_NAMES:",
            "            out[k] = values[k]",
            "            problems.append(('inputs.' + k, 'outside_boundary', "
            "f'{k} is not a field of the input standard; kept as given.'))",
            "    return out, typed",
            "",
            "def check_outputs(values, problems, zone):",
            "    out = {}",
            "    typed = {}",
        ]
        for field in spec["outputs"]:
            source += _field_block(field, "outputs", consts)
        source += [
            "    for k in values:",
            "        if k not in OUTPUT_NAMES:",
            "            out[k] = values[k]",
            "    return out",
            "",
            "def check_rules(inputs, typed, problems):",
            "    pass",
        ]
        for rule in spec["rules"]:
            source += _rule_block(rule, labels, {f["name"]: f["type"] for f in spec["inputs"]})
        namespace = {
            **consts,
            "_number": parse_number,
            "_boolean": parse_boolean,
            "_parse_date": parse_date,
            "_parse_datetime": parse_datetime,
            "MISSING": MISSING,
            "INPUT_NAMES": frozenset(input_names),
            "OUTPUT_NAMES": frozenset(f["name"] for f in spec["outputs"]),
        }
        self.source = "\n".join(source)
        exec(compile(self.source, f"<standard {id(spec)}>", "exec"), namespace)  # noqa: S102 — our own source
        self._inputs = namespace["check_inputs"]
        self._outputs = namespace["check_outputs"]
        self._rules = namespace["check_rules"]
        self.event_field = spec["event_time_field"]
        hours = spec["max_lateness_hours"]
        self.max_lateness = timedelta(hours=hours) if hours else None
        self.event_label = labels.get(self.event_field, self.event_field)

    def check(
        self,
        inputs: dict,
        outputs: dict | None = None,
        *,
        received_at: datetime | None = None,
        due_at: datetime | None = None,
    ) -> Checked:
        problems: list[Problem] = []
        clean_inputs, typed = self._inputs(inputs, problems, self.zone)
        clean_outputs = self._outputs(outputs or {}, problems, self.zone)
        self._rules(inputs, typed, problems)
        event_at = None
        if self.event_field:
            event = typed.get(self.event_field)
            if isinstance(event, datetime):
                event_at = event
            elif isinstance(event, date):
                event_at = datetime(event.year, event.month, event.day, tzinfo=self.zone)
        if received_at is not None:
            # Elapsed time, in UTC: two moments in the workspace's zone subtract (and compare) by the
            # wall clock, an hour off across a clock change.
            received = received_at.astimezone(UTC)
            lag = received - event_at.astimezone(UTC) if event_at is not None else None
            if lag is not None and self.max_lateness is not None and lag > self.max_lateness:
                hours = lag.total_seconds() / 3600
                problems.append(
                    (
                        f"inputs.{self.event_field}",
                        "late",
                        f"Arrived {hours:.0f} h after the event ({self.event_label}); the standard allows "
                        f"{self.max_lateness.total_seconds() / 3600:.0f} h.",
                    )
                )
            if due_at is not None and received > due_at.astimezone(UTC):
                problems.append(("due_at", "late", f"Arrived after it was due ({due_at:%Y-%m-%d %H:%M})."))
        return Checked(clean_inputs, clean_outputs, problems, event_at)


@lru_cache(maxsize=256)
def _compiled(spec_json: str, zone_name: str) -> Validator:
    return Validator(json.loads(spec_json), zone=ZoneInfo(zone_name))


def validator_for(spec: dict, zone_name: str = "UTC") -> Validator:
    """The compiled validator of a standard (compiled once per distinct standard and time zone)."""
    return _compiled(json.dumps(spec, sort_keys=True), zone_name)

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

FIELD_TYPES = ("string", "integer", "number", "boolean", "date", "datetime", "enum", "email")
PROBLEM_KINDS = ("missing", "invalid", "contradictory", "late", "outside_boundary")
COMPARE_OPS = ("<", "<=", "==", "!=", ">=", ">")
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "t"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "f"})
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

Problem = tuple[str, str, str]


class StandardError(ValueError):
    """The standard itself is malformed; `errors` maps a location to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass(frozen=True)
class Checked:
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    problems: list[Problem]
    event_at: datetime | None

    def kinds(self) -> set[str]:
        return {kind for _, kind, _ in self.problems}


def _parse_datetime(value: Any, zone) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _number(value: Any, integer: bool):
    """The number in `value` (text or a number), or None. Integers stay exact."""
    kind = type(value)
    if kind is str:
        try:
            return int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                return None
    elif kind is int:
        return value
    elif kind is float:
        number = value
    else:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    if integer:
        return int(number) if number.is_integer() else None
    return number


def _boolean(value: Any):
    if value is True or value is False:
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


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


def _rule_block(rule: dict, labels: dict[str, str]) -> list[str]:
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
    if_field, then_field = rule["if_field"], rule["then_field"]
    equals = str(rule["equals"])
    message = rule.get("message") or f"{labels[then_field]} is required when {labels[if_field]} is {equals}."
    return [
        f"    c = inputs.get({q(if_field)})",
        f"    if c is not None and str(c) == {q(equals)}:",
        f"        d = inputs.get({q(then_field)})",
        "        if d is None or d == '':",
        f"            problems.append(({q('inputs.' + then_field)}, 'contradictory', {q(message)}))",
    ]


def validate_standard(spec: dict) -> dict:
    """Check a standard's own shape; return it normalised, or raise StandardError naming each problem."""
    errors: dict[str, str] = {}
    clean = {"inputs": [], "outputs": [], "rules": [], "event_time_field": "", "max_lateness_hours": None}
    for part in ("inputs", "outputs"):
        seen: set[str] = set()
        for i, field in enumerate(spec.get(part) or []):
            where = f"{part}[{i}]"
            name = str(field.get("name", "")).strip()
            if not NAME_PATTERN.match(name):
                errors[f"{where}.name"] = "Use lower-case letters, digits and _ (starting with a letter)."
                continue
            if name in seen:
                errors[f"{where}.name"] = f"“{name}” is declared twice."
            seen.add(name)
            kind = field.get("type")
            if kind not in FIELD_TYPES:
                errors[f"{where}.type"] = f"Choose one of {', '.join(FIELD_TYPES)}."
                continue
            item = {
                "name": name,
                "label": str(field.get("label") or name.replace("_", " ").capitalize()),
                "type": kind,
                "required": bool(field.get("required")),
                "allowed": [str(a) for a in field.get("allowed") or [] if str(a) != ""],
                "min": field.get("min"),
                "max": field.get("max"),
                "min_length": field.get("min_length"),
                "max_length": field.get("max_length"),
                "pattern": str(field.get("pattern") or ""),
                "description": str(field.get("description") or ""),
                "example": field.get("example", ""),
            }
            if kind == "enum" and not item["allowed"]:
                errors[f"{where}.allowed"] = "An enum needs its allowed values."
            for bound in ("min", "max"):
                value = item[bound]
                if value in ("", None):
                    item[bound] = None
                elif kind not in ("integer", "number"):
                    errors[f"{where}.{bound}"] = "Only numbers have a minimum or maximum."
                elif not isinstance(value, int | float) or isinstance(value, bool):
                    errors[f"{where}.{bound}"] = "Give a number."
            if item["min"] is not None and item["max"] is not None and item["min"] > item["max"]:
                errors[f"{where}.max"] = "The maximum is below the minimum."
            for bound in ("min_length", "max_length"):
                value = item[bound]
                if value in ("", None):
                    item[bound] = None
                elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    errors[f"{where}.{bound}"] = "Give a whole number of characters."
            if item["pattern"]:
                try:
                    re.compile(item["pattern"])
                except re.error as error:
                    errors[f"{where}.pattern"] = f"Not a valid regular expression: {error}."
            clean[part].append(item)
    if not clean["inputs"] and not any(key.startswith("inputs") for key in errors):
        errors["inputs"] = "Declare at least one input field."
    inputs = {f["name"]: f for f in clean["inputs"]}
    for i, rule in enumerate(spec.get("rules") or []):
        where = f"rules[{i}]"
        if rule.get("kind") == "compare":
            left, op, right = rule.get("left"), rule.get("op"), rule.get("right")
            if left not in inputs or right not in inputs:
                errors[where] = "A comparison names two input fields of the standard."
            elif op not in COMPARE_OPS:
                errors[where] = f"Compare with one of {' '.join(COMPARE_OPS)}."
            elif inputs[left]["type"] != inputs[right]["type"] and {
                inputs[left]["type"],
                inputs[right]["type"],
            } - {
                "integer",
                "number",
            }:
                errors[where] = "Compare fields of the same type."
            else:
                clean["rules"].append(
                    {
                        "kind": "compare",
                        "left": left,
                        "op": op,
                        "right": right,
                        "message": str(rule.get("message") or ""),
                    }
                )
        elif rule.get("kind") == "requires":
            if rule.get("if_field") not in inputs or rule.get("then_field") not in inputs:
                errors[where] = "“If … then … required” names two input fields of the standard."
            elif str(rule.get("equals", "")) == "":
                errors[where] = "Say which value of the first field makes the second required."
            else:
                clean["rules"].append(
                    {
                        "kind": "requires",
                        "if_field": rule["if_field"],
                        "equals": str(rule["equals"]),
                        "then_field": rule["then_field"],
                        "message": str(rule.get("message") or ""),
                    }
                )
        else:
            errors[where] = "A rule is a comparison or an “if … then … required”."
    event_field = str(spec.get("event_time_field") or "")
    if event_field:
        if event_field not in inputs or inputs[event_field]["type"] not in ("date", "datetime"):
            errors["event_time_field"] = "The event time is an input field of type date or datetime."
        clean["event_time_field"] = event_field
    hours = spec.get("max_lateness_hours")
    if hours not in (None, ""):
        if not isinstance(hours, int | float) or isinstance(hours, bool) or hours <= 0:
            errors["max_lateness_hours"] = "Give the maximum age at arrival in hours (more than 0)."
        elif not event_field:
            errors["max_lateness_hours"] = "Name the field that holds the event time first."
        clean["max_lateness_hours"] = hours
    if errors:
        raise StandardError(errors)
    return clean


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
            source += _rule_block(rule, labels)
        namespace = {
            **consts,
            "_number": _number,
            "_boolean": _boolean,
            "_parse_date": _parse_date,
            "_parse_datetime": _parse_datetime,
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
            if (
                event_at is not None
                and self.max_lateness is not None
                and received_at - event_at > self.max_lateness
            ):
                hours = (received_at - event_at).total_seconds() / 3600
                problems.append(
                    (
                        f"inputs.{self.event_field}",
                        "late",
                        f"Arrived {hours:.0f} h after its {self.event_label}; the standard allows "
                        f"{self.max_lateness.total_seconds() / 3600:.0f} h.",
                    )
                )
            if due_at is not None and received_at > due_at:
                problems.append(("due_at", "late", f"Arrived after it was due ({due_at:%Y-%m-%d %H:%M})."))
        return Checked(clean_inputs, clean_outputs, problems, event_at)


@lru_cache(maxsize=256)
def _compiled(spec_json: str, zone_name: str) -> Validator:
    return Validator(json.loads(spec_json), zone=ZoneInfo(zone_name))


def validator_for(spec: dict, zone_name: str = "UTC") -> Validator:
    """The compiled validator of a standard (compiled once per distinct standard and time zone)."""
    return _compiled(json.dumps(spec, sort_keys=True), zone_name)

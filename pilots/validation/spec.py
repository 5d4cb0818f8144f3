"""The shape of a standard itself: its fields, cross-field rules and lateness, checked before publishing."""

import re

FIELD_TYPES = ("string", "integer", "number", "boolean", "date", "datetime", "enum", "email")
PROBLEM_KINDS = ("missing", "invalid", "contradictory", "late", "outside_boundary")
COMPARE_OPS = ("<", "<=", "==", "!=", ">=", ">")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class StandardError(ValueError):
    """The standard itself is malformed; `errors` maps a location to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


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

"""What a standard looks like to other systems: a JSON Schema data contract and a CSV template."""

import io

from pilots import csvio
from pilots.models import InputStandard
from pilots.validation import EMAIL_PATTERN

JSON_TYPES = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "enum": {"type": "string"},
    "email": {"type": "string", "format": "email"},
}


def field_schema(field: dict) -> dict:
    schema = dict(JSON_TYPES[field["type"]])
    if field.get("label"):
        schema["title"] = field["label"]
    if field.get("description"):
        schema["description"] = field["description"]
    if field.get("allowed"):
        schema["enum"] = list(field["allowed"])
    if field.get("min") is not None:
        schema["minimum"] = field["min"]
    if field.get("max") is not None:
        schema["maximum"] = field["max"]
    if field.get("min_length") is not None:
        schema["minLength"] = field["min_length"]
    if field.get("max_length") is not None:
        schema["maxLength"] = field["max_length"]
    if field.get("pattern"):
        schema["pattern"] = field["pattern"]
    elif field["type"] == "email":
        schema["pattern"] = EMAIL_PATTERN  # the "email" format alone is checked loosely by many validators
    if field.get("example") not in (None, ""):
        schema["examples"] = [field["example"]]
    return schema


def _object(fields: list[dict]) -> dict:
    return {
        "type": "object",
        "properties": {f["name"]: field_schema(f) for f in fields},
        "required": [f["name"] for f in fields if f.get("required")],
    }


def json_schema(standard: InputStandard) -> dict:
    """The per-field rules as JSON Schema (2020-12). Cross-field rules and lateness are beyond JSON
    Schema; they are listed under `x-prodready` so a reader knows they exist."""
    spec = standard.spec()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{standard.pilot.name}: input standard v{standard.version}",
        "type": "object",
        "properties": {
            "external_id": {"type": "string", "minLength": 1, "maxLength": 200},
            "inputs": _object(spec["inputs"]),
            "outputs": _object(spec["outputs"]),
        },
        "required": ["external_id", "inputs"],
        "x-prodready": {
            "rules": spec["rules"],
            "event_time_field": spec["event_time_field"],
            "max_lateness_hours": spec["max_lateness_hours"],
        },
    }


def _example(field: dict) -> str:
    if field.get("example") not in (None, ""):
        return str(field["example"])
    kind = field["type"]
    if field.get("allowed"):
        return str(field["allowed"][0])
    return {
        "string": "text",
        "integer": str(field.get("min") if field.get("min") is not None else 1),
        "number": str(field.get("min") if field.get("min") is not None else 1.5),
        "boolean": "true",
        "date": "2026-01-31",
        "datetime": "2026-01-31T09:30:00+01:00",
        "enum": "",
        "email": "name@example.com",
    }[kind]


def csv_template(standard: InputStandard) -> str:
    """A header row and one example row, in the column order intake reads."""
    spec = standard.spec()
    header = ["external_id"] + [f["name"] for f in spec["inputs"]]
    header += [csvio.OUTPUT_PREFIX + f["name"] for f in spec["outputs"]]
    example = ["case-0001"] + [_example(f) for f in spec["inputs"]] + [_example(f) for f in spec["outputs"]]
    out = io.StringIO()
    writer = csvio.writer(out)
    writer.writerow(header)
    writer.writerow(example)
    return out.getvalue()

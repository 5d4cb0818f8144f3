"""The compiled validator: each field type and rule, lateness, boundaries, and agreement with the
exported JSON Schema on random records (the per-field rules)."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pilots.standards import json_schema
from pilots.validation import StandardError, Validator, validate_standard


def validator(*inputs, outputs=(), rules=(), event_time_field="", max_lateness_hours=None):
    spec = validate_standard(
        {
            "inputs": list(inputs),
            "outputs": list(outputs),
            "rules": list(rules),
            "event_time_field": event_time_field,
            "max_lateness_hours": max_lateness_hours,
        }
    )
    return Validator(spec)


def problems(v, inputs, outputs=None, **kw):
    return [(path, kind) for path, kind, _ in v.check(inputs, outputs, **kw).problems]


@pytest.mark.parametrize(
    ("spec", "good", "bad"),
    [
        ({"type": "string", "min_length": 2, "max_length": 4}, ["ab", "abcd"], ["a", "abcde", ["x"], True]),
        ({"type": "integer", "min": 1, "max": 10}, [1, "10", 7.0, " 5"], [0, 11, "1.5", 2.5, "ten", True]),
        (
            {"type": "number", "min": 0, "max": 1},
            [0, 1, 0.5, "0.25", "1e-1"],
            [-0.1, 1.01, "nan", "x", "inf"],
        ),
        ({"type": "boolean"}, [True, False, "yes", "No", "1", "0", "TRUE"], ["maybe", 2, "2"]),
        ({"type": "date"}, ["2026-02-28", "2024-02-29"], ["2026-02-30", "28/02/2026", "2026-02-28T10:00", 5]),
        (
            {"type": "datetime"},
            ["2026-02-28T10:00:00+01:00", "2026-02-28T10:00:00Z", "2026-02-28 10:00"],
            ["yesterday", "2026-13-01T00:00", 3],
        ),
        ({"type": "enum", "allowed": ["web", "phone"]}, ["web", "phone"], ["Web", "fax", ""]),
        ({"type": "email"}, ["a@b.co", "first.last@example.com"], ["a@b", "no at sign", "a b@c.de"]),
        ({"type": "string", "pattern": r"^CL-\d{4}$"}, ["CL-1234"], ["CL-12345", "cl-1234"]),
    ],
)
def test_each_type_accepts_good_values_and_reports_bad_ones(spec, good, bad):
    v = validator({"name": "f", "required": True, **spec})
    for value in good:
        assert problems(v, {"f": value}) == [], value
    for value in bad:
        found = problems(v, {"f": value})
        expected = [("inputs.f", "missing")] if value == "" else [("inputs.f", "invalid")]
        assert found == expected, value


def test_values_are_normalised_and_invalid_ones_kept_as_given():
    v = validator(
        {"name": "n", "type": "integer"}, {"name": "d", "type": "date"}, {"name": "b", "type": "boolean"}
    )
    checked = v.check({"n": "42", "d": "2026-01-05", "b": "yes"})
    assert checked.inputs == {"n": 42, "d": "2026-01-05", "b": True}
    assert v.check({"n": "forty"}).inputs == {"n": "forty"}


def test_messages_name_the_field_and_the_value():
    v = validator({"name": "amount", "label": "Claim amount", "type": "number", "max": 100, "required": True})
    [(_, _, message)] = v.check({"amount": 250}).problems
    assert message == "Claim amount must be at most 100, got 250."
    [(_, _, message)] = v.check({}).problems
    assert message == "Claim amount is required."


def test_fields_outside_the_standard_are_kept_and_flagged():
    v = validator({"name": "a", "type": "string"})
    checked = v.check({"a": "x", "colour": "red"})
    assert checked.inputs == {"a": "x", "colour": "red"}
    assert [(p, k) for p, k, _ in checked.problems] == [("inputs.colour", "outside_boundary")]


def test_outputs_are_checked_with_their_own_path():
    v = validator(
        {"name": "a", "type": "string"}, outputs=[{"name": "confidence", "type": "number", "max": 1}]
    )
    assert problems(v, {"a": "x"}, {"confidence": 1.5}) == [("outputs.confidence", "invalid")]


def test_a_compare_rule_flags_contradictory_inputs_only_when_both_are_valid():
    v = validator(
        {"name": "start", "type": "date"},
        {"name": "end", "type": "date"},
        rules=[{"kind": "compare", "left": "end", "op": ">=", "right": "start"}],
    )
    assert problems(v, {"start": "2026-01-02", "end": "2026-01-01"}) == [("inputs.end", "contradictory")]
    assert problems(v, {"start": "2026-01-02", "end": "2026-01-02"}) == []
    assert problems(v, {"start": "2026-01-02", "end": "nope"}) == [("inputs.end", "invalid")]
    assert problems(v, {"start": "2026-01-02"}) == []


def test_an_if_then_required_rule():
    v = validator(
        {"name": "channel", "type": "enum", "allowed": ["web", "phone"]},
        {"name": "phone", "type": "string"},
        rules=[{"kind": "requires", "if_field": "channel", "equals": "phone", "then_field": "phone"}],
    )
    assert problems(v, {"channel": "phone"}) == [("inputs.phone", "contradictory")]
    assert problems(v, {"channel": "phone", "phone": "+49 30 1234"}) == []
    assert problems(v, {"channel": "web"}) == []


def test_lateness_against_the_event_time_and_the_due_time():
    v = validator(
        {"name": "at", "type": "datetime", "required": True}, event_time_field="at", max_lateness_hours=24
    )
    event = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert problems(v, {"at": event.isoformat()}, received_at=event + timedelta(hours=23)) == []
    late = v.check({"at": event.isoformat()}, received_at=event + timedelta(hours=30))
    assert [(p, k) for p, k, _ in late.problems] == [("inputs.at", "late")]
    assert "30 h" in late.problems[0][2]
    assert late.event_at == event
    due = event + timedelta(hours=2)
    assert problems(v, {"at": event.isoformat()}, received_at=event + timedelta(hours=3), due_at=due) == [
        ("due_at", "late")
    ]


@pytest.mark.parametrize(
    ("event", "received", "late"),
    [
        ("2025-03-29T12:00:00", "2025-03-30T12:30:00", False),  # 23.5 h elapsed: the clocks went forward
        ("2025-10-25T12:00:00", "2025-10-26T11:30:00", True),  # 24.5 h elapsed: the clocks went back
    ],
)
def test_lateness_is_elapsed_time_across_a_clock_change(event, received, late):
    """Times without an offset are the workspace's (Berlin): their difference is what the clock showed
    only when no change lies between them."""
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    spec = validate_standard(
        {"inputs": [{"name": "at", "type": "datetime"}], "event_time_field": "at", "max_lateness_hours": 24}
    )
    received_at = datetime.fromisoformat(received).replace(tzinfo=berlin)
    checked = Validator(spec, zone=berlin).check({"at": event}, received_at=received_at)
    assert [kind for _, kind, _ in checked.problems] == (["late"] if late else [])
    if late:
        assert "Arrived 24 h after" in checked.problems[0][2]  # 24.5 h, rounded


def test_a_naive_datetime_is_read_in_the_workspace_time_zone():
    from zoneinfo import ZoneInfo

    spec = validate_standard({"inputs": [{"name": "at", "type": "datetime"}], "event_time_field": "at"})
    checked = Validator(spec, zone=ZoneInfo("Europe/Berlin")).check({"at": "2026-07-01T12:00:00"})
    assert checked.event_at.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(
    ("spec", "where"),
    [
        ({"inputs": [{"name": "Bad Name", "type": "string"}]}, "inputs[0].name"),
        ({"inputs": [{"name": "a", "type": "colour"}]}, "inputs[0].type"),
        ({"inputs": [{"name": "a", "type": "string"}, {"name": "a", "type": "string"}]}, "inputs[1].name"),
        ({"inputs": [{"name": "a", "type": "enum"}]}, "inputs[0].allowed"),
        ({"inputs": [{"name": "a", "type": "integer", "min": 5, "max": 1}]}, "inputs[0].max"),
        ({"inputs": [{"name": "a", "type": "string", "min": 1}]}, "inputs[0].min"),
        ({"inputs": [{"name": "a", "type": "string", "pattern": "("}]}, "inputs[0].pattern"),
        (
            {
                "inputs": [{"name": "a", "type": "date"}],
                "rules": [{"kind": "compare", "left": "a", "op": ">", "right": "b"}],
            },
            "rules[0]",
        ),
        ({"inputs": [{"name": "a", "type": "string"}], "event_time_field": "a"}, "event_time_field"),
        (
            {"inputs": [{"name": "a", "type": "date"}], "event_time_field": "a", "max_lateness_hours": -1},
            "max_lateness_hours",
        ),
    ],
)
def test_a_malformed_standard_is_refused_where_it_is_wrong(spec, where):
    with pytest.raises(StandardError) as error:
        validate_standard(spec)
    assert where in error.value.errors


# --- the validator and the exported JSON Schema agree on the per-field rules ----------------------

FIELDS = [
    {
        "name": "code",
        "type": "string",
        "required": True,
        "min_length": 2,
        "max_length": 6,
        "pattern": "^[A-Z]+$",
    },
    {"name": "count", "type": "integer", "required": True, "min": 0, "max": 100},
    {"name": "score", "type": "number", "min": -1.5, "max": 1.5},
    {"name": "flag", "type": "boolean"},
    {"name": "kind", "type": "enum", "allowed": ["a", "b", "c"]},
    {"name": "day", "type": "date"},
    {"name": "mail", "type": "email"},
]
SPEC = validate_standard({"inputs": FIELDS})
SCHEMA = json_schema(SimpleNamespace(spec=lambda: SPEC, version=1, pilot=SimpleNamespace(name="p")))[
    "properties"
]["inputs"]
SCHEMA["additionalProperties"] = False  # outside-boundary fields are problems for both

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-200, 200),
    st.floats(-3, 3, allow_nan=False),
    st.sampled_from(["AB", "ABCDEFG", "ab", "a", "b", "2026-02-28", "2026-02-30", "x@y.co", "nope", ""]),
    st.text(max_size=8),
)
records = st.dictionaries(st.sampled_from([f["name"] for f in FIELDS] + ["extra"]), values, max_size=9)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_the_validator_and_the_json_schema_agree_on_typed_records(record):
    # JSON Schema knows no "missing vs empty" nor text coercion: compare on JSON-typed values where the
    # validator's leniencies (numbers in text, "yes" for true, whole floats as integers) do not apply.
    typed = {k: v for k, v in record.items() if v is not None and v != ""}
    typed = {k: v for k, v in typed.items() if not (isinstance(v, str) and k in {"count", "score", "flag"})}
    typed = {k: v for k, v in typed.items() if not (isinstance(v, float) and k == "count")}
    typed = {
        k: v
        for k, v in typed.items()
        if not (
            isinstance(v, int | float) and not isinstance(v, bool) and k in {"code", "kind", "mail", "day"}
        )
    }
    typed = {k: v for k, v in typed.items() if not (isinstance(v, bool) and k in {"count", "score"})}
    ours = {path.split(".", 1)[1] for path, _, _ in Validator(SPEC).check(typed).problems}
    checker = jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    theirs = set()
    for error in checker.iter_errors(typed):
        if error.validator == "required":
            theirs |= {name for name in SCHEMA["required"] if name not in typed}
        elif error.validator == "additionalProperties":
            theirs |= {k for k in typed if k not in SCHEMA["properties"]}
        else:
            theirs.add(error.path[0])
    assert ours == theirs, (typed, ours, theirs)


def test_an_if_then_rule_on_a_boolean_condition_compares_typed_values():
    v = validator(
        {"name": "injured", "type": "boolean"},
        {"name": "injury", "type": "string"},
        rules=[{"kind": "requires", "if_field": "injured", "equals": "true", "then_field": "injury"}],
    )
    for yes in (True, "yes", "TRUE", "1"):
        assert problems(v, {"injured": yes}) == [("inputs.injury", "contradictory")], yes
    for no in (False, "no", "0"):
        assert problems(v, {"injured": no}) == [], no
    assert problems(v, {"injured": "yes", "injury": "broken arm"}) == []

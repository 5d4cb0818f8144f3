"""The decision-table semantics: first hit, the default, every operator for every field type (absent, "" and
wrongly typed values included), problem flags, moments across offsets — held against both the reference
semantics (exceptions.rules.first_match) and the compiled router, which must agree on every table and case
(property-based). And deterministic audit sampling."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exceptions.router import SAMPLE_SCALE, CompiledTable, Router, RuleInfo, sample_bucket
from exceptions.rules import clause_holds, clean_table, fields_of, first_match
from exceptions.services.routing import SAMPLED, route_drafts
from pilots.services.intake import Draft
from pilots.validation import FIELD_TYPES, PROBLEM_KINDS

BERLIN = ZoneInfo("Europe/Berlin")
ABSENT = object()  # the field is not in the case at all


def holds(kind: str, op: str, expected, value, kinds=frozenset()) -> bool:
    """Whether `inputs.x <op> expected` holds for a case whose x is `value` — asked of the reference
    semantics and of the compiled router, which must agree."""
    clause = {"field": "inputs.x", "op": op, "value": expected}
    inputs = {} if value is ABSENT else {"x": value}
    reference = clause_holds(clause, kind, inputs, {}, kinds)
    compiled = Router([[clause], []], {"inputs.x": kind}).match(inputs, {}, kinds) == 0
    assert reference == compiled, (kind, op, expected, value)
    return reference


# Every operator of every type, on good values, on absent / None / "", and on values of the wrong type
# (a value that failed validation is stored as given: it never meets a comparison).
NOT_PRESENT = [ABSENT, None, ""]
CASES = [
    # numbers
    ("number", "gt", 10000, [(20000, True), (10000.5, True), (10000, False), (9999, False), (-1, False)]),
    ("number", "ge", 10000, [(10000, True), (10000.0, True), (9999.99, False)]),
    ("number", "lt", 0.8, [(0.79, True), (0, True), (0.8, False), (1, False)]),
    ("number", "le", 0.8, [(0.8, True), (0.81, False)]),
    ("number", "eq", 5, [(5, True), (5.0, True), (5.01, False)]),
    ("number", "ne", 5, [(4, True), (5.0, False)]),
    ("number", "in", [1, 2.5], [(1, True), (1.0, True), (2.5, True), (3, False)]),
    ("number", "not_in", [1, 2.5], [(3, True), (0, True), (1, False), (2.5, False)]),
    ("integer", "gt", 3, [(4, True), (3, False)]),
    ("integer", "le", 3, [(3, True), (-2, True), (4, False)]),
    ("integer", "eq", 0, [(0, True), (0.0, True), (1, False)]),
    ("integer", "ne", 0, [(1, True), (0, False)]),
    ("integer", "in", [1, 2], [(2, True), (3, False)]),
    ("integer", "not_in", [1, 2], [(3, True), (1, False)]),
    # text: exact for =, ≠, one of, none of; case-insensitive for contains and starts with
    ("string", "eq", "Glass", [("Glass", True), ("glass", False), ("Glass ", False)]),
    ("string", "ne", "Glass", [("glass", True), ("Glass", False)]),
    ("string", "in", ["a", "B"], [("a", True), ("B", True), ("b", False)]),
    ("string", "not_in", ["a", "B"], [("b", True), ("a", False)]),
    ("string", "contains", "Roof", [("broken ROOF tile", True), ("roof", True), ("rofo", False)]),
    ("string", "starts_with", "cl-", [("CL-1234", True), ("cl-", True), ("XCL-1", False)]),
    ("string", "contains", "ss", [("Straße", True)]),  # casefold, not lower: ß folds to ss
    ("email", "eq", "a@x.org", [("a@x.org", True), ("A@x.org", False)]),
    ("email", "ne", "a@x.org", [("b@x.org", True), ("a@x.org", False)]),
    ("email", "contains", "@ACME.", [("jo@acme.com", True), ("jo@acne.com", False)]),
    ("email", "starts_with", "jo", [("Jo@x.org", True), ("ajo@x.org", False)]),
    ("email", "in", ["a@x.org"], [("a@x.org", True), ("b@x.org", False)]),
    ("email", "not_in", ["a@x.org"], [("b@x.org", True), ("a@x.org", False)]),
    ("enum", "eq", "web", [("web", True), ("phone", False), ("Web", False)]),
    ("enum", "ne", "web", [("phone", True), ("web", False)]),
    ("enum", "in", ["web", "phone"], [("phone", True), ("fax", False)]),
    ("enum", "not_in", ["web"], [("phone", True), ("web", False)]),
    # booleans: only a real true or false meets is true / is false
    ("boolean", "is_true", None, [(True, True), (False, False)]),
    ("boolean", "is_false", None, [(False, True), (True, False)]),
    # dates compare as days
    ("date", "lt", "2026-01-01", [("2025-12-31", True), ("2026-01-01", False), ("2026-01-02", False)]),
    ("date", "le", "2026-01-01", [("2026-01-01", True), ("2026-01-02", False)]),
    ("date", "eq", "2026-01-01", [("2026-01-01", True), ("2025-01-01", False)]),
    ("date", "ne", "2026-01-01", [("2025-01-01", True), ("2026-01-01", False)]),
    ("date", "ge", "2026-01-01", [("2026-01-01", True), ("2025-12-31", False)]),
    ("date", "gt", "2026-01-01", [("2026-01-02", True), ("2026-01-01", False)]),
    # date-times compare as moments, whatever the offset they were written with
    (
        "datetime",
        "eq",
        "2026-01-01T10:00:00+01:00",
        [
            ("2026-01-01T09:00:00+00:00", True),
            ("2026-01-01T04:00:00-05:00", True),
            ("2026-01-01T10:00:00+00:00", False),
        ],
    ),
    (
        "datetime",
        "ne",
        "2026-01-01T10:00:00+01:00",
        [("2026-01-01T09:00:00+00:00", False), ("2026-01-01T10:00:00+00:00", True)],
    ),
    (
        "datetime",
        "lt",
        "2026-01-01T10:00:00+01:00",
        [("2026-01-01T08:59:59+00:00", True), ("2026-01-01T09:00:00+00:00", False)],
    ),
    (
        "datetime",
        "le",
        "2026-01-01T10:00:00+01:00",
        [("2026-01-01T09:00:00Z", True), ("2026-01-01T10:00:01+01:00", False)],
    ),
    (
        "datetime",
        "gt",
        "2026-01-01T10:00:00+01:00",
        [("2026-01-01T10:00:00+00:00", True), ("2026-01-01T10:59:00+02:00", False)],
    ),
    (
        "datetime",
        "ge",
        "2026-01-01T10:00:00+01:00",
        [("2026-01-01T11:00:00+02:00", True), ("2026-01-01T08:00:00+00:00", False)],
    ),
]
WRONG_TYPE = {
    "number": ["n/a", "20000", True, False, [20000], {"v": 1}],
    "integer": ["n/a", "4", True, [4]],
    "string": [5, 5.0, True, ["Glass"], {"a": "Glass"}],
    "email": [5, True, ["a@x.org"]],
    "enum": [1, True, ["web"]],
    "boolean": ["true", "yes", 1, 0, "false"],
    "date": ["31/12/2025", "2025-12-31T10:00", 20251231, True, "2026-02-30"],
    # a naive date-time is no moment (intake always stores an offset)
    "datetime": ["2026-01-01T09:00:00", "yesterday", "2026-01-01", 1767258000, True],
}


@pytest.mark.parametrize(
    ("kind", "op", "expected", "examples"), CASES, ids=[f"{k}-{op}" for k, op, _, _ in CASES]
)
def test_each_operator_of_each_type(kind, op, expected, examples):
    for value, result in examples:
        assert holds(kind, op, expected, value) is result, value
    # Absent, None, "" and a value of the wrong type never meet an operator (not even ≠ or none of).
    for value in [*NOT_PRESENT, *WRONG_TYPE[kind]]:
        assert holds(kind, op, expected, value) is False, value


@pytest.mark.parametrize("kind", FIELD_TYPES)
def test_is_empty_and_is_present_for_every_type(kind):
    for value in NOT_PRESENT:
        assert holds(kind, "is_empty", None, value) is True
        assert holds(kind, "is_present", None, value) is False
    for value in [0, False, "x", "n/a", [], "2026-01-01", 0.0]:
        # 0, false and a value that failed validation are there: present, not empty.
        assert holds(kind, "is_empty", None, value) is False
        assert holds(kind, "is_present", None, value) is True


def test_problem_flags():
    for op, kinds, result in [
        ("is_true", {"missing"}, True),
        ("is_true", {"invalid", "late"}, False),
        ("is_true", set(), False),
        ("is_false", set(), True),
        ("is_false", {"missing", "late"}, False),
        ("is_false", {"late"}, True),
    ]:
        clause = {"field": "problems.missing", "op": op, "value": None}
        reference = clause_holds(clause, "flag", {}, {}, kinds)
        compiled = Router([[clause], []], {}).match({}, {}, kinds) == 0
        assert reference is compiled is result, (op, kinds)


def test_outputs_are_read_from_the_ai_outputs_not_the_inputs():
    clause = {"field": "outputs.confidence", "op": "lt", "value": 0.8}
    types = {"outputs.confidence": "number"}
    router = Router([[clause], []], types)
    assert router.match({"confidence": 0.1}, {"confidence": 0.9}, set()) == 1
    assert router.match({"confidence": 0.9}, {"confidence": 0.1}, set()) == 0
    assert first_match([{"clauses": [clause]}, {"clauses": []}], types, {}, {"confidence": 0.1}, set()) == 0


def test_a_rule_datetime_is_read_in_the_workspace_zone_and_compared_as_a_moment():
    rules = clean_table(
        [
            {"clauses": [{"field": "inputs.x", "op": "ge", "value": "2026-07-01 12:00"}], "action": "reject"},
            {"clauses": [], "action": "automate"},
        ],
        spec={"inputs": [{"name": "x", "type": "datetime"}]},
        zone=BERLIN,
        reviewer_ids=set(),
    )
    assert rules[0]["clauses"][0]["value"] == "2026-07-01T12:00:00+02:00"  # summer time in Berlin
    types = {"inputs.x": "datetime"}
    router = Router([r["clauses"] for r in rules], types)
    for value, index in [("2026-07-01T10:00:00+00:00", 0), ("2026-07-01T09:59:59+00:00", 1)]:
        assert router.match({"x": value}, {}, set()) == index
        assert first_match(rules, types, {"x": value}, {}, set()) == index


# --- first hit and the default ---

AMOUNT = {"inputs.amount": "number", "outputs.category": "enum"}
TABLE = [
    {"clauses": [{"field": "problems.missing", "op": "is_true"}]},  # 0
    {
        "clauses": [
            {"field": "inputs.amount", "op": "gt", "value": 10000},
            {"field": "outputs.category", "op": "eq", "value": "theft"},
        ]
    },  # 1: an AND of two clauses
    {"clauses": [{"field": "inputs.amount", "op": "gt", "value": 1000}]},  # 2
    {"clauses": []},  # 3: the default
]


@pytest.mark.parametrize(
    ("amount", "category", "kinds", "index"),
    [
        (50000, "theft", {"missing"}, 0),  # every rule matches: the first wins
        (50000, "theft", set(), 1),
        (50000, "glass", set(), 2),  # one clause of the AND fails: the next rule
        (5000, "theft", set(), 2),
        (500, "theft", set(), 3),  # no rule matches: the default
        (None, None, set(), 3),
        ("n/a", "theft", {"invalid"}, 3),
    ],
)
def test_the_first_matching_rule_wins_and_the_default_takes_the_rest(amount, category, kinds, index):
    inputs, outputs = {"amount": amount}, {"category": category}
    assert first_match(TABLE, AMOUNT, inputs, outputs, kinds) == index
    assert Router([r["clauses"] for r in TABLE], AMOUNT).match(inputs, outputs, kinds) == index


def test_the_compiled_router_is_straight_line_code_stopping_at_the_default():
    router = Router([r["clauses"] for r in TABLE] + [[{"field": "problems.late", "op": "is_true"}]], AMOUNT)
    assert router.source.count("if ") == 3 and router.source.rstrip().endswith("return 3")
    assert router.uses_flags
    assert not Router([[{"field": "inputs.amount", "op": "gt", "value": 1}], []], AMOUNT).uses_flags


def test_a_table_without_a_default_falls_to_its_last_rule():
    rules = [{"clauses": [{"field": "inputs.amount", "op": "gt", "value": 1}]}] * 2
    assert first_match(rules, AMOUNT, {}, {}, set()) == 1
    assert Router([r["clauses"] for r in rules], AMOUNT).match({}, {}, set()) == 1


# --- property: the compiled router agrees with the reference semantics on random tables and cases ---

ENUM = ["web", "phone", "fax"]
NUMBERS = [-1, 0, 1, 2, 2.5, 10, 10000, 10000.5, 0.8]
TEXTS = ["a", "A", "ab", "Ab", "abc", "b", "B", "ß", "SS", "ss", "cl-1", "CL-12"]
EMAILS = ["a@x.org", "A@X.org", "b@acme.com", "ab@acme.com"]
DATES = ["2025-12-31", "2026-01-01", "2026-01-02"]
MOMENTS = [
    "2026-01-01T10:00:00+01:00",
    "2026-01-01T09:00:00+00:00",
    "2026-01-01T10:00:00+00:00",
    "2026-01-01T08:59:59+00:00",
    "2026-01-01T11:00:00+02:00",
    "2026-01-01T04:00:00-05:00",
]
GOOD = {
    "integer": st.sampled_from([-1, 0, 1, 2, 10, 10000]) | st.integers(-3, 3),
    "number": st.sampled_from(NUMBERS) | st.integers(-3, 3),
    "string": st.sampled_from(TEXTS),
    "email": st.sampled_from(EMAILS),
    "enum": st.sampled_from(ENUM),
    "boolean": st.booleans(),
    "date": st.sampled_from(DATES),
    "datetime": st.sampled_from(MOMENTS),
}
# What a rule author types (text, as a form sends it) for a value of each type.
TYPED_IN = {
    "integer": GOOD["integer"].map(str),
    "number": GOOD["number"].map(str),
    "string": GOOD["string"],
    "email": GOOD["email"],
    "enum": GOOD["enum"],
    "boolean": st.none(),
    "date": GOOD["date"],
    "datetime": st.sampled_from([*MOMENTS, "2026-01-01 10:00", "2026-01-01 09:00"]),
}
ODD = st.sampled_from(
    [
        ABSENT,
        None,
        "",
        "n/a",
        "20000",
        "true",
        True,
        False,
        1,
        0,
        2.5,
        [1],
        {"a": 1},
        "2026-01-01",
        "2026-13-01",
    ]
)


@st.composite
def standards(draw):
    spec = {}
    for part in ("inputs", "outputs"):
        kinds = draw(
            st.lists(st.sampled_from(FIELD_TYPES), min_size=0 if part == "outputs" else 1, max_size=5)
        )
        spec[part] = [
            {"name": f"{part[0]}{n}", "type": kind, **({"allowed": ENUM} if kind == "enum" else {})}
            for n, kind in enumerate(kinds)
        ]
    return spec


@st.composite
def tables(draw, spec):
    fields = list(fields_of(spec).values())
    rules = []
    for _ in range(draw(st.integers(0, 6))):
        clauses = []
        for _ in range(draw(st.integers(1, 3))):
            info = draw(st.sampled_from(fields))
            op = draw(st.sampled_from(info.operators))
            if op in ("in", "not_in"):
                value = ", ".join(draw(st.lists(TYPED_IN[info.type], min_size=1, max_size=3)))
            elif op in ("is_true", "is_false", "is_empty", "is_present"):
                value = None
            else:
                value = draw(TYPED_IN[info.type])
            clauses.append({"field": info.path, "op": op, "value": value})
        rules.append({"clauses": clauses, "action": "reject"})
    rules.append({"clauses": [], "action": "automate"})
    # Normalised as publishing does, so the values are typed exactly as stored rules are.
    return clean_table(rules, spec=spec, zone=BERLIN, reviewer_ids=set())


@st.composite
def cases(draw, spec):
    """A stored case: each field absent, empty, a good value of its type, or one that failed validation."""
    values = {}
    for part in ("inputs", "outputs"):
        values[part] = {}
        for item in spec[part]:
            value = draw(GOOD[item["type"]] | ODD)
            if value is not ABSENT:
                values[part][item["name"]] = value
    kinds = draw(st.frozensets(st.sampled_from(PROBLEM_KINDS)))
    return values["inputs"], values["outputs"], kinds


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_compiled_router_agrees_with_the_reference_semantics(data):
    spec = data.draw(standards())
    rules = data.draw(tables(spec))
    types = {path: info.type for path, info in fields_of(spec).items()}
    router = Router([rule["clauses"] for rule in rules], types)
    for _ in range(10):
        inputs, outputs, kinds = data.draw(cases(spec))
        assert router.match(inputs, outputs, kinds) == first_match(rules, types, inputs, outputs, kinds), (
            router.source
        )


# --- deterministic audit sampling ---


def test_a_case_always_lands_in_the_same_bucket():
    assert sample_bucket(1, "CL-0001") == sample_bucket(1, "CL-0001")
    # Fixed across processes and Python versions (crc32, not the salted hash()): pinned values.
    assert sample_bucket(1, "CL-0001") == 2436  # zlib.crc32(b"1:CL-0001") % 10000
    assert sample_bucket(42, "abc") == 8027
    assert all(0 <= sample_bucket(7, f"c{n}") < SAMPLE_SCALE for n in range(1000))
    # The bucket belongs to the pilot's case: the same external id elsewhere is sampled independently.
    assert len({sample_bucket(pilot, "CL-0001") for pilot in range(1, 50)}) > 40


def sampling_table(percent: str) -> CompiledTable:
    rule = RuleInfo(
        id=1,
        position=1,
        action="automate",
        route="automated",
        label="#1 every other case (default)",
        sample_threshold=int(Decimal(percent) * 100),
        service_level_hours=None,
        reviewer_id=None,
    )
    return CompiledTable(table_id=1, version=1, rules=(rule,), router=Router([[]], {}))


def drafts(ids) -> list[Draft]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Draft(
            arrival=None,
            values={"external_id": x, "inputs": {}, "outputs": {}, "received_at": now},
            problems=[],
        )
        for x in ids
    ]


def sampled_ids(pilot_id: int, table: CompiledTable, ids) -> set[str]:
    batch = drafts(ids)
    route_drafts(pilot_id, table, batch)
    return {d.external_id for d in batch if d.values["route"] == SAMPLED}


@pytest.mark.parametrize("pilot_id", [1, 2, 977])
def test_a_ten_percent_rule_samples_ten_percent_of_twenty_thousand_cases(pilot_id):
    ids = [f"CL-{n:06d}" for n in range(20000)]
    sampled = sampled_ids(pilot_id, sampling_table("10"), ids)
    assert 0.09 <= len(sampled) / len(ids) <= 0.11
    # Reproducible: the same cases again, in another order and other batches, give the same sample.
    again = sampled_ids(pilot_id, sampling_table("10"), ids[10000:]) | sampled_ids(
        pilot_id, sampling_table("10"), reversed(ids[:10000])
    )
    assert again == sampled


def test_a_larger_percentage_samples_a_superset():
    ids = [f"case-{n}" for n in range(5000)]
    small = sampled_ids(3, sampling_table("2.5"), ids)
    large = sampled_ids(3, sampling_table("10"), ids)
    assert small < large
    assert sampled_ids(3, sampling_table("0"), ids) == set()
    assert sampled_ids(3, sampling_table("100"), ids) == set(ids)


def test_a_sampled_case_is_decided_at_routing_and_an_escalated_one_is_not():
    batch = drafts(["a"])
    route_drafts(1, sampling_table("100"), batch)
    assert batch[0].values["route"] == SAMPLED
    assert batch[0].values["routed_decided_at"] == batch[0].values["received_at"]
    escalating = RuleInfo(
        id=2,
        position=1,
        action="escalate",
        route="escalated",
        label="#1 every other case (default)",
        sample_threshold=0,
        service_level_hours=24,
        reviewer_id=None,
    )
    batch = drafts(["a"])
    route_drafts(1, CompiledTable(2, 1, (escalating,), Router([[]], {})), batch)
    assert batch[0].values["route"] == "escalated" and "routed_decided_at" not in batch[0].values
    assert (batch[0].values["rule_version"], batch[0].values["rule_clause"], batch[0].values["rule"]) == (
        1,
        "#1 every other case (default)",
        escalating,
    )

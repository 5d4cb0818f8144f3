"""Checking a rule table before it is published (exceptions.rules.clean_table): every bad input the issue
names is refused with its message on the clause's key, and a good table comes back normalised."""

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from exceptions.models import RoutingRule, RuleTable
from exceptions.rules import (
    MAX_CLAUSES,
    MAX_RULES,
    OPS_BY_TYPE,
    RuleTableError,
    clause_text,
    clean_table,
    condition_text,
    fields_of,
    label_of,
    signature_of,
)
from exceptions.services import rules as rule_services
from pilots.models import AuditEvent
from pilots.services import standards

BERLIN = ZoneInfo("Europe/Berlin")
SPEC = {
    "inputs": [
        {"name": "amount", "type": "number"},
        {"name": "items", "type": "integer"},
        {"name": "name", "type": "string"},
        {"name": "contact", "type": "email"},
        {"name": "channel", "type": "enum", "allowed": ["web", "phone"]},
        {"name": "urgent", "type": "boolean"},
        {"name": "opened_on", "type": "date"},
        {"name": "happened_at", "type": "datetime"},
    ],
    "outputs": [
        {"name": "category", "type": "enum", "allowed": ["glass", "theft"]},
        {"name": "confidence", "type": "number"},
    ],
}
REVIEWER_ID = 7
DEFAULT = {"clauses": [], "action": "automate"}


def clause(field, op, value=None):
    return {"field": field, "op": op, "value": value}


def escalate(*clauses, **extra):
    return {"clauses": list(clauses), "action": "escalate", "service_level_hours": "24"} | extra


def clean(*rules):
    return clean_table(list(rules), spec=SPEC, zone=BERLIN, reviewer_ids={REVIEWER_ID})


def refused(*rules) -> dict[str, str]:
    with pytest.raises(RuleTableError) as error:
        clean(*rules)
    return error.value.errors


# --- the bad inputs of the issue, each refused with its message on the clause ---


def test_a_field_the_standard_lacks_is_refused_on_the_clause():
    errors = refused(escalate(clause("inputs.colour", "eq", "red")), DEFAULT)
    assert errors == {"rules[0].clauses[0].field": "The input standard has no field “inputs.colour”."}


def test_a_clause_without_a_field_is_refused():
    errors = refused(escalate(clause("", "eq", "red")), DEFAULT)
    assert errors == {"rules[0].clauses[0].field": "Choose a field."}


@pytest.mark.parametrize(
    ("field", "op", "kind"),
    [
        ("inputs.name", "gt", "string"),
        ("inputs.contact", "lt", "email"),
        ("inputs.channel", "contains", "enum"),
        ("inputs.urgent", "eq", "boolean"),
        ("inputs.opened_on", "in", "date"),
        ("inputs.happened_at", "starts_with", "datetime"),
        ("inputs.amount", "contains", "number"),
        ("inputs.items", "is_true", "integer"),
        ("problems.missing", "eq", "flag"),
        ("problems.late", "is_empty", "flag"),
    ],
)
def test_an_operator_that_does_not_fit_the_fields_type_is_refused(field, op, kind):
    errors = refused(escalate(clause(field, op, "1")), DEFAULT)
    assert list(errors) == ["rules[0].clauses[0].op"]
    assert f"does not fit {kind} field {field}" in errors["rules[0].clauses[0].op"]
    # The message lists what would fit.
    assert "use one of:" in errors["rules[0].clauses[0].op"]


def test_an_unknown_operator_is_refused():
    errors = refused(escalate(clause("inputs.amount", "between", "1")), DEFAULT)
    assert "“between” does not fit number field inputs.amount" in errors["rules[0].clauses[0].op"]


@pytest.mark.parametrize("value", ["ten", "", "  ", None, True, "1,000", "nan", "inf"])
def test_a_threshold_that_is_not_a_number_is_refused(value):
    errors = refused(escalate(clause("inputs.amount", "gt", value)), DEFAULT)
    assert list(errors) == ["rules[0].clauses[0].value"]
    assert "is not a number" in errors["rules[0].clauses[0].value"]


def test_a_list_with_one_value_that_is_not_a_number_is_refused():
    errors = refused(escalate(clause("inputs.items", "in", "1, 2, three")), DEFAULT)
    assert list(errors) == ["rules[0].clauses[0].value"]
    assert "three” is not a number." in errors["rules[0].clauses[0].value"]


def test_an_empty_list_is_refused():
    errors = refused(escalate(clause("inputs.channel", "in", " , ")), DEFAULT)
    assert errors == {"rules[0].clauses[0].value": "List at least one value, separated by commas."}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("inputs.channel", "fax", "“fax” is not one of the allowed values (web, phone)."),
        ("inputs.opened_on", "31/12/2026", "“31/12/2026” is not a date (YYYY-MM-DD)."),
        ("inputs.happened_at", "yesterday", "“yesterday” is not a date and time (YYYY-MM-DD HH:MM)."),
        ("inputs.name", " ", "Give a value."),
    ],
)
def test_a_value_that_does_not_fit_the_field_is_refused(field, value, message):
    errors = refused(escalate(clause(field, "eq", value)), DEFAULT)
    assert errors == {"rules[0].clauses[0].value": message}


@pytest.mark.parametrize(
    ("percent", "message"),
    [
        ("150", "A sampling percentage lies between 0 and 100."),
        ("100.01", "A sampling percentage lies between 0 and 100."),
        ("-5", "A sampling percentage lies between 0 and 100."),
        ("NaN", "A sampling percentage lies between 0 and 100."),
        ("a lot", "“a lot” is not a percentage."),
    ],
)
def test_a_sampling_percentage_outside_0_to_100_is_refused(percent, message):
    errors = refused({"clauses": [], "action": "automate", "sample_percent": percent})
    assert errors == {"rules[0].sample_percent": message}


def test_only_automated_cases_are_sampled():
    errors = refused(escalate(clause("inputs.amount", "gt", "1"), sample_percent="10"), DEFAULT)
    assert errors == {"rules[0].sample_percent": "Only automated cases are sampled for audit."}


def test_a_table_without_a_default_rule_is_refused_on_its_last_rule():
    errors = refused(
        escalate(clause("inputs.amount", "gt", "10000")),
        {"clauses": [clause("inputs.amount", "le", "10000")], "action": "automate"},
    )
    assert errors == {
        "rules[1].clauses": (
            "The last rule is the default and matches every case: add a default rule below this one."
        )
    }


def test_an_empty_table_is_refused():
    with pytest.raises(RuleTableError) as error:
        clean_table([], spec=SPEC, zone=BERLIN, reviewer_ids=set())
    assert error.value.errors == {"rules": "A table needs at least its default rule."}


def test_an_empty_rule_above_the_default_is_refused():
    errors = refused(
        {"clauses": [], "action": "reject"}, escalate(clause("inputs.amount", "gt", "1")), DEFAULT
    )
    assert errors == {
        "rules[0].clauses": "Only the last rule (the default) may match every case: add a clause."
    }


def test_a_reviewer_who_may_not_review_is_refused():
    errors = refused(escalate(clause("inputs.amount", "gt", "1"), reviewer=REVIEWER_ID + 1), DEFAULT)
    assert errors == {"rules[0].reviewer": "Choose a member who may review this pilot's cases."}


def test_a_reviewer_that_is_not_an_id_is_refused():
    errors = refused(escalate(clause("inputs.amount", "gt", "1"), reviewer="someone"), DEFAULT)
    assert errors == {"rules[0].reviewer": "Choose a member who may review this pilot's cases."}


def test_only_an_escalation_names_a_reviewer():
    errors = refused({"clauses": [], "action": "automate", "reviewer": REVIEWER_ID})
    assert errors == {"rules[0].reviewer": "Only escalations go to a named reviewer."}


@pytest.mark.parametrize("hours", [None, ""])
def test_an_escalation_without_a_service_level_is_refused(hours):
    errors = refused(escalate(clause("inputs.amount", "gt", "1"), service_level_hours=hours), DEFAULT)
    assert errors == {"rules[0].service_level_hours": "Say within how many hours a reviewer decides."}


@pytest.mark.parametrize("hours", ["0", "1.5", "two", str(24 * 90 + 1), "-3"])
def test_a_service_level_that_is_not_a_whole_number_of_hours_in_range_is_refused(hours):
    errors = refused(escalate(clause("inputs.amount", "gt", "1"), service_level_hours=hours), DEFAULT)
    assert errors == {"rules[0].service_level_hours": "Give a whole number of hours from 1 to 2160."}


def test_an_unknown_action_is_refused():
    errors = refused({"clauses": [], "action": "ignore"})
    assert errors == {"rules[0].action": "Choose automate, escalate or reject."}


def test_too_many_rules_or_clauses_are_refused():
    too_many_rules = [escalate(clause("inputs.amount", "gt", str(i))) for i in range(MAX_RULES)] + [DEFAULT]
    with pytest.raises(RuleTableError) as error:
        clean(*too_many_rules)
    assert error.value.errors == {"rules": f"A table has at most {MAX_RULES} rules."}
    clauses = [clause("inputs.amount", "gt", str(i)) for i in range(MAX_CLAUSES + 1)]
    errors = refused(escalate(*clauses), DEFAULT)
    assert errors == {"rules[0].clauses": f"A rule has at most {MAX_CLAUSES} clauses."}


def test_every_bad_clause_of_a_table_is_reported_at_once():
    errors = refused(
        escalate(clause("inputs.colour", "eq", "red"), clause("inputs.amount", "gt", "ten")),
        {"clauses": [], "action": "reject"},
        {
            "clauses": [clause("inputs.name", "gt", "x")],
            "action": "escalate",
            "sample_percent": "101",
        },
    )
    assert set(errors) == {
        "rules[0].clauses[0].field",
        "rules[0].clauses[1].value",
        "rules[1].clauses",
        "rules[2].clauses[0].op",
        "rules[2].clauses",
        "rules[2].sample_percent",
        "rules[2].service_level_hours",
    }


def test_blank_clause_rows_are_skipped_and_errors_name_the_row_as_submitted():
    """A form sends its empty rows too: they are ignored, and a message stays on the row it is about."""
    blank = {"field": "", "op": "", "value": ""}
    errors = refused(escalate(blank, clause("inputs.amount", "gt", "ten")), DEFAULT)
    assert errors == {"rules[0].clauses[1].value": "“ten” is not a number."}
    # A rule of blank rows only is an empty rule.
    errors = refused(escalate(blank, blank), DEFAULT)
    assert errors == {
        "rules[0].clauses": "Only the last rule (the default) may match every case: add a clause."
    }


# --- a good table comes back normalised ---


def test_a_good_table_is_normalised():
    table = clean(
        {
            "name": "  Large claims  ",
            "clauses": [
                clause(" inputs.amount ", " gt ", " 10000 "),
                clause("outputs.category", "in", "theft, glass, theft"),
                clause("inputs.items", "not_in", [1, "2", ""]),
            ],
            "action": "escalate",
            "service_level_hours": "48",
            "reviewer": str(REVIEWER_ID),
        },
        {
            "clauses": [
                clause("inputs.happened_at", "lt", "2026-01-01 10:00"),
                clause("inputs.opened_on", "ge", "2025-12-01"),
                clause("inputs.urgent", "is_true", "ignored"),
                clause("problems.missing", "is_false"),
            ],
            "action": "reject",
            "service_level_hours": "5",
        },
        {"clauses": [], "action": "automate", "sample_percent": "12.5%", "service_level_hours": "72"},
    )
    assert table == [
        {
            "name": "Large claims",
            "clauses": [
                {"field": "inputs.amount", "op": "gt", "value": 10000},
                {"field": "outputs.category", "op": "in", "value": ["theft", "glass"]},
                {"field": "inputs.items", "op": "not_in", "value": [1, 2]},
            ],
            "action": "escalate",
            "sample_percent": Decimal("0.00"),
            "service_level_hours": 48,
            "reviewer": REVIEWER_ID,
        },
        {
            "name": "",
            "clauses": [
                # A date-time without an offset is read in the workspace's time zone.
                {"field": "inputs.happened_at", "op": "lt", "value": "2026-01-01T10:00:00+01:00"},
                {"field": "inputs.opened_on", "op": "ge", "value": "2025-12-01"},
                {"field": "inputs.urgent", "op": "is_true", "value": None},
                {"field": "problems.missing", "op": "is_false", "value": None},
            ],
            "action": "reject",
            "sample_percent": Decimal("0.00"),
            "service_level_hours": None,  # a rejected case waits for no one
            "reviewer": None,
        },
        {
            "name": "",
            "clauses": [],
            "action": "automate",
            "sample_percent": Decimal("12.50"),
            "service_level_hours": 72,  # the audit samples' service level
            "reviewer": None,
        },
    ]


def test_a_normalised_table_cleans_to_itself():
    once = clean(
        escalate(
            clause("inputs.amount", "ge", "2.5"), clause("inputs.happened_at", "gt", "2026-03-29 02:30")
        ),
        {"clauses": [], "action": "automate", "sample_percent": "5"},
    )
    assert clean(*once) == once


def test_fields_of_lists_inputs_outputs_and_problem_flags_with_their_operators():
    fields = fields_of(SPEC)
    assert fields["inputs.amount"].label == "Input: amount"
    assert fields["outputs.category"].label == "AI output: category"
    assert fields["outputs.category"].allowed == ("glass", "theft")
    assert fields["problems.missing"].type == "flag"
    assert fields["problems.outside_boundary"].label == "Problem: outside boundary input"
    assert fields["inputs.urgent"].operators == OPS_BY_TYPE["boolean"]
    assert set(fields_of(None)) == {
        f"problems.{k}" for k in ("missing", "invalid", "contradictory", "late", "outside_boundary")
    }


def test_a_clause_reads_as_text_and_labels_the_cases_it_routes():
    assert clause_text({"field": "inputs.amount", "op": "gt", "value": 10000}) == "inputs.amount > 10000"
    assert (
        clause_text({"field": "outputs.confidence", "op": "lt", "value": 0.8}) == "outputs.confidence < 0.8"
    )
    assert clause_text({"field": "inputs.channel", "op": "in", "value": ["web", "phone"]}) == (
        "inputs.channel is one of [web, phone]"
    )
    assert clause_text({"field": "problems.late", "op": "is_true", "value": None}) == "problems.late is true"
    assert condition_text([]) == "every other case (default)"
    assert label_of(3, []) == "#3 every other case (default)"
    assert label_of(1, [{"field": "inputs.amount", "op": "gt", "value": 5}], "Large") == (
        "#1 Large: inputs.amount > 5"
    )
    long = label_of(1, [{"field": "inputs.name", "op": "in", "value": ["x" * 50] * 5}])
    assert len(long) == 200 and long.endswith("…")


def test_a_rules_signature_depends_on_condition_and_action_only():
    clauses = [{"field": "inputs.amount", "op": "gt", "value": 5}]
    assert signature_of(clauses, "escalate") == signature_of([dict(clauses[0])], "escalate")
    assert signature_of(clauses, "escalate") != signature_of(clauses, "automate")
    assert signature_of(clauses, "escalate") != signature_of([{**clauses[0], "value": 6}], "escalate")


# --- through the publishing service ---


@pytest.fixture
def standard(team):
    return standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)


def test_a_refused_table_publishes_nothing(team, standard):
    with pytest.raises(RuleTableError) as error:
        rule_services.publish_rules(
            pilot=team.pilot, rules=[escalate(clause("inputs.amount", "gt", "ten")), DEFAULT], actor=team.pm
        )
    assert "rules[0].clauses[0].value" in error.value.errors
    assert not RuleTable.objects.exists() and not RoutingRule.objects.exists()
    assert not AuditEvent.objects.filter(action="rules.published").exists()


def test_rules_need_a_published_standard(team):
    with pytest.raises(RuleTableError) as error:
        rule_services.publish_rules(pilot=team.pilot, rules=[DEFAULT], actor=team.pm)
    assert "input standard first" in error.value.errors["rules"]


def test_the_reviewer_may_be_a_workspace_reviewer_or_the_pilots_owner(team, standard):
    assert {u.username for u in rule_services.reviewer_choices(team.pilot)} == {"reviewer", "owner"}
    for person in (team.reviewer, team.owner):
        published = rule_services.publish_rules(
            pilot=team.pilot,
            rules=[escalate(clause("inputs.amount", "gt", "1"), reviewer=person.pk), DEFAULT],
            actor=team.pm,
        )
        assert published.table.rules.get(position=1).reviewer == person
    with pytest.raises(RuleTableError) as error:
        rule_services.publish_rules(
            pilot=team.pilot,
            rules=[escalate(clause("inputs.amount", "gt", "1"), reviewer=team.leader.pk), DEFAULT],
            actor=team.pm,
        )
    assert error.value.errors == {"rules[0].reviewer": "Choose a member who may review this pilot's cases."}


def test_publishing_makes_versions_and_the_same_table_twice_publishes_nothing(team, standard):
    table = [escalate(clause("inputs.amount", "gt", "10000"), name="Large"), DEFAULT]
    first = rule_services.publish_rules(pilot=team.pilot, rules=table, actor=team.pm, note="first")
    again = rule_services.publish_rules(pilot=team.pilot, rules=table, actor=team.pm)
    assert not first.unchanged and again.unchanged and again.table == first.table
    changed = rule_services.publish_rules(
        pilot=team.pilot, rules=[table[0], {**DEFAULT, "sample_percent": "5"}], actor=team.pm
    )
    assert [t.version for t in RuleTable.objects.order_by("version")] == [1, 2]
    assert changed.table.version == 2 and changed.table.standard_version == standard.version
    rule = first.table.rules.get(position=1)
    assert rule.label == "#1 Large: inputs.amount > 10000" and rule.route == "escalated"
    # A signature is the condition and the action: sampling changes neither, so evidence carries over.
    assert changed.table.rules.get(position=1).signature == rule.signature
    assert changed.table.rules.get(position=2).signature == first.table.rules.get(position=2).signature
    assert rule_services.table_as_rules(changed.table)[1]["sample_percent"] == Decimal("5.00")
    assert AuditEvent.objects.filter(action="rules.published").count() == 2

"""The decision-table editor: start from the table in force (or a starter), edit without JavaScript,
publish through the service, and every refusal shown on its clause with nothing typed lost."""

import re

import pytest
from django.urls import reverse

from exceptions.models import RoutingRule, RuleTable
from tests.views.conftest import HTMX, actions
from tests.views.test_rules import TABLE, form_data, publish, publish_standard


def url(pilot) -> str:
    return reverse("rules_edit", args=[pilot.pk])


def clause_html(html: str, prefix: str) -> str:
    """The markup of one clause (from its container to the next clause, rule or the end of the list)."""
    start = html.index(f'id="{prefix}"')
    rest = html[start + 1 :]
    ends = [m.start() for m in re.finditer(r'<div class="clause|<li class="rule-card|</ol>', rest)]
    return rest[: min(ends)] if ends else rest


@pytest.fixture
def standard(team):
    return publish_standard(team)


# --- what the editor starts from ---


def test_without_rules_it_starts_from_the_starter_table(team, client_for, standard):
    response = client_for(team.pm).get(url(team.pilot))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [[c.clause.field for c in row.clauses] for row in rows] == [
        ["problems.missing"], ["problems.invalid"], ["problems.late"], [],
    ]  # fmt: skip
    assert [row.rule.action for row in rows] == ["escalate", "escalate", "escalate", "automate"]
    assert [row.rule.service_level_hours for row in rows[:3]] == ["24", "24", "24"]
    assert rows[-1].rule.sample_percent == "5" and not rows[-1].shows_clauses
    html = response.content.decode()
    assert "A starting table to review" in html
    assert "this default rule takes every case no rule above matched" in html
    assert not RuleTable.objects.exists()


def test_it_starts_from_the_table_in_force(team, client_for, standard):
    publish(team)
    response = client_for(team.admin).get(url(team.pilot))
    rows = response.context["rows"]
    assert [row.rule.name for row in rows] == ["Broken input", "Large", "Routine"]
    assert rows[1].clauses[0].clause.value == "10000"
    html = response.content.decode()
    assert 'name="rule-1-clause-0-value" id="rule-1-clause-0-value" value="10000"' in html
    assert "publishing makes version 2" in html and "A starting table" not in html


def test_without_a_standard_it_says_to_publish_it_first(team, client_for):
    response = client_for(team.pm).get(url(team.pilot))
    assert response.status_code == 200
    html = response.content.decode()
    assert "publish the input standard first" in html and reverse("standard", args=[team.pilot.pk]) in html
    assert 'id="rules-editor"' not in html
    assert client_for(team.pm).post(url(team.pilot), form_data(TABLE)).status_code == 422
    assert not RuleTable.objects.exists()


# --- publishing ---


def test_publishing_a_valid_table_makes_version_1_with_a_rule_per_row(team, client_for, standard):
    client = client_for(team.pm)
    response = client.post(url(team.pilot), form_data(TABLE, note="First rules"), follow=True)
    assert response.redirect_chain == [(reverse("rules", args=[team.pilot.pk]), 302)]
    assert "Published version 1." in response.content.decode()
    table = RuleTable.objects.get()
    assert (table.version, table.note, table.published_by) == (1, "First rules", team.pm)
    rules = list(RoutingRule.objects.filter(table=table).order_by("position"))
    assert [(r.position, r.name, r.action) for r in rules] == [
        (1, "Broken input", "reject"), (2, "Large", "escalate"), (3, "Routine", "automate"),
    ]  # fmt: skip
    assert rules[1].clauses == [{"field": "inputs.amount", "op": "gt", "value": 10000}]
    assert rules[1].service_level_hours == 24 and float(rules[2].sample_percent) == 5
    assert actions(pilot=team.pilot).count("rules.published") == 1


def test_publishing_the_same_table_again_publishes_nothing(team, client_for, standard):
    client = client_for(team.pm)
    client.post(url(team.pilot), form_data(TABLE))
    response = client.post(url(team.pilot), form_data(TABLE), follow=True)
    assert "No change: version 1 stands." in response.content.decode()
    assert RuleTable.objects.count() == 1
    # The editor, opened on the table in force and posted unchanged, is no change either.
    editor = client.get(url(team.pilot)).context["editor"]
    assert client.post(url(team.pilot), form_data(editor.rules_to_publish())).status_code == 302
    assert RuleTable.objects.count() == 1


def test_a_named_reviewer_and_a_list_value_are_published(team, client_for, standard):
    table = [
        {"name": "Phone or mail", "clauses": [{"field": "inputs.channel", "op": "in", "value": "phone, web"},
                                               {"field": "outputs.confidence", "op": "lt", "value": "0.8"}],
         "action": "escalate", "service_level_hours": "8", "reviewer": team.reviewer.pk},
        {"clauses": [], "action": "automate"},
    ]  # fmt: skip
    assert client_for(team.pm).post(url(team.pilot), form_data(table)).status_code == 302
    rule = RoutingRule.objects.get(position=1)
    assert rule.clauses[0]["value"] == ["phone", "web"] and rule.clauses[1]["value"] == 0.8
    assert rule.reviewer == team.reviewer


def test_htmx_publishing_redirects_the_browser_to_the_rules(team, client_for, standard):
    response = client_for(team.pm).post(url(team.pilot), form_data(TABLE), headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("rules", args=[team.pilot.pk])
    assert RuleTable.objects.count() == 1


# --- refusals: on the clause, nothing published, nothing typed lost ---

BAD = {
    "unknown field": (
        {"field": "inputs.colour", "op": "eq", "value": "red"},
        "field",
        "The input standard has no field “inputs.colour”.",
    ),
    "operator not fitting the type": (
        {"field": "inputs.amount", "op": "contains", "value": "12"},
        "op",
        "“contains” does not fit number field",
    ),
    "non-numeric threshold": (
        {"field": "inputs.amount", "op": "gt", "value": "lots"},
        "value",
        "“lots” is not a number.",
    ),
    "value outside an enum": (
        {"field": "inputs.channel", "op": "eq", "value": "fax"},
        "value",
        "“fax” is not one of the allowed values",
    ),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_clause_is_refused_next_to_it(team, client_for, standard, case):
    clause, part, message = BAD[case]
    table = [
        TABLE[0],
        {"name": "Typed by hand", "clauses": [TABLE[1]["clauses"][0], clause], "action": "escalate",
         "service_level_hours": "12"},
        TABLE[2],
    ]  # fmt: skip
    response = client_for(team.pm).post(url(team.pilot), form_data(table))
    assert response.status_code == 422
    assert not RuleTable.objects.exists()
    editor = response.context["editor"]
    assert message in editor.rules[1].clauses[1].errors[part]
    html = response.content.decode()
    assert "Not published." in html
    bad_clause = clause_html(html, "rule-1-clause-1")
    assert message in bad_clause
    assert message not in clause_html(html, "rule-1-clause-0")
    # What was typed is still there.
    assert f'value="{clause["field"]}" selected' in bad_clause
    assert f'value="{clause["op"]}" selected' in bad_clause
    assert f'value="{clause["value"]}"' in bad_clause
    assert 'value="Typed by hand"' in html and 'name="rule-1-service_level_hours"' in html


def test_a_percentage_over_100_is_refused_on_its_rule(team, client_for, standard):
    table = [TABLE[0], TABLE[1], dict(TABLE[2], sample_percent="150")]
    response = client_for(team.pm).post(url(team.pilot), form_data(table))
    assert response.status_code == 422 and not RuleTable.objects.exists()
    rule = response.context["editor"].rules[2]
    assert rule.errors["sample_percent"] == "A sampling percentage lies between 0 and 100."
    html = response.content.decode()
    assert 'name="rule-2-sample_percent" id="rule-2-sample_percent" value="150"' in html
    assert "A sampling percentage lies between 0 and 100." in html


def test_an_escalation_without_a_service_level_is_refused_on_its_rule(team, client_for, standard):
    table = [dict(TABLE[1], service_level_hours=""), TABLE[2]]
    response = client_for(team.pm).post(url(team.pilot), form_data(table))
    assert response.status_code == 422
    assert "within how many hours" in response.context["editor"].rules[0].errors["service_level_hours"]


def test_a_table_without_a_default_rule_is_refused_on_its_last_rule(team, client_for, standard):
    response = client_for(team.pm).post(url(team.pilot), form_data(TABLE[:2]))
    assert response.status_code == 422 and not RuleTable.objects.exists()
    rows = response.context["rows"]
    assert "add a default rule below this one" in rows[-1].rule.errors["clauses"]
    assert rows[-1].shows_clauses  # its clauses stay visible and editable
    html = response.content.decode()
    assert 'name="rule-1-clause-0-value" id="rule-1-clause-0-value" value="10000"' in html
    # "+ Add a rule" then appends the missing default.
    data = form_data(TABLE[:2]) | {"edit": "add-rule"}
    rows = client_for(team.pm).post(url(team.pilot), data).context["rows"]
    assert len(rows) == 3 and rows[-1].rule.is_default and rows[-1].rule.action == "automate"


def test_a_value_without_field_and_operator_is_not_dropped_silently(team, client_for, standard):
    data = form_data(TABLE) | {
        "rule-1-clause-1-field": "",
        "rule-1-clause-1-op": "",
        "rule-1-clause-1-value": "7",
    }
    response = client_for(team.pm).post(url(team.pilot), data)
    assert response.status_code == 422 and not RuleTable.objects.exists()
    assert "Choose a field" in response.context["editor"].rules[1].clauses[1].errors["field"]


def test_an_htmx_refusal_is_the_editor_alone_with_422(team, client_for, standard):
    response = client_for(team.pm).post(url(team.pilot), form_data(TABLE[:2]), headers=HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert html.lstrip().startswith('<form method="post"') and "<html" not in html


# --- editing without JavaScript: the draft comes back changed, nothing is published ---


def test_add_clause_rerenders_with_an_extra_clause_and_publishes_nothing(team, client_for, standard):
    data = form_data(TABLE) | {"edit": "add-clause-1"}
    response = client_for(team.pm).post(url(team.pilot), data)
    assert response.status_code == 200 and not RuleTable.objects.exists()
    rows = response.context["rows"]
    assert len(rows[1].clauses) == 2
    html = response.content.decode()
    assert 'name="rule-1-clause-1-field"' in html
    assert 'value="inputs.amount" selected' in clause_html(html, "rule-1-clause-0")
    assert "Not published." not in html


def test_remove_clause_remove_rule_and_moves(team, client_for, standard):
    client = client_for(team.pm)
    rows = client.post(url(team.pilot), form_data(TABLE) | {"edit": "remove-clause-1-0"}).context["rows"]
    assert rows[1].clauses == []
    rows = client.post(url(team.pilot), form_data(TABLE) | {"edit": "down-0"}).context["rows"]
    assert [row.rule.name for row in rows] == ["Large", "Broken input", "Routine"]
    rows = client.post(url(team.pilot), form_data(TABLE) | {"edit": "up-1"}).context["rows"]
    assert [row.rule.name for row in rows] == ["Large", "Broken input", "Routine"]
    rows = client.post(url(team.pilot), form_data(TABLE) | {"edit": "remove-rule-0"}).context["rows"]
    assert [row.rule.name for row in rows] == ["Large", "Routine"]
    rows = client.post(url(team.pilot), form_data(TABLE) | {"edit": "add-rule"}).context["rows"]
    assert [row.rule.name for row in rows] == ["Broken input", "Large", "", "Routine"]
    assert rows[2].shows_clauses and len(rows[2].clauses) == 1
    # An edit that makes no sense changes nothing.
    rows = client.post(url(team.pilot), form_data(TABLE) | {"edit": "up-99"}).context["rows"]
    assert [row.rule.name for row in rows] == ["Broken input", "Large", "Routine"]
    assert not RuleTable.objects.exists()


def test_htmx_edits_return_the_editor_alone(team, client_for, standard):
    response = client_for(team.pm).post(
        url(team.pilot), form_data(TABLE) | {"edit": "add-clause-0"}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="rules-editor"' in html and "<html" not in html and 'name="rule-0-clause-1-field"' in html


# --- who may ---


def test_only_admins_and_program_managers_may_edit(team, client_for, standard):
    for name in ("owner", "reviewer", "leader"):
        client = client_for(team.person(name))
        assert client.get(url(team.pilot)).status_code == 403, name
        assert client.post(url(team.pilot), form_data(TABLE)).status_code == 403, name
    assert not RuleTable.objects.exists()
    assert client_for(team.admin).get(url(team.pilot)).status_code == 200


def test_it_is_a_404_for_an_outsider(team, client_for, standard):
    client = client_for(team.outsider)
    assert client.get(url(team.pilot)).status_code == 404
    assert client.post(url(team.pilot), form_data(TABLE)).status_code == 404
    assert not RuleTable.objects.exists()


def test_it_allows_only_get_and_post(team, client_for, standard):
    assert client_for(team.pm).put(url(team.pilot)).status_code == 405
    assert client_for(team.pm).delete(url(team.pilot)).status_code == 405


# --- the clause widget (htmx, on choosing a field or an operator) ---


def clause_url(pilot) -> str:
    return reverse("rules_clause", args=[pilot.pk])


def widget(client, pilot, field, op="", value="", prefix="rule-2-clause-1"):
    params = {"prefix": prefix, f"{prefix}-field": field, f"{prefix}-op": op, f"{prefix}-value": value}
    return client.get(clause_url(pilot), params, headers=HTMX)


def options_of(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    return re.findall(r'<option value="([^"]*)"', select[0]) if select else []


def test_a_number_field_offers_the_order_operators_and_a_text_value(team, client_for, standard):
    response = widget(client_for(team.pm), team.pilot, "inputs.amount", op="eq", value="12")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<span class="clause-widget" id="rule-2-clause-1-widget">')
    assert options_of(html, "rule-2-clause-1-op") == [
        "lt", "le", "eq", "ne", "ge", "gt", "in", "not_in", "is_empty", "is_present",
    ]  # fmt: skip
    assert 'value="eq" selected' in html
    assert '<input type="text" name="rule-2-clause-1-value" id="rule-2-clause-1-value" value="12"' in html


def test_an_enum_field_offers_its_values_in_a_select(team, client_for, standard):
    html = widget(client_for(team.pm), team.pilot, "inputs.channel", op="gt").content.decode()
    assert options_of(html, "rule-2-clause-1-op") == ["eq", "ne", "in", "not_in", "is_empty", "is_present"]
    assert 'value="eq" selected' in html  # "gt" does not fit an enum: its first operator is chosen
    assert options_of(html, "rule-2-clause-1-value") == ["", "web", "phone"]
    listed = widget(client_for(team.pm), team.pilot, "inputs.channel", op="in").content.decode()
    assert 'name="rule-2-clause-1-value"' in listed and "one or more of: web, phone" in listed
    assert 'placeholder="a, b, c"' in listed


def test_a_problem_flag_takes_no_value(team, client_for, standard):
    html = widget(client_for(team.pm), team.pilot, "problems.late", value="x").content.decode()
    assert options_of(html, "rule-2-clause-1-op") == ["is_true", "is_false"]
    assert '<input type="hidden" name="rule-2-clause-1-value" value="x">' in html


def test_the_clause_widget_needs_a_clause_prefix(team, client_for, standard):
    response = client_for(team.pm).get(clause_url(team.pilot), {"prefix": '"><script>'}, headers=HTMX)
    assert response.status_code == 400


def test_the_clause_widget_is_for_editors_only(team, client_for, standard):
    assert widget(client_for(team.leader), team.pilot, "inputs.amount").status_code == 403
    assert widget(client_for(team.reviewer), team.pilot, "inputs.amount").status_code == 403
    assert widget(client_for(team.outsider), team.pilot, "inputs.amount").status_code == 404
    assert client_for(team.pm).post(clause_url(team.pilot), {"prefix": "rule-0-clause-0"}).status_code == 405
    first = widget(client_for(team.pm), team.pilot, "inputs.amount").content
    assert widget(client_for(team.pm), team.pilot, "inputs.amount").content == first

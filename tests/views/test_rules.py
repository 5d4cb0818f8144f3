"""The routing rules page: the table in force with its evidence, suggestions, the backfill, the versions.

The helpers at the top are shared by the other step-3 rule view tests (test_rules_*.py, test_route_stored.py,
test_suggestions.py, test_exceptions_panel.py)."""

from datetime import UTC, datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from exceptions.models import RuleTable, Suggestion
from exceptions.router import compiled
from exceptions.services import rules as rule_services
from pilots.services import intake, standards
from pilots.services.intake import Arrival
from tests.views.conftest import HTMX

SPEC = {
    "inputs": [
        {"name": "amount", "type": "number", "required": True, "min": 0},
        {"name": "channel", "type": "enum", "allowed": ["web", "phone"], "required": True},
    ],
    "outputs": [
        {"name": "category", "type": "enum", "allowed": ["glass", "theft"]},
        {"name": "confidence", "type": "number"},
    ],
}
TABLE = [
    {
        "name": "Broken input",
        "clauses": [{"field": "problems.missing", "op": "is_true", "value": None}],
        "action": "reject",
    },
    {
        "name": "Large",
        "clauses": [{"field": "inputs.amount", "op": "gt", "value": "10000"}],
        "action": "escalate",
        "service_level_hours": "24",
    },
    {"name": "Routine", "clauses": [], "action": "automate", "sample_percent": "5"},
]


def publish_standard(team, spec=None):
    return standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=spec or SPEC)


def forget_compiled_tables() -> None:
    """`router.compiled` caches by table id, and a rolled-back test's ids are handed out again (SQLite):
    without this, a test could route with another test's table."""
    compiled.cache_clear()


def publish(team, table=None, pilot=None) -> RuleTable:
    forget_compiled_tables()
    return rule_services.publish_rules(pilot=pilot or team.pilot, rules=table or TABLE, actor=team.pm).table


def arrival(external_id: str, amount="100", received_at: datetime | None = None, **outputs) -> Arrival:
    return Arrival(
        external_id=external_id,
        inputs={"amount": amount, "channel": "web"} if amount is not None else {"channel": "web"},
        outputs={"category": "glass", "confidence": 0.9} | outputs,
        received_at=(received_at or timezone.now() - timedelta(hours=1)).isoformat(),
    )


def ingest(team, arrivals, pilot=None):
    forget_compiled_tables()
    return intake.ingest(pilot=pilot or team.pilot, arrivals=arrivals, source="upload", actor=team.pm)


def suggestion_on(team, rule, kind="automate", pilot=None) -> Suggestion:
    """An open suggestion as the refinement job leaves it."""
    now = timezone.now()
    return Suggestion.objects.create(
        pilot=pilot or team.pilot,
        rule=rule,
        kind=kind,
        window_days=90,
        volume=212,
        reviewed=200,
        hits=194,
        rate=0.97,
        lower_bound=0.94,
        median_hours_to_decide=3.5,
        created_at=now,
        updated_at=now,
    )


def form_data(table: list[dict], note: str = "") -> dict:
    """The editor's POST for a table (the shape `publish_rules` takes)."""
    data = {"note": note}
    for i, rule in enumerate(table):
        for name in ("name", "action", "sample_percent", "service_level_hours", "reviewer"):
            value = rule.get(name)
            data[f"rule-{i}-{name}"] = "" if value is None else str(value)
        for j, clause in enumerate(rule.get("clauses") or []):
            for part in ("field", "op", "value"):
                value = clause.get(part)
                data[f"rule-{i}-clause-{j}-{part}"] = "" if value is None else str(value)
    return data


def url(pilot) -> str:
    return reverse("rules", args=[pilot.pk])


# --- the page ---


def test_without_a_standard_it_says_to_publish_the_standard_first(team, client_for):
    response = client_for(team.pm).get(url(team.pilot))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No rules yet" in html and "decision table" in html
    assert "publish the input standard first" in html
    assert reverse("standard", args=[team.pilot.pk]) in html
    assert reverse("rules_edit", args=[team.pilot.pk]) not in html


def test_with_a_standard_and_no_rules_it_links_editors_to_the_editor(team, client_for):
    publish_standard(team)
    edit = reverse("rules_edit", args=[team.pilot.pk])
    assert edit in client_for(team.pm).get(url(team.pilot)).content.decode()
    html = client_for(team.leader).get(url(team.pilot)).content.decode()
    assert edit not in html and "The program manager writes them" in html


def test_it_shows_the_rules_in_force_with_their_evidence(team, client_for):
    publish_standard(team)
    table = publish(team)
    ingest(team, [arrival("a"), arrival("b"), arrival("big", amount="20000"), arrival("bad", amount=None)])
    response = client_for(team.leader).get(url(team.pilot))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row.rule.position for row in rows] == [1, 2, 3]
    assert [row.stats.volume for row in rows] == [1, 1, 2]
    html = response.content.decode()
    assert "Version 1" in html and "<code>inputs.amount &gt; 10000</code>" in html
    assert "every other case (default)" in html and "5% sampled for audit" in html
    assert "within 24 h · to the pilot's reviewers" in html
    assert reverse("rules_version", args=[team.pilot.pk, table.version]) in html
    # Viewers see no write buttons.
    assert reverse("suggestions_refresh", args=[team.pilot.pk]) not in html


def test_it_offers_to_route_the_stored_cases_that_have_no_route(team, client_for):
    publish_standard(team)
    ingest(team, [arrival("early-1"), arrival("early-2")])
    publish(team)
    html = client_for(team.pm).get(url(team.pilot)).content.decode()
    assert "Route 2 stored cases that have no route" in html
    assert reverse("rules_route_stored", args=[team.pilot.pk]) in html
    leader = client_for(team.leader).get(url(team.pilot)).content.decode()
    assert "arrived before there were rules" in leader
    assert reverse("rules_route_stored", args=[team.pilot.pk]) not in leader


def test_it_lists_open_suggestions_with_apply_and_dismiss_for_editors(team, client_for):
    publish_standard(team)
    table = publish(team)
    suggestion = suggestion_on(team, table.rules.get(position=2))
    html = client_for(team.pm).get(url(team.pilot)).content.decode()
    assert "escalated 212 cases; reviewers approved the AI output unchanged in 194 of 200" in html
    assert reverse("suggestion_apply", args=[team.pilot.pk, suggestion.pk]) in html
    assert reverse("suggestion_dismiss", args=[team.pilot.pk, suggestion.pk]) in html
    assert reverse("suggestions_refresh", args=[team.pilot.pk]) in html
    html = client_for(team.reviewer).get(url(team.pilot)).content.decode()
    assert "escalated 212 cases" in html
    assert reverse("suggestion_apply", args=[team.pilot.pk, suggestion.pk]) not in html


def test_it_warns_when_the_rules_name_fields_the_current_standard_dropped(team, client_for):
    publish_standard(team)
    publish(team, [
        {"clauses": [{"field": "inputs.channel", "op": "eq", "value": "phone"}], "action": "escalate",
         "service_level_hours": 8},
        {"clauses": [], "action": "automate"},
    ])  # fmt: skip
    html = client_for(team.pm).get(url(team.pilot)).content.decode()
    assert "no longer declares" not in html
    publish_standard(team, {"inputs": [SPEC["inputs"][0]], "outputs": SPEC["outputs"]})
    response = client_for(team.pm).get(url(team.pilot))
    assert response.context["stale_fields"] == ["inputs.channel"]
    html = response.content.decode()
    assert "no longer declares" in html and "<code>inputs.channel</code>" in html


def test_rule_names_are_escaped(team, client_for):
    publish_standard(team)
    publish(team, [dict(TABLE[0], name="<script>alert(1)</script>"), TABLE[2]])
    html = client_for(team.pm).get(url(team.pilot)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_htmx_reloads_one_fragment_by_its_target(team, client_for):
    publish_standard(team)
    publish(team)
    client = client_for(team.pm)
    for target in ("rules-current", "rule-history", "suggestions", "backfill"):
        response = client.get(url(team.pilot), headers=HTMX | {"HX-Target": target})
        html = response.content.decode()
        assert response.status_code == 200 and "<html" not in html, target
    assert (
        'id="rule-history"'
        in client.get(url(team.pilot), headers=HTMX | {"HX-Target": "rule-history"}).content.decode()
    )


def test_every_member_may_read_it_and_a_repeat_read_is_the_same(team, client_for):
    publish_standard(team)
    publish(team)
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        client = client_for(team.person(name))
        first, second = client.get(url(team.pilot)), client.get(url(team.pilot))
        assert first.status_code == second.status_code == 200, name
        assert first.context["table"] == second.context["table"]


def test_it_is_a_404_for_an_outsider(team, client_for):
    publish_standard(team)
    publish(team)
    assert client_for(team.outsider).get(url(team.pilot)).status_code == 404


def test_it_allows_only_get(team, client_for):
    assert client_for(team.pm).post(url(team.pilot)).status_code == 405


def test_it_reads_published_times_in_the_workspace_zone(team, client_for):
    publish_standard(team)
    rule_services.publish_rules(
        pilot=team.pilot, rules=TABLE, actor=team.pm, now=datetime(2026, 1, 5, 23, 30, tzinfo=UTC)
    )
    assert "2026-01-06 00:30" in client_for(team.pm).get(url(team.pilot)).content.decode()

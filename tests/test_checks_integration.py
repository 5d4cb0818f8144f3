"""The integration.* checks (DESIGN.md checks table), on hand-built pilots: what the API records."""

from datetime import timedelta

from django.utils import timezone

from feedback.services.incorporation import record_export
from pilots import checks
from pilots.models import AuditEvent, Pilot, WebhookDelivery, WebhookEndpoint
from pilots.services import intake
from pilots.services.intake import Arrival


def result(pilot, check_id):
    return checks.evaluate([pilot.pk], gate="production")[pilot.pk][check_id]


def arrive(team, n, *, source="api", days_ago=0):
    received = timezone.now() - timedelta(days=days_ago, hours=1)
    arrivals = [
        Arrival(external_id=f"{source}-{days_ago}-{i}", inputs={"x": i}, received_at=received.isoformat())
        for i in range(n)
    ]
    intake.ingest(pilot=team.pilot, arrivals=arrivals, source=source, actor=team.pm)


def delivered(team, *, pilot_id, event="gate.decided", days_ago=0, state=WebhookDelivery.State.SUCCEEDED):
    endpoint = WebhookEndpoint.objects.create(
        workspace=team.workspace,
        url="https://hooks.example/x",
        secret="s",
        events=[event],
        created_by=team.admin,
    )
    at = timezone.now() - timedelta(days=days_ago)
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=event,
        payload={"event": event, "data": {"pilot": {"id": pilot_id, "name": "x"}}},
        state=state,
        delivered_at=at if state == WebhookDelivery.State.SUCCEEDED else None,
    )


def test_the_three_integration_checks_are_registered_as_the_table_says():
    rows = {c.id: (c.gate, c.attestable) for c in checks.all_checks() if c.section == "integration"}
    assert rows == {
        "integration.points_declared": ("standardize_inputs", True),
        "integration.live_feed": ("production", False),
        "integration.outcomes_flow_back": ("production", True),
    }


def test_points_declared_is_verified_once_cases_arrive_through_the_api(team):
    assert result(team.pilot, "integration.points_declared").status == checks.MISSING
    Pilot.objects.filter(pk=team.pilot.pk).update(integration_points=["Guidewire", "SAP"])
    missing = result(team.pilot, "integration.points_declared")
    assert missing.status == checks.MISSING and "Guidewire" in missing.next_action
    arrive(team, 3, source="upload")  # uploads are not an integration
    assert result(team.pilot, "integration.points_declared").status == checks.MISSING
    arrive(team, 2)
    verified = result(team.pilot, "integration.points_declared")
    assert verified.status == checks.VERIFIED
    assert "2 case(s) arrived through the API" in verified.evidence.text


def test_the_live_feed_needs_api_cases_in_the_last_seven_days(team):
    none = result(team.pilot, "integration.live_feed")
    assert none.status == checks.MISSING and "/api/v1/pilots/" in none.next_action
    arrive(team, 4, days_ago=9)
    stale = result(team.pilot, "integration.live_feed")
    assert stale.status == checks.MISSING and "over 7 days ago" in stale.evidence.text
    arrive(team, 1, days_ago=2)
    live = result(team.pilot, "integration.live_feed")
    assert live.status == checks.VERIFIED and live.evidence.text.startswith("1 case(s) arrived")


def test_outcomes_flow_back_through_an_accepted_webhook_delivery_about_the_pilot(team):
    other = Pilot.objects.create(
        workspace=team.workspace, name="Other", problem="p", workflow="w",
        program_manager=team.pm, workflow_owner=team.owner,
    )  # fmt: skip
    delivered(team, pilot_id=other.pk)  # about another pilot
    delivered(team, pilot_id=team.pilot.pk, state=WebhookDelivery.State.FAILED)
    delivered(team, pilot_id=team.pilot.pk, days_ago=40)  # too long ago
    delivered(team, pilot_id=team.pilot.pk, event="readiness.changed")  # about ProdReady's own score
    assert result(team.pilot, "integration.outcomes_flow_back").status == checks.MISSING
    delivered(team, pilot_id=team.pilot.pk)
    found = result(team.pilot, "integration.outcomes_flow_back")
    assert found.status == checks.VERIFIED
    assert found.evidence.text == "1 webhook delivery(ies) accepted by a receiver in 30 days."
    assert result(other, "integration.outcomes_flow_back").status == checks.VERIFIED


def test_outcomes_flow_back_through_an_export_of_the_regression_set(team):
    record_export(pilot=team.pilot, actor=team.pm, file_format="jsonl")
    found = result(team.pilot, "integration.outcomes_flow_back")
    assert found.status == checks.VERIFIED and "regression set was exported on" in found.evidence.text
    AuditEvent.objects.filter(action="regression_set.exported").update(at=timezone.now() - timedelta(days=31))
    assert result(team.pilot, "integration.outcomes_flow_back").status == checks.MISSING


def test_outcomes_flow_back_can_be_attested(team):
    from pilots.services import gates

    gates.attest_check(
        pilot=team.pilot, actor=team.pm, check_id="integration.outcomes_flow_back",
        note="Outcomes go to the data warehouse nightly.", evidence_url="https://wiki.example/dwh",
        expires_on=timezone.localdate() + timedelta(days=10),
    )  # fmt: skip
    assert result(team.pilot, "integration.outcomes_flow_back").status == checks.ATTESTED

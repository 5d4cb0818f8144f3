"""Small helpers shared by the view tests: htmx headers, audit trails and ready-made gate requests."""

import pytest

from pilots.models import AuditEvent, GateRequest
from pilots.services import gates as gate_services
from pilots.services import pilots as pilot_services

HTMX = {"HX-Request": "true"}


def actions(**scope) -> list[str]:
    """The audit actions recorded in `scope` (e.g. pilot=…, workspace=…), oldest first."""
    return list(AuditEvent.objects.filter(**scope).order_by("at", "id").values_list("action", flat=True))


def is_partial(response) -> bool:
    """An htmx answer carries the stage track alone, not a whole page."""
    body = response.content.decode()
    return 'id="stage-track"' in body and "<html" not in body


@pytest.fixture
def pending(team) -> GateRequest:
    """A gate request by the program manager, waiting for the workflow owner."""
    return gate_services.request_gate_decision(pilot=team.pilot, actor=team.pm, note="ready")


@pytest.fixture
def accepted(team):
    """The workflow owner has accepted accountability for the team's pilot."""
    return pilot_services.accept_accountability(pilot=team.pilot, actor=team.owner)

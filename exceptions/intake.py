"""Routing every arriving case (discovered by the hub's intake, DESIGN.md "Architecture").

`process_batch` runs on each validated in-memory batch before the one upsert that stores it: it sets
route, rule version and clause, and — for automated, sampled and rejected cases — decided_at (the moment
the case was received: routing is instant), unless the pilot's own system supplied it.
`after_store` runs once the batch is stored: it opens an escalation for each escalated or sampled case.
"""

from exceptions import services
from pilots.models import Pilot
from pilots.services.intake import Draft


def process_batch(*, pilot: Pilot, drafts: list[Draft]) -> None:
    table = services.routing.current_compiled(pilot)
    if table is None:
        return
    services.routing.route_drafts(pilot.pk, table, drafts)


def after_store(*, pilot: Pilot, drafts: list[Draft], outcomes: dict[str, str]) -> None:
    services.routing.open_escalations(pilot, drafts, outcomes)

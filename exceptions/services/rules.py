"""Publishing a pilot's routing rules: each change is a new, immutable version of the whole table."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from exceptions.models import RoutingRule, RuleTable
from exceptions.rules import RuleTableError, clean_table, label_of, signature_of
from pilots.models import Membership, Pilot
from pilots.services import audit
from pilots.services.intake import current_standard


@dataclass(frozen=True)
class Published:
    table: RuleTable
    unchanged: bool  # the same rules as the current version: nothing was published


def reviewer_choices(pilot: Pilot) -> list:
    """Members a rule may name as its reviewer: the workspace's reviewers and the pilot's workflow owner."""
    active = Membership.objects.filter(workspace_id=pilot.workspace_id, user__is_active=True)
    members = active.filter(is_reviewer=True) | active.filter(user_id=pilot.workflow_owner_id)
    return [m.user for m in members.select_related("user").order_by("user__username")]


def table_as_rules(table: RuleTable) -> list[dict]:
    """A published table in the shape `publish_rules` takes (to edit it into the next version)."""
    return [
        {
            "name": rule.name,
            "clauses": rule.clauses,
            "action": rule.action,
            "sample_percent": rule.sample_percent,
            "service_level_hours": rule.service_level_hours,
            "reviewer": rule.reviewer_id,
        }
        for rule in table.rules.order_by("position")
    ]


def _same(clean: list[dict], table: RuleTable | None, standard_version: int) -> bool:
    """The same rules, written against the same standard (a new standard re-publishes them: the
    compiled table takes its field types from the standard it was checked against)."""
    if table is None or table.standard_version != standard_version:
        return False
    current = table_as_rules(table)
    return [dict(r, sample_percent=float(r["sample_percent"])) for r in clean] == [
        dict(r, sample_percent=float(r["sample_percent"])) for r in current
    ]


@transaction.atomic
def publish_rules(
    *, pilot: Pilot, rules: list[dict], actor, note: str = "", now: datetime | None = None
) -> Published:
    """Check `rules` against the pilot's current standard and publish them as the next version.

    Raises RuleTableError naming each bad clause; nothing is stored then. Publishing the same rules as
    the current version publishes nothing (a repeated submit is harmless)."""
    standard = current_standard(pilot)
    if standard is None:
        raise RuleTableError({"rules": "Publish the pilot's input standard first: rules name its fields."})
    reviewer_ids = {user.pk for user in reviewer_choices(pilot)}
    clean = clean_table(rules, spec=standard.spec(), zone=pilot.workspace.zone, reviewer_ids=reviewer_ids)
    # Lock the pilot so two publishers cannot take the same version number.
    Pilot.objects.select_for_update().filter(pk=pilot.pk).first()
    latest = RuleTable.objects.filter(pilot=pilot).order_by("-version").first()
    if _same(clean, latest, standard.version):
        return Published(latest, unchanged=True)
    table = RuleTable.objects.create(
        pilot=pilot,
        version=(latest.version + 1) if latest else 1,
        standard_version=standard.version,
        note=note.strip()[:300],
        published_by=actor if getattr(actor, "pk", None) else None,
        published_at=now or timezone.now(),
    )
    RoutingRule.objects.bulk_create(
        [
            RoutingRule(
                table=table,
                position=position,
                name=rule["name"],
                clauses=rule["clauses"],
                action=rule["action"],
                sample_percent=rule["sample_percent"],
                service_level_hours=rule["service_level_hours"],
                reviewer_id=rule["reviewer"],
                signature=signature_of(rule["clauses"], rule["action"]),
                label=label_of(position, rule["clauses"], rule["name"]),
            )
            for position, rule in enumerate(clean, start=1)
        ]
    )
    audit.record(
        workspace=pilot.workspace,
        actor=actor,
        action="rules.published",
        obj=table,
        pilot=pilot,
        before={"version": latest.version} if latest else None,
        after={
            "version": table.version,
            "note": table.note,
            "rules": [
                label_of(i, r["clauses"], r["name"]) + f" → {r['action']}"
                for i, r in enumerate(clean, start=1)
            ],
        },
    )
    return Published(table, unchanged=False)

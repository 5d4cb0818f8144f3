"""Escalations past their service level: flagged in the queue, and the pilot's workflow owner is told
once per case (Celery beat runs `notify_late_escalations`)."""

import logging
from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from exceptions.models import Escalation
from pilots.services import notifications, readiness, webhooks

log = logging.getLogger(__name__)
BATCH = 500


def notify_late_escalations(*, now: datetime | None = None) -> int:
    """Tell each pilot's workflow owner about its newly late escalations. Each case is claimed
    (late_notified_at) before the email, so a rerun or a second worker never tells twice.
    Returns how many cases were notified."""
    now = now or timezone.now()
    with transaction.atomic():
        late = list(
            Escalation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(decided_at=None, late_notified_at=None, due_at__lt=now)
            .select_related("case", "pilot__workspace", "pilot__workflow_owner", "rule")
            .order_by("due_at")[:BATCH]
        )
        Escalation.objects.filter(pk__in=[e.pk for e in late]).update(late_notified_at=now)
        # Late now, with no write of anyone's: the snapshots' overdue figures must follow.
        readiness.mark_dirty(pilot_ids={e.pilot_id for e in late})
    by_pilot: dict[int, list[Escalation]] = defaultdict(list)
    for escalation in late:
        by_pilot[escalation.pilot_id].append(escalation)
    sent = 0
    for escalations in by_pilot.values():
        pilot = escalations[0].pilot
        for e in escalations:  # the same call tells the systems around the pilot (webhooks)
            webhooks.emit_event(
                workspace=pilot.workspace,
                event="escalation.overdue",
                payload={
                    "pilot": {"id": pilot.pk, "name": pilot.name},
                    "case": {"id": e.case_id, "external_id": e.case.external_id},
                    "reason": e.reason,
                    "rule": e.rule.label,
                    "due_at": e.due_at.isoformat(),
                },
            )
        lines = [
            f"- {e.case.external_id}: {e.get_reason_display().lower()} by {e.rule.label}, "
            f"due {timezone.localtime(e.due_at, pilot.workspace.zone):%Y-%m-%d %H:%M}"
            for e in escalations
        ]
        link = notifications.absolute(
            reverse("review_queue", args=[pilot.workspace.slug]) + f"?pilot={pilot.pk}"
        )
        body = (
            f"{len(escalations)} case(s) of the pilot “{pilot.name}” wait past their service level:\n\n"
            + "\n".join(lines)
            + f"\n\nThe review queue: {link}\n"
        )
        try:
            notifications.notify_people(
                users=[pilot.workflow_owner],
                subject=f"Escalations past their service level: {pilot.name}",
                body=body,
            )
        except Exception:
            # Release the claims so the next run tells the owner.
            Escalation.objects.filter(pk__in=[e.pk for e in escalations]).update(late_notified_at=None)
            log.exception("late-escalation email failed", extra={"pilot": pilot.pk})
            continue
        sent += len(escalations)
    return sent

"""Thin Celery tasks for step 3: take ids, call one service. Each service is idempotent."""

from celery import shared_task
from django.contrib.auth import get_user_model

from exceptions.services import refinement, routing, service_levels
from pilots.models import Pilot


@shared_task(soft_time_limit=1800, time_limit=1860)
def route_stored_cases(pilot_id: int, user_id: int | None = None) -> int:
    actor = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return routing.route_stored_cases(pilot_id=pilot_id, actor=actor)


@shared_task(soft_time_limit=240, time_limit=280)
def notify_late_escalations() -> int:
    return service_levels.notify_late_escalations()


@shared_task(soft_time_limit=60, time_limit=90)
def refresh_pilot_suggestions(pilot_id: int) -> int:
    return len(refinement.refresh_suggestions(pilot_id=pilot_id))


@shared_task(soft_time_limit=600, time_limit=660)
def refresh_suggestions() -> int:
    """The periodic job: refresh every pilot that has rules (each pilot in its own task)."""
    pilot_ids = list(Pilot.objects.filter(rule_tables__isnull=False).distinct().values_list("id", flat=True))
    for pilot_id in pilot_ids:
        refresh_pilot_suggestions.delay(pilot_id)
    return len(pilot_ids)

from celery import shared_task

from metrics import compute


@shared_task(soft_time_limit=600, time_limit=660)
def recompute_metrics(pilot_ids: list[int] | None = None) -> int:
    """Recompute the computed metrics (of these pilots, or all): idempotent, it replaces the figures."""
    return compute.recompute(pilot_ids)

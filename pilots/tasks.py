"""Thin Celery tasks: take ids, call one service. Idempotency lives in the services' claims."""

from celery import shared_task

from pilots.services import idempotency, notifications, portfolio, readiness, uploads, webhooks


@shared_task(autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def send_gate_request_email(gate_request_id: int) -> bool:
    return notifications.send_gate_request_email(gate_request_id=gate_request_id)


@shared_task
def send_unsent_gate_request_emails() -> int:
    ids = notifications.unsent_gate_requests()
    for gate_request_id in ids:
        send_gate_request_email.delay(gate_request_id)
    return len(ids)


@shared_task(autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def send_member_welcome(membership_id: int, new_account: bool) -> bool:
    return notifications.send_member_welcome(membership_id=membership_id, new_account=new_account)


@shared_task(soft_time_limit=3 * 3600, time_limit=3 * 3600 + 60)
def process_upload(upload_id: int) -> str:
    return uploads.process_upload(upload_id=upload_id)


@shared_task(soft_time_limit=30, time_limit=40)
def deliver_webhook(delivery_id: int) -> str:
    return webhooks.deliver(delivery_id=delivery_id)


@shared_task
def deliver_due_webhooks() -> int:
    ids = webhooks.due_deliveries()
    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)
    return len(ids)


@shared_task
def purge_idempotency_records() -> int:
    return idempotency.purge_expired()


# Readiness (issue 8). Late acknowledgement and reject-on-worker-lost (settings) put a task whose worker
# died back on the queue at once; a recompute is safe twice, so the redelivery simply finishes the job.
@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=60, time_limit=90)
def recompute_readiness(pilot_ids: list[int]) -> int:
    return len(readiness.recompute(pilot_ids=pilot_ids))


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=240, time_limit=300)
def sweep_readiness() -> int:
    return readiness.recompute_marked()


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=1800, time_limit=1900)
def recompute_all_readiness() -> int:
    return readiness.recompute_all()


@shared_task(soft_time_limit=600, time_limit=660)
def record_portfolio_weeks() -> int:
    return portfolio.record_all_weeks()


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def send_portfolio_digests() -> int:
    return portfolio.send_all_digests()

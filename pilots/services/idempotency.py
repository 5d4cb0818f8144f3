"""Idempotent API writes: the first response to an Idempotency-Key is stored and replayed.

Same key and same request → the stored response; same key, different request → refused (422); a key
whose first request is still running → 409. The record is claimed by an INSERT that the unique
constraint lets only one request win, so ten concurrent requests with one key store one batch.

A request that dies without answering (its worker killed mid-write) cannot release its claim; its writes
were rolled back with it. After ABANDONED_AFTER, far longer than any request may run (gunicorn's worker
timeout is 60 s, see the Dockerfile), a retry with the same key and body takes the claim over instead of
hearing "still running" until the record expires."""

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from pilots.models import ApiKey, IdempotencyRecord

log = logging.getLogger(__name__)

KEEP = timedelta(hours=48)  # at least the promised 24 hours
ABANDONED_AFTER = timedelta(minutes=10)
MAX_KEY_LENGTH = 255


class IdempotencyConflict(Exception):
    """The key is in use: `status` 409 (still running) or 422 (used for a different request)."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class Claim:
    record: IdempotencyRecord
    replay: bool  # True: the stored response answers this request


def request_hash(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", body):
        digest.update(part)
    return digest.hexdigest()


def claim(*, api_key: ApiKey, key: str, fingerprint: str) -> Claim:
    """Claim `key` for this request, or find its stored first response. Raises IdempotencyConflict."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(api_key=api_key, key=key, request_hash=fingerprint)
            return Claim(record, replay=False)
        except IntegrityError:
            pass
        record = IdempotencyRecord.objects.filter(api_key=api_key, key=key).first()
        if record is not None:
            break
        # The first request released its claim (it failed) between our insert and this read: claim again.
    else:
        raise IdempotencyConflict(409, "The first request with this Idempotency-Key is still running.")
    if record.request_hash != fingerprint:
        raise IdempotencyConflict(422, "This Idempotency-Key was used for a different request.")
    if record.state == IdempotencyRecord.State.RUNNING:
        if _take_over(record):
            return Claim(record, replay=False)
        raise IdempotencyConflict(409, "The first request with this Idempotency-Key is still running.")
    return Claim(record, replay=True)


def _take_over(record: IdempotencyRecord) -> bool:
    """Claim a record whose request was abandoned (see the module's docstring). A conditional UPDATE: of
    two retries racing here, only one changes the row; the other hears "still running"."""
    now = timezone.now()
    if record.created_at >= now - ABANDONED_AFTER:
        return False
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyRecord.State.RUNNING, created_at__lt=now - ABANDONED_AFTER
    ).update(created_at=now)
    if taken:
        log.warning("Idempotency-Key %r: its first request was abandoned; a retry takes it over", record.key)
        record.created_at = now
    return bool(taken)


def finish(*, record: IdempotencyRecord, status_code: int, body: bytes) -> None:
    done = IdempotencyRecord.State.DONE
    if connection.vendor == "postgresql":
        # The response (about 100 KB for 1,000 cases) goes as a binary parameter: Django's cursor would
        # quote it into the statement's text for the server to parse again (1.7 ms; this way 0.7 ms).
        connection.ensure_connection()
        table = IdempotencyRecord._meta.db_table
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                f"UPDATE {table} SET state = %s, status_code = %s, response = %b WHERE id = %s",
                [done, status_code, body, record.pk],
            )
        return
    IdempotencyRecord.objects.filter(pk=record.pk).update(state=done, status_code=status_code, response=body)


def release(*, record: IdempotencyRecord) -> None:
    """The request failed before it could answer (a 5xx): let the client retry with the same key."""
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.RUNNING).delete()


def purge_expired() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - KEEP).delete()
    return deleted

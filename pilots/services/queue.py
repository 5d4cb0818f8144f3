"""Enqueue Celery work after the surrounding transaction commits, never inside it."""

import logging
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)


def enqueue_on_commit(task: Any, *args: Any) -> None:
    def send() -> None:
        try:
            task.delay(*args)
        except Exception:
            # The write has committed; a periodic sweep picks up work whose message was lost.
            log.exception("could not enqueue task", extra={"task": task.name, "task_args": args})

    transaction.on_commit(send)

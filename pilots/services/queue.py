"""Enqueue Celery work after the surrounding transaction commits, never inside it."""

import logging
from typing import Any

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)


def enqueue_on_commit(task: Any, *args: Any, countdown: float | None = None) -> None:
    """`task` is a task, or a registered task's name (for a service that its app's tasks module imports)."""

    def send() -> None:
        try:
            found = current_app.tasks[task] if isinstance(task, str) else task
            found.apply_async(args, countdown=countdown)
        except Exception:
            # The write has committed; a periodic sweep picks up work whose message was lost.
            name = task if isinstance(task, str) else task.name
            log.exception("could not enqueue task", extra={"task": name, "task_args": args})

    transaction.on_commit(send)

"""Enqueue Celery work after the surrounding transaction commits, never inside it — and never make a
request wait for the broker.

Messages are handed to one publisher thread per process, which talks to the broker with bounded
timeouts. A web write therefore takes the same time whether Redis is up, slow or gone; a message that
cannot be published is logged and dropped, and the periodic sweeps find the work it stood for in the
database (readiness marks, unsent emails, due webhook deliveries, waiting uploads). With tasks run
eagerly (the unit tests) the message is "published" at once, in the caller's thread.
"""

import atexit
import logging
import os
import queue
import threading
from typing import Any

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)

# How long a process that is exiting (a management command, a worker shutting down) waits for its last
# messages to reach the broker.
FLUSH_SECONDS = 5.0

_outbox: queue.Queue = queue.Queue()
_lock = threading.Lock()
_publisher: threading.Thread | None = None
_publisher_pid: int | None = None


def enqueue_on_commit(task: Any, *args: Any, countdown: float | None = None) -> None:
    """`task` is a task, or a registered task's name (for a service that its app's tasks module imports)."""
    transaction.on_commit(lambda: publish(task, *args, countdown=countdown))


def publish(task: Any, *args: Any, countdown: float | None = None) -> None:
    """Send the message now, without waiting for the broker (outside a transaction, or after commit)."""
    if current_app.conf.task_always_eager:
        _send(task, args, countdown)
        return
    _ensure_publisher()
    _outbox.put((task, args, countdown))


def flush(timeout: float = FLUSH_SECONDS) -> bool:
    """Wait until every message handed over so far was sent (or given up on). True if the outbox emptied."""
    if _publisher is None or not _publisher.is_alive():
        return True
    done = threading.Event()
    _outbox.put(done)
    return done.wait(timeout)


def _ensure_publisher() -> None:
    global _publisher, _publisher_pid
    with _lock:
        # A forked child (a prefork worker, gunicorn) inherits no running thread: it starts its own.
        if _publisher is not None and _publisher.is_alive() and _publisher_pid == os.getpid():
            return
        _publisher = threading.Thread(target=_run, name="prodready-publisher", daemon=True)
        _publisher_pid = os.getpid()
        _publisher.start()


def _run() -> None:
    while True:
        item = _outbox.get()
        if isinstance(item, threading.Event):
            item.set()
            continue
        _send(*item)


def _send(task: Any, args: tuple, countdown: float | None) -> None:
    try:
        found = current_app.tasks[task] if isinstance(task, str) else task
        found.apply_async(args, countdown=countdown)
    except Exception:
        # The write has committed; a periodic sweep picks up work whose message was lost.
        name = task if isinstance(task, str) else task.name
        log.exception("could not enqueue task", extra={"task": name, "task_args": args})


atexit.register(flush)

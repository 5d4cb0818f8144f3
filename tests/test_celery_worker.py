"""Tasks through real workers: Celery on the real Redis, and `make run`'s embedded filesystem broker."""

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core import mail

from pilots.services import gates as gate_services

ROOT = Path(__file__).resolve().parent.parent


def wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_gate_request_email_goes_through_a_real_worker_on_redis(team, redis_worker):
    gate_request = gate_services.request_gate_decision(pilot=team.pilot, actor=team.pm, note="via redis")
    assert wait_for(lambda: len(mail.outbox) == 1), "the worker never sent the email"
    assert mail.outbox[0].to == [team.owner.email]
    gate_request.refresh_from_db()
    assert gate_request.notified_at is not None
    # Delivered twice (a redelivery after a lost ack): the claim keeps it to one email.
    from pilots.tasks import send_gate_request_email

    send_gate_request_email.delay(gate_request.pk)
    time.sleep(1.0)
    assert len(mail.outbox) == 1


SETUP = """
from django.contrib.auth import get_user_model
from pilots.services import gates, workspaces, pilots
from pilots.models import Membership
User = get_user_model()
pm = User.objects.create_user("pm", "pm@example.com", "pw")
owner = User.objects.create_user("owner", "owner@example.com", "pw")
ws = workspaces.create_workspace(actor=pm, name="Embedded")
Membership.objects.filter(user=pm).update(is_program_manager=True)
Membership.objects.create(workspace=ws, user=owner, is_workflow_owner=True)
pilot = pilots.create_pilot(workspace=ws, actor=pm, details=pilots.PilotDetails(
    name="Filesystem broker pilot", problem="p", workflow="w", program_manager=pm, workflow_owner=owner))
gates.request_gate_decision(pilot=pilot, actor=pm)
"""


def test_make_runs_embedded_broker_carries_a_task_end_to_end(tmp_path):
    """No DATABASE_URL, no REDIS_URL: SQLite and kombu's filesystem transport, a real worker process."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    env |= {"DEBUG": "1", "PRODREADY_VAR_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    subprocess.run(
        [python, "manage.py", "shell", "-c", SETUP],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
    )
    assert list((tmp_path / "celery" / "queue").iterdir()), "the task message was not written to the folder"
    worker = subprocess.Popen(
        [python, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    db = tmp_path / "db.sqlite3"

    def notified() -> bool:
        with sqlite3.connect(db) as conn:
            return conn.execute("select notified_at from pilots_gaterequest").fetchone()[0] is not None

    try:
        assert wait_for(notified, timeout=60), "the worker did not run the task"
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    assert "pilots.tasks.send_gate_request_email" in output
    assert "succeeded" in output and ": True" in output  # the service sent the email (to the console)
    assert "Subject: " in output

"""Readiness through real Celery workers on the real Redis (issue 8): a write is recomputed after
commit, a burst publishes one task, a task delivered twice leaves one correct snapshot, a write with
the broker unreachable still succeeds within a second and is recomputed by the sweep once the broker
is back, and a worker child killed in the middle of a recompute is redelivered and finishes the job."""

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery.signals import task_postrun
from django.db import connection

from config.celery import app
from pilots.models import ReadinessHistory, ReadinessMark, ReadinessSnapshot
from pilots.services import pilots as pilot_services
from pilots.services import queue, readiness
from pilots.tasks import recompute_readiness, sweep_readiness
from tests.test_celery_worker import wait_for

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def recomputed(pilot, score: int):
    def done() -> bool:
        snap = ReadinessSnapshot.objects.filter(pilot=pilot).first()
        marked = ReadinessMark.objects.filter(pilot=pilot).exists()
        return snap is not None and snap.score == score and not marked

    return done


@pytest.fixture
def no_worker_yet(redis_url):
    """Tasks go to Redis (not run eagerly) and wait there: nobody consumes them until a test says so."""
    app.control.purge()
    app.conf.task_always_eager = False
    try:
        yield redis.Redis.from_url(redis_url)
    finally:
        app.conf.task_always_eager = True
        app.control.purge()


@pytest.fixture
def postrun():
    """The names of the tasks a worker in this process finished."""
    finished: list[str] = []

    def count(sender=None, **kwargs) -> None:
        finished.append(sender.name)

    task_postrun.connect(count, weak=False)
    yield finished
    task_postrun.disconnect(count)


def test_a_write_is_recomputed_by_a_real_worker_after_commit(team, redis_worker):
    pilot_services.accept_accountability(pilot=team.pilot, actor=team.owner)
    assert wait_for(recomputed(team.pilot, 100)), "the worker never recomputed the pilot"


def test_a_burst_of_writes_publishes_one_recompute(team, no_worker_yet):
    pilot_services.accept_accountability(pilot=team.pilot, actor=team.owner)
    for n in range(4):
        details = pilot_services.PilotDetails(
            name=team.pilot.name, problem=f"Triage takes two days (revision {n}).", workflow="Claims intake",
            program_manager=team.pm, workflow_owner=team.owner,
        )  # fmt: skip
        pilot_services.update_pilot(pilot=team.pilot, actor=team.pm, details=details)
    assert queue.flush()
    messages = [m for m in no_worker_yet.lrange("celery", 0, -1) if b"recompute_readiness" in m]
    assert len(messages) == 1  # five writes, one task


def test_the_same_task_delivered_twice_leaves_one_correct_snapshot(team, redis_worker, postrun):
    pilot_services.accept_accountability(pilot=team.pilot, actor=team.owner)
    assert wait_for(recomputed(team.pilot, 100))
    first = ReadinessSnapshot.objects.get(pilot=team.pilot)
    recompute_readiness.delay([team.pilot.pk])
    recompute_readiness.delay([team.pilot.pk])
    assert wait_for(lambda: postrun.count("pilots.tasks.recompute_readiness") >= 3)
    again = ReadinessSnapshot.objects.get(pilot=team.pilot)
    assert (again.score, again.sections, again.failing) == (first.score, first.sections, first.failing)
    assert ReadinessHistory.objects.filter(pilot=team.pilot).count() == 1


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("a second process shares the test database only on PostgreSQL")
    user = quote(db.get("USER") or "postgres")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgresql://{user}{password}@{host}/{db['NAME']}"


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL"}}
    env |= {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": "fault-test",
        "ALLOWED_HOSTS": "testserver,localhost",
        "LOG_LEVEL": "WARNING",
    }
    return env | extra


WEB_WRITE = """
import sys, time
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
client = Client()
client.force_login(get_user_model().objects.get(pk=int(sys.argv[1])))
started = time.perf_counter()
response = client.post(reverse("accept_accountability", args=[int(sys.argv[2])]))
print(response.status_code, round(time.perf_counter() - started, 3))
"""


def test_with_the_broker_unreachable_a_write_succeeds_at_once_and_the_sweep_recovers_it(
    team, redis_url, redis_worker, monkeypatch
):
    closed_port = "redis://127.0.0.1:1/15"  # nothing listens there: the broker is "down"
    write = subprocess.run(
        [sys.executable, "-c", WEB_WRITE, str(team.owner.pk), str(team.pilot.pk)],
        cwd=ROOT,
        env=_env(REDIS_URL=closed_port, DJANGO_SETTINGS_MODULE="config.settings"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert write.returncode == 0, write.stderr[-2000:]
    status, seconds = write.stdout.split()[-2:]
    assert status == "302"  # the write went through: redirected back to the pilot page
    assert float(seconds) < 1.0, f"the request waited {seconds} s on the broker"
    assert "could not enqueue task" in write.stderr  # its recompute message was lost …
    team.pilot.refresh_from_db()
    assert team.pilot.accountability_accepted
    assert ReadinessMark.objects.filter(pilot=team.pilot).exists()  # … but the mark is in the database
    # The broker is back: the periodic sweep (a real task through the real worker) finds the mark.
    monkeypatch.setattr(readiness, "SWEEP_GRACE", readiness.SWEEP_GRACE * 0)
    sweep_readiness.delay()
    assert wait_for(recomputed(team.pilot, 100)), "the sweep never recomputed the marked pilot"


def test_a_worker_child_killed_mid_recompute_is_redelivered_and_leaves_a_correct_snapshot(
    team, redis_url, no_worker_yet, tmp_path
):
    flag = tmp_path / "stall"
    flag.write_text("")
    pilot_services.accept_accountability(pilot=team.pilot, actor=team.owner)  # its task waits in Redis
    assert queue.flush()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT,
        env=_env(
            REDIS_URL=redis_url, DJANGO_SETTINGS_MODULE="tests.fault_settings", READINESS_STALL_FILE=str(flag)
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert wait_for(lambda: flag.read_text().strip() != "", timeout=60), "the recompute never started"
        child = int(flag.read_text().split()[0])
        os.kill(child, signal.SIGKILL)  # the pool child dies in the middle of the recompute
        assert wait_for(recomputed(team.pilot, 100), timeout=60), "the redelivered task never finished"
        runs = flag.read_text().split()
        assert len(runs) == 2 and runs[1] != runs[0]  # a new child ran it again
        snap = ReadinessSnapshot.objects.get(pilot=team.pilot)
        assert snap.figures["fault_app"] == {"runs": 1}
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            output, _ = worker.communicate()
    assert "WorkerLostError" in output or "Process 'ForkPoolWorker" in output, output[-3000:]

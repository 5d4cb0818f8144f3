"""Test settings and the shared fixtures: personas, service availability, eager Celery."""

import os
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connection

from tests import factories

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"


def pytest_configure(config) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "http://testserver"
    # The live server for browser tests speaks plain http.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    from config.celery import app

    # Unit tests run tasks in-process; tests that need a real worker start one (test_celery_worker.py).
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


def unavailable(what: str) -> None:
    """Skip a test whose service is missing — or fail it where CI demands the service (REQUIRE_*)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required here (REQUIRE_SERVICES=1) but is not available")
    pytest.skip(f"{what} not available")


@pytest.fixture
def postgres() -> None:
    if connection.vendor != "postgresql":
        unavailable("PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        unavailable("Redis (set REDIS_URL)")
    return url


@pytest.fixture
def redis_worker(redis_url):
    """A real worker thread consuming from Redis; tasks are not run eagerly while it lives."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    assert app.conf.broker_url.startswith("redis://"), "settings must point Celery at REDIS_URL"
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _utc_after_each_test():
    """`access` activates the workspace's time zone; a test that calls it directly must not leak it."""
    yield
    from django.utils import timezone

    timezone.deactivate()


@dataclass
class Team:
    """The personas of one workspace, plus an outsider who belongs to another workspace."""

    workspace: object
    admin: object
    pm: object
    owner: object
    reviewer: object
    leader: object
    outsider: object
    other_workspace: object
    pilot: object

    def person(self, name: str):
        return getattr(self, name)


@pytest.fixture
def team(db) -> Team:
    workspace = factories.WorkspaceFactory(name="Acme", slug="acme")
    people = {
        role: factories.member(workspace, role, username=name)
        for name, role in (
            ("admin", "admin"),
            ("pm", "program_manager"),
            ("owner", "workflow_owner"),
            ("reviewer", "reviewer"),
            ("leader", "leader"),
        )
    }
    other = factories.WorkspaceFactory(name="Other", slug="other")
    outsider = factories.member(other, "admin", username="outsider")
    # The outsider holds every role, but in the other workspace only.
    factories.grant(outsider, other, "program_manager", "workflow_owner", "reviewer", "leader")
    pilot = factories.PilotFactory(
        workspace=workspace,
        program_manager=people["program_manager"],
        workflow_owner=people["workflow_owner"],
    )
    return Team(
        workspace=workspace,
        admin=people["admin"],
        pm=people["program_manager"],
        owner=people["workflow_owner"],
        reviewer=people["reviewer"],
        leader=people["leader"],
        outsider=outsider,
        other_workspace=other,
        pilot=pilot,
    )


@pytest.fixture
def client_for(client):
    """`client_for(user)` — the test client, signed in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture(autouse=True)
def _fresh_compiled_rule_tables():
    """Compiled rule tables and standards' summaries are cached per process; a rolled-back test's ids come
    back in the next test (and a frozen clock can repeat the publication time)."""
    from exceptions.router import compiled
    from pilots.readiness import inputs

    compiled.cache_clear()
    inputs._SUMMARIES.clear()
    yield

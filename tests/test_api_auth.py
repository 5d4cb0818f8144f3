"""Who may use the API (issue 7, capability 2 and "Bad input and abuse"): a workspace's bearer key and
nothing else; read-only keys read; another workspace's pilot does not exist; the per-key rate limit."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from pilots.models import ApiKey, AuditEvent, Case, IdempotencyRecord
from pilots.services import api_keys
from tests.api_helpers import BASE, ApiClient, api, case, keys, prepare

USES = (api, keys)  # the shared fixtures (tests/api_helpers.py)


def batch_url(team) -> str:
    return f"/pilots/{team.pilot.pk}/cases/batch"


def test_it_answers_a_key_of_the_workspace(team, api):
    response = api().get("/pilots")
    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == [team.pilot.pk]


def test_it_requires_a_key(team, api):
    response = api(None).get("/pilots")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "A valid API key is required: Authorization: Bearer <key>.",
        "errors": [],
    }


def test_a_write_without_a_key_is_401_before_anything_else(team, api):
    response = api(None).post(batch_url(team), {"cases": [case("a")]}, key=None)
    assert response.status_code == 401
    assert not Case.objects.exists() and not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer nonsense",
        "Bearer pr_deadbeef_secret",
        "Bearer ",
        "Basic dXNlcjpwdw==",
        "pr_x_y",
        "Bearer pr__",
    ],
)
def test_a_malformed_or_unknown_key_is_401(team, api, header):
    response = Client().get(f"{BASE}/pilots", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["detail"].startswith("A valid API key is required")


def test_a_key_with_a_wrong_secret_is_401(team, api, keys):
    prefix = keys.rows["read_write"].prefix
    assert api(f"pr_{prefix}_{'x' * 43}").get("/pilots").status_code == 401


def test_a_revoked_key_is_401(team, api, keys):
    api_keys.revoke_key(key=keys.rows["read_write"], actor=team.admin)
    assert api().get("/pilots").status_code == 401
    response = api().post(batch_url(team), {"cases": [case("a")]})
    assert response.status_code == 401
    assert not Case.objects.exists() and not IdempotencyRecord.objects.exists()


def test_the_bearer_scheme_is_read_in_any_case_and_writes_still_need_an_idempotency_key(team, api, keys):
    prepare(team)
    client = ApiClient(None)
    headers = {"Authorization": f"bearer {keys.read_write}"}
    assert client.get("/pilots", headers=headers).status_code == 200
    refused = client.post(batch_url(team), {"cases": [case("a")]}, key=None, headers=headers)
    assert refused.status_code == 400
    done = client.post(batch_url(team), {"cases": [case("a")]}, headers=headers)
    assert done.status_code == 200
    event = AuditEvent.objects.get(action="cases.ingested")
    assert event.api_key == keys.rows["read_write"]


def test_a_session_cookie_alone_does_not_work_on_the_api(team, client_for):
    signed_in = client_for(team.admin)
    assert signed_in.get(f"{BASE}/pilots").status_code == 401
    response = ApiClient(None, signed_in).post(batch_url(team), {"cases": [case("a")]})
    assert response.status_code == 401
    assert not Case.objects.exists()


def test_a_key_does_not_open_the_web_pages(team, keys):
    client = Client(headers={"Authorization": f"Bearer {keys.read_write}"})
    for url in ("/", f"/pilots/{team.pilot.pk}/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_a_read_only_key_reads(team, api, keys):
    reader = api(keys.read)
    assert reader.get("/pilots").status_code == 200
    assert reader.get(f"/pilots/{team.pilot.pk}/cases").status_code == 200


def test_a_read_only_key_cannot_write(team, api, keys):
    prepare(team)
    response = api(keys.read).post(batch_url(team), {"cases": [case("a")]})
    assert response.status_code == 403
    assert response.json()["detail"] == "This API key is read-only."
    assert not Case.objects.exists()
    assert not IdempotencyRecord.objects.exists()
    assert not AuditEvent.objects.filter(action="cases.ingested").exists()


def test_a_pilot_of_another_workspace_does_not_exist_for_the_key(team, api, keys):
    prepare(team)
    elsewhere = api(keys.other)
    assert elsewhere.get("/pilots").json() == []
    for path in (
        f"/pilots/{team.pilot.pk}",
        f"/pilots/{team.pilot.pk}/cases",
        f"/pilots/{team.pilot.pk}/decisions",
    ):
        response = elsewhere.get(path)
        assert response.status_code == 404, path
        assert response.json()["detail"] == "No such pilot."
    response = elsewhere.post(batch_url(team), {"cases": [case("a")]})
    assert response.status_code == 404
    assert not Case.objects.exists()


def test_the_rate_limit_answers_429_with_retry_after(team, api, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    client = api()
    assert [client.get("/pilots").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/pilots")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["detail"] == "Too many requests for this key; slow down."


def test_the_rate_limit_is_per_key(team, api, keys, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    assert api().get("/pilots").status_code == 200
    assert api().get("/pilots").status_code == 429
    assert api(keys.read).get("/pilots").status_code == 200


def test_a_rate_limited_write_does_not_use_up_its_idempotency_key(team, api, settings):
    prepare(team)
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    client = api()
    assert client.get("/pilots").status_code == 200
    limited = client.post(batch_url(team), {"cases": [case("a")]}, key="retry-me")
    assert limited.status_code == 429 and "Retry-After" in limited
    assert not Case.objects.exists() and not IdempotencyRecord.objects.exists()
    settings.API_RATE_LIMIT_PER_MINUTE = 100
    assert client.post(batch_url(team), {"cases": [case("a")]}, key="retry-me").status_code == 200
    assert Case.objects.count() == 1


def test_a_key_records_when_it_was_last_used(team, api, keys):
    key = keys.rows["read_write"]
    assert key.last_used_at is None
    api().get("/pilots")
    key.refresh_from_db()
    assert timezone.now() - key.last_used_at < timedelta(minutes=1)


def test_writes_need_no_csrf_token(team, keys):
    """The key is the credential: a client with CSRF checks on (as a browser would be) still writes."""
    prepare(team)
    client = ApiClient(keys.read_write, Client(enforce_csrf_checks=True))
    assert client.post(batch_url(team), {"cases": [case("a")]}).status_code == 200


def test_keys_are_stored_hashed(team, keys):
    row = ApiKey.objects.get(pk=keys.rows["read_write"].pk)
    assert keys.read_write not in (row.hashed, row.prefix, row.name)
    assert keys.read_write.startswith(f"pr_{row.prefix}_")

"""Idempotent writes (issue 7, capability 3): every write takes an Idempotency-Key; the same key and body
replay the stored first response, a different body is refused (422), a key still running answers 409 —
and ten concurrent requests with one key store one batch."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import DatabaseError, connections
from django.utils import timezone

from pilots.models import AuditEvent, Case, IdempotencyRecord
from pilots.services import api_keys, idempotency
from tests.api_helpers import BASE, ApiClient, api, case, errors_of, keys, prepare

USES = (api, keys)  # the shared fixtures (tests/api_helpers.py)


def url(team) -> str:
    return f"/pilots/{team.pilot.pk}/cases/batch"


def ingested() -> int:
    return AuditEvent.objects.filter(action="cases.ingested").count()


def test_a_write_without_an_idempotency_key_is_refused(team, api):
    prepare(team)
    response = api().post(url(team), {"cases": [case("a")]}, key=None)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Every write needs an Idempotency-Key header.",
        "errors": [{"loc": ["header", "Idempotency-Key"], "msg": "required"}],
    }
    assert api().post(url(team), {"cases": [case("a")]}, key="   ").status_code == 400
    assert not Case.objects.exists() and not IdempotencyRecord.objects.exists()


def test_an_idempotency_key_longer_than_255_characters_is_refused(team, api):
    response = api().post(url(team), {"cases": [case("a")]}, key="k" * 256)
    assert response.status_code == 400
    assert errors_of(response)[0][0] == ("header", "Idempotency-Key")
    assert not IdempotencyRecord.objects.exists()


def test_reads_need_no_idempotency_key(team, api):
    assert api().get("/pilots").status_code == 200
    assert not IdempotencyRecord.objects.exists()


def test_the_same_key_and_body_replay_the_stored_first_response(team, api):
    prepare(team)
    client = api()
    body = {"cases": [case("a"), case("b", amount=20000)]}
    first = client.post(url(team), body, key="batch-1")
    assert first.status_code == 200 and "Idempotent-Replayed" not in first
    # Something changes in between: the replay still answers what the first request did.
    client.post(url(team), {"cases": [case("b", amount=30000)]})
    again = client.post(url(team), body, key="batch-1")
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert again["Content-Type"] == "application/json"
    assert Case.objects.count() == 2
    assert Case.objects.get(external_id="b").inputs["amount"] == 30000  # nothing was done twice
    assert ingested() == 2  # the first batch and the change; the replay wrote nothing
    assert IdempotencyRecord.objects.get(key="batch-1").state == "done"


def test_a_refusal_is_replayed_too(team, api):
    client = api()
    body = {"cases": [case("a")], "on_behalf_of": "nobody"}
    first = client.post(url(team), body, key="k")
    again = client.post(url(team), body, key="k")
    assert first.status_code == again.status_code == 422
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"


def test_the_same_key_with_a_different_body_is_422(team, api):
    prepare(team)
    client = api()
    assert client.post(url(team), {"cases": [case("a")]}, key="k").status_code == 200
    response = client.post(url(team), {"cases": [case("b")]}, key="k")
    assert response.status_code == 422
    assert response.json()["detail"] == "This Idempotency-Key was used for a different request."
    assert errors_of(response)[0][0] == ("header", "Idempotency-Key")
    assert list(Case.objects.values_list("external_id", flat=True)) == ["a"]


def test_the_same_key_on_another_path_is_422(team, api):
    prepare(team)
    client = api()
    body = {"identifier": "v1", "released_on": "2026-10-01"}
    assert client.post(f"/pilots/{team.pilot.pk}/ai-versions", body, key="k").status_code == 201
    assert client.post("/pilots/999/ai-versions", body, key="k").status_code == 422


def test_a_key_whose_first_request_is_still_running_is_409(team, api, keys):
    prepare(team)
    body = json.dumps({"cases": [case("a")]})
    path = f"{BASE}{url(team)}"
    IdempotencyRecord.objects.create(
        api_key=keys.rows["read_write"],
        key="busy",
        request_hash=idempotency.request_hash("POST", path, body.encode()),
    )
    response = api().post(url(team), raw=body, key="busy")
    assert response.status_code == 409
    assert response.json()["detail"] == "The first request with this Idempotency-Key is still running."
    assert not Case.objects.exists()


def test_a_retry_takes_over_a_claim_whose_request_died(team, api, keys):
    """A worker killed mid-request leaves its claim "running" (its writes rolled back with it): past
    ABANDONED_AFTER the same key and body are served again, once, instead of 409 until the record expires."""
    prepare(team)
    body = json.dumps({"cases": [case("a")]})
    fingerprint = idempotency.request_hash("POST", f"{BASE}{url(team)}", body.encode())
    record = IdempotencyRecord.objects.create(
        api_key=keys.rows["read_write"], key="dead", request_hash=fingerprint
    )
    died = timezone.now() - idempotency.ABANDONED_AFTER - timedelta(seconds=1)
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=died)
    other = json.dumps({"cases": [case("b")]})
    assert api().post(url(team), raw=other, key="dead").status_code == 422  # still not another request's key
    response = api().post(url(team), raw=body, key="dead")
    assert response.status_code == 200 and response.json()["counts"] == {"created": 1}
    record.refresh_from_db()
    assert record.state == IdempotencyRecord.State.DONE and record.created_at > died
    assert api().post(url(team), raw=body, key="dead").headers["Idempotent-Replayed"] == "true"
    assert list(Case.objects.values_list("external_id", flat=True)) == ["a"]


def test_only_one_retry_takes_over_an_abandoned_claim(team, keys):
    record = IdempotencyRecord.objects.create(api_key=keys.rows["read_write"], key="dead", request_hash="h")
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - idempotency.ABANDONED_AFTER - timedelta(minutes=1)
    )
    first = idempotency.claim(api_key=keys.rows["read_write"], key="dead", fingerprint="h")
    assert first.replay is False and first.record.pk == record.pk
    with pytest.raises(idempotency.IdempotencyConflict) as second:  # the first retry is running now
        idempotency.claim(api_key=keys.rows["read_write"], key="dead", fingerprint="h")
    assert second.value.status == 409


def test_a_write_whose_response_cannot_be_stored_keeps_nothing_and_may_be_retried(team, api, monkeypatch):
    """The writes and the stored first response commit together: were the cases kept while the record
    stayed "running", every retry would get 409 and the client could never learn what was stored."""
    prepare(team)
    body = {"cases": [case("a"), case("b", amount=20000)]}

    def lost(**_kwargs):
        raise DatabaseError("the connection was lost")  # fault injection: the record's write fails

    with monkeypatch.context() as patched:
        patched.setattr(idempotency, "finish", lost)
        with pytest.raises(DatabaseError):
            api().post(url(team), body, key="lost")
    assert not Case.objects.exists() and ingested() == 0
    assert not IdempotencyRecord.objects.exists()  # released: the same key may be sent again
    retry = api().post(url(team), body, key="lost")
    assert retry.status_code == 200 and "Idempotent-Replayed" not in retry
    assert Case.objects.count() == 2 and ingested() == 1
    assert IdempotencyRecord.objects.get(key="lost").state == "done"


def test_idempotency_keys_belong_to_their_api_key(team, api):
    prepare(team)
    second = api_keys.create_key(
        workspace=team.workspace, name="Ticketing", access="read_write", actor=team.admin
    )
    assert api().post(url(team), {"cases": [case("a")]}, key="shared").status_code == 200
    other = api(second.secret).post(url(team), {"cases": [case("b")]}, key="shared")
    assert other.status_code == 200 and "Idempotent-Replayed" not in other
    assert Case.objects.count() == 2


def test_records_are_kept_at_least_24_hours(team, api, keys):
    prepare(team)
    body = {"cases": [case("a")]}
    first = api().post(url(team), body, key="day-old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency.purge_expired() == 0
    again = api().post(url(team), body, key="day-old")
    assert again["Idempotent-Replayed"] == "true" and again.content == first.content
    IdempotencyRecord.objects.update(created_at=timezone.now() - idempotency.KEEP - timedelta(minutes=1))
    assert idempotency.purge_expired() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_requests_with_one_key_store_one_batch(team, keys, postgres):
    prepare(team)
    body = {"cases": [case(f"c{i}", amount=20000 if i % 4 == 0 else 10) for i in range(300)]}
    start = threading.Barrier(10)
    answers: list = [None] * 10

    def send(i: int) -> None:
        try:
            client = ApiClient(keys.read_write)  # each thread its own client and database connection
            start.wait()
            answers[i] = client.post(url(team), body, key="together")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first = [a for a in answers if a.status_code == 200 and "Idempotent-Replayed" not in a]
    others = [a for a in answers if a not in first]
    assert len(first) == 1
    assert all(a.status_code == 409 or a["Idempotent-Replayed"] == "true" for a in others)
    assert all(a.content == first[0].content for a in others if a.status_code == 200)
    assert Case.objects.count() == 300
    assert ingested() == 1
    assert IdempotencyRecord.objects.get().state == "done"

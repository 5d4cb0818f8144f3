"""`seed_demo` makes the demo's integration key and prints it once (issue 7: "the README shows a curl example
that works against `make run` with a demo key that the seed prints"). The README's own example is sent
here with the printed key, so the README cannot drift from what the API accepts."""

import json
import re
from pathlib import Path

from django.core.management import call_command
from django.test import Client

from pilots.demo.integration import DEMO_KEY_NAME
from pilots.models import ApiKey, AuditEvent, Case, Pilot
from pilots.services import api_keys

README = Path(__file__).resolve().parent.parent / "README.md"
SECRET = re.compile(r"\bpr_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")


def seed(capsys, *args) -> str:
    call_command("seed_demo", *args)
    return capsys.readouterr().out


def readme_example() -> tuple[str, str, dict]:
    """The batch example of the README's "Integration API" section: its path, Idempotency-Key and body."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Integration API") :]
    post = re.search(
        r"curl [^\n]*-X POST (http://127\.0\.0\.1:8000)(/api/v1/pilots/\d+/cases/batch)", section
    )
    key = re.search(r'-H "Idempotency-Key: ([^"]+)"', section)
    body = re.search(r"<<'JSON'\n(.*?)\nJSON\n", section, re.S)
    assert post and key and body, "the README's batch example is missing or reshaped"
    return post.group(2), key.group(1), json.loads(body.group(1))


def test_seed_demo_prints_a_working_key_once_and_the_readme_example_works_with_it(db, capsys):
    """One test, because seeding the demo takes a while."""
    out = seed(capsys)
    [secret] = set(SECRET.findall(out))
    key = api_keys.authenticate(secret)
    assert key is not None
    assert (key.name, key.workspace.slug, key.access) == (DEMO_KEY_NAME, "northwind", "read_write")
    assert AuditEvent.objects.filter(action="api_key.created", object_id=str(key.pk)).count() == 1
    assert "shown this once" in out and "/api/v1/docs" in out

    send_the_readme_example(secret)

    again = seed(capsys)
    assert SECRET.search(again) is None
    assert f"“{DEMO_KEY_NAME}” ({key.prefix}…) exists already" in again
    assert "cannot be shown again" in again and "Integrations page" in again
    assert "/w/northwind/integrations/" in again
    assert SECRET.search(seed(capsys, "--if-empty")) is None
    assert ApiKey.objects.count() == 1
    assert api_keys.authenticate(secret) == key  # still the same working key


def send_the_readme_example(secret: str) -> None:
    client = Client()
    auth = {"Authorization": f"Bearer {secret}"}

    listed = client.get("/api/v1/pilots", headers=auth)
    assert listed.status_code == 200
    claims = Pilot.objects.get(workspace__slug="northwind", name="Claims triage assistant")
    assert {"id": claims.pk, "name": claims.name} in [
        {"id": p["id"], "name": p["name"]} for p in listed.json()
    ]

    path, idempotency_key, body = readme_example()
    # The README names the pilot by its id on a fresh `make run` database; a test database may number it
    # differently.
    path = re.sub(r"/pilots/\d+/", f"/pilots/{claims.pk}/", path)
    headers = auth | {"Idempotency-Key": idempotency_key}
    first = client.post(path, json.dumps(body), content_type="application/json", headers=headers)
    assert first.status_code == 200, first.content
    result = first.json()
    assert result["counts"] == {"created": 2}
    assert [(i["outcome"], i["problems"]) for i in result["items"]] == [("created", []), ("created", [])]
    sent = [c["external_id"] for c in body["cases"]]
    assert Case.objects.filter(pilot=claims, source="api", external_id__in=sent).count() == 2

    # Running the example again answers the stored first response, and changes nothing.
    replay = client.post(path, json.dumps(body), content_type="application/json", headers=headers)
    assert (replay.status_code, replay["Idempotent-Replayed"], replay.json()) == (200, "true", result)

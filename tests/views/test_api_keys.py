"""Creating an API key (shown whole once) and revoking it, on the integrations page."""

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from pilots.models import ApiKey
from pilots.services import api_keys
from tests.views.conftest import actions

PAGE = reverse("integrations", args=["acme"])
CREATE = reverse("api_key_create", args=["acme"])
NON_ADMINS = ("pm", "owner", "reviewer", "leader")
SECRET = re.compile(r"pr_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")


def revoke_url(key: ApiKey, slug: str = "acme") -> str:
    return reverse("api_key_revoke", args=[slug, key.pk])


def shown_secret(response) -> str:
    """The whole key as the create response shows it (in the field to copy and in the curl example)."""
    found = set(SECRET.findall(response.content.decode()))
    assert len(found) == 1, found
    return found.pop()


def call_api(secret: str):
    cache.clear()  # the per-key rate counters
    return Client().get("/api/v1/pilots", headers={"Authorization": f"Bearer {secret}"})


@pytest.fixture
def created(team, client_for):
    """A read-write key created through the page; (response, key row, secret)."""
    response = client_for(team.admin).post(CREATE, {"name": "Claims intake", "access": "read_write"})
    key = ApiKey.objects.get(workspace=team.workspace)
    return response, key, shown_secret(response)


# Creating


def test_the_admin_creates_a_key_and_sees_it_whole_once(team, created):
    response, key, secret = created
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "it is shown only this once" in page
    assert f'value="{secret}"' in page
    assert f'curl -H "Authorization: Bearer {secret}" http://testserver/api/v1/pilots' in page
    assert 'data-copy="new-key-value"' in page and "js/integrations.js" in page
    assert key.name == "Claims intake"
    assert key.access == ApiKey.Access.READ_WRITE
    assert key.created_by == team.admin
    assert secret.startswith(f"pr_{key.prefix}_")
    assert actions(workspace=team.workspace) == ["api_key.created"]


def test_the_key_is_not_shown_again(team, client_for, created):
    _response, key, secret = created
    page = client_for(team.admin).get(PAGE).content.decode()
    assert secret not in page
    assert secret.rsplit("_", 1)[1] not in page
    assert f"pr_{key.prefix}_…" in page
    assert "shown only this once" not in page


def test_only_a_hash_of_the_key_is_stored(created):
    _response, key, secret = created
    assert key.hashed != secret
    assert secret not in key.hashed and secret.rsplit("_", 1)[1] not in key.hashed
    assert len(key.hashed) == 64


def test_the_new_key_works_on_the_api(created):
    _response, key, secret = created
    assert api_keys.authenticate(secret) == key
    assert call_api(secret).status_code == 200


def test_a_read_only_key_is_the_default(team, client_for):
    assert (
        'value="read" required id="id_access_0" checked' in client_for(team.admin).get(PAGE).content.decode()
    )
    client_for(team.admin).post(CREATE, {"name": "Dashboard", "access": "read"})
    assert ApiKey.objects.get(workspace=team.workspace).access == ApiKey.Access.READ


def test_creating_again_shows_a_new_key_each_time(team, client_for, created):
    _response, _key, first = created
    response = client_for(team.admin).post(CREATE, {"name": "Claims intake", "access": "read_write"})
    second = shown_secret(response)
    assert second != first
    assert ApiKey.objects.filter(workspace=team.workspace).count() == 2
    assert actions(workspace=team.workspace) == ["api_key.created", "api_key.created"]


def test_a_key_needs_a_name_and_a_known_access(team, client_for):
    client = client_for(team.admin)
    response = client.post(CREATE, {"name": "   ", "access": "read"})
    assert response.status_code == 422
    assert "name" in response.context["key_form"].errors
    response = client.post(CREATE, {"name": "Claims", "access": "admin"})
    assert response.status_code == 422
    assert "access" in response.context["key_form"].errors
    assert not SECRET.search(response.content.decode())
    assert not ApiKey.objects.exists()


def test_creating_requires_post(team, client_for):
    assert client_for(team.admin).get(CREATE).status_code == 405


def test_creating_is_a_404_for_an_outsider(team, client_for):
    response = client_for(team.outsider).post(CREATE, {"name": "Mine", "access": "read"})
    assert response.status_code == 404
    assert not ApiKey.objects.exists()


def test_creating_requires_the_admin_role(team, client_for):
    for name in NON_ADMINS:
        response = client_for(team.person(name)).post(CREATE, {"name": "Mine", "access": "read_write"})
        assert response.status_code == 403, name
    assert not ApiKey.objects.exists()


# Revoking


def test_the_admin_revokes_a_key_and_it_stops_working_at_once(team, client_for, created):
    _response, key, secret = created
    response = client_for(team.admin).post(revoke_url(key))
    assert response.status_code == 302
    assert response.url == f"{PAGE}#key-{key.pk}"
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_by == team.admin
    assert api_keys.authenticate(secret) is None
    assert call_api(secret).status_code == 401
    page = client_for(team.admin).get(PAGE).content.decode()
    assert "revoked: requests with it are refused" in page
    assert revoke_url(key) not in page
    assert actions(workspace=team.workspace) == ["api_key.created", "api_key.revoked"]


def test_the_revoke_button_asks_first(team, client_for, created):
    _response, key, _secret = created
    page = client_for(team.admin).get(PAGE).content.decode()
    form = re.search(rf'<details class="confirm">.*?{re.escape(revoke_url(key))}.*?</details>', page, re.S)
    assert form and "cannot be undone" in form.group(0)


def test_revoking_twice_is_harmless(team, client_for, created):
    _response, key, _secret = created
    client = client_for(team.admin)
    client.post(revoke_url(key))
    revoked_at = ApiKey.objects.get(pk=key.pk).revoked_at
    response = client.post(revoke_url(key), follow=True)
    assert response.status_code == 200
    assert "was revoked already" in response.content.decode()
    assert ApiKey.objects.get(pk=key.pk).revoked_at == revoked_at
    assert actions(workspace=team.workspace) == ["api_key.created", "api_key.revoked"]


def test_revoking_requires_post(team, client_for, created):
    _response, key, _secret = created
    assert client_for(team.admin).get(revoke_url(key)).status_code == 405
    assert ApiKey.objects.get(pk=key.pk).active


def test_revoking_is_a_404_for_an_outsider(team, client_for, created):
    _response, key, secret = created
    assert client_for(team.outsider).post(revoke_url(key)).status_code == 404
    # … also through their own workspace's address
    assert client_for(team.outsider).post(revoke_url(key, "other")).status_code == 404
    assert api_keys.authenticate(secret) == key


def test_revoking_requires_the_admin_role(team, client_for, created):
    _response, key, _secret = created
    for name in NON_ADMINS:
        assert client_for(team.person(name)).post(revoke_url(key)).status_code == 403, name
    assert ApiKey.objects.get(pk=key.pk).active


def test_a_key_of_another_workspace_is_a_404(team, client_for):
    theirs = api_keys.create_key(
        workspace=team.other_workspace, name="Theirs", access="read", actor=team.outsider
    )
    assert client_for(team.admin).post(revoke_url(theirs.key)).status_code == 404
    assert api_keys.authenticate(theirs.secret) == theirs.key

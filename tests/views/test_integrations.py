"""The integrations page: the workspace's API keys and webhook endpoints, for its admins only."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pilots.models import WebhookDelivery
from pilots.services import api_keys, webhooks
from tests import factories
from tests.views.conftest import actions

PAGE = reverse("integrations", args=["acme"])
NON_ADMINS = ("pm", "owner", "reviewer", "leader")


def make_key(team, name="Claims intake", access="read", workspace=None):
    return api_keys.create_key(
        workspace=workspace or team.workspace, name=name, access=access, actor=team.admin
    )


def make_endpoint(team, url="https://93.184.215.14/hook", events=("gate.decided",)):
    endpoint, _secret = webhooks.register_endpoint(
        workspace=team.workspace, url=url, events=list(events), actor=team.admin
    )
    return endpoint


def test_the_admin_sees_the_keys_and_endpoints_of_the_workspace(team, client_for):
    key = make_key(team).key
    revoked = make_key(team, name="Old system").key
    api_keys.revoke_key(key=revoked, actor=team.admin)
    endpoint = make_endpoint(team)
    theirs = api_keys.create_key(
        workspace=team.other_workspace, name="Their key", access="read", actor=team.outsider
    ).key
    response = client_for(team.admin).get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert f"pr_{key.prefix}_…" in page
    assert "Claims intake" in page and "Old system" in page
    assert "Read only" in page
    assert "Revoked" in page
    assert reverse("api_key_revoke", args=["acme", key.pk]) in page
    assert reverse("api_key_revoke", args=["acme", revoked.pk]) not in page  # revoked once is enough
    assert endpoint.url in page
    assert reverse("webhook_deliveries", args=["acme", endpoint.pk]) in page
    assert "Their key" not in page and theirs.prefix not in page
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]


def test_the_page_offers_both_forms_and_every_event(team, client_for):
    page = client_for(team.admin).get(PAGE).content.decode()
    assert reverse("api_key_create", args=["acme"]) in page
    assert reverse("webhook_create", args=["acme"]) in page
    for event in webhooks.EVENTS:
        assert f'value="{event}"' in page
    assert "No API key yet." in page and "No webhook endpoint yet." in page


def test_a_paused_endpoint_says_so(team, client_for):
    endpoint = make_endpoint(team)
    endpoint.consecutive_failures = 10
    endpoint.paused_at = endpoint.created_at
    endpoint.save()
    page = client_for(team.admin).get(PAGE).content.decode()
    assert "Paused after 10 failed deliveries in a row" in page
    assert "Turn on again" in page


def test_the_page_requires_get(team, client_for):
    assert client_for(team.admin).post(PAGE).status_code == 405


def test_the_page_is_a_404_for_an_outsider(team, client_for):
    assert client_for(team.outsider).get(PAGE).status_code == 404


def test_the_page_requires_the_admin_role(team, client_for):
    for name in NON_ADMINS:
        assert client_for(team.person(name)).get(PAGE).status_code == 403, name


def test_reading_the_page_again_changes_nothing(team, client_for):
    key = make_key(team).key
    client = client_for(team.admin)
    before = actions(workspace=team.workspace)
    for _ in range(2):
        page = client.get(PAGE).content.decode()
        assert page.count(f'id="key-{key.pk}"') == 1
    assert actions(workspace=team.workspace) == before


def test_the_admin_nav_and_the_settings_page_link_here(team, client_for):
    home = reverse("workspace_home", args=["acme"])
    assert PAGE in client_for(team.admin).get(home).content.decode()
    assert PAGE in client_for(team.admin).get(reverse("workspace_edit", args=["acme"])).content.decode()
    for name in NON_ADMINS:
        assert PAGE not in client_for(team.person(name)).get(home).content.decode(), name


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE).status_code == 200
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_keys_and_endpoints(team, client_for):
    client = client_for(team.admin)
    make_key(team)
    make_endpoint(team)
    few = _queries(client)
    for n in range(6):
        key = make_key(team, name=f"System {n}", access="read_write").key
        if n % 2:
            api_keys.revoke_key(key=key, actor=factories.member(team.workspace, "admin"))
        endpoint = make_endpoint(team, url=f"https://93.184.215.14/hook/{n}")
        WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(endpoint=endpoint, event="gate.decided", payload={}, state=state) for state in
             ("pending", "succeeded", "failed")]
        )  # fmt: skip
    assert _queries(client) == few
    assert few <= 10

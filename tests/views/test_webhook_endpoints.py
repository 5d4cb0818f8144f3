"""Webhook endpoints on the integrations page: registering one (its signing secret shown once), turning
it off and on, its delivery log and "send again". Deliveries go to a receiver this file starts on
127.0.0.1, which checks signatures the way the page tells receivers to."""

import hashlib
import hmac
import http.server
import json
import re
import threading
import time
from dataclasses import dataclass, field

import pytest
from django.urls import reverse
from django.utils import timezone

from pilots.models import WebhookDelivery, WebhookEndpoint
from pilots.services import webhooks
from tests.views.conftest import HTMX, actions

PAGE = reverse("integrations", args=["acme"])
CREATE = reverse("webhook_create", args=["acme"])
NON_ADMINS = ("pm", "owner", "reviewer", "leader")
PUBLIC = "https://93.184.215.14/hooks/prodready"  # an address literal: no DNS needed to judge it


def log_url(endpoint: WebhookEndpoint, slug: str = "acme") -> str:
    return reverse("webhook_deliveries", args=[slug, endpoint.pk])


def active_url(endpoint: WebhookEndpoint) -> str:
    return reverse("webhook_active", args=["acme", endpoint.pk])


def replay_url(delivery: WebhookDelivery, endpoint: WebhookEndpoint | None = None) -> str:
    return reverse("webhook_replay", args=["acme", (endpoint or delivery.endpoint).pk, delivery.pk])


def documented_verify(secret: str, headers, body: bytes) -> bool:
    """The receiver's check exactly as the page explains it (not webhooks.verify)."""
    timestamp = headers["ProdReady-Timestamp"]
    if abs(time.time() - int(timestamp)) > 5 * 60:
        return False
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest("v1=" + mac.hexdigest(), headers["ProdReady-Signature"])


@dataclass
class Receiver:
    url: str
    received: list = field(default_factory=list)  # (headers, body)
    statuses: list = field(default_factory=list)  # answers to give, in order; then 200


@pytest.fixture
def receiver():
    """A tiny HTTP server on 127.0.0.1 that records what it receives."""
    state = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((self.headers, body))  # case-insensitive
            self.send_response(state.statuses.pop(0) if state.statuses else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def private_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True


def register(team, url=PUBLIC, events=("gate.decided",)) -> WebhookEndpoint:
    endpoint, _secret = webhooks.register_endpoint(
        workspace=team.workspace, url=url, events=list(events), actor=team.admin
    )
    return endpoint


def delivery_of(endpoint: WebhookEndpoint, **fields) -> WebhookDelivery:
    fields = {"event": "gate.decided", "payload": {"event": "gate.decided", "data": {"pilot": 1}}} | fields
    return WebhookDelivery.objects.create(endpoint=endpoint, **fields)


# Registering


def test_the_admin_registers_an_endpoint_and_sees_its_secret_once(team, client_for):
    response = client_for(team.admin).post(
        CREATE, {"url": PUBLIC, "events": ["gate.decided", "escalation.overdue"]}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get(workspace=team.workspace)
    assert endpoint.url == PUBLIC
    assert endpoint.events == ["escalation.overdue", "gate.decided"]
    assert endpoint.created_by == team.admin and endpoint.active
    page = response.content.decode()
    assert f'value="{endpoint.secret}"' in page
    assert "shown only this once" in page
    assert "<code>&lt;ProdReady-Timestamp&gt;.&lt;raw body&gt;</code>" in page
    assert "HMAC-SHA256" in page and "v1=" in page and "more than 5 minutes" in page
    assert actions(workspace=team.workspace) == ["webhook.registered"]
    # Afterwards the list shows the endpoint, never its secret.
    page = client_for(team.admin).get(PAGE).content.decode()
    assert PUBLIC in page and endpoint.secret not in page


def test_registering_again_shows_a_new_secret_each_time(team, client_for):
    client = client_for(team.admin)
    first = client.post(CREATE, {"url": PUBLIC, "events": ["gate.decided"]}).context["new_secret"]
    second = client.post(CREATE, {"url": PUBLIC, "events": ["gate.decided"]}).context["new_secret"]
    assert first and second and first != second
    assert WebhookEndpoint.objects.filter(workspace=team.workspace).count() == 2


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://127.0.0.1/hook", "loopback, private or link-local"),
        ("https://10.1.2.3/hook", "loopback, private or link-local"),
        ("https://169.254.169.254/latest/meta-data", "loopback, private or link-local"),
        ("http://127.0.0.1/", "Use https"),
        ("http://93.184.215.14/hook", "Use https"),
    ],
)
def test_addresses_inside_the_network_are_refused_on_the_url_field(team, client_for, settings, url, message):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = client_for(team.admin).post(CREATE, {"url": url, "events": ["gate.decided"]})
    assert response.status_code == 422
    [error] = response.context["endpoint_form"].errors["url"]
    assert message in error
    assert message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()
    assert actions(workspace=team.workspace) == []


def test_a_private_address_is_allowed_when_the_setting_allows_it(team, client_for, private_allowed):
    response = client_for(team.admin).post(CREATE, {"url": "http://127.0.0.1/", "events": ["gate.decided"]})
    assert response.status_code == 200
    assert WebhookEndpoint.objects.get(workspace=team.workspace).url == "http://127.0.0.1/"


def test_an_endpoint_needs_a_url_and_an_event(team, client_for):
    client = client_for(team.admin)
    response = client.post(CREATE, {"url": PUBLIC})
    assert response.status_code == 422
    assert "Choose one or more events." in response.context["endpoint_form"].errors["events"]
    response = client.post(CREATE, {"url": "not a url", "events": ["gate.decided"]})
    assert response.status_code == 422
    assert "url" in response.context["endpoint_form"].errors
    response = client.post(CREATE, {"url": PUBLIC, "events": ["pilot.deleted"]})
    assert response.status_code == 422
    assert not WebhookEndpoint.objects.exists()


def test_registering_requires_post(team, client_for):
    assert client_for(team.admin).get(CREATE).status_code == 405


def test_registering_is_a_404_for_an_outsider(team, client_for):
    assert (
        client_for(team.outsider).post(CREATE, {"url": PUBLIC, "events": ["gate.decided"]}).status_code == 404
    )
    assert not WebhookEndpoint.objects.exists()


def test_registering_requires_the_admin_role(team, client_for):
    for name in NON_ADMINS:
        response = client_for(team.person(name)).post(CREATE, {"url": PUBLIC, "events": ["gate.decided"]})
        assert response.status_code == 403, name
    assert not WebhookEndpoint.objects.exists()


# Turning an endpoint off and on


def test_the_admin_turns_an_endpoint_off_and_on(team, client_for):
    endpoint = register(team)
    client = client_for(team.admin)
    response = client.post(active_url(endpoint), {"active": "0"})
    assert response.status_code == 302 and response.url == f"{PAGE}#endpoint-{endpoint.pk}"
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert webhooks.emit_event(workspace=team.workspace, event="gate.decided", payload={}) == []
    page = client.get(PAGE).content.decode()
    assert "are off" in page and ">Turn on</button>" in page
    client.post(active_url(endpoint), {"active": "1"})
    endpoint.refresh_from_db()
    assert endpoint.active
    assert actions(workspace=team.workspace) == ["webhook.registered", "webhook.disabled", "webhook.enabled"]


def test_turning_a_paused_endpoint_on_lifts_the_pause(team, client_for):
    endpoint = register(team)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(paused_at=timezone.now(), consecutive_failures=10)
    client = client_for(team.admin)
    assert "Paused after 10 failed deliveries in a row" in client.get(PAGE).content.decode()
    response = client.post(active_url(endpoint), {"active": "1"}, follow=True)
    assert "The pause is lifted." in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.paused_at is None and endpoint.consecutive_failures == 0


def test_turning_off_twice_is_harmless(team, client_for):
    endpoint = register(team)
    client = client_for(team.admin)
    for _ in range(2):
        assert client.post(active_url(endpoint), {"active": "0"}).status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.active


def test_turning_needs_on_or_off(team, client_for):
    endpoint = register(team)
    assert client_for(team.admin).post(active_url(endpoint), {"active": "maybe"}).status_code == 422
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).active


def test_turning_requires_post(team, client_for):
    assert client_for(team.admin).get(active_url(register(team))).status_code == 405


def test_turning_is_a_404_for_an_outsider(team, client_for):
    endpoint = register(team)
    assert client_for(team.outsider).post(active_url(endpoint), {"active": "0"}).status_code == 404
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).active


def test_turning_requires_the_admin_role(team, client_for):
    endpoint = register(team)
    for name in NON_ADMINS:
        assert client_for(team.person(name)).post(active_url(endpoint), {"active": "0"}).status_code == 403
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).active


def test_an_endpoint_of_another_workspace_is_a_404(team, client_for):
    theirs, _secret = webhooks.register_endpoint(
        workspace=team.other_workspace, url=PUBLIC, events=["gate.decided"], actor=team.outsider
    )
    delivery = delivery_of(theirs)
    client = client_for(team.admin)
    assert client.post(active_url(theirs), {"active": "0"}).status_code == 404
    assert client.get(log_url(theirs)).status_code == 404
    assert client.post(replay_url(delivery)).status_code == 404
    assert WebhookEndpoint.objects.get(pk=theirs.pk).active
    assert WebhookDelivery.objects.count() == 1


# The delivery log


def test_the_log_shows_each_delivery_newest_first(team, client_for):
    endpoint = register(team)
    done = delivery_of(endpoint, state="succeeded", attempts=1, last_status=200, delivered_at=timezone.now())
    failed = delivery_of(
        endpoint,
        event="escalation.overdue",
        state="failed",
        attempts=6,
        last_status=500,
        last_error="HTTP 500",
    )
    response = client_for(team.admin).get(log_url(endpoint))
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [failed, done]
    page = response.content.decode()
    row = re.search(rf'<tr id="delivery-{failed.pk}">.*?</tr>', page, re.S).group(0)
    assert "escalation.overdue" in row and "Failed" in row and "HTTP 500" in row and ">6<" in row
    assert replay_url(failed) in row
    row = re.search(rf'<tr id="delivery-{done.pk}">.*?</tr>', page, re.S).group(0)
    assert "Succeeded" in row and "HTTP 200" in row


def test_the_log_is_paginated_50_a_page_and_htmx_gets_the_table(team, client_for):
    endpoint = register(team)
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=endpoint, event="gate.decided", payload={}) for _ in range(60)]
    )
    client = client_for(team.admin)
    first = client.get(log_url(endpoint))
    assert len(first.context["page"].object_list) == 50
    assert "Page 1 of 2" in first.content.decode()
    second = client.get(log_url(endpoint), {"page": 2}, headers=HTMX)
    body = second.content.decode()
    assert len(second.context["page"].object_list) == 10
    assert body.lstrip().startswith('<section id="delivery-table"') and "<html" not in body


def test_the_log_of_a_paused_endpoint_says_so_and_offers_no_resend(team, client_for):
    endpoint = register(team)
    delivery = delivery_of(endpoint, state="failed")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(paused_at=timezone.now(), consecutive_failures=12)
    page = client_for(team.admin).get(log_url(endpoint)).content.decode()
    assert "Paused after 12 failed deliveries in a row" in page
    assert replay_url(delivery) not in page


def test_the_number_of_queries_of_the_log_does_not_grow(team, client_for, django_assert_max_num_queries):
    endpoint = register(team)
    client = client_for(team.admin)
    delivery_of(endpoint)
    with django_assert_max_num_queries(9):
        client.get(log_url(endpoint))
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=endpoint, event="gate.decided", payload={}) for _ in range(70)]
    )
    with django_assert_max_num_queries(9):
        client.get(log_url(endpoint))


def test_the_log_requires_get(team, client_for):
    assert client_for(team.admin).post(log_url(register(team))).status_code == 405


def test_the_log_is_a_404_for_an_outsider(team, client_for):
    endpoint = register(team)
    assert client_for(team.outsider).get(log_url(endpoint)).status_code == 404
    assert client_for(team.outsider).get(log_url(endpoint, "other")).status_code == 404


def test_the_log_requires_the_admin_role(team, client_for):
    endpoint = register(team)
    for name in NON_ADMINS:
        assert client_for(team.person(name)).get(log_url(endpoint)).status_code == 403, name


# Sending again, to a real receiver


@pytest.fixture
def live(team, client_for, receiver, private_allowed, django_capture_on_commit_callbacks):
    """An endpoint registered through the page at the receiver, and one event delivered to it."""
    response = client_for(team.admin).post(CREATE, {"url": receiver.url, "events": ["gate.decided"]})
    secret = response.context["new_secret"]
    endpoint = WebhookEndpoint.objects.get(workspace=team.workspace)
    with django_capture_on_commit_callbacks(execute=True):
        [delivery_id] = webhooks.emit_event(
            workspace=team.workspace, event="gate.decided", payload={"pilot": team.pilot.pk, "outcome": "go"}
        )
    return endpoint, secret, WebhookDelivery.objects.get(pk=delivery_id)


def test_the_receiver_verifies_deliveries_with_the_secret_shown(live, receiver):
    _endpoint, secret, delivery = live
    assert delivery.state == "succeeded" and delivery.last_status == 200
    [(headers, body)] = receiver.received
    assert documented_verify(secret, headers, body)
    assert not documented_verify("another secret", headers, body)
    assert headers["ProdReady-Delivery"] == str(delivery.pk)
    assert json.loads(body)["data"] == {"pilot": delivery.payload["data"]["pilot"], "outcome": "go"}


def test_send_again_creates_a_new_delivery_that_reaches_the_receiver(
    team, client_for, live, receiver, django_capture_on_commit_callbacks
):
    endpoint, secret, delivery = live
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(team.admin).post(replay_url(delivery))
    assert response.status_code == 302 and response.url == log_url(endpoint)
    again = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert again.endpoint == endpoint and again.event == delivery.event and again.payload == delivery.payload
    assert again.state == "succeeded" and again.attempts == 1
    assert len(receiver.received) == 2
    headers, body = receiver.received[1]
    assert headers["ProdReady-Delivery"] == str(again.pk)
    assert documented_verify(secret, headers, body)
    assert json.loads(body) == json.loads(receiver.received[0][1])
    page = client_for(team.admin).get(log_url(endpoint)).content.decode()
    assert f"Delivery #{delivery.pk} sent again as #{again.pk}." in page
    assert f'id="delivery-{again.pk}"' in page
    assert actions(workspace=team.workspace)[-1] == "webhook.replayed"


def test_send_again_queues_a_new_pending_delivery(team, client_for, monkeypatch):
    """Before the task runs (here: the commit never comes), the new delivery waits, pending."""
    endpoint = register(team)
    delivery = delivery_of(endpoint, state="failed", attempts=6)
    opened = []
    monkeypatch.setattr(webhooks, "_open", lambda *args, **kwargs: opened.append(args))
    assert client_for(team.admin).post(replay_url(delivery)).status_code == 302
    again = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert again.state == "pending" and again.attempts == 0 and again.next_attempt_at is not None
    assert opened == []
    assert WebhookDelivery.objects.get(pk=delivery.pk).state == "failed"  # the original stays as it was


def test_a_failing_receiver_is_logged(team, client_for, live, receiver, django_capture_on_commit_callbacks):
    endpoint, _secret, delivery = live
    receiver.statuses = [503]
    with django_capture_on_commit_callbacks(execute=True):
        client_for(team.admin).post(replay_url(delivery))
    again = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert again.state == "pending" and again.attempts == 1 and again.last_status == 503
    row = re.search(
        rf'<tr id="delivery-{again.pk}">.*?</tr>',
        client_for(team.admin).get(log_url(endpoint)).content.decode(),
        re.S,
    ).group(0)
    assert "Pending" in row and "HTTP 503" in row and "next try" in row


def test_sending_again_twice_sends_twice(
    team, client_for, live, receiver, django_capture_on_commit_callbacks
):
    _endpoint, _secret, delivery = live
    client = client_for(team.admin)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(replay_url(delivery)).status_code == 302
    assert WebhookDelivery.objects.count() == 3
    assert len(receiver.received) == 3


def test_nothing_is_sent_again_to_an_endpoint_that_is_off(team, client_for):
    endpoint = register(team)
    delivery = delivery_of(endpoint, state="failed")
    webhooks.set_endpoint_active(endpoint=endpoint, active=False, actor=team.admin)
    response = client_for(team.admin).post(replay_url(delivery), follow=True)
    assert "turn it on before sending again" in response.content.decode()
    assert WebhookDelivery.objects.count() == 1


def test_send_again_requires_post(team, client_for):
    delivery = delivery_of(register(team))
    assert client_for(team.admin).get(replay_url(delivery)).status_code == 405


def test_send_again_is_a_404_for_an_outsider(team, client_for):
    delivery = delivery_of(register(team))
    assert client_for(team.outsider).post(replay_url(delivery)).status_code == 404
    assert WebhookDelivery.objects.count() == 1


def test_send_again_requires_the_admin_role(team, client_for):
    delivery = delivery_of(register(team))
    for name in NON_ADMINS:
        assert client_for(team.person(name)).post(replay_url(delivery)).status_code == 403, name
    assert WebhookDelivery.objects.count() == 1


def test_a_delivery_of_another_endpoint_is_a_404(team, client_for):
    mine = register(team)
    other_endpoint = register(team, url=PUBLIC + "/other")
    delivery = delivery_of(other_endpoint)
    assert client_for(team.admin).post(replay_url(delivery, endpoint=mine)).status_code == 404
    assert WebhookDelivery.objects.count() == 1

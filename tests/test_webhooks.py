"""Webhooks over real HTTP (issue 7): a tiny receiver on 127.0.0.1 (WEBHOOKS_ALLOW_PRIVATE lets ProdReady
call it) verifies every delivery's signature the way a customer's receiver would. Celery runs eagerly:
a delivery is sent when the emitting transaction commits; retries are driven by moving the clock
(`deliver(now=…)`) or through the periodic task."""

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from pilots.models import AuditEvent, WebhookDelivery, WebhookEndpoint
from pilots.services import gates as gate_services
from pilots.services import pilots as pilot_services
from pilots.services import webhooks
from pilots.tasks import deliver_due_webhooks

PAYLOAD = {"pilot": {"id": 1, "name": "Claims"}, "gate": "define_success", "outcome": "go"}


@dataclass
class Received:
    path: str
    headers: Message
    body: bytes
    verified: bool


@dataclass
class Receiver:
    """What a customer's endpoint does: recompute the signature with the secret ProdReady showed once,
    refuse what does not verify (401), else answer the next scripted status (200 when none is left)."""

    url: str = ""
    secret: str = ""
    script: list = field(default_factory=list)  # statuses, or ("redirect", path)
    requests: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    hold: threading.Event | None = None  # when set up, a request waits for it before answering

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        headers = handler.headers  # case-insensitive, as HTTP header names are
        verified = bool(self.secret) and webhooks.verify(
            self.secret,
            headers.get("ProdReady-Timestamp", ""),
            body,
            headers.get("ProdReady-Signature", ""),
        )
        self.requests.append(Received(handler.path, headers, body, verified))
        self.arrived.set()
        if self.hold is not None:
            self.hold.wait(10)
        step = self.script.pop(0) if self.script else (200 if verified else 401)
        if isinstance(step, tuple):  # ("redirect", path): somewhere else, e.g. inside the network
            handler.send_response(302)
            handler.send_header("Location", self.url.rstrip("/") + step[1])
        else:
            handler.send_response(step)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    @property
    def hooks(self) -> list[Received]:
        return [r for r in self.requests if r.path == "/hooks"]


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            state.answer(self)

        do_GET = do_POST  # noqa: N815 (a followed redirect would arrive as a GET)

        def log_message(self, format, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    if state.hold is not None:
        state.hold.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    """`with capture(execute=True): …` runs what the block's commit enqueues (the eager delivery task)."""
    return django_capture_on_commit_callbacks


def register(team, receiver: Receiver, events=("gate.decided",), workspace=None) -> WebhookEndpoint:
    endpoint, secret = webhooks.register_endpoint(
        workspace=workspace or team.workspace, url=receiver.url, events=list(events), actor=team.admin
    )
    receiver.secret = secret
    return endpoint


def emit(team, capture, event="gate.decided", payload=PAYLOAD) -> list[int]:
    """Emit inside a transaction and run what its commit enqueues (the eager delivery task)."""
    with capture(execute=True):
        return webhooks.emit_event(workspace=team.workspace, event=event, payload=payload)


def retry(delivery_id: int, capture) -> str:
    """The next attempt, as if the clock had reached it."""
    due = WebhookDelivery.objects.get(pk=delivery_id).next_attempt_at
    with capture(execute=True):
        return webhooks.deliver(delivery_id=delivery_id, now=due)


def fail_to_the_end(delivery_id: int, capture) -> None:
    while WebhookDelivery.objects.get(pk=delivery_id).state == WebhookDelivery.State.PENDING:
        retry(delivery_id, capture)


# --- who gets a delivery ------------------------------------------------------------------------------


def test_an_event_goes_to_each_active_endpoint_that_asked_for_it_and_no_other(team, receiver, capture):
    wanted = register(team, receiver, events=["gate.decided", "escalation.overdue"])
    other_event = register(team, receiver, events=["escalation.overdue"])
    paused = register(team, receiver)
    WebhookEndpoint.objects.filter(pk=paused.pk).update(paused_at=timezone.now())
    switched_off = register(team, receiver)
    webhooks.set_endpoint_active(endpoint=switched_off, active=False, actor=team.admin)
    register(team, receiver, workspace=team.other_workspace)
    receiver.secret = WebhookEndpoint.objects.get(pk=wanted.pk).secret

    ids = emit(team, capture)

    delivery = WebhookDelivery.objects.get()
    assert ids == [delivery.pk]
    assert (delivery.endpoint_id, delivery.event) == (wanted.pk, "gate.decided")
    assert delivery.state == WebhookDelivery.State.SUCCEEDED
    assert len(receiver.hooks) == 1
    assert not WebhookDelivery.objects.filter(endpoint__in=[other_event, paused, switched_off]).exists()


def test_an_unknown_event_is_a_programming_error(team):
    with pytest.raises(ValueError, match="unknown webhook event"):
        webhooks.emit_event(workspace=team.workspace, event="gate.opened", payload={})


def test_registering_refuses_unknown_events_and_records_who_registered(team, receiver):
    with pytest.raises(ValidationError, match="Choose one or more"):
        webhooks.register_endpoint(workspace=team.workspace, url=receiver.url, events=["x"], actor=team.admin)
    with pytest.raises(ValidationError, match="Choose one or more"):
        webhooks.register_endpoint(workspace=team.workspace, url=receiver.url, events=[], actor=team.admin)
    endpoint = register(team, receiver)
    assert len(receiver.secret) == 64 and endpoint.secret == receiver.secret
    assert AuditEvent.objects.filter(action="webhook.registered", object_id=str(endpoint.pk)).count() == 1


# --- signatures ---------------------------------------------------------------------------------------


def test_the_receiver_verifies_the_signature_with_the_secret_it_was_shown(team, receiver, capture):
    register(team, receiver)
    [delivery_id] = emit(team, capture)

    [hook] = receiver.hooks
    assert hook.verified
    assert hook.headers["Content-Type"] == "application/json"
    assert hook.headers["ProdReady-Event"] == "gate.decided"
    assert hook.headers["ProdReady-Delivery"] == str(delivery_id)
    assert hook.headers["ProdReady-Signature"].startswith("v1=")
    body = json.loads(hook.body)
    assert body["event"] == "gate.decided" and body["workspace"] == "acme"
    assert body["data"] == PAYLOAD and body["occurred_at"]
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.state, delivery.attempts, delivery.last_status, delivery.last_error) == (
        "succeeded", 1, 200, "",
    )  # fmt: skip
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_a_tampered_body_a_wrong_secret_or_an_old_timestamp_does_not_verify(team, receiver, capture):
    register(team, receiver)
    emit(team, capture)
    [hook] = receiver.hooks
    stamp, signature, secret = (
        hook.headers["ProdReady-Timestamp"],
        hook.headers["ProdReady-Signature"],
        receiver.secret,
    )
    assert webhooks.verify(secret, stamp, hook.body, signature)
    assert not webhooks.verify(secret, stamp, hook.body.replace(b'"go"', b'"stop"'), signature)
    assert not webhooks.verify(secret, stamp, hook.body + b" ", signature)
    assert not webhooks.verify("another-secret", stamp, hook.body, signature)
    # The signature binds the timestamp: the same signature with a fresher timestamp fails …
    assert not webhooks.verify(secret, str(int(stamp) + 1), hook.body, signature)
    # … and a correctly signed delivery replayed ten minutes later is too old.
    old = int(time.time()) - 600
    assert not webhooks.verify(secret, str(old), hook.body, webhooks.sign(secret, old, hook.body))
    assert not webhooks.verify(secret, "not a number", hook.body, signature)
    assert not webhooks.verify(secret, stamp, hook.body, "v1=ünïcode")


# --- retries, failure, pause --------------------------------------------------------------------------


def test_a_receiver_that_fails_twice_then_succeeds_gets_the_delivery_on_the_third_attempt(
    team, receiver, capture
):
    register(team, receiver)
    receiver.script = [500, 500]
    started = timezone.now()
    [delivery_id] = emit(team, capture)

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    # The retry the failure enqueued ran at once (eager Celery) and found its time not yet come.
    assert len(receiver.hooks) == 1
    assert (delivery.state, delivery.attempts, delivery.last_status, delivery.last_error) == (
        "pending", 1, 500, "HTTP 500",
    )  # fmt: skip
    assert delivery.next_attempt_at >= started + timedelta(seconds=webhooks.BACKOFF_SECONDS[0])

    assert retry(delivery_id, capture) == "pending"
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status) == (2, 500)
    second_wait = delivery.next_attempt_at
    # The backoff grows: the third attempt waits longer than the second did.
    assert webhooks.deliver(delivery_id=delivery_id, now=second_wait - timedelta(seconds=1)) == "skipped"

    # The periodic sweep finds the delivery once its time has come.
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    with capture(execute=True):
        assert deliver_due_webhooks.delay().get() == 1

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status, delivery.last_error) == (
        "succeeded", 3, 200, "",
    )  # fmt: skip
    assert len(receiver.hooks) == 3 and all(h.verified for h in receiver.hooks)
    assert {h.headers["ProdReady-Delivery"] for h in receiver.hooks} == {str(delivery_id)}
    assert len({h.body for h in receiver.hooks}) == 1  # the same event each time
    assert webhooks.due_deliveries() == []


def test_after_max_attempts_the_delivery_fails_for_good(team, receiver, capture):
    endpoint = register(team, receiver)
    receiver.script = [503] * webhooks.MAX_ATTEMPTS
    [delivery_id] = emit(team, capture)
    fail_to_the_end(delivery_id, capture)

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("failed", webhooks.MAX_ATTEMPTS, 503)
    assert delivery.next_attempt_at is None and delivery.delivered_at is None
    assert len(receiver.hooks) == webhooks.MAX_ATTEMPTS
    assert webhooks.deliver(delivery_id=delivery_id, now=timezone.now() + timedelta(days=1)) == "skipped"
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1 and endpoint.paused_at is None


def test_an_endpoint_that_keeps_failing_is_paused_and_the_admin_told_once(team, receiver, capture):
    endpoint = register(team, receiver)
    receiver.script = [500] * 1000
    failing = [emit(team, capture)[0] for _ in range(webhooks.PAUSE_AFTER_FAILURES + 1)]
    for delivery_id in failing[:-1]:
        fail_to_the_end(delivery_id, capture)

    endpoint.refresh_from_db()
    assert endpoint.paused_at is not None
    assert endpoint.consecutive_failures == webhooks.PAUSE_AFTER_FAILURES
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [team.admin.email]
    assert endpoint.url in mail.outbox[0].subject and "paused" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="webhook.paused").count() == 1

    # A delivery queued before the pause is held — neither sent nor failed — and the admin is not told
    # twice; a paused endpoint gets no new deliveries, and the sweep leaves it alone.
    assert retry(failing[-1], capture) == "held"
    held = WebhookDelivery.objects.get(pk=failing[-1])
    assert (held.state, held.next_attempt_at) == ("pending", None)
    assert len(mail.outbox) == 1
    assert emit(team, capture) == []
    assert failing[-1] not in webhooks.due_deliveries()

    # Turning it on again lifts the pause; the held delivery is due again and the next event is delivered.
    webhooks.set_endpoint_active(endpoint=endpoint, active=True, actor=team.admin)
    endpoint.refresh_from_db()
    assert (endpoint.active, endpoint.paused_at, endpoint.consecutive_failures) == (True, None, 0)
    assert failing[-1] in webhooks.due_deliveries()
    receiver.script = []
    [delivery_id] = emit(team, capture)
    assert WebhookDelivery.objects.get(pk=delivery_id).state == "succeeded"
    assert retry(failing[-1], capture) == "succeeded"


def test_a_success_between_failures_starts_the_count_again(team, receiver, capture):
    endpoint = register(team, receiver)
    for script in ([500] * 100, [], [500] * 100):
        receiver.script = list(script)
        for _ in range(webhooks.PAUSE_AFTER_FAILURES - 1 if script else 1):
            fail_to_the_end(emit(team, capture)[0], capture)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == webhooks.PAUSE_AFTER_FAILURES - 1
    assert endpoint.paused_at is None and mail.outbox == []


def test_a_redirect_is_refused_never_followed(team, receiver, capture):
    register(team, receiver)
    receiver.script = [("redirect", "/elsewhere")]
    [delivery_id] = emit(team, capture)

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, 302)
    assert (
        delivery.last_error.startswith("HTTP 302: redirect to")
        and "/elsewhere refused" in delivery.last_error
    )
    assert [r.path for r in receiver.requests] == ["/hooks"]  # /elsewhere was never called


def test_an_unreachable_receiver_is_a_failed_attempt(team, receiver, capture):
    endpoint = register(team, receiver)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"http://127.0.0.1:{port}/hooks")
    [delivery_id] = emit(team, capture)
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, None)
    assert "refused" in delivery.last_error.lower()


def test_replay_sends_the_same_event_again_as_a_new_delivery(team, receiver, capture):
    register(team, receiver)
    [first] = emit(team, capture)
    with capture(execute=True):
        again = webhooks.replay(delivery=WebhookDelivery.objects.get(pk=first), actor=team.admin)
    again.refresh_from_db()
    assert again.pk != first and again.state == "succeeded"
    assert [json.loads(h.body) for h in receiver.hooks][0] == json.loads(receiver.hooks[1].body)
    assert AuditEvent.objects.filter(action="webhook.replayed").count() == 1


# --- SSRF ---------------------------------------------------------------------------------------------

INSIDE = [
    "127.0.0.1",
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.10",
    "169.254.169.254",  # cloud metadata
    "100.100.100.200",  # shared address space (a cloud's metadata service lives here)
    "0.0.0.0",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[fd00::1]",
    "localhost",  # a name that resolves to loopback
]


@pytest.mark.parametrize("host", INSIDE)
def test_addresses_inside_the_network_are_refused(settings, host):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    for url in (f"https://{host}/hooks", f"https://{host}:8443/x"):
        with pytest.raises(ValidationError, match="loopback, private or link-local"):
            webhooks.check_url(url)
    with pytest.raises(ValidationError):  # plain http is refused anyway outside development …
        webhooks.check_url(f"http://{host}/")
    settings.DEBUG = True  # … and in development, where http is allowed, for the address
    with pytest.raises(ValidationError, match="loopback, private or link-local"):
        webhooks.check_url(f"http://{host}/")


@pytest.fixture
def dns(monkeypatch):
    """`dns["hooks.example.com"] = ["203.0.113.9"]`: what names resolve to, without a resolver."""
    table: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host in table:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port or 0))
                for a in table[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return table


def test_a_name_is_refused_when_any_of_its_addresses_is_inside(settings, dns):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    dns["rebind.example.com"] = ["127.0.0.1"]
    dns["mixed.example.com"] = ["93.184.215.14", "10.1.2.3"]
    dns["hooks.example.com"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    for name in ("rebind", "mixed"):
        with pytest.raises(ValidationError, match="loopback, private or link-local"):
            webhooks.check_url(f"https://{name}.example.com/hooks")
    assert webhooks.check_url(" https://hooks.example.com/in ") == "https://hooks.example.com/in"
    assert webhooks.check_url("https://93.184.215.14/in") == "https://93.184.215.14/in"
    with pytest.raises(ValidationError, match="does not resolve"):
        webhooks.check_url("https://no-such-host.invalid/")


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/", "javascript:alert(1)", "//x/"],
)
def test_only_http_urls_are_accepted(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # even where private addresses are allowed
    with pytest.raises(ValidationError, match="http"):
        webhooks.check_url(url)


def test_plain_http_is_refused_outside_development(settings, dns):
    settings.WEBHOOKS_ALLOW_PRIVATE, settings.DEBUG = False, False
    dns["hooks.example.com"] = ["93.184.215.14"]
    with pytest.raises(ValidationError, match="Use https"):
        webhooks.check_url("http://hooks.example.com/in")


def test_deliver_checks_the_address_again_when_it_sends(team, receiver, settings, dns, capture):
    """The name resolved outside at registration; by the time of the delivery it points inside (DNS
    rebinding). Nothing is sent; the attempt fails with the reason."""
    register(team, receiver)
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    dns["hooks.example.com"] = ["93.184.215.14"]
    endpoint = webhooks.register_endpoint(
        workspace=team.workspace,
        url="https://hooks.example.com/in",
        events=["gate.decided"],
        actor=team.admin,
    )[0]
    WebhookEndpoint.objects.exclude(pk=endpoint.pk).delete()
    dns["hooks.example.com"] = ["127.0.0.1"]

    [delivery_id] = emit(team, capture)

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, None)
    assert "loopback, private or link-local" in delivery.last_error
    assert receiver.requests == []
    # The receiver the test runs is refused too once private addresses are no longer allowed.
    settings.DEBUG = True
    with pytest.raises(ValidationError, match="loopback"):
        webhooks.check_url(receiver.url)


def test_a_delivery_to_a_name_keeps_the_name_in_its_host_header(team, receiver, monkeypatch, capture):
    """The connection goes to the address the attempt resolved; the request still names the host (for
    virtual hosts, and for TLS: the server name and the certificate check keep it too)."""
    port = receiver.url.split(":")[2].split("/")[0]
    real = socket.getaddrinfo
    lookups: list[str] = []

    def resolve(host, *args, **kwargs):
        if host != "hooks.test":
            return real(host, *args, **kwargs)
        lookups.append(host)
        # Checked first; any later lookup would take the request elsewhere (TEST-NET-1: nobody there).
        address = "127.0.0.1" if len(lookups) == 1 else "192.0.2.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(args[0] or 0) if args else 0))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    receiver.url = f"http://hooks.test:{port}/hooks"
    register(team, receiver)
    WebhookEndpoint.objects.exclude(url=receiver.url).delete()
    lookups.clear()

    [delivery_id] = emit(team, capture)

    assert WebhookDelivery.objects.get(pk=delivery_id).state == "succeeded"
    assert lookups == ["hooks.test"]
    [arrived] = receiver.hooks
    assert arrived.verified and arrived.headers["Host"] == f"hooks.test:{port}"


def test_a_name_pointed_inside_after_its_check_is_not_called_there(
    team, receiver, settings, monkeypatch, capture
):
    """DNS rebinding: the name resolves outside when the attempt checks it and inside a moment later. The
    connection goes to the checked address, never to a second lookup's."""
    register(team, receiver)
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    real = socket.getaddrinfo
    lookups: list[str] = []

    def resolve(host, port, *args, **kwargs):
        if host != "hooks.example.com":
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        address = "93.184.215.14" if len(lookups) % 2 else "127.0.0.1"  # outside, then inside, …
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))]

    connected = []

    def connect(where, *args, **kwargs):
        connected.append(where)
        raise ConnectionRefusedError("nobody there")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    endpoint = webhooks.register_endpoint(
        workspace=team.workspace,
        url="https://hooks.example.com/in",
        events=["gate.decided"],
        actor=team.admin,
    )[0]
    WebhookEndpoint.objects.exclude(pk=endpoint.pk).delete()
    lookups.clear()
    monkeypatch.setattr(socket, "create_connection", connect)

    [delivery_id] = emit(team, capture)

    assert connected == [("93.184.215.14", 443)]
    assert lookups == ["hooks.example.com"]
    assert "nobody there" in WebhookDelivery.objects.get(pk=delivery_id).last_error
    assert receiver.requests == []


# --- where events come from ---------------------------------------------------------------------------


def test_deciding_a_gate_emits_gate_decided(team, receiver, capture):
    register(team, receiver)
    pilot_services.accept_accountability(pilot=team.pilot, actor=team.owner)
    gate_request = gate_services.request_gate_decision(pilot=team.pilot, actor=team.pm, note="please")
    with capture(execute=True):
        gate_services.decide_gate(gate_request=gate_request, actor=team.owner, outcome="go", comment="Good")

    [hook] = receiver.hooks
    assert hook.verified and hook.headers["ProdReady-Event"] == "gate.decided"
    body = json.loads(hook.body)
    assert (body["event"], body["workspace"]) == ("gate.decided", "acme")
    assert body["data"] == {
        "pilot": {"id": team.pilot.pk, "name": team.pilot.name},
        "gate": "define_success",
        "outcome": "go",
        "decided_by": team.owner.get_full_name() or team.owner.username,
        "comment": "Good",
        "stage": "define_success",
        "status": "active",
        "conditions": [],
    }
    assert WebhookDelivery.objects.get().state == "succeeded"


def test_a_refused_gate_decision_emits_nothing(team, receiver, capture):
    register(team, receiver)
    gate_request = gate_services.request_gate_decision(pilot=team.pilot, actor=team.pm)
    with capture(execute=True), pytest.raises(gate_services.GateRefused):
        gate_services.decide_gate(gate_request=gate_request, actor=team.owner, outcome="go")
    assert not WebhookDelivery.objects.exists()
    assert receiver.requests == []


# --- one send per attempt -----------------------------------------------------------------------------


def _pending_delivery(team, receiver) -> WebhookDelivery:
    endpoint = register(team, receiver)
    body = {"event": "gate.decided", "workspace": "acme", "occurred_at": "now", "data": PAYLOAD}
    return WebhookDelivery.objects.create(
        endpoint=endpoint, event="gate.decided", payload=body, next_attempt_at=timezone.now()
    )


@pytest.mark.django_db(transaction=True)
def test_a_second_deliver_while_the_first_is_sending_sends_nothing(team, receiver):
    """The task is redelivered (a worker lost, the sweep) while the first attempt is still waiting for the
    receiver: the claim lets only the first send."""
    delivery = _pending_delivery(team, receiver)
    receiver.hold = threading.Event()
    results: list[str] = []

    def first() -> None:
        try:
            results.append(webhooks.deliver(delivery_id=delivery.pk))
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert receiver.arrived.wait(10)
    assert webhooks.deliver(delivery_id=delivery.pk) == "skipped"
    receiver.hold.set()
    thread.join(10)
    assert results == ["succeeded"]
    assert len(receiver.hooks) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("succeeded", 1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliver_calls_send_once(postgres, team, receiver):
    delivery = _pending_delivery(team, receiver)
    barrier = threading.Barrier(5)
    results: list[str] = []

    def attempt() -> None:
        try:
            barrier.wait()
            results.append(webhooks.deliver(delivery_id=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(results) == ["skipped"] * 4 + ["succeeded"]
    assert len(receiver.hooks) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("succeeded", 1)

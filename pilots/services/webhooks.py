"""Webhooks: `emit_event` where something happens, signed deliveries by Celery with retries, a delivery
log an admin can read and replay, and endpoints paused after failing again and again.

A delivery is POSTed as JSON with the headers
  ProdReady-Event: <event>          ProdReady-Delivery: <id>
  ProdReady-Timestamp: <unix seconds>
  ProdReady-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's secret>
A receiver recomputes the signature and rejects timestamps older than a few minutes (replays).
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from pilots.models import Membership, Pilot, WebhookDelivery, WebhookEndpoint, Workspace
from pilots.services import audit, notifications, readiness
from pilots.services.queue import enqueue_on_commit

log = logging.getLogger(__name__)

EVENTS: dict[str, str] = {
    "gate.decided": "A gate was decided",
    "escalation.overdue": "An escalation ran past its service level",
    "regression_set.exported": "A pilot's regression set was exported",
    "readiness.changed": "A pilot's readiness score or weakest section changed",
}
MAX_ATTEMPTS = 6  # then the delivery is failed
BACKOFF_SECONDS = (30, 120, 600, 1800, 7200)  # before attempts 2…6
PAUSE_AFTER_FAILURES = 10  # consecutive failed deliveries pause the endpoint
TIMEOUT_SECONDS = 5


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead inside the network past the address check: treat it as a failure."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {newurl} refused", headers, fp)


def _pinned(connection_class: type[http.client.HTTPConnection], address: str):
    """A connection class that connects to `address`, the one the URL's check resolved, whatever the name
    resolves to by then (DNS rebinding). The Host header, TLS server name and certificate check keep the
    name."""

    def connection(host: str, **kwargs) -> http.client.HTTPConnection:
        opened = connection_class(host, **kwargs)
        opened._create_connection = lambda where, *args: socket.create_connection((address, where[1]), *args)
        return opened

    return connection


class _PinnedHTTP(urllib.request.HTTPHandler):
    def __init__(self, address: str):
        super().__init__()
        self.address = address

    def http_open(self, req):
        return self.do_open(_pinned(http.client.HTTPConnection, self.address), req)


class _PinnedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, address: str):
        super().__init__(context=ssl.create_default_context())
        self.address = address

    def https_open(self, req):
        return self.do_open(_pinned(http.client.HTTPSConnection, self.address), req, context=self._context)


def _open(request: urllib.request.Request, address: str):
    """POST to the checked address. No proxies from the environment (a proxy would carry the request past
    the address check) and no redirects."""
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _NoRedirects, _PinnedHTTP(address), _PinnedHTTPS(address)
    )
    return opener.open(request, timeout=TIMEOUT_SECONDS)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: int = 300) -> bool:
    """What a receiver does (and the tests do): the signature matches and the timestamp is recent."""
    try:
        moment = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - moment) > tolerance:
        return False
    # Bytes, not str: compare_digest raises TypeError on a str with non-ASCII characters (a forged header).
    return hmac.compare_digest(sign(secret, moment, body).encode(), signature.encode())


def _inside(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, private, link-local, shared address space 100.64.0.0/10 (where some clouds keep their
    metadata service), reserved, multicast or unspecified."""
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def resolve(url: str) -> tuple[str, str]:
    """The endpoint URL if ProdReady may call it, and the address to call it at: the name is resolved
    once, here, and every address it resolves to must be outside the network (SSRF) unless
    WEBHOOKS_ALLOW_PRIVATE is set. A delivery connects to that address, so the name cannot be pointed
    inside between the check and the call."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError({"url": "Give an http(s) URL."})
    if parts.scheme == "http" and not settings.WEBHOOKS_ALLOW_PRIVATE and not settings.DEBUG:
        raise ValidationError({"url": "Use https: deliveries carry your workspace's data."})
    refused = ValidationError(
        {"url": "This address is loopback, private or link-local (or does not resolve): refused."}
    )
    try:
        infos = socket.getaddrinfo(parts.hostname, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise refused from None
    addresses = [info[4][0].split("%")[0] for info in infos]
    if not addresses:
        raise refused
    if not settings.WEBHOOKS_ALLOW_PRIVATE and any(_inside(ipaddress.ip_address(a)) for a in addresses):
        raise refused
    return url.strip(), addresses[0]


def check_url(url: str) -> str:
    """The endpoint URL if ProdReady may call it (see `resolve`)."""
    return resolve(url)[0]


def register_endpoint(
    *, workspace: Workspace, url: str, events: list[str], actor
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (shown once to the admin)."""
    url = check_url(url)
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise ValidationError({"events": "Choose one or more of the events offered."})
    secret = secrets.token_hex(32)
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace, url=url, secret=secret, events=sorted(set(events)), created_by=actor
    )
    audit.record(
        workspace=workspace, actor=actor, action="webhook.registered", obj=endpoint,
        after={"url": url, "events": endpoint.events},
    )  # fmt: skip
    return endpoint, secret


@transaction.atomic
def set_endpoint_active(*, endpoint: WebhookEndpoint, active: bool, actor) -> WebhookEndpoint:
    """Turn an endpoint off, or on again (which also lifts a pause)."""
    endpoint = WebhookEndpoint.objects.select_for_update().select_related("workspace").get(pk=endpoint.pk)
    if endpoint.active == active and (not active or endpoint.paused_at is None):
        return endpoint  # nothing changes: no second event
    endpoint.active = active
    if active:
        endpoint.paused_at = None
        endpoint.consecutive_failures = 0
    endpoint.save(update_fields=["active", "paused_at", "consecutive_failures"])
    if active:  # deliveries held while it was off or paused go out at the next sweep
        WebhookDelivery.objects.filter(
            endpoint=endpoint, state=WebhookDelivery.State.PENDING, next_attempt_at=None
        ).update(next_attempt_at=timezone.now())
    audit.record(
        workspace=endpoint.workspace, actor=actor, action="webhook.enabled" if active else "webhook.disabled",
        obj=endpoint,
    )  # fmt: skip
    return endpoint


def emit_event(*, workspace: Workspace, event: str, payload: dict, now: datetime | None = None) -> list[int]:
    """Queue a delivery of `event` to each active endpoint of the workspace that asked for it; sent by
    Celery after the caller's transaction commits. Returns the delivery ids."""
    return emit_events(workspace=workspace, event=event, payloads=[payload], now=now)


def emit_events(
    *, workspace: Workspace, event: str, payloads: list[dict], now: datetime | None = None
) -> list[int]:
    """`emit_event` for many occurrences of one event at once (the readiness engine's batches): the
    endpoints are read once and the deliveries written in one statement."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    now = now or timezone.now()
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(workspace=workspace, active=True, paused_at=None)
        if event in e.events
    ]
    if not endpoints or not payloads:
        return []
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=e,
                event=event,
                payload={
                    "event": event,
                    "workspace": workspace.slug,
                    "occurred_at": now.isoformat(),
                    "data": p,
                },
                next_attempt_at=now,
            )
            for p in payloads
            for e in endpoints
        ]
    )
    for delivery in deliveries:
        enqueue_on_commit("pilots.tasks.deliver_webhook", delivery.pk)
    return [d.pk for d in deliveries]


def deliver(*, delivery_id: int, now: datetime | None = None) -> str:
    """One attempt. Claims the delivery by moving its next attempt (a conditional UPDATE), so a
    redelivered task does not send twice at once. Returns the state after the attempt."""
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + timedelta(seconds=TIMEOUT_SECONDS * 4), attempts=F("attempts") + 1)
    if claimed != 1:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("endpoint__workspace").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.active or endpoint.paused_at is not None:
        # Turned off or paused since: the delivery waits (not counted as an attempt) until it is on again.
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            attempts=F("attempts") - 1, next_attempt_at=None
        )
        return "held"
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    stamp = int(time.time())
    status, problem = None, ""
    try:
        url, address = resolve(endpoint.url)  # the name may point elsewhere since registration
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "ProdReady-Webhooks/1",
                "ProdReady-Event": delivery.event,
                "ProdReady-Delivery": str(delivery.pk),
                "ProdReady-Timestamp": str(stamp),
                "ProdReady-Signature": sign(endpoint.secret, stamp, body),
            },
        )
        with _open(request, address) as response:
            status = response.status
        ok = 200 <= status < 300
        if not ok:
            problem = f"HTTP {status}"
    except ValidationError as refused:
        ok, problem = False, "; ".join(refused.messages)
    except urllib.error.HTTPError as failure:
        ok, status, problem = False, failure.code, f"HTTP {failure.code}"
        if 300 <= failure.code < 400:  # say why in the delivery log: the receiver answered, we did not follow
            problem += f": {failure.reason}"
        failure.close()
    except (OSError, ValueError) as failure:  # refused, timed out, unreachable, a bad URL
        ok, problem = False, f"{type(failure).__name__}: {failure}"
    return _record(delivery, ok=ok, status=status, problem=problem, now=now)


@transaction.atomic
def _record(delivery: WebhookDelivery, *, ok: bool, status: int | None, problem: str, now: datetime) -> str:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    fields = {"last_status": status, "last_error": problem[:500]}
    if ok:
        fields.update(state=WebhookDelivery.State.SUCCEEDED, delivered_at=now, next_attempt_at=None)
        endpoint.consecutive_failures = 0
        endpoint.save(update_fields=["consecutive_failures"])
        # An accepted delivery about a pilot is evidence that its outcomes flow back (issue 8). A
        # "readiness changed" delivery is not: counting it would recompute the pilot in a loop.
        about = (delivery.payload.get("data") or {}).get("pilot")
        pilot_id = about.get("id") if isinstance(about, dict) else None
        if isinstance(pilot_id, int) and delivery.event != "readiness.changed":
            pilots = Pilot.objects.filter(pk=pilot_id, workspace_id=endpoint.workspace_id)
            readiness.mark_dirty(pilot_ids=pilots.values_list("id", flat=True))
    elif delivery.attempts >= MAX_ATTEMPTS:
        fields.update(state=WebhookDelivery.State.FAILED, next_attempt_at=None)
        endpoint.consecutive_failures += 1
        endpoint.save(update_fields=["consecutive_failures"])
        if endpoint.consecutive_failures >= PAUSE_AFTER_FAILURES and endpoint.paused_at is None:
            _pause(endpoint, now)
    else:
        wait = BACKOFF_SECONDS[min(delivery.attempts, len(BACKOFF_SECONDS)) - 1]
        fields.update(next_attempt_at=now + timedelta(seconds=wait))
        enqueue_on_commit("pilots.tasks.deliver_webhook", delivery.pk, countdown=wait)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    return fields.get("state", WebhookDelivery.State.PENDING)


def _pause(endpoint: WebhookEndpoint, now: datetime) -> None:
    endpoint.paused_at = now
    endpoint.save(update_fields=["paused_at"])
    workspace = endpoint.workspace
    audit.record(
        workspace=workspace, actor=None, action="webhook.paused", obj=endpoint,
        after={"consecutive_failures": endpoint.consecutive_failures},
    )  # fmt: skip
    admins = [
        m.user for m in Membership.objects.filter(workspace=workspace, is_admin=True).select_related("user")
    ]
    body = (
        f"Deliveries to {endpoint.url} failed {endpoint.consecutive_failures} times in a row, so ProdReady "
        f"paused the endpoint. Fix the receiver, then turn the endpoint on again in the workspace settings.\n"
    )
    transaction.on_commit(
        lambda: notifications.notify_people(
            users=admins, subject=f"Webhook paused: {endpoint.url}", body=body
        )
    )


@transaction.atomic
def replay(*, delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """Send a delivery again (a new delivery with the same event and payload)."""
    endpoint = delivery.endpoint
    if not endpoint.active or endpoint.paused_at is not None:
        raise ValidationError({"endpoint": "Turn the endpoint on before sending deliveries to it again."})
    again = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint,
        event=delivery.event,
        payload=delivery.payload,
        next_attempt_at=timezone.now(),
    )
    audit.record(
        workspace=delivery.endpoint.workspace, actor=actor, action="webhook.replayed", obj=again,
        after={"of": delivery.pk},
    )  # fmt: skip
    enqueue_on_commit("pilots.tasks.deliver_webhook", again.pk)
    return again


def due_deliveries(now: datetime | None = None) -> list[int]:
    """Pending deliveries whose next attempt is due (a lost task, a broker that was down)."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.PENDING,
            next_attempt_at__lte=now,
            endpoint__active=True,
            endpoint__paused_at=None,
        ).values_list("id", flat=True)[:500]
    )

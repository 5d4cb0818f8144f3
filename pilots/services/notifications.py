"""Emails people about work waiting for them. Each send is claimed first so a redelivered task sends once."""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from pilots.models import GateRequest, Membership

log = logging.getLogger(__name__)


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def send_gate_request_email(*, gate_request_id: int) -> bool:
    """Email the pilot's workflow owner that a gate decision waits for them. Returns whether it sent."""
    # Claim: exactly one run changes this row; any other (a redelivery, the sweep) returns here.
    claimed = GateRequest.objects.filter(
        pk=gate_request_id, state=GateRequest.State.PENDING, notified_at=None
    ).update(notified_at=timezone.now())
    if claimed != 1:
        return False
    gate_request = GateRequest.objects.select_related("pilot__workflow_owner", "requested_by").get(
        pk=gate_request_id
    )
    pilot, owner = gate_request.pilot, gate_request.pilot.workflow_owner
    if not owner.email:
        log.warning("workflow owner has no email", extra={"pilot": pilot.pk, "user": owner.pk})
        return False
    link = absolute(reverse("pilot_detail", args=[pilot.pk]))
    body = (
        f"{gate_request.requested_by} asks you to decide gate “{gate_request.get_to_stage_display()}” "
        f"for the pilot “{pilot.name}”.\n\n"
        f"Note: {gate_request.note or '(none)'}\n\n"
        f"Review the evidence and decide: {link}\n"
    )
    try:
        send_mail(
            f"Gate decision waiting: {pilot.name} → {gate_request.get_to_stage_display()}",
            body,
            None,
            [owner.email],
        )
    except Exception:
        # Release the claim so the retry (or the sweep) sends it.
        GateRequest.objects.filter(pk=gate_request_id).update(notified_at=None)
        raise
    return True


def unsent_gate_requests(*, older_than: timedelta = timedelta(minutes=2)) -> list[int]:
    """Pending requests whose email never went out (a lost message, a broker that was down)."""
    cutoff = timezone.now() - older_than
    return list(
        GateRequest.objects.filter(
            state=GateRequest.State.PENDING, notified_at=None, created_at__lt=cutoff
        ).values_list("id", flat=True)[:500]
    )


def notify_people(*, users: list, subject: str, body: str) -> int:
    """Email members about something that needs them (a step's own alert, e.g. escalations running late).
    Steps call this rather than sending mail themselves, so every notification goes out one way.
    Returns how many were sent; people without an email address are skipped."""
    recipients = sorted({user.email for user in users if user.email})
    if not recipients:
        log.warning("notification without recipients", extra={"subject": subject})
        return 0
    for recipient in recipients:  # one message each: recipients do not see each other's address
        send_mail(subject, body, None, [recipient])
    return len(recipients)


def send_member_welcome(*, membership_id: int, new_account: bool) -> bool:
    if Membership.objects.filter(pk=membership_id, welcomed_at=None).update(welcomed_at=timezone.now()) != 1:
        return False
    membership = Membership.objects.select_related("user", "workspace").get(pk=membership_id)
    if not membership.user.email:
        return False
    user, workspace = membership.user, membership.workspace
    if new_account:
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        link = absolute(reverse("password_reset_confirm", args=[uid, token]))
        body = (
            f"You have been added to the ProdReady workspace “{workspace}” as "
            f"{', '.join(membership.role_labels()).lower()}.\n\n"
            f"Set your password to sign in (your user name is {user.username}): {link}\n"
        )
    else:
        body = (
            f"You have been added to the ProdReady workspace “{workspace}” as "
            f"{', '.join(membership.role_labels()).lower()}.\n\nOpen it: {absolute(reverse('home'))}\n"
        )
    try:
        send_mail(f"You have been added to {workspace} on ProdReady", body, None, [user.email])
    except Exception:
        Membership.objects.filter(pk=membership_id).update(welcomed_at=None)
        raise
    return True

"""API keys: created by a workspace admin and shown once, stored hashed, revocable; and the check every
API request makes."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from pilots.models import ApiKey, Workspace
from pilots.services import audit

KEY_PREFIX = "pr"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most once a minute per key


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the whole key, shown once: "pr_<prefix>_<secret>"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_key(*, workspace: Workspace, name: str, access: str, actor) -> NewKey:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Name the key after the system that will use it."})
    if access not in ApiKey.Access.values:
        raise ValidationError({"access": "Choose read only, or read and write."})
    prefix = secrets.token_hex(6)  # 48 bits: a clash with another key is not a practical concern
    secret = secrets.token_urlsafe(32)
    full = f"{KEY_PREFIX}_{prefix}_{secret}"
    key = ApiKey.objects.create(
        workspace=workspace,
        name=name[:80],
        prefix=prefix,
        hashed=_hash(full),
        access=access,
        created_by=actor,
    )
    audit.record(
        workspace=workspace, actor=actor, action="api_key.created", obj=key,
        after={"name": key.name, "prefix": prefix, "access": access},
    )  # fmt: skip
    return NewKey(key, full)


@transaction.atomic
def revoke_key(*, key: ApiKey, actor) -> ApiKey:
    key = ApiKey.objects.select_for_update().select_related("workspace").get(pk=key.pk)
    if key.revoked_at is not None:
        return key
    key.revoked_at = timezone.now()
    key.revoked_by = actor
    key.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(
        workspace=key.workspace, actor=actor, action="api_key.revoked", obj=key, after={"prefix": key.prefix}
    )
    return key


def authenticate(raw: str) -> ApiKey | None:
    """The active key this bearer token is, or None. Constant-time comparison of the hash."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = ApiKey.objects.select_related("workspace").filter(prefix=parts[1], revoked_at=None).first()
    if key is None or not hmac.compare_digest(key.hashed, _hash(raw.strip())):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key

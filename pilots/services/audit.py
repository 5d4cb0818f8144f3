"""The audit trail: every service writes one event per change, inside its transaction."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from pilots.models import AuditEvent, Pilot, Workspace
from pilots.services import readiness

# Events that can move every pilot of the workspace (ownership checks read members and their roles).
WORKSPACE_WIDE = {"member.added", "member.removed", "member.roles_changed"}


def jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return {"id": value.pk, "repr": str(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """The named fields of `obj` as JSON, for an event's before/after."""
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            value = sorted(str(item) for item in getattr(obj, name).all()) if obj.pk else []
        elif field.is_relation:
            related_id = getattr(obj, field.attname)
            value = {"id": related_id, "repr": str(getattr(obj, name))} if related_id is not None else None
        else:
            value = jsonable(getattr(obj, name))
        out[name] = value
    return out


# The API key a request acts through (set by the API layer): every event it writes names the key too.
_api_key: ContextVar = ContextVar("audit_api_key", default=None)


@contextmanager
def acting_through(api_key) -> Iterator[None]:
    token = _api_key.set(api_key)
    try:
        yield
    finally:
        _api_key.reset(token)


def label_of(actor: Any) -> str:
    if actor is None:
        return "system"
    full_name = actor.get_full_name() if hasattr(actor, "get_full_name") else ""
    return full_name or str(actor)


def record(
    *,
    workspace: Workspace,
    actor: Any,
    action: str,
    obj: models.Model,
    pilot: Pilot | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    api_key = _api_key.get()
    label = label_of(actor)
    if api_key is not None:
        via = f"API key “{api_key.name}”"
        label = f"{label} via {via}" if getattr(actor, "pk", None) else via
    # Every write leaves an event here, in its own transaction: the one place that sees them all marks
    # the pilot's readiness out of date, so no write can forget to (issue 8).
    if pilot is not None:
        readiness.mark_dirty(pilot_ids=[pilot.pk])
    elif action in WORKSPACE_WIDE:
        readiness.mark_workspace_dirty(workspace_id=workspace.pk)
    return AuditEvent.objects.create(
        workspace=workspace,
        pilot=pilot,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=label[:200],
        api_key=api_key,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:300],
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
    )

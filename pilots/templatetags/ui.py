from django import template

from pilots.checks import SECTIONS
from pilots.models import Stage

register = template.Library()


@register.filter
def dictget(mapping, key):
    """`{{ mapping|dictget:key }}` — a dict lookup with a variable key."""
    return mapping.get(key) if mapping else None


@register.filter
def percent(value) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


@register.filter
def gate_label(steps, stage: str) -> str:
    """The label of a stage from the track's steps (`{{ steps|gate_label:pilot.next_gate }}`)."""
    return next((step.label for step in steps if step.stage == stage), stage)


@register.filter
def humanize_action(action: str) -> str:
    """`gate.decided.go` → `gate decided: go`."""
    parts = action.split(".")
    text = " ".join(parts[:2]).replace("_", " ")
    return f"{text}: {parts[2].replace('_', ' ')}" if len(parts) > 2 else text


@register.filter
def person(user) -> str:
    """A person's full name, or their user name when they have none."""
    if user is None:
        return "—"
    return user.get_full_name() or user.username


@register.filter
def ago(value) -> str:
    """`timesince` that says "just now" instead of "0 minutes"."""
    from django.utils import timezone
    from django.utils.timesince import timesince

    if value is None:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value)} ago"


@register.filter
def section_label(key: str) -> str:
    """The readable name of a readiness section key: "edge_cases" → "Edge cases"."""
    return SECTIONS.get(key, key)


@register.filter
def figure(value) -> str:
    """A dashboard figure as people read it: 12,400 · 38 · 6.2 · – for none."""
    if value is None:
        return "–"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}"


@register.filter
def pct(value) -> str:
    """A share already in per cent (38.5 → "38.5%"), – for none."""
    return "–" if value is None else f"{value:g}%"


@register.filter
def stage_label(stage: str) -> str:
    return dict(Stage.choices).get(stage, stage)


@register.filter
def value_of(row: dict, suffix: str):
    """`{{ unit|value_of:"hours" }}` — a business unit's summed value of one kind."""
    return row.get(f"value_{suffix}")


@register.filter
def target_of(row: dict, suffix: str):
    return row.get(f"target_{suffix}")

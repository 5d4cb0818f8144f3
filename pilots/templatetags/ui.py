from django import template

from pilots.checks import SECTIONS

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

"""The vanity guard: a small, readable rule set for metrics that count activity, not business value.

Activity (users, logins, prompts, documents processed, "AI usage") shows that people use a tool, not
that a workflow got faster, cheaper or better. Each rule names what it catches and why.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern
    why: str


def _words(*words: str) -> re.Pattern:
    return re.compile(r"\b(" + "|".join(words) + r")\b", re.IGNORECASE)


RULES = (
    Rule(
        "users",
        _words("users?", "active users", "seats", "licen[cs]es", "adoption", "sign-?ups", "accounts"),
        "Counting users shows adoption, not whether the workflow got faster, cheaper or more accurate.",
    ),
    Rule(
        "logins",
        _words("logins?", "log-?ins", "sessions?", "visits?", "page ?views", "clicks?"),
        "Logins and sessions measure attention; a pilot can be used daily and change nothing in a workflow.",
    ),
    Rule(
        "prompts",
        _words(
            "prompts?",
            "queries",
            "questions asked",
            "messages",
            "chats?",
            "conversations?",
            "tokens",
            "api calls",
            "requests",
        ),
        "The number of prompts measures activity, and more prompts can even mean the AI answers badly.",
    ),
    Rule(
        "volume",
        _words(
            "documents processed",
            "documents",
            "files processed",
            "items processed",
            "pages processed",
            "records processed",
            "emails processed",
        ),
        "Volume processed shows no outcome unless tied to cycle time, errors, touchpoints or spend.",
    ),
    Rule(
        "usage",
        _words("ai usage", "usage", "utili[sz]ation", "engagement", "interactions?"),
        "Usage and engagement describe the tool, not the business outcome it should move.",
    ),
)


BUSINESS_KINDS = {"cycle_time", "error_rate", "touchpoints", "external_spend"}


def warning_for(*, name: str, unit: str, kind: str = "custom") -> str:
    """The explanation for the first rule a custom metric's name or unit trips, or "".

    The four business kinds measure outcomes by definition ("cycle time for supplier documents" is a
    cycle time), so only custom metrics are judged by their words.
    """
    if kind in BUSINESS_KINDS:
        return ""
    text = f"{name} {unit}"
    for rule in RULES:
        if rule.pattern.search(text):
            return f"Looks like a vanity metric ({rule.name}): {rule.why}"
    return ""

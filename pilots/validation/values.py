"""Reading a value as its declared type: text (CSV) or typed (JSON) in; a typed value or None out."""

from datetime import date, datetime
from typing import Any

TRUE_WORDS = frozenset({"true", "yes", "y", "1", "t"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "f"})


def parse_datetime(value: Any, zone) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def parse_number(value: Any, integer: bool):
    """The number in `value` (text or a number), or None. Integers stay exact."""
    kind = type(value)
    if kind is str:
        try:
            return int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                return None
    elif kind is int:
        return value
    elif kind is float:
        number = value
    else:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    if integer:
        return int(number) if number.is_integer() else None
    return number


def parse_boolean(value: Any):
    if value is True or value is False:
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None

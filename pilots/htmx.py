"""When a view answers htmx with a partial rather than the whole page."""

from django.http import HttpRequest


def swaps_part(request: HttpRequest) -> bool:
    """An htmx request that swaps part of the page. Not a boosted link, and not a history restore (htmx
    fetches a URL again when its history cache lost it, and puts the answer in the whole body)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request

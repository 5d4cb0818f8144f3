from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from pilots import selectors


def workspaces(request: HttpRequest) -> dict:
    """The signed-in user's workspaces, for the switcher in the header (queried only when shown)."""
    if not request.user.is_authenticated:
        return {}
    return {"my_workspaces": SimpleLazyObject(lambda: list(selectors.workspaces_of(request.user)))}

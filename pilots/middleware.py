from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


def workspace_timezone(get_response: Callable[[HttpRequest], HttpResponse]):
    """Times show in the workspace's zone: `access` activates it once it knows the workspace; this
    resets it after every request so the next request on the thread starts from UTC."""

    def middleware(request: HttpRequest) -> HttpResponse:
        try:
            return get_response(request)
        finally:
            timezone.deactivate()

    return middleware

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers


def workspace_timezone(get_response: Callable[[HttpRequest], HttpResponse]):
    """Times show in the workspace's zone: `access` activates it once it knows the workspace; this
    resets it after every request so the next request on the thread starts from UTC."""

    def middleware(request: HttpRequest) -> HttpResponse:
        try:
            return get_response(request)
        finally:
            timezone.deactivate()

    return middleware


def vary_on_htmx(get_response: Callable[[HttpRequest], HttpResponse]):
    """One URL answers htmx with a partial and a browser with the whole page: `Vary: HX-Request` stops the
    browser's cache from showing the partial as the page (going back to a pushed URL, say)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        return response

    return middleware

"""The integration API under /api/v1/: each app's discovered `api.py` router, composed — wiring only
(DESIGN.md "Architecture"). Shared behaviour lives in pilots/api_support.py."""

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver
from ninja import NinjaAPI

from pilots.api_support import KeyAuth, idempotent, install_handlers
from pilots.discovery import app_modules

api = NinjaAPI(
    title="ProdReady API",
    version="1",
    description=(
        "Push a pilot's cases, reviewer decisions, corrections and measurements as they happen. "
        "Authenticate with `Authorization: Bearer <key>` (a workspace admin creates keys); "
        "every write takes an `Idempotency-Key` header."
    ),
    auth=KeyAuth(),
    urls_namespace="api",
)
install_handlers(api)
for module in app_modules("api"):
    # Each of our apps' api.py lists its routers; another installed app's `api` module (e.g.
    # django.contrib.messages.api) is no router and is skipped.
    for prefix, router in getattr(module, "ROUTERS", ()):
        api.add_router(prefix, router)


def _wrapped(patterns):
    """Every API view: no login (the key is the credential) and idempotent writes."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _wrapped(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            pattern.callback = login_not_required(idempotent(pattern.callback))
    return patterns


urls = _wrapped(api.urls[0]), api.urls[1], api.urls[2]

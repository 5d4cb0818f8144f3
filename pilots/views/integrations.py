"""Integrations (issue 7), for workspace admins: API keys (created and shown once, revoked) and webhook
endpoints (registered with a signing secret shown once, turned off and on, their delivery log and
"send again"). Every write goes through pilots.services.api_keys or pilots.services.webhooks."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST

from pilots import access
from pilots.forms.integrations import ApiKeyForm, EndpointActiveForm, WebhookEndpointForm
from pilots.htmx import swaps_part
from pilots.models import ApiKey, WebhookDelivery, WebhookEndpoint, Workspace
from pilots.services import api_keys, webhooks
from pilots.services.api_keys import NewKey
from pilots.views.errors import add_errors

NEED = "manage_integrations"
PAGE_SIZE = 50


def _endpoints(workspace: Workspace):
    failed = Q(deliveries__state=WebhookDelivery.State.FAILED)
    return (
        WebhookEndpoint.objects.filter(workspace=workspace)
        .select_related("created_by")
        .annotate(
            delivery_count=Count("deliveries"),
            failed_count=Count("deliveries", filter=failed),
            last_delivery_at=Max("deliveries__created_at"),
        )
        .order_by("url", "id")
    )


def _page(
    request: HttpRequest,
    workspace: Workspace,
    *,
    key_form: ApiKeyForm | None = None,
    endpoint_form: WebhookEndpointForm | None = None,
    new_key: NewKey | None = None,
    new_endpoint: tuple[WebhookEndpoint, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The integrations page; after a create it also shows the new key or signing secret, this once."""
    context = {
        "workspace": workspace,
        "can": access.allowed_actions(workspace.membership),
        "keys": ApiKey.objects.filter(workspace=workspace).select_related("created_by", "revoked_by"),
        "endpoints": _endpoints(workspace),
        "events": webhooks.EVENTS,
        "key_form": key_form or ApiKeyForm(),
        "endpoint_form": endpoint_form or WebhookEndpointForm(),
        "new_key": new_key,
        "new_endpoint": new_endpoint[0] if new_endpoint else None,
        "new_secret": new_endpoint[1] if new_endpoint else None,
        "tolerance_minutes": 5,  # what receivers are told to accept (webhooks.verify allows 300 s)
        "timeout_seconds": webhooks.TIMEOUT_SECONDS,
        "max_attempts": webhooks.MAX_ATTEMPTS,
        "pause_after": webhooks.PAUSE_AFTER_FAILURES,
    }
    response = TemplateResponse(request, "pilots/integrations.html", context, status=status)
    # Secrets are on this page after a create, and the key list is nobody else's business.
    add_never_cache_headers(response)
    return response


def _back(workspace: Workspace, anchor: str) -> HttpResponse:
    return redirect(f"{reverse('integrations', args=[workspace.slug])}#{anchor}")


@require_GET
def integrations(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = access.workspace_for(request.user, slug, need=NEED)
    return _page(request, workspace)


# API keys


@require_POST
def api_key_create(request: HttpRequest, slug: str) -> HttpResponse:
    """Create a key and show it whole in this response only; the list shows just its prefix."""
    workspace = access.workspace_for(request.user, slug, need=NEED)
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            new_key = api_keys.create_key(
                workspace=workspace,
                name=form.cleaned_data["name"],
                access=form.cleaned_data["access"],
                actor=request.user,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            return _page(request, workspace, new_key=new_key)
    return _page(request, workspace, key_form=form, status=422)


@require_POST
def api_key_revoke(request: HttpRequest, slug: str, key_id: int) -> HttpResponse:
    workspace = access.workspace_for(request.user, slug, need=NEED)
    key = get_object_or_404(ApiKey, pk=key_id, workspace=workspace)
    if key.active:
        api_keys.revoke_key(key=key, actor=request.user)
        messages.success(request, f"{key} revoked: requests with it are refused from now on.")
    else:
        # A second click (or a stale tab) finds the key revoked already; nothing to do.
        messages.success(request, f"{key} was revoked already.")
    return _back(workspace, f"key-{key.pk}")


# Webhook endpoints


def _endpoint(workspace: Workspace, endpoint_id: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint, pk=endpoint_id, workspace=workspace)


@require_POST
def webhook_create(request: HttpRequest, slug: str) -> HttpResponse:
    """Register an endpoint and show its signing secret in this response only."""
    workspace = access.workspace_for(request.user, slug, need=NEED)
    form = WebhookEndpointForm(request.POST)
    if form.is_valid():
        try:
            registered = webhooks.register_endpoint(
                workspace=workspace,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                actor=request.user,
            )
        except ValidationError as error:
            add_errors(form, error)  # e.g. a private address, on the URL field
        else:
            return _page(request, workspace, new_endpoint=registered)
    return _page(request, workspace, endpoint_form=form, status=422)


@require_POST
def webhook_active(request: HttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    """Turn an endpoint off, or on (which also lifts a pause after repeated failures)."""
    workspace = access.workspace_for(request.user, slug, need=NEED)
    endpoint = _endpoint(workspace, endpoint_id)
    form = EndpointActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose to turn the endpoint on or off.")
        return _page(request, workspace, status=422)
    active: bool = form.cleaned_data["active"]
    was_paused = endpoint.paused_at is not None
    webhooks.set_endpoint_active(endpoint=endpoint, active=active, actor=request.user)
    if active:
        note = " The pause is lifted." if was_paused else ""
        messages.success(request, f"Deliveries to {endpoint.url} are on.{note}")
    else:
        messages.success(request, f"Deliveries to {endpoint.url} are off: no new events are sent there.")
    return _back(workspace, f"endpoint-{endpoint.pk}")


@require_GET
def webhook_deliveries(request: HttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    """An endpoint's delivery log, newest first, 50 a page."""
    workspace = access.workspace_for(request.user, slug, need=NEED)
    endpoint = _endpoint(workspace, endpoint_id)
    deliveries = (
        WebhookDelivery.objects.filter(endpoint=endpoint).defer("payload").order_by("-created_at", "-id")
    )
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "workspace": workspace,
        "endpoint": endpoint,
        "events": webhooks.EVENTS,
        "page": page,
        "query": "",
        "may_send": endpoint.active and endpoint.paused_at is None,
    }
    if swaps_part(request):
        return TemplateResponse(request, "pilots/integrations_deliveries.html#delivery-table", context)
    return TemplateResponse(request, "pilots/integrations_deliveries.html", context)


@require_POST
def webhook_replay(request: HttpRequest, slug: str, endpoint_id: int, delivery_id: int) -> HttpResponse:
    """Send a delivery again: a new delivery with the same event and payload, queued at once."""
    workspace = access.workspace_for(request.user, slug, need=NEED)
    endpoint = _endpoint(workspace, endpoint_id)
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("endpoint__workspace"), pk=delivery_id, endpoint=endpoint
    )
    log = reverse("webhook_deliveries", args=[workspace.slug, endpoint.pk])
    if not endpoint.active or endpoint.paused_at is not None:
        # Nothing is sent to an endpoint that is off or paused; turning it on comes first.
        messages.error(request, "This endpoint is off or paused: turn it on before sending again.")
        return redirect(log)
    again = webhooks.replay(delivery=delivery, actor=request.user)
    messages.success(request, f"Delivery #{delivery.pk} sent again as #{again.pk}.")
    return redirect(log)

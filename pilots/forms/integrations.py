"""Forms of the integrations page: API keys and webhook endpoints. They only read what was typed; the
services (pilots.services.api_keys, pilots.services.webhooks) decide what is allowed, e.g. which
endpoint addresses ProdReady may call."""

from django import forms

from pilots.models import ApiKey
from pilots.services.webhooks import EVENTS

__all__ = ["ApiKeyForm", "EndpointActiveForm", "WebhookEndpointForm"]


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=80,
        help_text="Name it after the system that will use it, e.g. “Claims intake”.",
    )
    access = forms.ChoiceField(
        choices=ApiKey.Access.choices,
        initial=ApiKey.Access.READ,
        widget=forms.RadioSelect,
        help_text=(
            "A read-only key can list and read; writing cases, decisions or corrections needs read and write."
        ),
    )


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="ProdReady POSTs signed JSON here. Addresses inside your network are refused.",
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/prodready"}),
    )
    events = forms.MultipleChoiceField(
        choices=list(EVENTS.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose one or more events."},
    )


class EndpointActiveForm(forms.Form):
    """Turn an endpoint off, or on again (which also lifts a pause)."""

    active = forms.TypedChoiceField(choices=[("1", "On"), ("0", "Off")], coerce=lambda value: value == "1")

from django import forms
from django.core.exceptions import ValidationError


def add_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: field errors on their fields, the rest on top."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)


def form_messages(form: forms.Form) -> list[str]:
    """A bound, invalid form's errors as sentences that name their field."""
    return [
        " ".join(errors) if field == "__all__" else f"{form.fields[field].label or field}: {' '.join(errors)}"
        for field, errors in form.errors.items()
    ]

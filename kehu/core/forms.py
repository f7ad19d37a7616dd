from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "username",
                "class": "form-control",
                "autocapitalize": "none",
            }
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "current-password", "class": "form-control"}
        ),
    )


def apply_service_errors(form: forms.Form, exc: Exception) -> None:
    """Show a service's ValidationError on the form: on its field when the form has
    one, otherwise at the top."""
    error_dict = getattr(exc, "error_dict", None)
    if error_dict is None:
        for message in getattr(exc, "messages", [str(exc)]):
            form.add_error(None, message)
        return
    for field, errors in error_dict.items():
        target = field if field in form.fields else None
        for error in errors:
            for message in error.messages:
                form.add_error(target, message)

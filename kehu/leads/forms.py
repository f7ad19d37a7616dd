"""Forms of the registration pages and the conflict queue. They parse what a person
typed; kehu.leads.services judges, decides and writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.customers.choices import Gender
from kehu.leads.choices import ConflictDecision, RegistrationKind
from kehu.leads.models import Channel
from kehu.org.forms import BootstrapMixin

PHONE_ATTRS = {
    "inputmode": "tel",
    "autocomplete": "off",
    "autocorrect": "off",
    "spellcheck": "false",
}


def _phone_field() -> forms.CharField:
    return forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        widget=forms.TextInput(attrs={**PHONE_ATTRS, "type": "tel"}),
    )


class ChannelChoiceField(forms.ModelChoiceField):
    """Active channels by code, named in the interface language."""

    def label_from_instance(self, obj: Channel) -> str:
        return obj.label


def _gender_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Gender"),
        choices=[("", "—"), (Gender.MALE, Gender.MALE.label), (Gender.FEMALE, Gender.FEMALE.label)],
        required=False,
    )


class _RegistrationForm(BootstrapMixin, forms.Form):
    """What every registration page asks; ``arguments()`` is what register_lead takes
    besides the actor."""

    kind_value = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "channel" in self.fields:
            self.fields["channel"].queryset = Channel.objects.filter(is_active=True)
        self._style()

    def arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        channel = data.get("channel")
        return {
            "phone": data["phone"],
            "name": data.get("name", ""),
            "kind": data.get("kind") or self.kind_value,
            "channel": channel.code if isinstance(channel, Channel) else "broker",
            "gender": data.get("gender") or None,
            "note": data.get("note", ""),
        }


class RegisterForm(_RegistrationForm):
    """The sales floor: a call or a walk-in visit."""

    kind = forms.ChoiceField(
        label=_("Registration"),
        choices=[
            (RegistrationKind.CALL, RegistrationKind.CALL.label),
            (RegistrationKind.VISIT, RegistrationKind.VISIT.label),
        ],
        initial=RegistrationKind.CALL,
        widget=forms.RadioSelect,
    )
    phone = _phone_field()
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    channel = ChannelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.none(),
        to_field_name="code",
        empty_label=_("Choose a channel"),
    )
    gender = _gender_field()
    note = forms.CharField(
        label=_("What they asked about"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FieldForm(_RegistrationForm):
    """The promoter's phone page: a number, a name, a channel, and where they are."""

    kind_value = RegistrationKind.FIELD
    phone = _phone_field()
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    channel = ChannelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.none(),
        to_field_name="code",
        widget=forms.RadioSelect,
        empty_label=None,
    )
    gender = _gender_field()
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)
    lat = forms.DecimalField(
        max_digits=9, decimal_places=6, required=False, widget=forms.HiddenInput
    )
    lng = forms.DecimalField(
        max_digits=10, decimal_places=6, required=False, widget=forms.HiddenInput
    )

    def arguments(self) -> dict[str, Any]:
        arguments = super().arguments()
        lat, lng = self.cleaned_data.get("lat"), self.cleaned_data.get("lng")
        arguments["location"] = (
            {"lat": lat, "lng": lng} if lat is not None and lng is not None else None
        )
        return arguments


class BrokerForm(_RegistrationForm):
    """A broker's referral: the channel is always "broker"."""

    kind_value = RegistrationKind.BROKER
    phone = _phone_field()
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    note = forms.CharField(
        label=_("Note for the sales team"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ResolveForm(BootstrapMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=ConflictDecision.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=2000,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Why (kept in the log)")}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()

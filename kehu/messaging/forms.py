"""Forms of the messaging pages; the services do the checking that matters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.customers.models import Tag
from kehu.messaging.choices import MessageChannel, TemplateKind
from kehu.messaging.models import MessageTemplate
from kehu.org.models import Project

GRADES = [("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")]
VALUE_GRADES = [("A", "A"), ("B", "B"), ("C", "C")]


class TemplateForm(forms.Form):
    code = forms.SlugField(
        label=_("Code"), max_length=50, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    name = forms.CharField(
        label=_("Name"), max_length=100, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=TemplateKind.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=MessageChannel.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    body = forms.CharField(
        label=_("Message"),
        max_length=1000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 5}),
    )
    project = forms.ModelChoiceField(
        label=_("Project"),
        queryset=Project.objects.none(),
        required=False,
        empty_label=_("The project nearest to the customer's team"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.visible_to(user).order_by("name")


class TriggerForm(forms.Form):
    delay_minutes = forms.IntegerField(
        label=_("Delay (minutes)"),
        min_value=0,
        max_value=7 * 24 * 60,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )
    template = forms.ModelChoiceField(
        label=_("Template"),
        queryset=MessageTemplate.objects.order_by("code"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    is_enabled = forms.BooleanField(label=_("Enabled"), required=False)


class BroadcastForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    template = forms.ModelChoiceField(
        label=_("Template"),
        queryset=MessageTemplate.objects.filter(kind="promotional", is_active=True).order_by(
            "code"
        ),
        help_text=_("Active promotional templates."),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags"),
        queryset=Tag.objects.select_related("dimension"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    intent_grades = forms.MultipleChoiceField(
        label=_("Intent grades"),
        choices=GRADES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.org.choices import EmploymentType, Role
from kehu.org.models import OrgNode, Staff


class BootstrapMixin:
    def _style(self) -> None:
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs.setdefault("class", css)


class StaffForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    phone = forms.CharField(label=_("Mobile"), max_length=32, required=False)
    email = forms.EmailField(label=_("Email"), max_length=254, required=False)
    hire_date = forms.DateField(
        label=_("Hire date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    probation_end = forms.DateField(
        label=_("Probation ends"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    employment_type = forms.ChoiceField(label=_("Employment type"), choices=EmploymentType.choices)
    capacity = forms.IntegerField(label=_("Capacity"), min_value=0, max_value=10000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class StaffCreateForm(StaffForm):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(
        label=_("Initial password"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    node = forms.ModelChoiceField(label=_("Node"), queryset=OrgNode.objects.none(), required=False)
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )
    field_order = ["username", "name", "roles", "node", "password"]

    def __init__(self, *args: Any, user: Staff, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = OrgNode.objects.visible_to(user)
        self.fields["capacity"].initial = 100


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )


class MoveForm(BootstrapMixin, forms.Form):
    node = forms.ModelChoiceField(label=_("Move to"), queryset=OrgNode.objects.none())
    keep_records = forms.BooleanField(
        label=_("Their customers move with them"), required=False, initial=True
    )
    reassign_to = forms.ModelChoiceField(
        label=_("Otherwise hand their records to"), queryset=Staff.objects.none(), required=False
    )

    def __init__(self, *args: Any, user: Staff, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = OrgNode.objects.visible_to(user)
        self.fields["reassign_to"].queryset = Staff.objects.visible_to(user).active()
        self._style()


class LeaveForm(BootstrapMixin, forms.Form):
    left_on = forms.DateField(
        label=_("Last day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    reassign_to = forms.ModelChoiceField(
        label=_("Hand their records to"),
        queryset=Staff.objects.none(),
        required=False,
        help_text=_("Left empty: the manager of their node."),
    )

    def __init__(self, *args: Any, user: Staff, leaving: Staff, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reassign_to"].queryset = (
            Staff.objects.visible_to(user).active().exclude(pk=leaving.pk)
        )
        self._style()


class ProfileForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    phone = forms.CharField(label=_("Mobile"), max_length=32, required=False)
    email = forms.EmailField(label=_("Email"), max_length=254, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class TokenForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100, initial="default")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class NodeForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=pgettext_lazy("organisation node", "Name"), max_length=100)
    parent = forms.ModelChoiceField(label=_("Under"), queryset=OrgNode.objects.none())

    def __init__(self, *args: Any, user: Staff, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = OrgNode.objects.visible_to(user).exclude(kind="team")
        self._style()

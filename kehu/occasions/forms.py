from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.occasions.choices import CareKind, LifecycleKind


class LifecycleRuleForm(forms.Form):
    """Shapes the input; the service checks ranges and combinations."""

    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=LifecycleKind.choices)
    product_contains = forms.CharField(
        label=_("Product contains"),
        max_length=200,
        required=False,
        help_text=_("Comma-separated words; empty: every product."),
    )
    months_after = forms.IntegerField(label=_("Months after purchase"), required=False)
    km_after = forms.IntegerField(label=_("Km after purchase"), required=False)
    km_per_month = forms.IntegerField(label=_("Assumed km per month"), initial=1250)
    repeat_months = forms.IntegerField(label=_("Repeat every N months"), required=False)
    occurrences = forms.IntegerField(label=_("Times (empty: always)"), required=False)
    lead_days = forms.IntegerField(label=_("Days ahead on the agenda"), initial=7)
    ask_referral = forms.BooleanField(label=_("Ask for a referral"), required=False, initial=True)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name, field in self.fields.items():
            css = "form-check-input" if isinstance(field, forms.BooleanField) else "form-control"
            if isinstance(field, forms.ChoiceField):
                css = "form-select"
            field.widget.attrs["class"] = css
            field.widget.attrs.setdefault("id", f"rule-{name}")


class CareForm(forms.Form):
    care = forms.ChoiceField(label=_("Care"), choices=CareKind.choices)


class InvitationForm(forms.Form):
    days_min = forms.IntegerField(label=_("At least days before"))
    days_max = forms.IntegerField(label=_("At most days before"))

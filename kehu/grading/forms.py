"""Forms of the grading pages: they parse; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.grading import rules
from kehu.grading.choices import Horizon
from kehu.org.forms import BootstrapMixin

FACTOR_CHOICES = [(i, str(i)) for i in range(1, 6)]


class IntentForm(BootstrapMixin, forms.Form):
    """The six judgements and the two B allowances, as checkboxes."""

    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key in (*rules.JUDGEMENTS, *rules.ALLOWANCES):
            self.fields[key] = forms.BooleanField(
                label=rules.JUDGEMENT_LABELS[key],
                help_text=rules.JUDGEMENT_HELP[key],
                required=False,
            )
        self.fields["note"] = self.fields.pop("note")
        self._style()

    def judgements(self) -> dict[str, bool]:
        return {k: bool(self.cleaned_data.get(k)) for k in (*rules.JUDGEMENTS, *rules.ALLOWANCES)}

    def judgement_fields(self) -> list[Any]:
        return [self[k] for k in rules.JUDGEMENTS]

    def allowance_fields(self) -> list[Any]:
        return [self[k] for k in rules.ALLOWANCES]


class ReferralForm(BootstrapMixin, forms.Form):
    loyalty = forms.TypedChoiceField(
        label=rules.REFERRAL_LABELS["loyalty"], choices=FACTOR_CHOICES, coerce=int, initial=3
    )
    network = forms.TypedChoiceField(
        label=rules.REFERRAL_LABELS["network"], choices=FACTOR_CHOICES, coerce=int, initial=3
    )
    willingness = forms.TypedChoiceField(
        label=rules.REFERRAL_LABELS["willingness"], choices=FACTOR_CHOICES, coerce=int, initial=3
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class SubmitForm(BootstrapMixin, forms.Form):
    """One key customer: a prospect the consultant owns, with a horizon."""

    customer = forms.TypedChoiceField(label=_("Customer"), coerce=int, choices=[])
    horizon = forms.ChoiceField(label=_("Horizon"), choices=Horizon.choices, initial=Horizon.H)

    def __init__(self, *args: Any, customers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = [(c.pk, str(c)) for c in customers]  # type: ignore[attr-defined]
        self._style()


class CloseForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(
        label=_("Outcome"), choices=[("won", _("Won")), ("defeated", _("Defeated"))]
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Why (required when defeated)")}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class SettingsForm(BootstrapMixin, forms.Form):
    horizon_h_days = forms.IntegerField(label=_("H: decides within (days)"), min_value=1)
    horizon_a_days = forms.IntegerField(label=_("A: decides within (days)"), min_value=1)
    horizon_b_days = forms.IntegerField(label=_("B: decides within (days)"), min_value=1)
    horizon_c_days = forms.IntegerField(label=_("C: decides within (days)"), min_value=1)
    weekly_minimum = forms.IntegerField(
        label=_("Key customers each consultant submits a week"), min_value=0
    )
    value_top_share = forms.IntegerField(label=_("Value A: top share by annual sales (%)"))
    value_growth = forms.IntegerField(label=_("Value B: growth in each of two years (%)"))
    agent_tag_dimension = forms.CharField(label=_("Agents: tag dimension"), max_length=50)
    agent_tag_name = forms.CharField(label=_("Agents: tag"), max_length=50)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()

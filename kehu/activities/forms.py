"""Forms for follow-ups and stage changes; kehu.activities.services decides and writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.activities.choices import ActivityKind, LostReason, Outcome
from kehu.customers.choices import Stage
from kehu.org.forms import BootstrapMixin


class ActivityForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ActivityKind.choices)
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", "—"), *Outcome.choices], required=False
    )
    note = forms.CharField(
        label=_("Note"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        help_text=_("Leave empty for now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of activities.services.log_activity."""
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "outcome": data["outcome"],
            "note": data["note"],
            "occurred_at": data["occurred_at"] or timezone.now(),
        }


class StageForm(BootstrapMixin, forms.Form):
    """Move through the funnel. Lost needs a reason: one of the listed reasons (kept as
    its code so reports can count them) and/or words."""

    stage = forms.ChoiceField(label=_("New stage"), choices=Stage.choices)
    lost_reason = forms.ChoiceField(
        label=_("Reason lost"),
        choices=[("", "—"), *LostReason.choices],
        required=False,
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        help_text=_("Needed when the customer is lost or moved back."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()

    def reason_text(self) -> str:
        """``code`` or ``code: words`` when a listed reason is chosen, else the words."""
        data = self.cleaned_data
        code, words = data.get("lost_reason") or "", (data.get("reason") or "").strip()
        if data["stage"] != Stage.LOST:
            code = ""
        if code and words:
            return f"{code}: {words}"[:200]
        return code or words

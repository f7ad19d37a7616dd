"""Forms of the incentives pages: the scheme editor (one field per parameter), the run
form and the targets form. Forms only parse; the services decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.incentives.months import MONTH_RE

# Parameters not edited as numbers in the form (identity fields, and the funding order,
# which has its own three choices).
SKIPPED = {
    "code",
    "name",
    "version",
    "valid_from",
    "valid_to",
    "funding_order",
    "id",
    "description",
}
WHOLE = {"min_days_worked", "window_months", "min_active_months"}

LABELS: dict[str, Any] = {
    "effective": _("Effective customer (rule 1)"),
    "count_one_from": _("counts as 1 from"),
    "count_two_from": _("counts as 2 from"),
    "area_manager": _("Area manager (rules 2–4)"),
    "penalties": _("penalty"),
    "bonus_tiers": _("bonus tier"),
    "from": _("from payment"),
    "amount": _("amount"),
    "cap_threshold_penalty": _("Cap threshold penalties at the performance pay (rule 5)"),
    "region_manager": _("Region manager (rule 6)"),
    "penalty_per_unit": _("penalty per customer below the threshold"),
    "bonus_per_unit": _("bonus per customer above the threshold"),
    "cap_penalty": _("cap the penalty at the performance pay"),
    "probation_factor": _("Probation factor (rule 7)"),
    "probation_applies_to_fraud": _("Probation factor also applies to fraud penalties"),
    "min_days_worked": _("Days to work in the month to be assessed (rule 7)"),
    "activity_check": _("Activity check (rule 8)"),
    "enabled": _("enabled"),
    "window_months": _("first months checked"),
    "min_active_months": _("months active at least"),
    "payments_count_as_active": _("a payment counts as activity"),
    "fraud": _("Fraud (rule 9)"),
    "developer": _("the person who developed it"),
    "field_pay": _("Field pay per node (§7)"),
    "left_phone": _("left phone number"),
    "visit": _("visit"),
    "pledge": _("pledge"),
    "deal": _("deal"),
    "broker": _("Brokers' commission"),
    "commission_rate": _("rate of the deal amount"),
    "commission_fixed": _("fixed amount per deal"),
    "min_deal_amount": _("smallest deal paid"),
}


FUNDING_LABELS: dict[str, Any] = {
    "penalties": _("this month's penalties"),
    "pool": _("the penalty pool"),
    "management_fund": _("the management fund"),
}


def _threshold_key(key: str) -> tuple[int, str]:
    return (int(key), key) if str(key).isdigit() else (10**6, str(key))


def leaves(params: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``(dotted path, value)`` of every editable number or switch in ``params``."""
    out: list[tuple[str, Any]] = []
    for key, value in params.items():
        if not prefix and key in SKIPPED:
            continue
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.extend(leaves(value, path))
        elif isinstance(value, list) and all(isinstance(v, dict | int | float) for v in value):
            for index, item in enumerate(value):
                item_path = f"{path}.{index}"
                if isinstance(item, dict):
                    out.extend(leaves(item, item_path))
                else:
                    out.append((item_path, item))
        elif isinstance(value, bool | int | float):
            out.append((path, value))
    return out


def label_for(path: str) -> str:
    parts = path.split(".")
    words: list[str] = []
    previous = ""
    for part in parts:
        if part == "thresholds":
            previous = part
            continue
        if part.isdigit():
            if previous == "thresholds":
                words.append(str(_("threshold %(n)s")) % {"n": part})
            elif previous == "penalties":
                words[-1] = str(_("penalty at %(n)s effective")) % {"n": part}
            else:
                words[-1] = f"{words[-1]} {int(part) + 1}"
        else:
            words.append(str(LABELS.get(part, part.replace("_", " "))))
        previous = part
    return " · ".join(words)


def field_name(path: str) -> str:
    return "p__" + path.replace(".", "__")


def _set(params: dict[str, Any], path: str, value: Any) -> None:
    node: Any = params
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def bootstrap(form: forms.Form) -> None:
    """Bootstrap classes on every widget."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


class SchemeForm(forms.Form):
    """A scheme version's name, validity and every parameter, one field each."""

    name = forms.CharField(label=_("Name"), max_length=100)
    valid_from = forms.DateField(
        label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_to = forms.DateField(
        label=_("Valid to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, scheme: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {"name": scheme.name, "valid_from": scheme.valid_from, "valid_to": scheme.valid_to},
        )
        super().__init__(*args, **kwargs)
        self.scheme = scheme
        self.paths: list[str] = []
        for path, value in leaves(scheme.params):
            name = field_name(path)
            self.paths.append(path)
            if isinstance(value, bool):
                self.fields[name] = forms.BooleanField(
                    label=label_for(path), required=False, initial=value
                )
            elif path.split(".")[-1] in WHOLE:
                self.fields[name] = forms.IntegerField(
                    label=label_for(path), initial=value, min_value=0
                )
            else:
                self.fields[name] = forms.DecimalField(
                    label=label_for(path),
                    initial=value,
                    min_value=0,
                    decimal_places=4,
                    max_digits=14,
                )
        self._structure_fields()
        bootstrap(self)

    # The shape of the scheme, beyond its numbers: the funding order (rule 10), which
    # thresholds exist (rules 2-3) and each threshold's bonus tiers. What the API does by
    # sending another "params" object, the page does with these fields.

    def thresholds(self) -> dict[str, Any]:
        area = self.scheme.params.get("area_manager") or {}
        return area.get("thresholds") or {}

    def _structure_fields(self) -> None:
        from kehu.incentives.schemes import FUNDING_SOURCES

        order = list(self.scheme.params.get("funding_order") or FUNDING_SOURCES)
        choices = [(source, FUNDING_LABELS.get(source, source)) for source in FUNDING_SOURCES]
        for index in range(len(FUNDING_SOURCES)):
            self.fields[f"funding_{index + 1}"] = forms.ChoiceField(
                label=str(_("Source %(n)s")) % {"n": index + 1},
                choices=choices,
                initial=order[index] if index < len(order) else FUNDING_SOURCES[index],
            )
        keys = sorted(self.thresholds(), key=_threshold_key)
        self.fields["remove_thresholds"] = forms.MultipleChoiceField(
            label=_("Remove thresholds"),
            required=False,
            choices=[(k, str(_("threshold %(n)s")) % {"n": k}) for k in keys],
            widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        )
        self.fields["add_threshold"] = forms.IntegerField(
            label=_("Add a threshold (effective customers)"),
            required=False,
            min_value=1,
            max_value=20,
        )
        tier_choices = []
        for key in keys:
            for index, tier in enumerate(self.thresholds()[key].get("bonus_tiers") or []):
                tier_choices.append(
                    (
                        f"{key}.{index}",
                        str(_("threshold %(n)s: from %(from)s, %(amount)s"))
                        % {"n": key, "from": tier.get("from"), "amount": tier.get("amount")},
                    )
                )
            self.fields[f"add_tier__{key}__from"] = forms.DecimalField(
                label=str(_("New bonus tier of threshold %(n)s: from payment")) % {"n": key},
                required=False,
                min_value=0,
                decimal_places=2,
                max_digits=14,
            )
            self.fields[f"add_tier__{key}__amount"] = forms.DecimalField(
                label=str(_("New bonus tier of threshold %(n)s: amount")) % {"n": key},
                required=False,
                min_value=0,
                decimal_places=2,
                max_digits=14,
            )
        self.fields["remove_tiers"] = forms.MultipleChoiceField(
            label=_("Remove bonus tiers"),
            required=False,
            choices=tier_choices,
            widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        )

    def identity_fields(self) -> list[Any]:
        """The name and validity fields, shown above the parameters."""
        return [self[name] for name in ("name", "valid_from", "valid_to")]

    def structure_fields(self) -> dict[str, Any]:
        """The bound fields of the funding order, thresholds and tiers, for the page."""
        keys = sorted(self.thresholds(), key=_threshold_key)
        return {
            "funding": [self[f"funding_{n}"] for n in range(1, 4) if f"funding_{n}" in self.fields],
            "remove_thresholds": self["remove_thresholds"],
            "add_threshold": self["add_threshold"],
            "remove_tiers": self["remove_tiers"],
            "add_tiers": [
                (key, self[f"add_tier__{key}__from"], self[f"add_tier__{key}__amount"])
                for key in keys
            ],
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        funding = [data.get(f"funding_{n}") for n in range(1, 4)]
        if all(funding) and len(set(funding)) != len(funding):
            self.add_error("funding_1", _("Choose each source once."))
        added = data.get("add_threshold")
        if added is not None and str(added) in self.thresholds():
            self.add_error("add_threshold", _("This threshold exists already."))
        removed = set(data.get("remove_thresholds") or ())
        if removed and removed >= set(self.thresholds()) and added is None:
            self.add_error("remove_thresholds", _("Keep at least one threshold."))
        for key in self.thresholds():
            start = data.get(f"add_tier__{key}__from")
            amount = data.get(f"add_tier__{key}__amount")
            if (start is None) != (amount is None):
                self.add_error(
                    f"add_tier__{key}__from" if start is None else f"add_tier__{key}__amount",
                    _("Give both the payment a new tier starts from and its amount."),
                )
        return data

    def groups(self) -> list[tuple[str, list[Any]]]:
        """The parameter fields grouped by their top-level parameter, for the page."""
        out: dict[str, list[Any]] = {}
        for path in self.paths:
            out.setdefault(path.split(".")[0], []).append(self[field_name(path)])
        return [(str(LABELS.get(k, k)), v) for k, v in out.items()]

    def params(self) -> dict[str, Any]:
        """The scheme's parameters with the form's values put in."""
        import copy

        data = self.cleaned_data
        params = copy.deepcopy(self.scheme.params)
        for path in self.paths:
            value = data[field_name(path)]
            if isinstance(value, Decimal):
                value = _json_number(value)
            _set(params, path, value)
        params["funding_order"] = [data[f"funding_{n}"] for n in range(1, 4)]
        thresholds = params.setdefault("area_manager", {}).setdefault("thresholds", {})
        removed_tiers = [item.split(".") for item in data.get("remove_tiers") or ()]
        for key, index in sorted(removed_tiers, key=lambda t: -int(t[1])):
            tiers = thresholds.get(key, {}).get("bonus_tiers") or []
            if int(index) < len(tiers):
                del tiers[int(index)]
        for key, rule in thresholds.items():
            start = data.get(f"add_tier__{key}__from")
            amount = data.get(f"add_tier__{key}__amount")
            if start is not None and amount is not None:
                tiers = rule.setdefault("bonus_tiers", [])
                tiers.append({"from": _json_number(start), "amount": _json_number(amount)})
                tiers.sort(key=lambda tier: Decimal(str(tier["from"])))
        for key in data.get("remove_thresholds") or ():
            thresholds.pop(key, None)
        added = data.get("add_threshold")
        if added is not None and str(added) not in thresholds:
            # A new threshold starts with no penalties and the bonus tiers of the nearest
            # existing one; edit them after saving.
            nearest = min(
                (k for k in thresholds),
                key=lambda k: abs(int(k) - added),
                default=None,
            )
            tiers = copy.deepcopy(thresholds[nearest]["bonus_tiers"]) if nearest else []
            thresholds[str(added)] = {
                "penalties": [0] * added,
                "bonus_tiers": tiers or [{"from": 7950, "amount": 0}],
            }
        area = params["area_manager"]
        area["thresholds"] = dict(sorted(thresholds.items(), key=lambda kv: _threshold_key(kv[0])))
        return params


class RunForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap(self)

    month = forms.RegexField(
        label=_("Month"),
        regex=MONTH_RE,
        max_length=7,
        error_messages={"invalid": _("Give the month as YYYY-MM, for example 2026-03.")},
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-03"}),
    )


class TargetForm(forms.Form):
    region = forms.ModelChoiceField(label=_("Region"), queryset=None)  # type: ignore[arg-type]
    month = forms.RegexField(
        label=_("Month"),
        regex=MONTH_RE,
        max_length=7,
        error_messages={"invalid": _("Give the month as YYYY-MM, for example 2026-03.")},
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-03"}),
    )
    target = forms.IntegerField(
        label=_("Target (effective customers)"), min_value=0, max_value=10000
    )

    def __init__(self, *args: Any, regions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]
        bootstrap(self)


class FieldCampaignForm(forms.Form):
    name = forms.CharField(label=_("Campaign"), max_length=100)
    node = forms.ModelChoiceField(label=_("Where"), queryset=None)  # type: ignore[arg-type]
    starts_on = forms.DateField(
        label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(label=_("Ends on"), widget=forms.DateInput(attrs={"type": "date"}))
    left_phone = forms.DecimalField(label=_("Left phone"), min_value=0, required=False)
    visit = forms.DecimalField(label=_("Visit"), min_value=0, required=False)
    pledge = forms.DecimalField(label=_("Pledge"), min_value=0, required=False)
    deal = forms.DecimalField(label=_("Deal"), min_value=0, required=False)

    NODES = ("left_phone", "visit", "pledge", "deal")

    def __init__(self, *args: Any, nodes: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = nodes  # type: ignore[attr-defined]
        bootstrap(self)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "node": data["node"],
            "starts_on": data["starts_on"],
            "ends_on": data["ends_on"],
            "amounts": {k: data[k] for k in self.NODES if data.get(k) is not None},
        }


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

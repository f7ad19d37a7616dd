"""Forms of the customer pages. They parse and validate what a person typed; the
services (kehu.customers.services) decide what is allowed and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.core.phones import normalise_phone
from kehu.customers import completeness
from kehu.customers.choices import CustomerKind, Gender, RelationKind, RelationshipCategory
from kehu.customers.models import Customer
from kehu.org.forms import BootstrapMixin
from kehu.org.models import Staff

PAGE_SIZE = 50

# The labels of the profile groups of DOMAIN §2, in the order the form shows them.
PROFILE_GROUPS: list[tuple[Any, list[str]]] = [
    (_("Basic"), ["native_place", "consultation"]),
    (
        _("Family and economics"),
        [
            "family_structure",
            "occupation",
            "industry",
            "employer",
            "position",
            "income",
            "cars",
            "investments",
            "housing",
            "purchase_history",
            "family_relations",
        ],
    ),
    (_("Character"), ["hobbies", "character", "interests", "circle"]),
    (_("Needs"), ["purpose", "needs", "budget", "intended_product"]),
    (
        _("Organisation"),
        ["scale", "cash_flow", "market_position", "credit_record", "decision_makers"],
    ),
]
ORGANISATION_LABELS = {
    "scale": _("Scale"),
    "cash_flow": _("Cash flow"),
    "market_position": _("Market position"),
    "credit_record": _("Credit record"),
    "decision_makers": _("Decision makers"),
}


def profile_label(key: str) -> Any:
    return completeness.FIELDS.get(key) or ORGANISATION_LABELS.get(key, key)


class AssignForm(forms.Form):
    """The customer list's bulk action: give the ticked customers to one person."""

    customers = forms.ModelMultipleChoiceField(
        label=_("Customers"), queryset=Customer.objects.none()
    )
    to_staff = forms.ModelChoiceField(label=_("Assign to"), queryset=Staff.objects.none())
    reason_note = forms.CharField(label=_("Why"), max_length=200, required=False)

    def __init__(self, *args: Any, user: Staff, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customers"].queryset = Customer.objects.visible_to(user)
        self.fields["to_staff"].queryset = (
            Staff.objects.visible_to(user)
            .active()
            .filter(role_rows__role__in=["consultant", "manager"])
            .distinct()
            .order_by("name", "username")
        )
        self.fields["to_staff"].widget.attrs["class"] = "form-select"


# --- the customer page --------------------------------------------------------------------


class ProfileForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CustomerKind.choices)
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    title = forms.CharField(
        label=_("Title in messages"),
        max_length=20,
        required=False,
        help_text=_("先生, 女士, 总…"),
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices)
    age = forms.IntegerField(label=_("Age"), min_value=0, max_value=150, required=False)
    birthday = forms.DateField(
        label=_("Birthday (solar)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    lunar_month = forms.IntegerField(
        label=_("Lunar birthday: month"), min_value=1, max_value=12, required=False
    )
    lunar_day = forms.IntegerField(
        label=_("Lunar birthday: day"), min_value=1, max_value=30, required=False
    )
    lunar_is_leap = forms.BooleanField(label=_("Leap month"), required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    wechat = forms.CharField(label=_("WeChat"), max_length=64, required=False)
    email = forms.EmailField(label=_("Email"), max_length=254, required=False)
    relationship = forms.ChoiceField(
        label=_("Relationship category"), choices=RelationshipCategory.choices
    )

    BASIC = [
        "kind",
        "name",
        "title",
        "gender",
        "age",
        "birthday",
        "lunar_month",
        "lunar_day",
        "lunar_is_leap",
        "address",
        "wechat",
        "email",
        "relationship",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key in completeness.PROFILE_KEYS:
            self.fields[f"p_{key}"] = forms.CharField(
                label=profile_label(key), max_length=500, required=False
            )
        self._style()

    @classmethod
    def initial_for(cls, customer: Customer) -> dict[str, Any]:
        initial: dict[str, Any] = {
            key: getattr(customer, key)
            for key in cls.BASIC
            if not key.startswith("lunar_") and hasattr(customer, key)
        }
        lunar = customer.lunar_birthday or {}
        initial.update(
            lunar_month=lunar.get("month"),
            lunar_day=lunar.get("day"),
            lunar_is_leap=bool(lunar.get("is_leap")),
        )
        for key in completeness.PROFILE_KEYS:
            value = (customer.profile or {}).get(key, "")
            initial[f"p_{key}"] = value if isinstance(value, str) else str(value)
        return initial

    def basic_fields(self) -> list[Any]:
        return [self[name] for name in self.BASIC]

    def profile_groups(self) -> list[tuple[Any, list[Any]]]:
        return [(label, [self[f"p_{key}"] for key in keys]) for label, keys in PROFILE_GROUPS]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        month, day = data.get("lunar_month"), data.get("lunar_day")
        if (month is None) != (day is None):
            self.add_error(
                "lunar_day" if day is None else "lunar_month",
                _("Give both the lunar month and the lunar day, or neither."),
            )
        return data

    def changes(self) -> dict[str, Any]:
        """What update_customer takes: the columns, the lunar date as one value and
        the profile as a dict (blank values remove their key)."""
        data = self.cleaned_data
        changes = {key: data[key] for key in self.BASIC if not key.startswith("lunar_")}
        month, day = data.get("lunar_month"), data.get("lunar_day")
        changes["lunar_birthday"] = (
            {"month": month, "day": day, "is_leap": bool(data.get("lunar_is_leap"))}
            if month is not None and day is not None
            else None
        )
        changes["profile"] = {key: data[f"p_{key}"].strip() for key in completeness.PROFILE_KEYS}
        return changes

    def add_service_error(self, field: str, message: str) -> None:
        """Service errors name model fields; show them on the matching form field."""
        target = {"lunar_birthday": "lunar_month"}.get(field, field)
        self.add_error(target if target in self.fields else None, message)


class PhoneForm(BootstrapMixin, forms.Form):
    phone = forms.CharField(
        label=_("Add a number"),
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class TagForm(BootstrapMixin, forms.Form):
    dimension = forms.CharField(
        label=_("Dimension"),
        max_length=50,
        help_text=_("Relationship, occupation, personality, income band, interest…"),
    )
    name = forms.CharField(label=_("Tag"), max_length=50)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


def find_visible_customer(user: Staff, text: str) -> Customer:
    """The customer ``text`` names ("#123" or a number), among those ``user`` may see."""
    text = text.strip()
    visible = Customer.objects.visible_to(user)
    not_found = forms.ValidationError(_("No customer you can see matches this."))
    if text.startswith("#"):
        try:
            return visible.get(pk=int(text[1:]))
        except (ValueError, OverflowError, Customer.DoesNotExist) as exc:
            raise not_found from exc
    try:
        number = normalise_phone(text)
    except forms.ValidationError as exc:
        raise forms.ValidationError(exc.messages) from exc
    customer = visible.filter(phones__number=number).first()
    if customer is None:
        raise not_found
    return customer


OTHER_HELP = _("Their mobile number, or # and their number in Kehu (#123).")


class RelationForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Relation"), choices=RelationKind.choices)
    other = forms.CharField(label=_("Other customer"), max_length=32, help_text=OTHER_HELP)

    def __init__(self, *args: Any, user: Staff, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self._style()

    def clean_other(self) -> Customer:
        return find_visible_customer(self.user, self.cleaned_data["other"])


class AnniversaryForm(BootstrapMixin, forms.Form):
    label = forms.CharField(label=_("Occasion"), max_length=50)
    date = forms.DateField(
        label=_("Date (solar)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    lunar_month = forms.IntegerField(
        label=_("or lunar month"), min_value=1, max_value=12, required=False
    )
    lunar_day = forms.IntegerField(label=_("lunar day"), min_value=1, max_value=30, required=False)
    lunar_is_leap = forms.BooleanField(label=_("Leap month"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        month, day = data.get("lunar_month"), data.get("lunar_day")
        if (month is None) != (day is None):
            self.add_error(
                "lunar_day" if day is None else "lunar_month",
                _("Give both the lunar month and the lunar day, or neither."),
            )
        return data

    def lunar(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if data.get("lunar_month") is None or data.get("lunar_day") is None:
            return None
        return {
            "month": data["lunar_month"],
            "day": data["lunar_day"],
            "is_leap": bool(data.get("lunar_is_leap")),
        }


class PurchaseForm(BootstrapMixin, forms.Form):
    """A sale to the customer. Only the types are checked here; the product's length,
    the amount's range and the date's are the service's, so the page says what the API
    says."""

    product = forms.CharField(
        label=_("Product"), required=False, widget=forms.TextInput(attrs={"maxlength": 100})
    )
    amount = forms.DecimalField(
        label=_("Amount (yuan)"),
        widget=forms.NumberInput(attrs={"min": 0, "step": "0.01", "inputmode": "decimal"}),
    )
    purchased_on = forms.DateField(
        label=_("Date of purchase"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class MileageForm(BootstrapMixin, forms.Form):
    """An odometer reading on one of the customer's purchases; the service checks the
    numbers and the date against the purchase and its other readings."""

    purchase = forms.TypedChoiceField(label=_("Purchase"), coerce=int)
    km = forms.IntegerField(label=_("km since purchase"))
    read_on = forms.DateField(label=_("read on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, purchases: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.purchases = {p.pk: p for p in purchases}
        self.fields["purchase"].choices = [
            (p.pk, f"{p.purchased_on:%Y-%m-%d} · {p.product}") for p in purchases
        ]
        self._style()


class MergeForm(BootstrapMixin, forms.Form):
    """Merge ``other`` into the customer of the page (the page's customer stays)."""

    other = forms.CharField(label=_("Duplicate to merge in"), max_length=32, help_text=OTHER_HELP)

    def __init__(self, *args: Any, user: Staff, keep: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.keep = keep
        self._style()

    def clean_other(self) -> Customer:
        other = find_visible_customer(self.user, self.cleaned_data["other"])
        if other.pk == self.keep.pk:
            raise forms.ValidationError(_("Choose another customer: this is the same one."))
        return other

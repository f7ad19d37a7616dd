"""Phone numbers: normalising to E.164 and masking for roles that must not see them."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DEFAULT_REGION = "CN"
MOBILE_LEADS = ("13", "14", "15", "16", "17", "18", "19")


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return the E.164 form of ``raw`` or raise ValidationError saying why it is wrong.

    Mainland numbers may be written with or without ``+86``/``0086``; spaces, dashes and
    brackets are ignored.
    """
    text = (raw or "").strip()
    if not text:
        raise ValidationError(_("Enter a phone number."), code="required")
    if len(text) > 32:
        raise ValidationError(_("A phone number has at most 32 characters."), code="too_long")
    cleaned = "".join(ch for ch in text if ch not in " -()\u3000")
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not cleaned.lstrip("+").isdigit():
        raise ValidationError(
            _("A phone number may contain only digits, spaces, dashes and a leading +."),
            code="invalid_characters",
        )
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("This is not a phone number."), code="invalid") from exc
    if number.country_code == 86:
        national = str(number.national_number)
        # Mobiles start 13–19; Beijing landlines (010…) start with 1 too but are shorter.
        if national.startswith(MOBILE_LEADS) and len(national) != 11:
            raise ValidationError(
                _("A mainland mobile number has 11 digits; this one has %(count)d.")
                % {"count": len(national)},
                code="invalid_length",
            )
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("This number does not exist: check the prefix and the number of digits."),
            code="invalid",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str) -> str:
    """``+8613812345678`` → ``13812345678``; other countries keep their country code."""
    if e164.startswith("+86"):
        return e164[3:]
    return e164.lstrip("+")


def mask_phone(number: str) -> str:
    """``13812345678`` or ``+8613812345678`` → ``138****5678``.

    Keeps the first three and the last four digits; shorter strings are masked whole.
    """
    digits = national_digits(number) if number.startswith("+") else number
    if len(digits) < 8:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"

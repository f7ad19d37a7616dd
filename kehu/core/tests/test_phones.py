"""Phone numbers: normalising to E.164 and masking (pure functions, no database)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from kehu.core.phones import mask_phone, national_digits, normalise_phone

# Mainland mobile prefixes in use (MIIT numbering plan), every 8-digit suffix valid.
MOBILE_PREFIXES = (
    [str(p) for p in range(130, 140)]
    + ["145", "147"]
    + ["150", "151", "152", "153", "155", "156", "157", "158", "159"]
    + ["162", "165", "166", "167"]
    + ["170", "171", "172", "173", "175", "176", "177", "178"]
    + [str(p) for p in range(180, 190)]
    + ["190", "191", "192", "193", "195", "196", "197", "198", "199"]
)


@pytest.fixture(autouse=True, scope="module")
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+8613812345678",
        "008613812345678",
        "8613812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138-1234-5678",
        "(138) 1234 5678",
        "  13812345678  ",
        "138\u30001234\u30005678",
    ],
)
def test_normalise_accepts_the_ways_people_write_a_mobile(raw):
    assert normalise_phone(raw) == "+8613812345678"


def test_normalise_accepts_a_beijing_landline():
    # 010 numbers start with 1 like mobiles but have 10 national digits.
    assert normalise_phone("010 1234 5678") == "+861012345678"
    assert normalise_phone("+86 10 1234 5678") == "+861012345678"


def test_normalise_accepts_a_shanghai_landline_and_a_foreign_number():
    assert normalise_phone("021-1234-5678") == "+862112345678"
    assert normalise_phone("+1 650 253 0000") == "+16502530000"


@pytest.mark.parametrize(
    ("raw", "count"),
    [
        ("1381234567", 10),
        ("138123456789", 12),
        ("+86138123456789", 12),
        ("0086 138 1234 567", 10),
    ],
)
def test_normalise_rejects_a_mobile_of_the_wrong_length_saying_11_digits(raw, count):
    with pytest.raises(ValidationError) as exc:
        normalise_phone(raw)
    assert exc.value.code == "invalid_length"
    assert exc.value.messages == [f"A mainland mobile number has 11 digits; this one has {count}."]


@pytest.mark.parametrize("raw", ["1381234567a", "138-abcd-5678", "phone", "+86138123４5678x"])
def test_normalise_rejects_letters(raw):
    with pytest.raises(ValidationError) as exc:
        normalise_phone(raw)
    assert exc.value.code == "invalid_characters"
    assert exc.value.messages == [
        "A phone number may contain only digits, spaces, dashes and a leading +."
    ]


@pytest.mark.parametrize("raw", ["12012345678", "10012345678", "11012345678", "14012345678"])
def test_normalise_rejects_a_prefix_that_does_not_exist(raw):
    with pytest.raises(ValidationError) as exc:
        normalise_phone(raw)
    assert exc.value.code == "invalid"
    assert exc.value.messages == [
        "This number does not exist: check the prefix and the number of digits."
    ]


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_normalise_rejects_empty(raw):
    with pytest.raises(ValidationError) as exc:
        normalise_phone(raw)
    assert exc.value.code == "required"
    assert exc.value.messages == ["Enter a phone number."]


def test_normalise_rejects_overlong_input():
    with pytest.raises(ValidationError) as exc:
        normalise_phone("1" * 33)
    assert exc.value.code == "too_long"
    assert exc.value.messages == ["A phone number has at most 32 characters."]


def test_normalise_rejects_a_plus_alone():
    with pytest.raises(ValidationError) as exc:
        normalise_phone("+")
    assert exc.value.messages == [
        "A phone number may contain only digits, spaces, dashes and a leading +."
    ]


def test_mask_phone_keeps_first_three_and_last_four():
    assert mask_phone("13812345678") == "138****5678"


def test_mask_phone_takes_e164_input():
    assert mask_phone("+8613812345678") == "138****5678"


def test_mask_phone_masks_short_strings_whole():
    assert mask_phone("1234567") == "*******"
    assert mask_phone("") == ""


def test_mask_phone_keeps_the_country_code_of_a_foreign_number():
    assert mask_phone("+16502530000") == "165****0000"


def test_national_digits():
    assert national_digits("+8613812345678") == "13812345678"
    assert national_digits("+16502530000") == "16502530000"


@given(
    prefix=st.sampled_from(MOBILE_PREFIXES),
    rest=st.text(alphabet="0123456789", min_size=8, max_size=8),
    style=st.sampled_from(["{d}", "+86{d}", "0086{d}", "{a} {b} {c}", "{a}-{b}-{c}"]),
)
def test_every_valid_mainland_mobile_round_trips_to_e164(prefix, rest, style):
    digits = prefix + rest
    written = style.format(d=digits, a=digits[:3], b=digits[3:7], c=digits[7:])
    assert normalise_phone(written) == "+86" + digits
    assert mask_phone(normalise_phone(written)) == f"{digits[:3]}****{digits[7:]}"

"""The registration body's shortcut (kehu.leads.api.serializers.plain_registration)
answers exactly what RegistrationCreateSerializer answers, or steps aside."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.leads.api.serializers import RegistrationCreateSerializer, plain_registration

KINDS = ["call", "visit", "field", "broker", "web", "import", "walk", "", "CALL"]
GENDERS = ["male", "female", "unknown", "", "M", None]

text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["13800138000", " 13800138000", "13800138000 ", "a\x00b", "", "  "]),
    st.text(min_size=95, max_size=105),
)
value = st.one_of(
    text, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none(), st.lists(st.text())
)
body = st.fixed_dictionaries(
    {},
    optional={
        "phone": st.one_of(text, value),
        "name": st.one_of(text, value),
        "kind": st.one_of(st.sampled_from(KINDS), value),
        "channel": st.one_of(st.sampled_from(["phone", "walk_in", ""]), value),
        "gender": st.one_of(st.sampled_from(GENDERS), value),
        "note": st.one_of(text, st.text(min_size=1995, max_size=2005), value),
        "location": st.one_of(st.none(), st.fixed_dictionaries({"lat": value, "lng": value})),
        "owner": value,
    },
)

# Mostly well-formed bodies, so that the shortcut is taken often.
near_plain = st.fixed_dictionaries(
    {
        "phone": st.sampled_from(["13800138000", "+86 138 0013 8000", " 1", "x" * 33, ""]),
        "name": st.one_of(st.text(max_size=101), st.none()),
        "kind": st.sampled_from(KINDS),
        "channel": st.sampled_from(["phone", "walk_in", "", " phone", "c" * 33]),
    },
    optional={"gender": st.sampled_from(GENDERS), "note": st.one_of(text, st.none())},
)


def by_serializer(data: Any) -> dict[str, Any] | None:
    serializer = RegistrationCreateSerializer(data=data)
    if not serializer.is_valid():
        return None
    return dict(serializer.validated_data)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.one_of(body, near_plain))
def test_the_shortcut_answers_what_the_serializer_answers(data):
    shortcut = plain_registration(data)
    if shortcut is not None:
        expected = by_serializer(data)
        assert expected is not None, data
        expected.pop("location", None)
        assert shortcut == expected


def test_ordinary_bodies_take_the_shortcut():
    plain = {"phone": "13800138000", "name": "王先生", "kind": "call", "channel": "phone"}
    assert plain_registration(plain) == {**plain, "note": ""}
    full = {**plain, "gender": "female", "note": "看两居", "name": ""}
    assert plain_registration(full) == full
    assert plain_registration({**plain, "gender": None}) == {**plain, "gender": None, "note": ""}


def test_anything_to_convert_or_refuse_goes_to_the_serializer():
    plain = {"phone": "13800138000", "name": "王先生", "kind": "call", "channel": "phone"}
    for changed in (
        {"phone": " 13800138000"},  # trimmed by the serializer
        {"phone": 13800138000},  # not text
        {"kind": "import"},  # not through the API
        {"kind": "nope"},
        {"gender": ""},
        {"location": {"lat": 31.2, "lng": 121.5}},
        {"owner": 3},  # unknown key: named by the serializer
        {"name": "x" * 101},
        {"channel": ""},
    ):
        assert plain_registration({**plain, **changed}) is None, changed
    missing_name = dict(plain)
    del missing_name["name"]
    assert plain_registration(missing_name) is None
    assert plain_registration([plain]) is None

"""The placeholder rules, without a database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kehu.messaging.rendering import PLACEHOLDERS, placeholders_in, render, unknown_placeholders

CONTEXT = {
    "title": "先生",
    "name": "张三",
    "consultant": "李顾问",
    "consultant_phone": "13800000005",
    "project": "江南府",
    "project_address": "上海市徐汇区龙华路1号",
    "project_route": "内环高架龙华出口右转",
}


def test_every_placeholder_is_filled():
    body = "{name}{title}您好，我是{project}的{consultant}（{consultant_phone}）。地址：{project_address}；路线：{project_route}"
    assert render(body, CONTEXT) == (
        "张三先生您好，我是江南府的李顾问（13800000005）。"
        "地址：上海市徐汇区龙华路1号；路线：内环高架龙华出口右转"
    )


def test_missing_values_become_empty_and_unknown_ones_stay_literal():
    assert render("{name}{title}，{nmae}", {"name": "王五"}) == "王五，{nmae}"


def test_placeholders_are_listed_once_in_order():
    assert placeholders_in("{name} {title} {name} {姓名} { spaced }") == ["name", "title", "姓名"]


def test_unknown_placeholders_are_named():
    assert unknown_placeholders("{name}{姓名}{nmae}") == ["姓名", "nmae"]
    assert unknown_placeholders("纯文本 {} {{}}") == []


@given(st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=200))
def test_text_without_braces_is_unchanged(text):
    assert render(text, CONTEXT) == text
    assert unknown_placeholders(text) == []


@given(st.lists(st.sampled_from(sorted(PLACEHOLDERS)), max_size=10))
def test_known_placeholders_always_render_to_their_values(names):
    body = "|".join("{%s}" % n for n in names)  # noqa: UP031
    assert render(body, CONTEXT) == "|".join(CONTEXT[n] for n in names)
    assert unknown_placeholders(body) == []

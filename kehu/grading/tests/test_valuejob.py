"""The value-grade job: its SQL agrees with the pure rule, it is idempotent, batched,
and clears grades no longer earned."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.customers import services as customers
from kehu.customers.models import Customer, Purchase
from kehu.grading import rules
from kehu.grading.models import CustomerGrade
from kehu.grading.valuejob import compute_value_grades, threshold_for

TODAY = datetime.date(2026, 11, 25)
YEAR = datetime.timedelta(days=365)


def grades() -> dict[int, str]:
    return dict(CustomerGrade.objects.values_list("customer_id", "value_grade"))


def buy(customer: Customer, amount: int | str, days_ago: int) -> None:
    Purchase.objects.create(
        customer=customer,
        product="住宅",
        amount=Decimal(amount),
        purchased_on=TODAY - datetime.timedelta(days=days_ago),
    )


@pytest.fixture
def people(db: Any) -> list[Customer]:
    return [Customer.objects.create(name=f"c{i}") for i in range(8)]


def test_grades_and_explanations(people: list[Customer]) -> None:
    a, b, c, d, e, f, g, h = people
    buy(a, 1000, 10)
    buy(b, 900, 364)  # still this year (the window is trailing 365 days)
    buy(c, 100, 800)
    buy(c, 110, 400)
    buy(c, 121, 1)  # +10% twice: B
    buy(d, 50, 365)  # exactly a year ago: last year's window
    buy(e, 30, 2)
    buy(f, 40, 3)
    buy(g, 20, 4)
    tag = customers.ensure_tag(actor=None, dimension="客户类型", name="代理商")
    customers.set_tags(actor=None, customer=h, tags=[tag])
    assert compute_value_grades(today=TODAY) == 8
    # Buyers this year: a b c e f g (6) → the top 20% is 2 of them.
    assert grades() == {
        a.pk: "A",
        b.pk: "A",
        c.pk: "B",
        d.pk: "C",
        e.pk: "C",
        f.pk: "C",
        g.pk: "C",
        h.pk: "A",
    }
    row = CustomerGrade.objects.get(customer=c)
    assert row.value_explanation["rule"] == "growth"
    assert [Decimal(str(s)) for s in row.value_explanation["sales"]] == [121, 110, 100]
    assert Decimal(str(row.value_explanation["threshold"])) == 900
    assert row.value_explanation_text == (
        "B: sales grew at least 10% in each of the last two years (100 → 110 → 121)."
    )
    assert CustomerGrade.objects.get(customer=h).value_explanation["rule"] == "agent"


def test_idempotent_and_clears_grades_no_longer_earned(people: list[Customer]) -> None:
    a, b = people[:2]
    buy(a, 1000, 10)
    buy(b, 10, 10)
    compute_value_grades(today=TODAY)
    first = list(CustomerGrade.objects.order_by("pk").values("customer_id", "value_grade"))
    compute_value_grades(today=TODAY)
    assert list(CustomerGrade.objects.order_by("pk").values("customer_id", "value_grade")) == first
    Purchase.objects.filter(customer=b).delete()
    compute_value_grades(today=TODAY, batch=3)
    assert grades() == {a.pk: "A", b.pk: ""}
    assert CustomerGrade.objects.get(customer=b).value_explanation == {"rule": "none"}


def test_one_customer_on_its_own_uses_the_whole_population(people: list[Customer]) -> None:
    for index, customer in enumerate(people):
        buy(customer, 100 * (index + 1), 5)
    assert threshold_for(TODAY, 20) == (Decimal(700), 8)
    compute_value_grades(today=TODAY, customer_id=people[6].pk)
    assert grades() == {people[6].pk: "A"}


def test_merged_customers_are_not_graded(people: list[Customer]) -> None:
    buy(people[0], 100, 5)
    Customer.objects.filter(pk=people[0].pk).update(merged_into=people[1])
    compute_value_grades(today=TODAY)
    assert grades() == {}


amounts = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # which customer
        st.sampled_from([0, 1, 99, 100, 110, 121, 500, 1000, 1000]),
        st.integers(min_value=0, max_value=1200),  # days ago
    ),
    max_size=14,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(purchases=amounts, agent=st.integers(min_value=-1, max_value=2))
def test_the_sql_agrees_with_the_pure_rule(
    people: list[Customer], purchases: list[tuple[int, int, int]], agent: int
) -> None:
    Purchase.objects.all().delete()
    CustomerGrade.objects.all().delete()
    trio = people[:3]
    tag = customers.ensure_tag(actor=None, dimension="客户类型", name="代理商")
    for index, customer in enumerate(trio):
        customers.set_tags(actor=None, customer=customer, tags=[tag] if index == agent else [])
    for who, amount, days in purchases:
        buy(trio[who], amount, days)
    compute_value_grades(today=TODAY)
    windows = rules.sales_windows(TODAY)
    records = []
    for index, customer in enumerate(trio):
        mine = [
            (TODAY - datetime.timedelta(days=d), Decimal(a)) for w, a, d in purchases if w == index
        ]
        sales = tuple(
            sum((a for day, a in mine if after < day <= until), Decimal(0))
            for after, until in windows
        )
        records.append(rules.SalesRecord(customer.pk, index == agent, sales, bool(mine)))  # type: ignore[arg-type]
    expected = {pk: g for pk, (g, _e) in rules.value_grades(records).items() if g}
    assert {pk: g for pk, g in grades().items() if g} == expected

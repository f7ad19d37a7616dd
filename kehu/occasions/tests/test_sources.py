"""The agenda items occasions gives, and what they cost in queries."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.cadence.sources import sources
from kehu.customers.models import Customer
from kehu.customers.services import add_anniversary, record_purchase
from kehu.occasions import calendar
from kehu.occasions import sources as s
from kehu.occasions.models import LifecycleReminder, OccasionDate
from kehu.occasions.services import set_care_rule
from kehu.occasions.tests.conftest import customer_of, soon

D = datetime.date


def test_every_source_is_registered():
    registered = sources()
    for source in s.ALL:
        assert source in registered


def test_birthday_items_say_which_care_to_give(cast):
    day = soon(5)
    vip = customer_of(
        cast.consultant, name="王总", birthday=D(1980, day.month, day.day), relationship="VIP"
    )
    plain = customer_of(cast.consultant, name="李四", birthday=D(1985, day.month, day.day))
    customer_of(cast.other_consultant, name="别人", birthday=D(1985, day.month, day.day))
    items = s.birthday_source(cast.consultant, day)
    assert [(i.kind, i.customer, i.title, i.reason, i.due) for i in items] == [
        (
            "birthday",
            vip.pk,
            "王总's birthday",
            "Today is their birthday. Care (VIP): Visit with flowers or a cake.",
            day,
        ),
        (
            "birthday",
            plain.pk,
            "李四's birthday",
            "Today is their birthday. Care (N): Send a message.",
            day,
        ),
    ]
    set_care_rule(actor=cast.admin, relationship="N", care="call_card")
    assert s.birthday_source(cast.consultant, day)[1].reason.endswith("Call and send a card.")


def test_a_lunar_birthday_item_shows_the_lunar_date(cast):
    customer = customer_of(
        cast.consultant, name="赵六", lunar_birthday={"month": 8, "day": 15, "is_leap": False}
    )
    day = customer.occasion_dates.order_by("date").first().date
    (item,) = s.birthday_source(cast.consultant, day)
    assert item.reason == "Today is their lunar birthday, 八月十五. Care (N): Send a message."


def test_anniversary_items(cast):
    customer = customer_of(cast.consultant, name="钱七")
    day = soon(2)
    add_anniversary(
        actor=cast.consultant,
        customer=customer,
        label="购车纪念日",
        date=D(2020, day.month, day.day),
    )
    (item,) = s.anniversary_source(cast.consultant, day)
    assert (item.kind, item.customer, item.title, item.due) == (
        "anniversary",
        customer.pk,
        "钱七: 购车纪念日",
        day,
    )
    assert s.anniversary_source(cast.other_consultant, day) == []


def test_invitations_two_to_three_weeks_before_an_a_customers_birthday(cast):
    birthday = soon(40)
    vip = customer_of(
        cast.consultant,
        name="王总",
        birthday=D(1980, birthday.month, birthday.day),
        relationship="VIP",
    )
    customer_of(cast.consultant, name="普通", birthday=D(1980, birthday.month, birthday.day))
    for ahead in (13, 22):
        assert s.invitation_source(cast.consultant, birthday - datetime.timedelta(days=ahead)) == []
    for ahead in (14, 21):
        (item,) = s.invitation_source(cast.consultant, birthday - datetime.timedelta(days=ahead))
        assert (item.kind, item.customer, item.due) == (
            "invitation",
            vip.pk,
            birthday - datetime.timedelta(days=14),
        )
        assert item.title == "Invite 王总 to a birthday event"


def test_the_rows_copy_the_owner_and_follow_a_reassignment(cast):
    """The sources read the rows' copy of the owner (kehu.occasions.triggers): set on
    insert, moved with the customer whichever code moves it (here a raw update)."""
    day = soon(3)
    customer = customer_of(cast.consultant, name="周九", birthday=D(1985, day.month, day.day))
    bought = timezone.localdate() - datetime.timedelta(days=120)
    record_purchase(
        actor=cast.consultant,
        customer=customer,
        product="宝马 X3",
        amount=Decimal("1"),
        purchased_on=bought,
    )
    owners = lambda: (  # noqa: E731
        set(OccasionDate.objects.filter(customer=customer).values_list("owner_id", flat=True)),
        set(LifecycleReminder.objects.filter(customer=customer).values_list("owner_id", flat=True)),
    )
    assert owners() == ({cast.consultant.pk}, {cast.consultant.pk})
    assert [i.customer for i in s.birthday_source(cast.consultant, day)] == [customer.pk]
    Customer.objects.filter(pk=customer.pk).update(owner=cast.other_consultant)
    assert owners() == ({cast.other_consultant.pk}, {cast.other_consultant.pk})
    assert s.birthday_source(cast.consultant, day) == []
    assert [i.customer for i in s.birthday_source(cast.other_consultant, day)] == [customer.pk]
    # A stale copy shows nothing: the customer's own owner is checked too.
    OccasionDate.objects.filter(customer=customer).update(owner=cast.consultant)
    assert s.birthday_source(cast.consultant, day) == []


def test_one_holiday_item_for_all_the_customers(cast):
    customer_of(cast.consultant, name="甲")
    customer_of(cast.consultant, name="乙")
    day = D(2026, 9, 30)  # the working day before National Day
    (item,) = s.holiday_source(cast.consultant, day)
    assert (item.kind, item.customer, item.due) == ("holiday", None, D(2026, 10, 1))
    assert item.reason == "国庆节 is on 2026-10-01: send the greeting to your 2 customers."
    assert s.holiday_source(cast.consultant, D(2026, 10, 2)) == []
    assert s.holiday_source(cast.other_consultant, day) == []  # nobody to greet


def test_one_solar_term_item(cast):
    customer_of(cast.consultant, name="甲")
    (item,) = s.solar_term_source(cast.consultant, D(2026, 4, 5))
    assert (item.kind, item.customer, item.title, item.due) == (
        "solar_term",
        None,
        "Solar term 清明",
        D(2026, 4, 5),
    )
    assert s.solar_term_source(cast.consultant, D(2026, 4, 6)) == []


def test_lifecycle_items_ask_for_a_referral(cast):
    customer = customer_of(cast.consultant, name="孙八")
    bought = timezone.localdate() - datetime.timedelta(days=120)
    record_purchase(
        actor=cast.consultant,
        customer=customer,
        product="宝马 X3",
        amount=Decimal("1"),
        purchased_on=bought,
    )
    reminder = customer.lifecycle_reminders.select_related("rule").order_by("due_on").first()
    items = s.lifecycle_source(cast.consultant, reminder.notify_on)
    assert items[0].kind == "lifecycle"
    assert items[0].customer == customer.pk
    assert items[0].due == reminder.due_on
    assert items[0].reason.endswith("Ask for a referral.")
    assert (
        s.lifecycle_source(cast.consultant, reminder.notify_on - datetime.timedelta(days=1)) == []
    )
    assert s.lifecycle_source(cast.consultant, reminder.due_on + datetime.timedelta(days=1)) == []
    assert s.lifecycle_source(cast.other_consultant, reminder.notify_on) == []


def _world(cast, n: int, day: D) -> None:
    for i in range(n):
        c = customer_of(
            cast.consultant,
            name=f"客户{i}",
            birthday=D(1980, day.month, day.day),
            relationship="VIP",
        )
        add_anniversary(
            actor=cast.consultant, customer=c, label="纪念日", date=D(2000, day.month, day.day)
        )
        record_purchase(
            actor=cast.consultant,
            customer=c,
            product="车",
            amount=Decimal("1"),
            purchased_on=day - datetime.timedelta(days=120),
        )


@pytest.mark.parametrize("n", [1, 4])
def test_each_source_costs_a_fixed_number_of_queries(cast, django_assert_num_queries, n):
    day = soon(30)
    _world(cast, n, day)
    staff = cast.consultant
    staff.refresh_from_db()
    with django_assert_num_queries(2):
        assert len(s.birthday_source(staff, day)) == n
    with django_assert_num_queries(2):
        assert len(s.anniversary_source(staff, day)) == n
    with django_assert_num_queries(2):
        assert len(s.invitation_source(staff, day - datetime.timedelta(days=15))) == n
    with django_assert_num_queries(1):
        assert len(s.lifecycle_source(staff, day)) == n
    with django_assert_num_queries(1):
        assert len(s.holiday_source(staff, D(2026, 9, 30))) == 1
    with django_assert_num_queries(0):
        assert s.holiday_source(staff, D(2026, 3, 10)) == []
    with django_assert_num_queries(1):
        assert len(s.solar_term_source(staff, D(2026, 4, 5))) == 1
    with django_assert_num_queries(0):
        assert s.solar_term_source(staff, D(2026, 4, 6)) == []


def test_greeting_windows_cover_uncovered_years_by_weekends(cast):
    last = calendar.holiday_coverage()[1]
    festival = next(f for f in calendar.festivals(last + 1) if f.name == "国庆节")
    first, end = calendar.greeting_window(festival)
    assert end == festival.day
    assert first < festival.day
    assert calendar.window_is_guessed(festival)
    assert not calendar.window_is_guessed(
        next(f for f in calendar.festivals(last) if f.name == "国庆节")
    )


def test_a_holiday_item_in_a_year_without_holiday_data_says_so(cast):
    """1 January of the first year past the holiday data (2027 with chinesecalendar 1.11):
    the item is there, and its reason says the days off are not known."""
    customer_of(cast.consultant, name="甲")
    first_year, last = calendar.holiday_coverage()
    new_year = D(last + 1, 1, 1)
    (item,) = s.holiday_source(cast.consultant, new_year - datetime.timedelta(days=1))
    assert (item.kind, item.customer, item.due) == ("holiday", None, new_year)
    assert item.reason == (
        f"元旦 is on {new_year.isoformat()}: send the greeting to your 1 customers. "
        f"The holiday data does not cover {last + 1} (it covers {first_year}-{last}): the "
        "days off are not known, so this reminder counts weekends only. Check the "
        "official arrangement."
    )
    # A covered year's item says nothing of the kind.
    (covered,) = s.holiday_source(cast.consultant, D(last, 10, 1))
    assert "does not cover" not in covered.reason

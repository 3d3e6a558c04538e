"""Partial dates: a year, a month, a day or unknown; comparisons answer True, False or None."""

from __future__ import annotations

from datetime import date

import pytest

from events.dates import PartialDate, Period, all_of


def d(text: str) -> PartialDate:
    return PartialDate.parse(text)


@pytest.mark.parametrize("text", ["2006", "2009-05", "2020-12-01", "unknown", "2024-02-29"])
def test_text_round_trips(text: str) -> None:
    assert str(d(text)) == text


@pytest.mark.parametrize("text", ["2009-13", "2023-02-29", "09-05", "May 2009", "", "2009-5"])
def test_impossible_or_misspelt_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="date"):
        d(text)


def test_precision_and_span() -> None:
    assert d("2006").precision == "year"
    assert (d("2009-05").earliest, d("2009-05").latest) == (date(2009, 5, 1), date(2009, 5, 31))
    assert d("2024-02").latest == date(2024, 2, 29)
    assert d("2020-12-01").precision == "day"
    assert not d("unknown").known


def test_a_day_needs_a_month_and_a_month_a_year() -> None:
    with pytest.raises(ValueError, match="needs a month"):
        PartialDate(2020, None, 1)
    with pytest.raises(ValueError, match="needs a year"):
        PartialDate(None, 5)


@pytest.mark.parametrize(
    ("first", "second", "answer"),
    [
        ("2005", "2006", True),
        ("2006", "2006", None),
        ("2006", "2006-03", None),
        ("2006-02", "2006-03", True),
        ("2006-03", "2006", None),
        ("2007", "2006", False),
        ("2006-12-31", "2006", False),
        ("2006-01-01", "2006", None),
        ("unknown", "2006", None),
        ("2006", "unknown", None),
    ],
)
def test_before_is_three_valued(first: str, second: str, answer: bool | None) -> None:
    assert d(first).before(d(second)) is answer


def test_on_or_before_and_after_a_day() -> None:
    assert d("2009-05").on_or_before(date(2009, 5, 31)) is True
    assert d("2009-05").on_or_before(date(2009, 5, 15)) is None
    assert d("2009-05").on_or_before(date(2009, 4, 30)) is False
    assert d("2009-05").on_or_after(date(2009, 5, 1)) is True
    assert d("2009-05").on_or_after(date(2009, 6, 1)) is False


def test_a_period_holds_on_a_day_or_cannot_tell() -> None:
    c40 = Period(d("2006"))
    assert c40.holds_on(date(2008, 1, 1)) is True
    assert c40.holds_on(date(2006, 6, 1)) is None
    assert c40.holds_on(date(2005, 12, 31)) is False
    assert Period(d("unknown")).holds_on(date(2020, 1, 1)) is None
    assert Period(d("2006"), d("2010")).holds_on(date(2011, 1, 1)) is False


def test_end_before_start() -> None:
    assert Period(d("2006"), d("2006")).ends_before_start() is None
    assert Period(d("2006"), d("2005")).ends_before_start() is True
    assert Period(d("2006"), d("2007")).ends_before_start() is False
    assert Period(d("2006")).ends_before_start() is False
    assert Period(d("unknown"), d("2005")).ends_before_start() is None


@pytest.mark.parametrize(
    ("first", "second", "answer"),
    [
        (("2006", None), ("2010", None), True),
        (("2006", "2008"), ("2010", None), False),
        (("2006", "2010"), ("2010", None), None),
        (("2006", "2010-03"), ("2010-05", None), False),
        (("unknown", None), ("2010", None), True),
        (("unknown", "2008"), ("2010", None), False),
        (("2006", "unknown"), ("2010", None), None),
    ],
)
def test_overlap_is_three_valued(
    first: tuple[str, str | None], second: tuple[str, str | None], answer: bool | None
) -> None:
    def period(since: str, until: str | None) -> Period:
        return Period(d(since), None if until is None else d(until))

    assert period(*first).overlaps(period(*second)) is answer
    assert period(*second).overlaps(period(*first)) is answer


def test_all_of_is_a_three_valued_and() -> None:
    assert all_of(True, None, False) is False
    assert all_of(True, None) is None
    assert all_of(True, True) is True

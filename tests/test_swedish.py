"""Swedish numbers, dates and periods: what people type is read exactly or refused clearly."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rodtrad.lib.swedish import (
    DateFormatError,
    FormatError,
    NumberFormatError,
    Period,
    PeriodFormatError,
    format_decimal,
    parse_date,
    parse_decimal,
    parse_period,
)

NBSP = "\u00a0"
MINUS = "\u2212"

# Numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,5", "1234.5"),
        ("1\u00a0234,5", "1234.5"),
        ("1\u202f234,5", "1234.5"),
        ("1\u2009234,5", "1234.5"),
        ("1234.5", "1234.5"),
        ("1234,50", "1234.50"),
        ("-12,3", "-12.3"),
        ("\u221212,3", "-12.3"),
        ("+5", "5"),
        (" 7 ", "7"),
        ("\u00a07\t", "7"),
        ("1.234,5", "1234.5"),
        ("1,234.5", "1234.5"),
        ("1.234.567", "1234567"),
        ("1.234.567,89", "1234567.89"),
        ("1,234,567.89", "1234567.89"),
        ("1 234 567", "1234567"),
        ("1,234", "1.234"),  # a lone comma is always decimal
        ("1.234", "1.234"),  # so is a lone dot
        ("12,5 %", "12.5"),
        ("12,5%", "12.5"),
        ("-12,5 %", "-12.5"),
        (",5", "0.5"),
        ("0", "0"),
        ("-0", "0"),
        ("007", "7"),
        ("123456789012345", "123456789012345"),
        ("0,000000000000000001", "0.000000000000000001"),
    ],
)
def test_parse_decimal_accepts(text: str, expected: str) -> None:
    value = parse_decimal(text)
    assert value.as_tuple() == Decimal(expected).as_tuple()  # value, sign and decimals


def test_parse_decimal_keeps_trailing_zeros_and_drops_negative_zero() -> None:
    assert parse_decimal("1234,50").as_tuple().exponent == -2
    assert not parse_decimal("-0,0").is_signed()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12,3,4", "'12,3,4' is not a number: two decimal commas"),
        ("1,2,3,4", "'1,2,3,4' is not a number: three decimal commas"),
        ("1.234.56", "'1.234.56' is not a number: two decimal points"),
        ("1.234,5.6", "'1.234,5.6' is not a number: two decimal points"),
        ("", "'' is not a number: it is empty"),
        ("   ", "'   ' is not a number: it is empty"),
        ("-", "'-' is not a number: there are no digits"),
        ("%", "'%' is not a number: there are no digits"),
        (",", "',' is not a number: there are no digits after the decimal comma"),
        ("5,", "'5,' is not a number: there are no digits after the decimal comma"),
        ("5.", "'5.' is not a number: there are no digits after the decimal point"),
        ("NaN", "'NaN' is not a number: NaN and infinity are not accepted"),
        ("-Infinity", "'-Infinity' is not a number: NaN and infinity are not accepted"),
        ("inf", "'inf' is not a number: NaN and infinity are not accepted"),
        (
            "1e5",
            "'1e5' is not a number: exponents (like 1e5) are not accepted; write the number out",
        ),
        (
            "1,5E-3",
            "'1,5E-3' is not a number: exponents (like 1e5) are not accepted; write the number out",
        ),
        (
            "1234567890123456",
            "'1234567890123456' is not a number: more than 15 significant digits",
        ),
        (
            "0,1234567890123456",
            "'0,1234567890123456' is not a number: more than 15 significant digits",
        ),
        ("1 23", "'1 23' is not a number: spaces must separate groups of three digits"),
        ("12 345 67", "'12 345 67' is not a number: spaces must separate groups of three digits"),
        ("1  234", "'1  234' is not a number: spaces must separate groups of three digits"),
        (
            "1,234 5",
            "'1,234 5' is not a number: spaces are not allowed after the decimal comma",
        ),
        ("1.23,5", "'1.23,5' is not a number: '.' must separate groups of three digits"),
        ("1,2345.6", "'1,2345.6' is not a number: ',' must separate groups of three digits"),
        (
            "1 234.567,5",
            "'1 234.567,5' is not a number: it mixes spaces and '.' as thousands separators",
        ),
        ("- 12", "'- 12' is not a number: a sign must be followed directly by the digits"),
        ("12-", "'12-' is not a number: a sign may only stand first"),
        ("--12", "'--12' is not a number: a sign may only stand first"),
        ("12 %%", "'12 %%' is not a number: a percent sign may only stand last"),
        (
            "1\t234",
            "'1\t234' is not a number: only single spaces between groups of three digits are allowed",
        ),
        ("12 kr", "'12 kr' is not a number: it contains 'k'"),
        ("abc", "'abc' is not a number: it contains 'a'"),
        ("0x1F", "'0x1F' is not a number: it contains 'x'"),
        ("½", "'½' is not a number: it contains '½'"),
        ("١٢", "'١٢' is not a number: it contains '١'"),  # Arabic-Indic digits
        (
            "1" * 60,
            "'" + "1" * 39 + "…' is not a number: more than 15 significant digits",
        ),
    ],
)
def test_parse_decimal_refuses(text: str, message: str) -> None:
    with pytest.raises(NumberFormatError) as caught:
        parse_decimal(text)
    assert str(caught.value) == message


def test_number_error_names_field_and_keeps_details() -> None:
    with pytest.raises(NumberFormatError) as caught:
        parse_decimal("12,3,4", field="Värde")
    error = caught.value
    assert str(error) == "Värde: '12,3,4' is not a number: two decimal commas"
    assert (error.text, error.reason, error.field) == ("12,3,4", "two decimal commas", "Värde")
    assert isinstance(error, FormatError)
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (Decimal("1234.5"), 1, f"1{NBSP}234,5"),
        (Decimal("1234.5"), 2, f"1{NBSP}234,50"),
        (Decimal("1234567.891"), 2, f"1{NBSP}234{NBSP}567,89"),
        (Decimal("-1234.5"), 0, f"{MINUS}1{NBSP}235"),  # half away from zero
        (Decimal("2.5"), 0, "3"),
        (Decimal("0.125"), 2, "0,13"),
        (Decimal("-0.001"), 2, "0,00"),  # no minus on a rounded zero
        (Decimal("999.999"), 2, f"1{NBSP}000,00"),
        (Decimal("12"), 0, "12"),
        (Decimal("1E+3"), 0, f"1{NBSP}000"),
        (-1234.567, 2, f"{MINUS}1{NBSP}234,57"),
        (0.1, 3, "0,100"),
        (1.005, 2, "1,01"),  # floats are taken at their repr, not their binary value
        (1234567, 0, f"1{NBSP}234{NBSP}567"),
        (None, 2, "\u2013"),
    ],
)
def test_format_decimal(value: Decimal | float | None, decimals: int, expected: str) -> None:
    assert format_decimal(value, decimals) == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN"), Decimal("-Inf")])
def test_format_decimal_refuses_non_finite(value: Decimal | float) -> None:
    with pytest.raises(ValueError, match="cannot format"):
        format_decimal(value, 2)


def test_format_decimal_refuses_negative_decimals() -> None:
    with pytest.raises(ValueError, match="decimals must be 0 or more"):
        format_decimal(Decimal(1), -1)


_AMOUNTS = st.decimals(
    min_value=Decimal("-9999999999999.99"),
    max_value=Decimal("9999999999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


@settings(max_examples=200, deadline=None, database=None)
@given(_AMOUNTS)
def test_formatted_decimals_parse_back_equal(value: Decimal) -> None:
    assert parse_decimal(format_decimal(value, 2)) == value


@settings(max_examples=100, deadline=None, database=None)
@given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1), st.integers(0, 2))
def test_formatted_decimals_with_fewer_places_parse_back_equal(units: int, places: int) -> None:
    value = Decimal(units).scaleb(-places)
    assert parse_decimal(format_decimal(value, places)) == value


@settings(max_examples=100, deadline=None, database=None)
@given(_AMOUNTS)
def test_other_groupings_parse_equal(value: Decimal) -> None:
    english = f"{value:,.2f}"  # 1,234,567.89
    swedish = english.translate(str.maketrans(",.", ".,"))  # 1.234.567,89
    spaced = english.replace(",", " ").replace(".", ",")  # 1 234 567,89
    plain = f"{value:.2f}"
    for text in (english, swedish, spaced, plain, plain.replace(".", ",")):
        assert parse_decimal(text) == value, text


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.one_of(
        st.text(),
        st.text(alphabet="0123456789 ,.-+%\u2212\u00a0\u202feE", max_size=25),
    )
)
def test_parse_decimal_raises_only_number_format_error(text: str) -> None:
    try:
        value = parse_decimal(text)
    except NumberFormatError as error:
        assert error.text == text
    else:
        assert value.is_finite()
        assert len(value.as_tuple().digits) <= 15 or value == 0


# Dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-30", date(2026, 4, 30)),
        ("2026-4-3", date(2026, 4, 3)),
        (" 2026-04-30 ", date(2026, 4, 30)),
        ("20260430", date(2026, 4, 30)),
        ("2026-04-30 00:00:00", date(2026, 4, 30)),
        ("2026-04-30 00:00", date(2026, 4, 30)),
        ("2026-04-30T00:00:00.000", date(2026, 4, 30)),
        ("30/4/2026", date(2026, 4, 30)),
        ("01/02/2026", date(2026, 2, 1)),
        ("30.4.2026", date(2026, 4, 30)),
        ("2024-02-29", date(2024, 2, 29)),
    ],
)
def test_parse_date_accepts(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "'' is not a date: it is empty"),
        (
            "30 april 2026",
            "'30 april 2026' is not a date: write it as YYYY-MM-DD, for example 2026-04-30",
        ),
        ("26-04-30", "'26-04-30' is not a date: write it as YYYY-MM-DD, for example 2026-04-30"),
        ("30/4.2026", "'30/4.2026' is not a date: write it as YYYY-MM-DD, for example 2026-04-30"),
        ("46142", "'46142' is not a date: write it as YYYY-MM-DD, for example 2026-04-30"),
        ("2026-02-30", "'2026-02-30' is not a date: February 2026 has 28 days"),
        ("2026-04-31", "'2026-04-31' is not a date: April 2026 has 30 days"),
        ("20260231", "'20260231' is not a date: February 2026 has 28 days"),
        ("2026-13-01", "'2026-13-01' is not a date: there is no month 13"),
        ("2026-00-10", "'2026-00-10' is not a date: there is no month 0"),
        ("0999-01-01", "'0999-01-01' is not a date: year 999 is out of range"),
        (
            "4/30/2026",
            "'4/30/2026' is not a date: there is no month 30; write the day first, as in 30/4/2026",
        ),
        (
            "2026-04-30 13:45",
            "'2026-04-30 13:45' is not a date: it has a time of day; write only the date",
        ),
    ],
)
def test_parse_date_refuses(text: str, message: str) -> None:
    with pytest.raises(DateFormatError) as caught:
        parse_date(text)
    assert str(caught.value) == message


def test_date_error_names_field() -> None:
    with pytest.raises(DateFormatError, match=r"^Datum: 'igår' is not a date"):
        parse_date("igår", field="Datum")


@settings(max_examples=100, deadline=None, database=None)
@given(st.dates(min_value=date(1000, 1, 1)))
def test_dates_round_trip_in_every_format(day: date) -> None:
    assert parse_date(day.isoformat()) == day
    assert parse_date(day.strftime("%Y%m%d")) == day
    assert parse_date(f"{day.day}/{day.month}/{day.year}") == day
    assert parse_date(f"{day.day}.{day.month}.{day.year}") == day


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(st.text(), st.text(alphabet="0123456789-/. :T", max_size=22)))
def test_parse_date_raises_only_date_format_error(text: str) -> None:
    try:
        parse_date(text)
    except DateFormatError as error:
        assert error.text == text


# Periods


@pytest.mark.parametrize(
    ("text", "canonical", "end"),
    [
        ("2026", "2026", date(2026, 12, 31)),
        (" 2026 ", "2026", date(2026, 12, 31)),
        ("2026-04", "2026-04", date(2026, 4, 30)),
        ("2026-4", "2026-04", date(2026, 4, 30)),
        ("202602", "2026-02", date(2026, 2, 28)),
        ("2024-02", "2024-02", date(2024, 2, 29)),
        ("2026 T1", "2026 T1", date(2026, 4, 30)),
        ("2026T2", "2026 T2", date(2026, 8, 31)),
        ("2026-T3", "2026 T3", date(2026, 12, 31)),
        ("2026 t1", "2026 T1", date(2026, 4, 30)),
        ("T1 2026", "2026 T1", date(2026, 4, 30)),
        ("t2\u00a02026", "2026 T2", date(2026, 8, 31)),
        ("2026 H1", "2026 H1", date(2026, 6, 30)),
        ("2026h2", "2026 H2", date(2026, 12, 31)),
        ("H1 2026", "2026 H1", date(2026, 6, 30)),
    ],
)
def test_parse_period_accepts(text: str, canonical: str, end: date) -> None:
    period = parse_period(text)
    assert str(period) == canonical
    assert period.end_date() == end
    assert parse_period(canonical) == period


def test_period_fields_and_start_dates() -> None:
    assert parse_period("2026") == Period(2026, "year", None)
    assert parse_period("2026-04") == Period(2026, "month", 4)
    assert parse_period("2026 T2") == Period(2026, "tertial", 2)
    assert parse_period("2026 H2") == Period(2026, "half", 2)
    assert Period(2026, "tertial", 2).start_date() == date(2026, 5, 1)
    assert Period(2026, "half", 2).start_date() == date(2026, 7, 1)
    assert Period(2026, "year").start_date() == date(2026, 1, 1)
    assert Period(2026, "tertial", 3).start_date() == date(2026, 9, 1)


@pytest.mark.parametrize(
    ("year", "kind", "number"),
    [
        (2026, "month", 13),
        (2026, "tertial", 4),
        (2026, "half", 0),
        (2026, "year", 1),
        (99, "year", None),
        (2026, "week", 1),
        (2026, "month", None),
    ],
)
def test_period_constructor_checks(year: int, kind: str, number: int | None) -> None:
    with pytest.raises(ValueError):
        Period(year, kind, number)  # type: ignore[arg-type]


GUIDE = "write a year (2026), month (2026-04), tertial (2026 T1) or half year (2026 H1)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "'' is not a period: it is empty"),
        (
            "2026 Q1",
            "'2026 Q1' is not a period: quarters are not used; write a tertial (T1–T3) or "
            "half year (H1, H2)",
        ),
        (
            "K2 2026",
            "'K2 2026' is not a period: quarters are not used; write a tertial (T1–T3) or "
            "half year (H1, H2)",
        ),
        ("2026 T4", "'2026 T4' is not a period: there are only three tertials (T1–T3)"),
        ("2026 T0", "'2026 T0' is not a period: there are only three tertials (T1–T3)"),
        ("2026 H3", "'2026 H3' is not a period: there are only two half years (H1, H2)"),
        ("2026 X1", "'2026 X1' is not a period: 'X' is not T (tertial) or H (half year)"),
        ("2026-13", "'2026-13' is not a period: there is no month 13"),
        ("202600", "'202600' is not a period: there is no month 0"),
        ("0999", "'0999' is not a period: year 999 is out of range"),
        ("26", f"'26' is not a period: {GUIDE}"),
        ("april 2026", f"'april 2026' is not a period: {GUIDE}"),
        ("2026 T1 H1", f"'2026 T1 H1' is not a period: {GUIDE}"),
        (
            "2026-04-01",
            f"'2026-04-01' is not a period: it is a date; {GUIDE}. If Excel turned a month "
            "into a date, format the column as text",
        ),
    ],
)
def test_parse_period_refuses(text: str, message: str) -> None:
    with pytest.raises(PeriodFormatError) as caught:
        parse_period(text)
    assert str(caught.value) == message


_PERIODS = st.one_of(
    st.builds(Period, st.integers(1000, 9999), st.just("year")),
    st.builds(Period, st.integers(1000, 9999), st.just("month"), st.integers(1, 12)),
    st.builds(Period, st.integers(1000, 9999), st.just("tertial"), st.integers(1, 3)),
    st.builds(Period, st.integers(1000, 9999), st.just("half"), st.integers(1, 2)),
)


@settings(max_examples=100, deadline=None, database=None)
@given(_PERIODS)
def test_periods_round_trip_and_span_whole_months(period: Period) -> None:
    assert parse_period(str(period)) == period
    assert period.start_date() <= period.end_date()
    assert period.start_date().day == 1
    end = period.end_date()
    assert end.day == calendar.monthrange(end.year, end.month)[1]


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(st.text(), st.text(alphabet="0123456789 -THQKth", max_size=12)))
def test_parse_period_raises_only_period_format_error(text: str) -> None:
    try:
        parse_period(text)
    except PeriodFormatError as error:
        assert error.text == text

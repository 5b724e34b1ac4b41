"""Numbers, dates and periods as Swedish people type them into Excel and CSV files.

Everything here is strict: text is either read exactly or refused with a `FormatError`
(a `ValueError`) whose message is plain English and quotes the text, for example
"'12,3,4' is not a number: two decimal commas". Nothing is guessed silently.

Numbers (`parse_decimal`)
    * Surrounding whitespace is ignored. One sign may lead: "+", "-" or the Unicode minus
      "−" (U+2212). A trailing percent sign, with or without a space before it, is allowed
      and ignored: "12,5 %" is 12.5, not 0.125.
    * Thousands may be grouped with one space, no-break space (U+00A0), narrow no-break
      space (U+202F) or thin space (U+2009) between groups of exactly three digits:
      "1 234 567,5". Spaces are not allowed after the decimal separator.
    * A lone comma is always the decimal separator: "1234,50", "1,234" (= 1.234).
      Two or more commas without a dot are refused ("12,3,4").
    * A lone dot is the decimal separator: "1234.5", "1.234" (= 1.234). Two or more dots
      are thousands grouping when they group digits in threes ("1.234.567" = 1234567),
      otherwise the text is refused.
    * When both a comma and a dot occur, the last one is the decimal separator and the
      other must group the digits before it in threes: "1.234,5" and "1,234.5" are both
      1234.5; "1.23,5" is refused. Only one kind of grouping may be used in one number.
    * Digits are required after a decimal separator ("5," is refused); before it they
      may be left out (",5" is 0.5).
    * Refused: NaN and infinity, exponents ("1e5"), more than 15 significant digits
      (Excel keeps no more), any other character. Significant digits are all digits as
      written except leading zeros: "1 000 000,50" has 9, "0,0012" has 2, and numbers
      from 10^15 on ("1000000000000000") are refused.
    * Negative zero is read as zero.

Dates (`parse_date`)
    "2026-04-30" (ISO; "2026-4-3" too), "20260430" (compact), "30/4/2026" and "30.4.2026"
    (day first, four-digit year). An ISO date may be followed by a midnight time
    ("2026-04-30 00:00:00", also with "T"), which is what spreadsheet programs write for a
    date cell; any other time of day is refused rather than dropped.

Periods (`parse_period`)
    Indicator values are reported per year, month, tertial (four months; T1 = January to
    April) or half year. Accepted: "2026"; "2026-04", "2026-4", "202604"; "2026 T1",
    "2026T1", "2026-T1", "T1 2026"; "2026 H1" and the same variants. Letters may be lower
    case. Quarters ("2026 Q1", "2026 K1") are not used in the steering model and are
    refused with a message saying so. `str(period)` gives the canonical form.

Display (`format_decimal`)
    Swedish style: decimal comma, thousands grouped with a no-break space (U+00A0), the
    Unicode minus (U+2212) and an en dash "–" for a missing value. Rounding is half away
    from zero, as people round by hand. The output reads back with `parse_decimal`.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Literal

MAX_SIGNIFICANT_DIGITS = 15
MINUS = "\u2212"
NBSP = "\u00a0"
MISSING = "\u2013"  # en dash, shown for a missing value

_GROUP_SPACES = " \u00a0\u202f\u2009"
_SIGNS = {"+": "", "-": "-", MINUS: "-"}
_COUNT_WORDS = {2: "two", 3: "three", 4: "four"}
_NUMBER_CHARS = frozenset("0123456789,." + _GROUP_SPACES)
_SPACE_GROUPED = re.compile(r"\d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})+")
_DOT_GROUPED = re.compile(r"\d{1,3}(?:\.\d{3})+")
_COMMA_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+")
_NON_FINITE = frozenset({"nan", "inf", "infinity", "snan", "qnan"})
_EXPONENT = re.compile(r"[0-9.,]+[eE][+\-\u2212]?\d+")

_ISO_DATE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
)
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DAY_FIRST_DATE = re.compile(r"(\d{1,2})([/.])(\d{1,2})\2(\d{4})")

_YEAR = re.compile(r"\d{4}")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})|(\d{4})(\d{2})")
_PART_AFTER = re.compile(r"(\d{4}) ?-? ?([A-Z])(\d+)")
_PART_BEFORE = re.compile(r"([A-Z])(\d+) ?-? ?(\d{4})")

PeriodKind = Literal["year", "month", "tertial", "half"]
_PART_LETTERS: dict[str, PeriodKind] = {"T": "tertial", "H": "half"}
_PARTS_PER_YEAR = {"month": 12, "tertial": 3, "half": 2}
_MONTHS_PER_PART = {"month": 1, "tertial": 4, "half": 6}
_MONTH_NAMES = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class FormatError(ValueError):
    """Text that is not a number, date or period in an accepted format.

    `text` is the refused text, `reason` the plain-English explanation and `field` the
    name of the column or field it came from ("" if not given).
    """

    what = "a value"

    def __init__(self, text: str, reason: str, *, field: str = ""):
        self.text = text
        self.reason = reason
        self.field = field
        prefix = f"{field}: " if field else ""
        super().__init__(f"{prefix}{_quote(text)} is not {self.what}: {reason}")


class NumberFormatError(FormatError):
    what = "a number"


class DateFormatError(FormatError):
    what = "a date"


class PeriodFormatError(FormatError):
    what = "a period"


_Refuse = Callable[[str], FormatError]


def _quote(text: str, limit: int = 40) -> str:
    """The text in single quotes, shortened if long, for an error message."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


# Numbers


def parse_decimal(text: str, *, field: str = "") -> Decimal:
    """Read a number as a Swede types it; see the module docstring for the rules."""

    def refuse(reason: str) -> NumberFormatError:
        return NumberFormatError(text, reason, field=field)

    body = text.strip()
    if not body:
        raise refuse("it is empty")
    if body.endswith("%"):
        body = body[:-1].rstrip()
    sign = ""
    if body[:1] in _SIGNS:
        sign = _SIGNS[body[0]]
        body = body[1:]
        if body[:1].isspace():
            raise refuse("a sign must be followed directly by the digits")
    if not body:
        raise refuse("there are no digits")

    bad = next((char for char in body if char not in _NUMBER_CHARS), None)
    if bad is not None:
        if body.lower() in _NON_FINITE:
            raise refuse("NaN and infinity are not accepted")
        if _EXPONENT.fullmatch(body):
            raise refuse("exponents (like 1e5) are not accepted; write the number out")
        if bad in "+-\u2212":
            raise refuse("a sign may only stand first")
        if bad == "%":
            raise refuse("a percent sign may only stand last")
        if bad.isspace():
            raise refuse("only single spaces between groups of three digits are allowed")
        raise refuse(f"it contains {bad!r}")

    whole, fraction = _split_decimal(body, refuse)
    digits = (whole + fraction).lstrip("0")
    if len(digits) > MAX_SIGNIFICANT_DIGITS:
        raise refuse(f"more than {MAX_SIGNIFICANT_DIGITS} significant digits")
    value = Decimal(f"{sign}{whole or '0'}.{fraction}" if fraction else f"{sign}{whole}")
    return abs(value) if value.is_zero() else value


def _split_decimal(body: str, refuse: _Refuse) -> tuple[str, str]:
    """Split "1 234,5" into plain digit strings ("1234", "5") by the module's rules."""
    commas = body.count(",")
    dots = body.count(".")
    if commas and dots:
        decimal = "," if body.rfind(",") > body.rfind(".") else "."
        grouping = "." if decimal == "," else ","
    elif commas:
        decimal, grouping = ",", ""
    elif dots > 1:
        if _DOT_GROUPED.fullmatch(body):
            return body.replace(".", ""), ""
        decimal, grouping = ".", ""
    elif dots:
        decimal, grouping = ".", ""
    else:
        decimal, grouping = "", ""

    if decimal and body.count(decimal) > 1:
        name = "decimal commas" if decimal == "," else "decimal points"
        count = body.count(decimal)
        raise refuse(f"{_COUNT_WORDS.get(count, str(count))} {name}")
    whole, _, fraction = body.partition(decimal) if decimal else (body, "", "")

    if decimal and not fraction:
        raise refuse(f"there are no digits after the decimal {_separator_name(decimal)}")
    if any(char in _GROUP_SPACES for char in fraction):
        raise refuse(f"spaces are not allowed after the decimal {_separator_name(decimal)}")
    if not whole and not fraction:
        raise refuse("there are no digits")

    if grouping:
        if any(char in _GROUP_SPACES for char in whole):
            raise refuse(f"it mixes spaces and {grouping!r} as thousands separators")
        pattern = _DOT_GROUPED if grouping == "." else _COMMA_GROUPED
        if not pattern.fullmatch(whole):
            raise refuse(f"{grouping!r} must separate groups of three digits")
        whole = whole.replace(grouping, "")
    elif any(char in _GROUP_SPACES for char in whole):
        if not _SPACE_GROUPED.fullmatch(whole):
            raise refuse("spaces must separate groups of three digits")
        whole = "".join(char for char in whole if char.isdigit())
    return whole, fraction


def _separator_name(separator: str) -> str:
    return "comma" if separator == "," else "point"


def format_decimal(value: Decimal | float | None, decimals: int) -> str:
    """Swedish display of a number: "−1 234,50" for -1234.5 with two decimals.

    None gives an en dash. NaN and infinity raise ValueError, as does a negative
    number of decimals. Floats are taken at their shortest repr, so 0.1 is 0.1.
    """
    if value is None:
        return MISSING
    if decimals < 0:
        raise ValueError(f"decimals must be 0 or more, not {decimals}")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"cannot format {value!r} as a number")
    with localcontext() as context:
        context.prec = max(28, number.adjusted() + decimals + 3)
        rounded = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = f"{abs(rounded):,f}"
    whole, _, fraction = text.partition(".")
    out = whole.replace(",", NBSP)
    if fraction:
        out += "," + fraction
    return MINUS + out if rounded < 0 else out


# Dates


def parse_date(text: str, *, field: str = "") -> date:
    """Read a date: "2026-04-30", "20260430", "30/4/2026", "30.4.2026" (see module docs)."""

    def refuse(reason: str) -> DateFormatError:
        return DateFormatError(text, reason, field=field)

    body = text.strip()
    if not body:
        raise refuse("it is empty")
    if match := _ISO_DATE.fullmatch(body):
        year, month, day = (int(part) for part in match.group(1, 2, 3))
        hour, minute, second, fraction = match.group(4, 5, 6, 7)
        if hour is not None and (
            int(hour) or int(minute) or int(second or 0) or int(fraction or 0)
        ):
            raise refuse("it has a time of day; write only the date")
    elif match := _COMPACT_DATE.fullmatch(body):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DAY_FIRST_DATE.fullmatch(body):
        day, month, year = (int(part) for part in match.group(1, 3, 4))
        if month > 12 >= day:
            raise refuse(f"there is no month {month}; write the day first, as in 30/4/2026")
    else:
        raise refuse("write it as YYYY-MM-DD, for example 2026-04-30")
    return _make_date(year, month, day, refuse)


def _make_date(year: int, month: int, day: int, refuse: _Refuse) -> date:
    if year < 1000:
        raise refuse(f"year {year} is out of range")
    if not 1 <= month <= 12:
        raise refuse(f"there is no month {month}")
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise refuse(f"{_MONTH_NAMES[month]} {year} has {days} days")
    return date(year, month, day)


# Periods


@dataclass(frozen=True)
class Period:
    """A reporting period: a year, or month, tertial or half year `number` of a year."""

    year: int
    kind: PeriodKind
    number: int | None = None

    def __post_init__(self) -> None:
        if not 1000 <= self.year <= 9999:
            raise ValueError(f"year {self.year} is out of range")
        if self.kind == "year":
            if self.number is not None:
                raise ValueError("a year period has no number")
            return
        if self.kind not in _PARTS_PER_YEAR:
            raise ValueError(f"unknown period kind {self.kind!r}")
        count = _PARTS_PER_YEAR[self.kind]
        if self.number is None or not 1 <= self.number <= count:
            raise ValueError(f"a {self.kind} number must be 1 to {count}, not {self.number}")

    def _months(self) -> tuple[int, int]:
        if self.kind == "year" or self.number is None:
            return 1, 12
        size = _MONTHS_PER_PART[self.kind]
        return (self.number - 1) * size + 1, self.number * size

    def start_date(self) -> date:
        """The first day of the period."""
        return date(self.year, self._months()[0], 1)

    def end_date(self) -> date:
        """The last day of the period."""
        month = self._months()[1]
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    def __str__(self) -> str:
        if self.kind == "year":
            return str(self.year)
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        return f"{self.year} {'T' if self.kind == 'tertial' else 'H'}{self.number}"


def parse_period(text: str, *, field: str = "") -> Period:
    """Read a period: "2026", "2026-04", "202604", "2026 T1", "T1 2026", "2026 H2"."""

    def refuse(reason: str) -> PeriodFormatError:
        return PeriodFormatError(text, reason, field=field)

    body = " ".join(text.split()).upper()
    if not body:
        raise refuse("it is empty")
    if _YEAR.fullmatch(body):
        return _make_period(int(body), "year", None, refuse)
    if match := _MONTH.fullmatch(body):
        year, month = (int(part) for part in match.groups() if part is not None)
        if not 1 <= month <= 12:
            raise refuse(f"there is no month {month}")
        return _make_period(year, "month", month, refuse)
    if match := _PART_AFTER.fullmatch(body):
        year_text, letter, number = match.groups()
    elif match := _PART_BEFORE.fullmatch(body):
        letter, number, year_text = match.groups()
    else:
        try:
            parse_date(body)
        except DateFormatError:
            pass
        else:
            raise refuse(
                "it is a date; write a year (2026), month (2026-04), tertial (2026 T1) or "
                "half year (2026 H1). If Excel turned a month into a date, format the "
                "column as text"
            )
        raise refuse(
            "write a year (2026), month (2026-04), tertial (2026 T1) or half year (2026 H1)"
        )
    if letter in ("Q", "K"):
        raise refuse("quarters are not used; write a tertial (T1–T3) or half year (H1, H2)")
    if letter not in _PART_LETTERS:
        raise refuse(f"'{letter}' is not T (tertial) or H (half year)")
    kind = _PART_LETTERS[letter]
    count = _PARTS_PER_YEAR[kind]
    if not 1 <= int(number) <= count:
        names = "tertials (T1–T3)" if kind == "tertial" else "half years (H1, H2)"
        raise refuse(f"there are only {'three' if count == 3 else 'two'} {names}")
    return _make_period(int(year_text), kind, int(number), refuse)


def _make_period(year: int, kind: PeriodKind, number: int | None, refuse: _Refuse) -> Period:
    if year < 1000:
        raise refuse(f"year {year} is out of range")
    return Period(year, kind, number)


__all__ = [
    "MAX_SIGNIFICANT_DIGITS",
    "DateFormatError",
    "FormatError",
    "NumberFormatError",
    "Period",
    "PeriodFormatError",
    "format_decimal",
    "parse_date",
    "parse_decimal",
    "parse_period",
]

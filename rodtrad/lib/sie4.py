"""Streaming reader and writer for SIE 4, the Swedish accounting exchange format.

Framework-free: nothing here imports Django, so the importer, the demo generator and the
benchmarks can all use it.

Format rules (SIE filformat, edition 4B)
----------------------------------------
* One record per line: ``#LABEL field field ...``. Lines end in LF or CR LF. Blank lines are
  skipped; a non-blank line that is neither a record nor a voucher brace is an error.
* Fields are separated by spaces or tabs (any Unicode whitespace is accepted). A field holding
  spaces is quoted: ``"Kalle \\"K\\" Anka"``. Inside quotes ``\\"`` stands for ``"`` and ``\\\\``
  for ``\\``; any other backslash is kept as it is.
* ``{...}`` is an object list of ``dimension object`` pairs: ``{}``, ``{1 "3100" 20 "407"}``,
  ``{1 3100}``. Dimensions are integers; object codes are strings. A ``#TRANS`` without any
  object list (older writers) is read as ``{}``.
* ``#VER series number date ["text" [regdate [sign]]]`` is followed by a line ``{``, the
  voucher's ``#TRANS`` rows, and a line ``}``. A voucher must balance (its amounts sum to zero).
  ``#RTRANS``/``#BTRANS`` (added/removed rows) are informational: an ``#RTRANS`` is followed by
  an identical ``#TRANS``, and only the ``#TRANS`` counts.
* Amounts are decimals with a decimal point (a decimal comma is tolerated; so is anything else
  Python's ``Decimal`` reads, such as ``1E+3``), debit positive, credit negative. They must be
  finite and below 10^15 in magnitude, and so must a voucher's running sum; sums are exact (an
  amount too precise to add exactly is an error). Dates are ``YYYYMMDD``, periods ``YYYYMM``.
  Year numbers: ``0`` is the current financial year, ``-1`` the previous one.
* Unknown labels are ignored (and counted in :attr:`SieInfo.ignored`), so is ``#KSUMMA``.
  Fields beyond the ones a record defines are ignored.
* The file should start with ``#FLAGGA`` and declare ``#SIETYP`` 1-4; breaking either of those
  is recorded as a warning, not an error. Vouchers in a file that is not type 4 are a warning.

Encoding rule
-------------
SIE prescribes CP437 (``#FORMAT PC8``) but programs also write UTF-8 and Latin-1. The reader
sniffs the first 64 KiB of the byte stream and picks, in this order:

1. a UTF-8 byte-order mark -> UTF-8 (the mark is dropped);
2. only ASCII bytes -> CP437 (the two agree on ASCII);
3. valid UTF-8 (a multi-byte sequence cut by the 64 KiB boundary is allowed) -> UTF-8. CP437's
   Swedish letters are bytes 0x80-0x9F, which cannot start a UTF-8 sequence, so a real CP437
   file is never mistaken for UTF-8;
4. more Latin-1 Swedish letters (bytes for å ä ö Å Ä Ö é ü ...) than CP437 ones -> Windows-1252
   (undecodable bytes become U+FFFD);
5. otherwise CP437 -- the declared ``#FORMAT`` is not trusted, the bytes decide.

A UTF-8 file that turns out to be invalid after the sniffed part is a (fatal) error naming the
line. ``encoding=`` overrides the rule. A text stream (``read()`` returning ``str``) is used as it
is.

Streaming and the callers' contract
-----------------------------------
:class:`SieReader` (and :func:`iter_records`) yield header records as they are read and each
voucher once its closing ``}`` has been read and it balances, so memory does not grow with the
file: it holds one voucher, the declared accounts, dimensions and objects, and a bounded cache
of row prefixes. :func:`parse` drives the reader and hands vouchers and balances to callbacks.

For speed a voucher's rows are plain tuples (:data:`TransRow`: account, objects, amount, date,
text, quantity); :class:`Trans` is the same tuple with names (``voucher.named``). Rows of the
common form ``#TRANS account {objects} amount`` take a fast path (the ``account {objects}``
prefix is parsed once and cached), and so do ``#PSALDO``/``#PBUDGET`` lines of the common form
``#PSALDO year period account {objects} amount [quantity]`` (the text before the ``{`` and the
object list are parsed once and cached); everything else, including any such line that is the
least unusual, goes through the general tokenizer.

Problems are collected, not raised one at a time: a line with a problem yields nothing and the
reader goes on, so one run reports many problems. After ``max_problems`` (default 50) it stops.
Some checks can only be made at the end (an account used by ``#TRANS`` but never declared by
``#KONTO``, when the file declares accounts at all; an object of an undeclared ``#DIM``; an object
code not declared by ``#OBJEKT`` when that dimension declares objects; an unclosed voucher).
At the end :class:`SieError` is raised if there was any problem.

So **records already handed out may come from a file that turns out to be invalid.** Callers
that write anything must import inside a transaction and roll back on :class:`SieError`::

    with transaction.atomic():
        info = sie4.parse(stream, on_voucher=store_voucher)   # raises SieError -> rollback

A file with any error thus writes nothing. Warnings (:attr:`SieInfo.warnings`) never stop an
import. An empty file, a line over 1 MiB and undecodable bytes are errors too.

The reader switches to its own exact decimal context while it works and gives the caller's
context back whenever it hands out a record.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import (
    Context,
    Decimal,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
    getcontext,
    setcontext,
)
from typing import NamedTuple, Protocol

__all__ = [
    "Balance",
    "Dim",
    "Flagga",
    "Fnamn",
    "Format",
    "Gen",
    "Konto",
    "Kptyp",
    "Ktyp",
    "Objects",
    "Objekt",
    "Orgnr",
    "Period",
    "PeriodBalance",
    "Program",
    "Rar",
    "Record",
    "SieError",
    "SieInfo",
    "SieProblem",
    "SieReader",
    "Sietyp",
    "Trans",
    "TransRow",
    "Underdim",
    "Voucher",
    "format_amount",
    "format_field",
    "format_objects",
    "iter_records",
    "parse",
    "quote",
    "sniff_encoding",
    "write_sie4",
]

# An object list: ((dimension, object code), ...).
Objects = tuple[tuple[int, str], ...]

SNIFF_SIZE = 64 * 1024
CHUNK_SIZE = 1024 * 1024
MAX_PROBLEMS = 50
MAX_LINE = 1024 * 1024
AMOUNT_LIMIT_EXPONENT = 15  # |amount| < 10**15

# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True, slots=True)
class Flagga:
    flag: int


@dataclass(frozen=True, slots=True)
class Program:
    name: str
    version: str = ""


@dataclass(frozen=True, slots=True)
class Format:
    name: str


@dataclass(frozen=True, slots=True)
class Gen:
    date: dt.date
    sign: str = ""


@dataclass(frozen=True, slots=True)
class Sietyp:
    type: int


@dataclass(frozen=True, slots=True)
class Orgnr:
    orgnr: str
    acquisition: str = ""
    activity: str = ""


@dataclass(frozen=True, slots=True)
class Fnamn:
    name: str


@dataclass(frozen=True, slots=True)
class Rar:
    year: int
    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class Kptyp:
    type: str


@dataclass(frozen=True, slots=True)
class Dim:
    number: int
    name: str


@dataclass(frozen=True, slots=True)
class Underdim:
    number: int
    name: str
    parent: int


@dataclass(frozen=True, slots=True)
class Objekt:
    dim: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Konto:
    account: str
    name: str


@dataclass(frozen=True, slots=True)
class Ktyp:
    account: str
    type: str  # T (asset), S (liability), K (cost), I (income)


class Period(NamedTuple):
    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}{self.month:02d}"


@dataclass(frozen=True, slots=True)
class Balance:
    """#IB, #UB or #RES."""

    kind: str
    year: int
    account: str
    amount: Decimal
    quantity: Decimal | None = None
    line: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class PeriodBalance:
    """#PSALDO or #PBUDGET; ``objects == ()`` is the account total."""

    kind: str
    year: int
    period: Period
    account: str
    objects: Objects
    amount: Decimal
    quantity: Decimal | None = None
    line: int = field(default=0, compare=False)


class Trans(NamedTuple):
    """A #TRANS row with names. The reader hands out plain :data:`TransRow` tuples with the
    same layout (for speed); ``Trans._make(row)`` or :attr:`Voucher.named` add the names."""

    account: str
    objects: Objects
    amount: Decimal
    date: dt.date | None = None
    text: str = ""
    quantity: Decimal | None = None


# account, objects, amount, date, text, quantity -- a Trans is a TransRow.
TransRow = tuple[str, Objects, Decimal, dt.date | None, str, Decimal | None]


@dataclass(slots=True)
class Voucher:
    series: str
    number: str
    date: dt.date
    text: str = ""
    regdate: dt.date | None = None
    transactions: list[TransRow] = field(default_factory=list)
    line: int = field(default=0, compare=False)  # the line of #VER

    @property
    def name(self) -> str:
        return _voucher_name(self.series, self.number)

    @property
    def named(self) -> list[Trans]:
        """The transactions as :class:`Trans` (with field names)."""
        return [Trans._make(row) for row in self.transactions]


Record = (
    Flagga
    | Program
    | Format
    | Gen
    | Sietyp
    | Orgnr
    | Fnamn
    | Rar
    | Kptyp
    | Dim
    | Underdim
    | Objekt
    | Konto
    | Ktyp
    | Balance
    | PeriodBalance
    | Voucher
)


# ---------------------------------------------------------------------------------------------
# Problems


@dataclass(frozen=True, slots=True)
class SieProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class SieError(ValueError):
    """The file has one or more problems; ``problems`` lists them in line order."""

    def __init__(self, problems: list[SieProblem], *, stopped: bool = False):
        self.problems = problems
        self.stopped = stopped
        text = "\n".join(str(p) for p in problems)
        if stopped:
            text += f"\nstopped after {len(problems)} problems"
        super().__init__(text)


class _LineError(Exception):
    """A problem with the current line; turned into a SieProblem by the reader."""


@dataclass
class SieInfo:
    """What the header declared, filled in while reading; the counts are set at the end."""

    encoding: str = ""
    flag: int | None = None
    program: Program | None = None
    format: str | None = None
    generated: Gen | None = None
    sie_type: int | None = None
    orgnr: str | None = None
    company: str | None = None
    years: dict[int, Rar] = field(default_factory=dict)
    kptyp: str | None = None
    dims: dict[int, str] = field(default_factory=dict)  # dimension -> name (with sub-dims)
    parent_dims: dict[int, int] = field(default_factory=dict)  # sub-dimension -> parent
    objects: dict[tuple[int, str], str] = field(default_factory=dict)  # (dim, code) -> name
    accounts: dict[str, str] = field(default_factory=dict)  # account -> name
    account_types: dict[str, str] = field(default_factory=dict)
    # Filled by parse() when it is given no on_balance callback:
    balances: list[Balance] = field(default_factory=list)
    period_balances: list[PeriodBalance] = field(default_factory=list)
    voucher_count: int = 0
    transaction_count: int = 0
    line_count: int = 0
    ignored: dict[str, int] = field(default_factory=dict)  # unknown label -> count
    warnings: list[SieProblem] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Tokenizing and field conversion

Field = str | tuple[str, ...]  # a plain field, or the raw items of an object list

_TOKEN_RE = re.compile(r'"((?:[^"\\]|\\.)*)"|([{}])|([^\s"{}]+)|(")', re.S)
_UNESCAPE_RE = re.compile(r'\\(["\\])')
_INT_RE = re.compile(r"[-+]?[0-9]{1,9}")
_BARE_RE = re.compile(r'[^\s"{}\\]+')


def _tokenize(text: str) -> list[Field]:
    """Split a line into fields; an object list becomes a tuple of its raw items."""
    if '"' not in text and "{" not in text and "}" not in text:
        return text.split()  # type: ignore[return-value]  # list[str] is a list[Field]
    fields: list[Field] = []
    group: list[str] | None = None
    for quoted, brace, bare, unterminated in _TOKEN_RE.findall(text):
        if bare:
            token = bare
        elif brace == "{":
            if group is not None:
                raise _LineError("object lists cannot be nested ('{' inside '{...}')")
            group = []
            continue
        elif brace == "}":
            if group is None:
                raise _LineError("'}' without a matching '{'")
            fields.append(tuple(group))
            group = None
            continue
        elif unterminated:
            raise _LineError("unterminated quoted string")
        else:
            token = _UNESCAPE_RE.sub(r"\1", quoted) if "\\" in quoted else quoted
        if group is None:
            fields.append(token)
        else:
            group.append(token)
    if group is not None:
        raise _LineError("object list '{' is not closed by '}'")
    return fields


def _str(
    fields: list[Field],
    i: int,
    label: str,
    what: str,
    *,
    required: bool = False,
    allow_empty: bool = False,
) -> str:
    """Field `i` as text; `required` fields must be present and, unless `allow_empty`, non-empty."""
    if i >= len(fields):
        if required:
            raise _LineError(f"{label}: missing {what}")
        return ""
    value = fields[i]
    if not isinstance(value, str):
        raise _LineError(f"{label}: {what} must not be an object list")
    if required and not value and not allow_empty:
        raise _LineError(f"{label}: {what} is empty")
    return value


def _int(fields: list[Field], i: int, label: str, what: str) -> int:
    text = _str(fields, i, label, what, required=True)
    if not _INT_RE.fullmatch(text):
        raise _LineError(f"{label}: {what} {text!r} is not a whole number")
    return int(text)


_date_cache: dict[str, dt.date] = {}


def _parse_date(text: str) -> dt.date | None:
    found = _date_cache.get(text)
    if found is not None:
        return found
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        return None
    try:
        value = dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None
    if len(_date_cache) > 20_000:
        _date_cache.clear()
    _date_cache[text] = value
    return value


def _date(
    fields: list[Field], i: int, label: str, what: str, *, required: bool = False
) -> dt.date | None:
    text = _str(fields, i, label, what, required=required)
    if not text:
        return None
    value = _parse_date(text)
    if value is None:
        raise _LineError(f"{label}: {what} {text!r} is not a valid date (YYYYMMDD)")
    return value


def _parse_amount(text: str) -> Decimal | None:
    """The amount `text` stands for, or None. Accepts a decimal comma."""
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        if "," not in text or "." in text:
            return None
        try:
            value = Decimal(text.replace(",", "."))
        except (InvalidOperation, ValueError):
            return None
    if not value.is_finite() or value.adjusted() >= AMOUNT_LIMIT_EXPONENT:
        return None
    return value


def _amount(
    fields: list[Field], i: int, label: str, what: str, *, required: bool = True
) -> Decimal | None:
    text = _str(fields, i, label, what, required=required)
    if not text:
        return None
    value = _parse_amount(text)
    if value is None:
        raise _LineError(f"{label}: {what} {text!r} is not a number (or is 10^15 or more)")
    return value


def _objects(value: tuple[str, ...], label: str) -> Objects:
    if len(value) % 2:
        raise _LineError(
            f"{label}: object list needs dimension/object pairs, got {len(value)} items"
        )
    pairs = []
    for k in range(0, len(value), 2):
        dim_text, code = value[k], value[k + 1]
        if not _INT_RE.fullmatch(dim_text):
            raise _LineError(f"{label}: dimension {dim_text!r} in object list is not a number")
        if not code:
            raise _LineError(f"{label}: empty object code for dimension {int(dim_text)}")
        pairs.append((int(dim_text), code))
    return tuple(pairs)


def _period(fields: list[Field], i: int, label: str) -> Period:
    text = _str(fields, i, label, "period", required=True)
    if len(text) == 6 and text.isascii() and text.isdigit():
        year, month = int(text[:4]), int(text[4:])
        if year >= 1 and 1 <= month <= 12:
            return Period(year, month)
    raise _LineError(f"{label}: period {text!r} is not a valid period (YYYYMM)")


def _voucher_name(series: str, number: str) -> str:
    return f"voucher {series} {number}".replace("  ", " ").strip()


# ---------------------------------------------------------------------------------------------
# Encoding

_UTF8_BOM = codecs.BOM_UTF8
_CP437_LETTERS = bytes([0x81, 0x82, 0x84, 0x86, 0x8E, 0x8F, 0x90, 0x94, 0x99, 0x9A])
_LATIN1_LETTERS = bytes([0xC4, 0xC5, 0xC9, 0xD6, 0xDC, 0xE4, 0xE5, 0xE9, 0xF6, 0xFC])


def sniff_encoding(head: bytes, *, complete: bool = False) -> str:
    """The encoding of a SIE file starting with `head` (see the module docstring).

    `complete` says that `head` is the whole file, so a cut UTF-8 sequence at its end is an
    error rather than the sniff boundary.
    """
    if head.startswith(_UTF8_BOM):
        return "utf-8-sig"
    if head.isascii():
        return "cp437"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if not complete and exc.reason == "unexpected end of data" and exc.end == len(head):
            return "utf-8"
    cp437 = sum(head.count(b) for b in _CP437_LETTERS)
    latin1 = sum(head.count(b) for b in _LATIN1_LETTERS)
    if latin1 > cp437:
        return "cp1252"
    return "cp437"


# ---------------------------------------------------------------------------------------------
# Reading


class Readable(Protocol):
    def read(self, size: int, /) -> bytes | str: ...


# Voucher arithmetic runs in this context: exact or an error, whatever the caller's context.
# Emax=14 keeps every amount and running voucher sum below 10^15; prec=60 with Inexact and
# Rounded trapped makes every sum exact or an error.
_CONTEXT = Context(prec=60, Emax=14, Emin=-40, traps=[InvalidOperation, Inexact, Rounded, Overflow])
_SUM_PROBLEM = "#TRANS: the voucher's sum reaches 10^15 or cannot be added up exactly"
_ZERO = Decimal(0)
_CACHE_MAX = 100_000
_KNOWN_IN_VOUCHER = frozenset({"#TRANS", "#RTRANS", "#BTRANS"})
_PERIOD_PREFIXES = ("#PSALDO ", "#PBUDGET ")


class SieReader:
    """Iterate over the records of a SIE file; see the module docstring for the contract.

    ``for record in SieReader(stream): ...`` yields records; ``reader.info`` holds the header
    information gathered so far. Iterating raises :class:`SieError` at the end (or after
    `max_problems` problems) if the file has any problem.
    """

    def __init__(
        self,
        stream: Readable,
        *,
        encoding: str | None = None,
        max_problems: int = MAX_PROBLEMS,
    ):
        self._stream = stream
        self._encoding = encoding
        self.max_problems = max(1, max_problems)
        self.info = SieInfo()
        self.problems: list[SieProblem] = []
        self._used_accounts: dict[str, int] = {}
        self._used_objects: dict[tuple[int, str], int] = {}
        self._dims_with_objects: set[int] = set()
        self._started = False
        self._context = _CONTEXT.copy()  # the reader's own exact context
        # Caches of the #PSALDO/#PBUDGET fast path: the text before '{' -> (kind, year, period,
        # account), and an object list's text (between '{' and '}') -> its objects.
        self._period_heads: dict[str, tuple[str, int, Period, str]] = {}
        self._period_objects: dict[str, Objects] = {}
        self._handlers: dict[str, Callable[[list[Field], int], Record | None]] = {
            "#FLAGGA": self._flagga,
            "#PROGRAM": self._program,
            "#FORMAT": self._format,
            "#GEN": self._gen,
            "#SIETYP": self._sietyp,
            "#ORGNR": self._orgnr,
            "#FNAMN": self._fnamn,
            "#RAR": self._rar,
            "#KPTYP": self._kptyp,
            "#DIM": self._dim,
            "#UNDERDIM": self._underdim,
            "#OBJEKT": self._objekt,
            "#KONTO": self._konto,
            "#KTYP": self._ktyp,
            "#IB": self._balance,
            "#UB": self._balance,
            "#RES": self._balance,
            "#PSALDO": self._period_balance,
            "#PBUDGET": self._period_balance,
            "#KSUMMA": self._ignore,
        }

    def __iter__(self) -> Iterator[Record]:
        if self._started:
            raise RuntimeError("a SieReader can be iterated only once")
        self._started = True
        return self._run()

    # -- problems ---------------------------------------------------------------------------

    def _problem(self, line: int, message: str) -> None:
        self.problems.append(SieProblem(line, message))
        if len(self.problems) >= self.max_problems:
            raise SieError(self._sorted(), stopped=True)

    def _warn(self, line: int, message: str) -> None:
        self.info.warnings.append(SieProblem(line, message))

    def _sorted(self) -> list[SieProblem]:
        return sorted(self.problems, key=lambda p: p.line)

    # -- input ------------------------------------------------------------------------------

    def _lines(self) -> Iterator[list[str]]:
        """The file's lines in batches, without their '\\n'."""
        read = self._stream.read
        data: bytes | str = read(SNIFF_SIZE)
        decode: Callable[[bytes, bool], str] | None = None
        if isinstance(data, bytes):
            if self._encoding:
                encoding, errors = self._encoding, "strict"
            else:
                encoding = sniff_encoding(data, complete=len(data) < SNIFF_SIZE)
                errors = "replace" if encoding == "cp1252" else "strict"
            self.info.encoding = encoding.removesuffix("-sig")
            try:
                decode = codecs.getincrementaldecoder(encoding)(errors).decode
            except LookupError:
                self._problem(0, f"unknown encoding {encoding!r}")
                raise SieError(self._sorted()) from None
        else:
            self.info.encoding = "text"
            data = data.removeprefix("\ufeff")
        carry = ""
        done = 0
        while True:
            final = not data
            if decode is None:
                text = data if isinstance(data, str) else data.decode()
            else:
                assert isinstance(data, bytes)
                try:
                    text = decode(data, final)
                except UnicodeDecodeError as exc:
                    line = done + 1 + data[: max(exc.start, 0)].count(b"\n")
                    self._problem(line, f"the file is not valid {self.info.encoding}: {exc.reason}")
                    raise SieError(self._sorted()) from None
            if carry:
                text = carry + text
            lines = text.split("\n")
            carry = lines.pop()
            if len(carry) > MAX_LINE:
                self._problem(
                    done + len(lines) + 1, f"the line is longer than {MAX_LINE} characters"
                )
                raise SieError(self._sorted())
            if lines:
                done += len(lines)
                yield lines
            if final:
                break
            data = read(CHUNK_SIZE)
        if carry:
            yield [carry]

    # -- the main loop ----------------------------------------------------------------------

    def _run(self) -> Iterator[Record]:  # one flat loop, kept inline for speed
        info = self.info
        problem = self._problem
        handlers = self._handlers
        cache: dict[str, tuple[str, Objects]] = {}
        cache_get = cache.get
        to_decimal = Decimal
        period_quick = self._period_quick

        state = 0  # 0: outside vouchers, 1: after #VER, expecting '{', 2: inside '{...}'
        voucher: Voucher | None = None
        voucher_line = 0
        voucher_ok = False
        trans: list[TransRow] = []
        append = trans.append
        total = _ZERO
        lineno = 0
        first = True
        vouchers = transactions = 0  # stored in info at the end

        # Run in an exact decimal context; give the caller's context back at every yield. After
        # a yield the caller's context stays current until a line needs ours (`active`): the
        # #PSALDO fast path does not (it converts with Decimal(text, mine), which is exact and
        # touches no other context), so a run of such lines switches contexts only once.
        mine = self._context
        caller = getcontext()
        setcontext(mine)
        active = True
        try:
            for lines in self._lines():
                for line in lines:
                    lineno += 1
                    # Fast path: '#TRANS account {objects} amount' inside a voucher (which is
                    # only entered through the general path below, so `mine` is active).
                    if line.startswith("#TRANS ") and state == 2:
                        key, _, tail = line.partition("}")
                        hit = cache_get(key)
                        if hit is not None:
                            try:  # Decimal() drops the whitespace around the amount
                                amount = to_decimal(tail)
                                total += amount
                            except ArithmeticError:  # more fields, a bad amount, overflow
                                pass
                            else:
                                append((hit[0], hit[1], amount, None, "", None))
                                continue
                        else:
                            hit = self._trans_head(key, lineno)
                            if hit is not None:
                                if len(cache) >= _CACHE_MAX:
                                    cache.clear()
                                cache[key] = hit
                        row = self._trans_tail(hit, tail) if hit is not None else None
                        if row is None:
                            row = self._trans_line(line, lineno)
                        if row is None:
                            voucher_ok = False
                            continue
                        try:
                            total += row[2]
                        except ArithmeticError:
                            problem(lineno, _SUM_PROBLEM)
                            voucher_ok = False
                        append(row)
                        continue

                    # Fast path: '#PSALDO year period account {objects} amount [quantity]'.
                    if state == 0 and not first and line.startswith(_PERIOD_PREFIXES):
                        quick_balance = period_quick(line, lineno)
                        if quick_balance is not None:
                            if active:
                                setcontext(caller)
                                active = False
                            yield quick_balance
                            continue
                    if not active:
                        caller = getcontext()
                        setcontext(mine)
                        active = True

                    stripped = line.strip()
                    if not stripped:
                        continue
                    if state == 1 and stripped != "{":
                        problem(lineno, f"expected '{{' after #VER on line {voucher_line}")
                        if stripped.startswith("#VER"):
                            state = 0  # drop the voucher without rows
                        else:
                            state, voucher_ok = 2, False  # go on as if the '{' were there
                    head = stripped[0]
                    if head == "#":
                        quick = None
                        if state == 0 and stripped.startswith("#VER "):
                            quick = self._voucher_quick(stripped, lineno)
                        if quick is not None:
                            label = "#VER"
                        else:
                            try:
                                fields = _tokenize(stripped)
                            except _LineError as exc:
                                problem(lineno, str(exc))
                                if state == 2:
                                    voucher_ok = False
                                continue
                            label = str(fields[0]).upper()
                        if first:
                            first = False
                            if label != "#FLAGGA":
                                self._warn(lineno, "the file should start with #FLAGGA")
                        if label in _KNOWN_IN_VOUCHER:
                            if state != 2:
                                problem(
                                    lineno,
                                    f"{label} outside a voucher (no #VER and '{{' before it)",
                                )
                            elif label == "#TRANS":
                                row = self._trans_fields(fields, lineno)
                                if row is None:
                                    voucher_ok = False
                                else:
                                    try:
                                        total += row[2]
                                    except ArithmeticError:
                                        problem(lineno, _SUM_PROBLEM)
                                        voucher_ok = False
                                    append(row)
                            # #RTRANS and #BTRANS are informational.
                            continue
                        if label == "#VER":
                            if state == 2:
                                name = voucher.name if voucher else "the voucher"
                                problem(
                                    voucher_line,
                                    f"{name} is not closed by '}}' before the #VER on line {lineno}",
                                )
                            voucher = quick if quick is not None else self._voucher(fields, lineno)
                            voucher_line = lineno
                            voucher_ok = voucher is not None
                            trans = voucher.transactions if voucher is not None else []
                            append = trans.append
                            total = _ZERO
                            state = 1
                            continue
                        handler = handlers.get(label)
                        if state == 2:
                            if handler is not None:
                                problem(lineno, f"{label} is not allowed inside a voucher")
                                voucher_ok = False
                            else:
                                info.ignored[label] = info.ignored.get(label, 0) + 1
                            continue
                        if handler is None:
                            if len(info.ignored) < 1000 or label in info.ignored:
                                info.ignored[label] = info.ignored.get(label, 0) + 1
                            continue
                        try:
                            record = handler(fields, lineno)
                        except _LineError as exc:
                            problem(lineno, str(exc))
                            continue
                        if record is not None:
                            setcontext(caller)
                            active = False
                            yield record
                    elif stripped == "}":
                        if state != 2:
                            problem(lineno, "'}' without an open voucher")
                            continue
                        state = 0
                        if voucher is not None and voucher_ok:
                            if total:
                                self._unbalanced(voucher, total)
                            else:
                                vouchers += 1
                                transactions += len(trans)
                                setcontext(caller)
                                active = False
                                yield voucher
                        voucher = None
                    elif stripped == "{":
                        if state == 1:
                            state = 2
                        elif state == 2:
                            problem(lineno, "'{' inside a voucher (is a '}' missing?)")
                            voucher_ok = False
                        else:
                            problem(lineno, "'{' without a #VER before it")
                    else:
                        problem(
                            lineno, "expected a record starting with '#' (or a '{' or '}' line)"
                        )

            if not active:
                caller = getcontext()
                setcontext(mine)
                active = True
            info.line_count = lineno
            info.voucher_count, info.transaction_count = vouchers, transactions
            if first:
                problem(0, "the file holds no SIE records")
            if state:
                name = voucher.name if voucher else "the voucher"
                problem(
                    voucher_line,
                    f"{name} is not closed: the file ends (line {lineno}) before its '}}'"
                    " -- is the file truncated?",
                )
            self._final_checks()
            if self.problems:
                raise SieError(self._sorted())
        finally:
            if active:
                setcontext(caller)

    def _unbalanced(self, voucher: Voucher, total: Decimal) -> None:
        if total.is_finite():
            self._problem(voucher.line, f"{voucher.name} does not balance: sum {total}")
            return
        bad = next((row[2] for row in voucher.transactions if not row[2].is_finite()), total)
        self._problem(voucher.line, f"{voucher.name}: #TRANS amount {bad} is not a number")

    def _final_checks(self) -> None:
        info = self.info
        if info.accounts:
            for account, line in self._used_accounts.items():
                if account not in info.accounts:
                    self._problem(line, f"account {account} is not declared by #KONTO")
        reported: set[int] = set()
        for (dim, code), line in self._used_objects.items():
            if dim not in info.dims:
                if dim not in reported:
                    reported.add(dim)
                    self._problem(line, f"dimension {dim} is not declared by #DIM")
            elif dim in self._dims_with_objects and (dim, code) not in info.objects:
                self._problem(
                    line, f"object {code!r} of dimension {dim} is not declared by #OBJEKT"
                )
        if info.sie_type is None:
            self._warn(0, "the file has no #SIETYP")
        elif info.voucher_count and info.sie_type != 4:
            self._warn(0, f"the file declares #SIETYP {info.sie_type} but contains vouchers")

    # -- usage ------------------------------------------------------------------------------

    def _use(self, account: str, objects: Objects, line: int) -> None:
        if account not in self._used_accounts:
            self._used_accounts[account] = line
        for pair in objects:
            if pair not in self._used_objects:
                self._used_objects[pair] = line

    # -- #TRANS -----------------------------------------------------------------------------

    def _trans_head(self, key: str, line: int) -> tuple[str, Objects] | None:
        """Account and objects from '#TRANS account {objects' (cached by the caller)."""
        try:
            fields = _tokenize(key + "}")
            if len(fields) != 3 or not isinstance(fields[2], tuple):
                return None
            account = _str(fields, 1, "#TRANS", "account", required=True)
            objects = _objects(fields[2], "#TRANS")
        except _LineError:
            return None
        self._use(account, objects, line)
        return account, objects

    def _trans_tail(self, head: tuple[str, Objects], tail: str) -> TransRow | None:
        """The #TRANS from a cached head and the rest of the line; None: use the full path."""
        try:
            fields = _tokenize(tail)
            return self._trans_rest(head[0], head[1], fields, 0)
        except _LineError:
            return None

    def _trans_line(self, line: str, lineno: int) -> TransRow | None:
        try:
            fields = _tokenize(line.strip())
        except _LineError as exc:
            self._problem(lineno, str(exc))
            return None
        return self._trans_fields(fields, lineno)

    def _trans_fields(self, fields: list[Field], lineno: int) -> TransRow | None:
        try:
            account = _str(fields, 1, "#TRANS", "account", required=True)
            if len(fields) > 2 and isinstance(fields[2], tuple):
                objects, rest = _objects(fields[2], "#TRANS"), 3
            else:  # tolerated: no object list at all
                objects, rest = (), 2
            trans = self._trans_rest(account, objects, fields, rest)
        except _LineError as exc:
            self._problem(lineno, str(exc))
            return None
        self._use(account, objects, lineno)
        return trans

    @staticmethod
    def _trans_rest(account: str, objects: Objects, fields: list[Field], i: int) -> TransRow:
        amount = _amount(fields, i, "#TRANS", "amount")
        assert amount is not None
        when = _date(fields, i + 1, "#TRANS", "transaction date")
        text = _str(fields, i + 2, "#TRANS", "text")
        quantity = _amount(fields, i + 3, "#TRANS", "quantity", required=False)
        return (account, objects, amount, when, text, quantity)

    # -- #PSALDO / #PBUDGET fast path ------------------------------------------------------

    def _period_quick(self, line: str, lineno: int) -> PeriodBalance | None:
        """'#PSALDO year period account {objects} amount [quantity]' with quotes only inside
        the object list, else None (the general path then reads the line, and reports any
        problem). The head and the object list are parsed once and cached by their text."""
        head_text, brace, rest = line.partition("{")
        if not brace:
            return None
        head = self._period_heads.get(head_text)
        if head is None:
            head = self._period_head(head_text)
            if head is None:
                return None
        objects_text, brace, tail = rest.partition("}")
        if not brace or '"' in tail or "{" in tail or "}" in tail:
            return None
        objects = self._period_objects.get(objects_text)
        known = objects is not None
        if objects is None:
            objects = self._period_object_list(objects_text)
            if objects is None:
                return None
        parts = tail.split()
        if not parts:
            return None
        try:  # the same rules as _parse_amount; anything unusual takes the general path
            context = self._context  # the caller's context may be the current one
            amount = Decimal(parts[0], context)
            quantity = Decimal(parts[1], context) if len(parts) > 1 else None
        except (ArithmeticError, ValueError):
            return None
        if not amount.is_finite() or amount.adjusted() >= AMOUNT_LIMIT_EXPONENT:
            return None
        if quantity is not None and (
            not quantity.is_finite() or quantity.adjusted() >= AMOUNT_LIMIT_EXPONENT
        ):
            return None
        kind, year, period, account = head
        if account not in self._used_accounts:
            self._used_accounts[account] = lineno
        if not known:  # registered (and cached) only once a whole line has been read
            for pair in objects:
                if pair not in self._used_objects:
                    self._used_objects[pair] = lineno
            if len(self._period_objects) >= _CACHE_MAX:
                self._period_objects.clear()
            self._period_objects[objects_text] = objects
        # The generated frozen __init__ is slow (object.__setattr__ per field): set the slots.
        record = _new_object(PeriodBalance)
        _pb_kind(record, kind)
        _pb_year(record, year)
        _pb_period(record, period)
        _pb_account(record, account)
        _pb_objects(record, objects)
        _pb_amount(record, amount)
        _pb_quantity(record, quantity)
        _pb_line(record, lineno)
        return record

    def _period_head(self, text: str) -> tuple[str, int, Period, str] | None:
        if '"' in text or "}" in text:
            return None
        fields: list[Field] = text.split()  # type: ignore[assignment]
        if len(fields) != 4:
            return None
        label = str(fields[0])
        try:
            year = _int(fields, 1, label, "year number")
            period = _period(fields, 2, label)
        except _LineError:
            return None
        head = (label[1:], year, period, str(fields[3]))
        if len(self._period_heads) >= _CACHE_MAX:
            self._period_heads.clear()
        self._period_heads[text] = head
        return head

    @staticmethod
    def _period_object_list(text: str) -> Objects | None:
        """The objects of '{text}' if it is exactly one valid object list, else None."""
        if "{" in text:
            return None
        try:
            fields = _tokenize("{" + text + "}")
            if len(fields) != 1 or not isinstance(fields[0], tuple):
                return None
            return _objects(fields[0], "#PSALDO")
        except _LineError:
            return None

    # -- #VER -------------------------------------------------------------------------------

    @staticmethod
    def _voucher_quick(text: str, line: int) -> Voucher | None:
        """'#VER series number date "text" [regdate]' without escapes, else None."""
        parts = text.split('"')
        if len(parts) != 3 or "\\" in text or "{" in text or "}" in text:
            return None
        head = parts[0].split()
        tail = parts[2].split()
        if len(head) != 4 or head[0] != "#VER" or len(tail) > 2:
            return None
        when = _date_cache.get(head[3]) or _parse_date(head[3])
        regdate = (_date_cache.get(tail[0]) or _parse_date(tail[0])) if tail else None
        if when is None or (tail and regdate is None):
            return None
        return Voucher(head[1], head[2], when, parts[1], regdate, [], line)

    def _voucher(self, fields: list[Field], line: int) -> Voucher | None:
        try:
            series = _str(fields, 1, "#VER", "series")
            number = _str(fields, 2, "#VER", "voucher number")
            when = _date(fields, 3, "#VER", "voucher date", required=True)
            assert when is not None
            text = _str(fields, 4, "#VER", "text")
            regdate = _date(fields, 5, "#VER", "registration date")
        except _LineError as exc:
            self._problem(line, str(exc))
            return None
        return Voucher(series, number, when, text, regdate, line=line)

    # -- header records ---------------------------------------------------------------------

    def _ignore(self, fields: list[Field], line: int) -> None:
        return None

    def _flagga(self, fields: list[Field], line: int) -> Flagga:
        flag = _int(fields, 1, "#FLAGGA", "flag")
        if flag not in (0, 1):
            raise _LineError(f"#FLAGGA: flag must be 0 or 1, not {flag}")
        self.info.flag = flag
        return Flagga(flag)

    def _program(self, fields: list[Field], line: int) -> Program:
        record = Program(
            _str(fields, 1, "#PROGRAM", "program name", required=True),
            _str(fields, 2, "#PROGRAM", "version"),
        )
        self.info.program = record
        return record

    def _format(self, fields: list[Field], line: int) -> Format:
        name = _str(fields, 1, "#FORMAT", "format", required=True)
        if name.upper() != "PC8":
            self._warn(line, f"#FORMAT {name} is not PC8; the encoding was taken from the bytes")
        self.info.format = name
        return Format(name)

    def _gen(self, fields: list[Field], line: int) -> Gen:
        when = _date(fields, 1, "#GEN", "date", required=True)
        assert when is not None
        record = Gen(when, _str(fields, 2, "#GEN", "signature"))
        self.info.generated = record
        return record

    def _sietyp(self, fields: list[Field], line: int) -> Sietyp:
        kind = _int(fields, 1, "#SIETYP", "type")
        if kind not in (1, 2, 3, 4):
            raise _LineError(f"#SIETYP: type {kind} is not supported (1-4 are)")
        self.info.sie_type = kind
        return Sietyp(kind)

    def _orgnr(self, fields: list[Field], line: int) -> Orgnr:
        record = Orgnr(
            _str(fields, 1, "#ORGNR", "organisation number", required=True),
            _str(fields, 2, "#ORGNR", "acquisition number"),
            _str(fields, 3, "#ORGNR", "activity number"),
        )
        self.info.orgnr = record.orgnr
        return record

    def _fnamn(self, fields: list[Field], line: int) -> Fnamn:
        name = _str(fields, 1, "#FNAMN", "company name", required=True, allow_empty=True)
        self.info.company = name
        return Fnamn(name)

    def _rar(self, fields: list[Field], line: int) -> Rar:
        year = _int(fields, 1, "#RAR", "year number")
        start = _date(fields, 2, "#RAR", "start date", required=True)
        end = _date(fields, 3, "#RAR", "end date", required=True)
        assert start is not None and end is not None
        if end < start:
            raise _LineError(f"#RAR: year {year} ends before it starts")
        record = Rar(year, start, end)
        self.info.years[year] = record
        return record

    def _kptyp(self, fields: list[Field], line: int) -> Kptyp:
        kind = _str(fields, 1, "#KPTYP", "chart type", required=True)
        self.info.kptyp = kind
        return Kptyp(kind)

    def _dim(self, fields: list[Field], line: int) -> Dim:
        number = _int(fields, 1, "#DIM", "dimension number")
        record = Dim(number, _str(fields, 2, "#DIM", "name"))
        self.info.dims[number] = record.name
        return record

    def _underdim(self, fields: list[Field], line: int) -> Underdim:
        number = _int(fields, 1, "#UNDERDIM", "dimension number")
        name = _str(fields, 2, "#UNDERDIM", "name")
        parent = _int(fields, 3, "#UNDERDIM", "parent dimension")
        self.info.dims[number] = name
        self.info.parent_dims[number] = parent
        return Underdim(number, name, parent)

    def _objekt(self, fields: list[Field], line: int) -> Objekt:
        dim = _int(fields, 1, "#OBJEKT", "dimension number")
        code = _str(fields, 2, "#OBJEKT", "object code", required=True)
        record = Objekt(dim, code, _str(fields, 3, "#OBJEKT", "object name"))
        if dim not in self.info.dims:
            self._used_objects.setdefault((dim, code), line)  # reported at the end
        self._dims_with_objects.add(dim)
        self.info.objects[(dim, code)] = record.name
        return record

    def _konto(self, fields: list[Field], line: int) -> Konto:
        record = Konto(
            _str(fields, 1, "#KONTO", "account", required=True),
            _str(fields, 2, "#KONTO", "account name"),
        )
        self.info.accounts[record.account] = record.name
        return record

    def _ktyp(self, fields: list[Field], line: int) -> Ktyp:
        account = _str(fields, 1, "#KTYP", "account", required=True)
        kind = _str(fields, 2, "#KTYP", "account type", required=True).upper()
        if kind not in ("T", "S", "K", "I"):
            raise _LineError(f"#KTYP: account type {kind!r} is not T, S, K or I")
        self._use(account, (), line)
        self.info.account_types[account] = kind
        return Ktyp(account, kind)

    def _balance(self, fields: list[Field], line: int) -> Balance:
        label = str(fields[0]).upper()
        year = _int(fields, 1, label, "year number")
        account = _str(fields, 2, label, "account", required=True)
        amount = _amount(fields, 3, label, "balance")
        assert amount is not None
        quantity = _amount(fields, 4, label, "quantity", required=False)
        self._use(account, (), line)
        return Balance(label[1:], year, account, amount, quantity, line)

    def _period_balance(self, fields: list[Field], line: int) -> PeriodBalance:
        label = str(fields[0]).upper()
        year = _int(fields, 1, label, "year number")
        period = _period(fields, 2, label)
        account = _str(fields, 3, label, "account", required=True)
        if len(fields) < 5:
            raise _LineError(f"{label}: missing object list")
        raw = fields[4]
        if not isinstance(raw, tuple):
            raise _LineError(f"{label}: expected an object list ('{{}}' for none), got {raw!r}")
        objects = _objects(raw, label)
        amount = _amount(fields, 5, label, "balance")
        assert amount is not None
        quantity = _amount(fields, 6, label, "quantity", required=False)
        self._use(account, objects, line)
        return PeriodBalance(label[1:], year, period, account, objects, amount, quantity, line)


# The slot setters of PeriodBalance, for building records without the (slow) frozen __init__;
# the fast path sets every field, so the fields must be exactly these.
_PB_FIELDS = ("kind", "year", "period", "account", "objects", "amount", "quantity", "line")
assert tuple(PeriodBalance.__dataclass_fields__) == _PB_FIELDS
_new_object = object.__new__
(
    _pb_kind,
    _pb_year,
    _pb_period,
    _pb_account,
    _pb_objects,
    _pb_amount,
    _pb_quantity,
    _pb_line,
) = (vars(PeriodBalance)[name].__set__ for name in _PB_FIELDS)


def iter_records(
    stream: Readable, *, encoding: str | None = None, max_problems: int = MAX_PROBLEMS
) -> Iterator[Record]:
    """Yield the records of a SIE file; raises SieError at the end if it had problems."""
    return iter(SieReader(stream, encoding=encoding, max_problems=max_problems))


def parse(
    stream: Readable,
    *,
    on_voucher: Callable[[Voucher], object] | None = None,
    on_balance: Callable[[Balance | PeriodBalance], object] | None = None,
    encoding: str | None = None,
    max_problems: int = MAX_PROBLEMS,
) -> SieInfo:
    """Read a whole SIE file, handing vouchers and balances to the callbacks.

    Without `on_balance`, balances are collected in ``info.balances`` and
    ``info.period_balances``. Without `on_voucher`, vouchers are only checked and counted.
    Raises SieError at the end if the file had any problem -- run the callbacks' writes in a
    transaction and roll back on it. Returns the header information.
    """
    reader = SieReader(stream, encoding=encoding, max_problems=max_problems)
    info = reader.info
    to_balances = on_balance if on_balance is not None else info.balances.append
    to_period_balances = on_balance if on_balance is not None else info.period_balances.append
    for record in reader:
        if type(record) is PeriodBalance:  # the most common record by far
            to_period_balances(record)
        elif isinstance(record, Voucher):
            if on_voucher is not None:
                on_voucher(record)
        elif isinstance(record, Balance):
            to_balances(record)
        elif isinstance(record, PeriodBalance):
            to_period_balances(record)
    return info


# ---------------------------------------------------------------------------------------------
# Writing


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


def quote(text: str) -> str:
    """`text` as a quoted SIE field."""
    if "\n" in text or "\r" in text:
        raise ValueError(f"a SIE field cannot hold a line break: {text!r}")
    if "\\" in text or '"' in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def format_field(text: str) -> str:
    """`text` unquoted when that is safe (account numbers, series ...), else quoted."""
    if _BARE_RE.fullmatch(text) and not text.startswith("#"):
        return text
    return quote(text)


def format_amount(value: Decimal) -> str:
    """A decimal as SIE writes it: a point and at least two decimals, never an exponent."""
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value}")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return f"{value:.2f}" if exponent >= -2 else f"{value:f}"


def format_objects(objects: Objects) -> str:
    return "{" + " ".join(f"{dim} {quote(code)}" for dim, code in objects) + "}"


def _date_text(value: dt.date | None) -> str:
    return value.strftime("%Y%m%d") if value is not None else '""'


def write_sie4(
    stream: Writable,
    *,
    company: str,
    orgnr: str,
    years: Iterable[Rar],
    dims: Iterable[Dim | Underdim] = (),
    objects: Iterable[Objekt] = (),
    accounts: Iterable[Konto] = (),
    balances: Iterable[Balance] = (),
    period_balances: Iterable[PeriodBalance] = (),
    vouchers: Iterable[Voucher] = (),
    encoding: str = "cp437",
    account_types: Iterable[Ktyp] = (),
    program: tuple[str, str] = ("Röd tråd", "1.0"),
    generated: dt.date | None = None,
    sie_type: int = 4,
    kptyp: str | None = None,
    newline: str = "\r\n",
) -> int:
    """Write a SIE 4 file to the binary `stream`; returns the number of lines written.

    The iterables are consumed once, in this order, so vouchers may be a generator. With
    ``encoding="utf-8"`` the file gets a byte-order mark (the reader's rule needs it only for
    robustness). Text that `encoding` cannot hold raises ValueError (UnicodeEncodeError).
    """
    codec = "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding
    encoder = codecs.getincrementalencoder(codec)()
    buffer: list[str] = []
    count = 0

    def out(text: str) -> None:
        nonlocal count
        buffer.append(text)
        buffer.append(newline)
        count += 1
        if len(buffer) >= 4096:
            flush()

    def flush() -> None:
        if buffer:
            stream.write(encoder.encode("".join(buffer)))
            buffer.clear()

    out("#FLAGGA 0")
    out(f"#PROGRAM {quote(program[0])} {format_field(program[1] or '1')}")
    out("#FORMAT PC8")
    out(f"#GEN {_date_text(generated or dt.date.today())}")
    out(f"#SIETYP {sie_type}")
    out(f"#ORGNR {format_field(orgnr)}")
    out(f"#FNAMN {quote(company)}")
    for year in years:
        out(f"#RAR {year.year} {_date_text(year.start)} {_date_text(year.end)}")
    if kptyp:
        out(f"#KPTYP {format_field(kptyp)}")
    for dim in dims:
        if isinstance(dim, Underdim):
            out(f"#UNDERDIM {dim.number} {quote(dim.name)} {dim.parent}")
        else:
            out(f"#DIM {dim.number} {quote(dim.name)}")
    for obj in objects:
        out(f"#OBJEKT {obj.dim} {quote(obj.code)} {quote(obj.name)}")
    for konto in accounts:
        out(f"#KONTO {format_field(konto.account)} {quote(konto.name)}")
    for ktyp in account_types:
        out(f"#KTYP {format_field(ktyp.account)} {ktyp.type}")
    for bal in balances:
        text = f"#{bal.kind} {bal.year} {format_field(bal.account)} {format_amount(bal.amount)}"
        if bal.quantity is not None:
            text += f" {format_amount(bal.quantity)}"
        out(text)
    for pb in period_balances:
        text = (
            f"#{pb.kind} {pb.year} {pb.period} {format_field(pb.account)} "
            f"{format_objects(pb.objects)} {format_amount(pb.amount)}"
        )
        if pb.quantity is not None:
            text += f" {format_amount(pb.quantity)}"
        out(text)
    for ver in vouchers:
        text = f"#VER {format_field(ver.series)} {format_field(ver.number)} {_date_text(ver.date)}"
        text += f" {quote(ver.text)}"
        if ver.regdate is not None:
            text += f" {_date_text(ver.regdate)}"
        out(text)
        out("{")
        for account, objs, amount, when, note, quantity in ver.transactions:
            text = f"#TRANS {format_field(account)} {format_objects(objs)} {format_amount(amount)}"
            if when is not None or note or quantity is not None:
                text += f" {_date_text(when)}"
                if note or quantity is not None:
                    text += f" {quote(note)}"
                    if quantity is not None:
                        text += f" {format_amount(quantity)}"
            out(text)
        out("}")
    flush()
    stream.write(encoder.encode("", final=True))
    return count

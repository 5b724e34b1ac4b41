"""Read an uploaded CSV or XLSX file into rows of strings, safely.

`read_table(data, filename)` returns a `Table`: the headings of the first non-empty row and
every later non-empty row as a `Row(number, cells)`. `number` is the row number a person
sees in Excel, so messages like "row 14: ..." point at the right place. Anything wrong
with the file raises `TableError` (a `ValueError`) with a plain-English message; no other
exception escapes for any input bytes (except MemoryError).

Common rules
    * The file type comes from the extension: ".csv" or ".xlsx" (any case). Anything else
      is refused, and so is content that does not match the extension: a ".xlsx" that is
      not a zip archive, a ".csv" that is binary (contains NUL bytes) or is really a zip.
    * At most `max_bytes` bytes and `max_rows` non-empty data rows, and no row numbered
      beyond 1,048,576 (Excel's last row), even if the rows before it are empty.
    * Headings are normalised into the keys of `Row.cells`: whitespace (including no-break
      spaces) collapsed to single spaces, stripped, lower case. `Table.labels` maps each
      key back to the heading as written, for messages. Two columns with the same key are
      refused. A column without heading is ignored while it is empty; a value in it is
      refused, naming the row.
    * Cells are stripped of surrounding whitespace. Rows whose cells are all empty are
      skipped (they still count for the numbering). Missing cells at the end of a short
      row are "".

CSV
    * Encoding: UTF-8 (with or without BOM); UTF-16 with BOM (Excel's "Unicode text");
      otherwise Windows-1252, which is what Swedish Excel writes for
      "CSV (semikolonavgränsad)". Bytes that fit none of these are refused.
    * Delimiter: ';', ',' or tab. The one that occurs most often in the heading line
      (outside quotes) wins: headings rarely contain commas, while Swedish numbers do. A
      heading line with none of them is a single column. On a tie csv.Sniffer decides
      between the tied ones from the first 50 lines; if it cannot, the first of ';', ','
      and tab among them is used (';' is what Swedish Excel writes).
    * Row numbers are record numbers, counting empty lines, which is what Excel shows
      when it opens the file: a quoted cell spanning three lines is still one row.

XLSX
    * Read with openpyxl in read-only, values-only mode (`data_only=True`: formulas give
      the value Excel last calculated, or "" if the file was never calculated). The first
      worksheet is read unless `sheet` names another.
    * openpyxl parses the XML with defusedxml when it is importable, which protects
      against entity-expansion ("billion laughs") and external-entity attacks. This
      module imports defusedxml and checks `openpyxl.DEFUSEDXML` at import time, so it
      fails loudly rather than parsing untrusted XML unprotected.
    * Zip bombs are refused before openpyxl sees the file: more than 1,000 members or
      more than 100 MB uncompressed in total. zipfile never inflates a member beyond its
      declared size, so the declared sizes are a real bound. The number of cells openpyxl
      may produce is bounded too (a crafted sheet can make every row 16,384 cells wide).
    * Cell values become text that `rodtrad.lib.swedish` reads back exactly (see
      `cell_text`): integers as digits; floats at their shortest repr, written out
      without exponent, integral ones without ".0", and rounded to Excel's 15
      significant digits (so 0.1 + 0.2 is "0.3"); dates and midnight datetimes as
      "2026-04-30"; other datetimes as "2026-04-30 13:45:00"; booleans as
      "TRUE"/"FALSE"; empty cells as "".
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, localcontext

import openpyxl
from defusedxml import DefusedXmlException  # openpyxl uses defusedxml if it can import it
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

if not openpyxl.DEFUSEDXML:  # pragma: no cover - depends on the environment
    raise ImportError(
        "openpyxl is not using defusedxml (is OPENPYXL_DEFUSEDXML set to something other "
        "than True?); refusing to parse uploaded XLSX files without it"
    )

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_ZIP_MEMBERS = 1_000
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_CELLS = 20_000_000
EXCEL_MAX_ROWS = 1_048_576  # row numbers beyond this don't exist in Excel
EXCEL_DIGITS = 15

_SNIFF_LINES = 50
_SNIFF_CHARS = 64 * 1024
_DELIMITERS = ";,\t"
_QUOTED = re.compile(r'"[^"]*"')
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls and password-protected .xlsx
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class TableError(ValueError):
    """The uploaded file cannot be read as a table; the message says why."""


@dataclass(frozen=True)
class Row:
    """One non-empty row: its number as Excel shows it and its cells by heading key."""

    number: int
    cells: dict[str, str]


@dataclass
class Table:
    """Headings (normalised keys, in column order) and the non-empty rows below them."""

    headers: list[str]
    rows: list[Row]
    labels: dict[str, str] = field(default_factory=dict)
    header_row: int = 1

    def label(self, key: str) -> str:
        """The heading as written in the file, for messages."""
        return self.labels.get(key, key)


def normalise_header(text: str) -> str:
    """ "  Värde\u00a0(kr) " -> "värde (kr)"."""
    return " ".join(text.split()).lower()


def read_table(
    data: bytes,
    filename: str,
    *,
    sheet: str | None = None,
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_BYTES,
) -> Table:
    """Read a .csv or .xlsx upload; see the module docstring for the rules."""
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ("csv", "xlsx"):
        if extension in ("xls", "xlsm", "xlsb", "ods", "numbers"):
            raise TableError(
                f"{name}: .{extension} files cannot be read; save the file as .xlsx or CSV"
            )
        raise TableError(f"{name}: only .csv and .xlsx files can be read")
    if len(data) > max_bytes:
        raise TableError(
            f"{name}: the file is {_megabytes(len(data))}; the limit is {_megabytes(max_bytes)}"
        )
    if not data:
        raise TableError(f"{name}: the file is empty")
    builder = _Builder(name, max_rows)
    if extension == "csv":
        _read_csv(data, builder)
    else:
        _read_xlsx(data, builder, sheet)
    return builder.table()


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):.1f} MB"


class _Builder:
    """Turns raw rows (lists of strings, numbered) into a Table, enforcing the rules."""

    def __init__(self, name: str, max_rows: int):
        self.name = name
        self.max_rows = max_rows
        self.keys: list[str] | None = None
        self.labels: dict[str, str] = {}
        self.header_row = 0
        self.rows: list[Row] = []
        self.columns: list[tuple[int, str]] = []  # (position, key) of headed columns
        self.unheaded: list[int] = []  # positions without heading, left of the last heading
        self.width = 0

    def error(self, message: str) -> TableError:
        return TableError(f"{self.name}: {message}")

    def add(self, number: int, values: list[str]) -> None:
        """Take one raw row; `values` are already stripped strings."""
        if not any(values):
            return
        if self.keys is None:
            self._set_headers(number, values)
            return
        if len(values) > self.width:
            for position in range(self.width, len(values)):
                if values[position]:
                    raise self._unheaded_value(number, position, values[position])
        else:
            values = values + [""] * (self.width - len(values))
        for position in self.unheaded:
            if values[position]:
                raise self._unheaded_value(number, position, values[position])
        if len(self.rows) >= self.max_rows:
            raise self.error(f"more than {self.max_rows:,} rows; the limit is {self.max_rows:,}")
        self.rows.append(Row(number, {key: values[pos] for pos, key in self.columns}))

    def _unheaded_value(self, number: int, position: int, value: str) -> TableError:
        return self.error(
            f"row {number}, column {_column_name(position)}: there is a value "
            f"({value[:40]!r}) in a column without heading"
        )

    def _set_headers(self, number: int, values: list[str]) -> None:
        keys: list[str] = []
        seen: dict[str, int] = {}
        for position, label in enumerate(values):
            key = normalise_header(label)
            if not key:
                self.unheaded.append(position)
                continue
            if key in seen:
                raise self.error(
                    f"the heading {label!r} appears twice (columns "
                    f"{_column_name(seen[key])} and {_column_name(position)})"
                )
            seen[key] = position
            keys.append(key)
            self.labels[key] = " ".join(label.split())
            self.columns.append((position, key))
        # Columns right of the last heading are checked without padding rows out to them.
        last = max(seen.values())
        self.unheaded = [position for position in self.unheaded if position < last]
        self.width = last + 1
        self.keys = keys
        self.header_row = number

    def table(self) -> Table:
        if self.keys is None:
            raise self.error("there are no rows; the first row must hold the headings")
        return Table(
            headers=self.keys, rows=self.rows, labels=self.labels, header_row=self.header_row
        )


def _column_name(position: int) -> str:
    """0 -> "A", 26 -> "AA": the column letters Excel shows."""
    letters = ""
    number = position + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


# CSV


def _read_csv(data: bytes, builder: _Builder) -> None:
    text = _decode(data, builder)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    number = 0
    try:
        for record in reader:
            number += 1
            if number > EXCEL_MAX_ROWS:
                raise builder.error(f"there are more than {EXCEL_MAX_ROWS:,} rows")
            if record:
                builder.add(number, [cell.strip() for cell in record])
    except csv.Error as error:
        raise builder.error(f"row {number + 1} cannot be read ({error})") from error


def _decode(data: bytes, builder: _Builder) -> str:
    if data.startswith(_UTF16_BOMS):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise builder.error("the file starts like UTF-16 text but is not") from error
    elif data.startswith(_ZIP_MAGIC) or data.startswith(_OLE_MAGIC):
        raise builder.error(
            "this is an Excel workbook, not a CSV file; upload it with the .xlsx extension "
            "or save it as CSV"
        )
    elif b"\x00" in data:
        raise builder.error("this is not a CSV file: it contains binary data")
    elif data.startswith(_UTF8_BOM):
        try:
            text = data[len(_UTF8_BOM) :].decode("utf-8")
        except UnicodeDecodeError as error:
            raise builder.error(
                f"the file says it is UTF-8 but byte {error.start + len(_UTF8_BOM) + 1} is not"
            ) from error
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as error:
                raise builder.error(
                    "the text is neither UTF-8 nor Windows-1252; save it as 'CSV UTF-8' from Excel"
                ) from error
    if "\x00" in text:
        raise builder.error("this is not a CSV file: it contains binary data")
    return text


def _delimiter(text: str) -> str:
    """';', ',' or tab, by the heading line, else csv.Sniffer, else ';'."""
    lines = text[:_SNIFF_CHARS].splitlines()
    heading = next((line for line in lines if line.strip()), "")
    unquoted = _QUOTED.sub("", heading)
    counts = {d: unquoted.count(d) for d in _DELIMITERS}
    most = max(counts.values())
    if most == 0:
        return ";"  # a single column
    tied = [d for d in _DELIMITERS if counts[d] == most]
    if len(tied) == 1:
        return tied[0]
    sample = "\n".join(lines[:_SNIFF_LINES])
    try:
        guess = csv.Sniffer().sniff(sample, delimiters="".join(tied)).delimiter
    except csv.Error:
        return tied[0]
    return guess if guess in tied else tied[0]


# XLSX


def _read_xlsx(data: bytes, builder: _Builder, sheet: str | None) -> None:
    _check_zip(data, builder)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=True, keep_links=False
            )
    except MemoryError:
        raise
    except Exception as error:
        raise builder.error(f"the Excel file cannot be read ({_reason(error)})") from error
    try:
        worksheet = _worksheet(workbook, sheet, builder)
        worksheet.reset_dimensions()  # don't trust (or pad rows to) the stated dimensions
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _read_rows(worksheet, builder)
    finally:
        workbook.close()


def _read_rows(worksheet: ReadOnlyWorksheet, builder: _Builder) -> None:
    rows = worksheet.values  # iter_rows(values_only=True) from row 1, gaps filled with ()
    number = 0
    cells = 0
    while True:
        try:
            values = next(rows, None)
        except MemoryError:
            raise
        except Exception as error:
            raise builder.error(
                f"row {number + 1} of the Excel file cannot be read ({_reason(error)})"
            ) from error
        if values is None:
            return
        number += 1
        if number > EXCEL_MAX_ROWS:
            raise builder.error(f"there are more than {EXCEL_MAX_ROWS:,} rows")
        if values:
            cells += len(values)
            if cells > MAX_CELLS:
                raise builder.error("the sheet is too large to read")
            builder.add(number, [cell_text(value) for value in values])


def _reason(error: BaseException) -> str:
    """The innermost cause of an openpyxl or zipfile error, shortened for a message."""
    seen: set[int] = set()
    while id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, DefusedXmlException):
            return "it contains XML entity or DTD declarations, which are refused for safety"
        cause = error.__cause__ or error.__context__
        if cause is None:
            break
        error = cause
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 120 else text[:119] + "…"


def _check_zip(data: bytes, builder: _Builder) -> None:
    if data.startswith(_OLE_MAGIC):
        raise builder.error(
            "this is an old .xls workbook or a password-protected one; save it as .xlsx "
            "without password"
        )
    if not data.startswith(_ZIP_MAGIC):
        raise builder.error(
            "this is not an Excel .xlsx file (it is not a zip archive); a CSV file must be "
            "named .csv"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except MemoryError:
        raise
    except Exception as error:
        raise builder.error(f"the Excel file is damaged ({_reason(error)})") from error
    if len(members) > MAX_ZIP_MEMBERS:
        raise builder.error(
            f"the Excel file has {len(members):,} parts; at most {MAX_ZIP_MEMBERS:,} are accepted"
        )
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise builder.error(
            f"the Excel file unpacks to {_megabytes(unpacked)}; at most "
            f"{_megabytes(MAX_UNPACKED_BYTES)} is accepted"
        )
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names and "[Content_Types].xml" not in names:
        raise builder.error("this zip archive is not an Excel .xlsx workbook")


def _worksheet(
    workbook: openpyxl.Workbook, sheet: str | None, builder: _Builder
) -> ReadOnlyWorksheet:
    worksheets = [ws for ws in workbook.worksheets if isinstance(ws, ReadOnlyWorksheet)]
    if sheet is None:
        if not worksheets:
            raise builder.error("the workbook has no worksheets")
        return worksheets[0]
    for candidate in worksheets:
        if candidate.title == sheet:
            return candidate
    names = ", ".join(repr(candidate.title) for candidate in worksheets)
    raise builder.error(f"there is no sheet named {sheet!r} (the sheets are {names})")


def cell_text(value: object) -> str:
    """An Excel cell value as text that rodtrad.lib.swedish reads back exactly."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, Decimal):
        return _decimal_text(value) if value.is_finite() else str(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()


def _float_text(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer() and abs(value) < 10**EXCEL_DIGITS:
        return str(int(value))
    number = Decimal(repr(value))
    if len(number.as_tuple().digits) > EXCEL_DIGITS:
        with localcontext() as context:
            context.prec = EXCEL_DIGITS
            number = +number
    return _decimal_text(number)


def _decimal_text(number: Decimal) -> str:
    """Positional notation without exponent or trailing fractional zeros."""
    text = f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text

"""Uploaded CSV and XLSX files: read into numbered rows of strings, or refused with a reason."""

from __future__ import annotations

import contextlib
import io
import re
import struct
import zipfile
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal, localcontext

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rodtrad.lib.swedish import parse_date, parse_decimal, parse_period
from rodtrad.lib.tabular import (
    MAX_ZIP_MEMBERS,
    Row,
    Table,
    TableError,
    cell_text,
    normalise_header,
    read_table,
)

SWEDISH_CSV = (
    "Indikator;Period;Värde\r\n"
    "Andel återvunnet avfall;2026;12,5\r\n"
    "\r\n"
    ";;\r\n"
    "Nöjd medborgarindex;2026 T1;1 234,5\r\n"
    "Ökning i år;2026-04;-3\r\n"
)


def xlsx(*sheets: tuple[str, Sequence[Sequence[object]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for title, rows in sheets:
        worksheet = workbook.create_sheet(title)
        for row in rows:
            worksheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def cells(table: Table) -> list[tuple[int, dict[str, str]]]:
    return [(row.number, row.cells) for row in table.rows]


def refused(data: bytes, filename: str, **options: int) -> str:
    with pytest.raises(TableError) as caught:
        read_table(data, filename, **options)  # type: ignore[arg-type]
    return str(caught.value)


# CSV


EXPECTED_SWEDISH = [
    (2, {"indikator": "Andel återvunnet avfall", "period": "2026", "värde": "12,5"}),
    (5, {"indikator": "Nöjd medborgarindex", "period": "2026 T1", "värde": "1 234,5"}),
    (6, {"indikator": "Ökning i år", "period": "2026-04", "värde": "-3"}),
]


def test_cp1252_semicolon_csv_from_swedish_excel() -> None:
    table = read_table(SWEDISH_CSV.encode("cp1252"), "Indikatorer.csv")
    assert table.headers == ["indikator", "period", "värde"]
    assert table.label("värde") == "Värde"
    assert table.header_row == 1
    assert cells(table) == EXPECTED_SWEDISH


@pytest.mark.parametrize(
    "data",
    [
        SWEDISH_CSV.encode("utf-8"),
        b"\xef\xbb\xbf" + SWEDISH_CSV.encode("utf-8"),
        SWEDISH_CSV.replace("\r\n", "\n").encode("utf-8"),
        "\ufeff".encode("utf-16-le") + SWEDISH_CSV.replace(";", "\t").encode("utf-16-le"),
        SWEDISH_CSV.replace(";", "\t").encode("utf-8"),
    ],
    ids=["utf-8", "utf-8-bom", "lf", "utf-16-tab", "tab"],
)
def test_csv_encodings_and_delimiters(data: bytes) -> None:
    table = read_table(data, "data.CSV")
    assert cells(table) == EXPECTED_SWEDISH


def test_bom_does_not_stick_to_the_first_heading() -> None:
    table = read_table(b"\xef\xbb\xbfIndikator,V\xc3\xa4rde\n\xc3\x85,1\n", "x.csv")
    assert table.headers == ["indikator", "värde"]
    assert cells(table) == [(2, {"indikator": "Å", "värde": "1"})]


def test_comma_csv_with_quoted_decimal_commas() -> None:
    data = 'Indikator,Värde\n"A, del 1","12,5"\nB,7\n'.encode()
    table = read_table(data, "x.csv")
    assert cells(table) == [
        (2, {"indikator": "A, del 1", "värde": "12,5"}),
        (3, {"indikator": "B", "värde": "7"}),
    ]


def test_semicolon_wins_over_decimal_commas_in_data() -> None:
    data = b"Indikator;Period;V\xe4rde\nA;2026;1,5\nB;2026;2,5\n"
    assert [row.cells["värde"] for row in read_table(data, "x.csv").rows] == ["1,5", "2,5"]


def test_delimiter_tie_in_heading_is_settled_by_the_data() -> None:
    data = "Värde, kr;Period\n12,5;2026\n13;2027\n14;2028\n".encode()
    table = read_table(data, "x.csv")
    assert table.headers == ["värde, kr", "period"]
    assert cells(table)[0] == (2, {"värde, kr": "12,5", "period": "2026"})


def test_single_column_csv_keeps_decimal_commas() -> None:
    table = read_table("Värde\n12,5\n1 234,5\n".encode(), "x.csv")
    assert cells(table) == [(2, {"värde": "12,5"}), (3, {"värde": "1 234,5"})]


def test_row_numbers_follow_excel_across_multiline_cells_and_empty_rows() -> None:
    data = (
        "\n"  # row 1 empty: the headings are on row 2
        "Indikator;Kommentar\n"
        'A;"rad ett\nrad två\nrad tre"\n'
        "\n"
        'B;"citat ""inne"""\n'
    ).encode()
    table = read_table(data, "x.csv")
    assert table.header_row == 2
    assert cells(table) == [
        (3, {"indikator": "A", "kommentar": "rad ett\nrad två\nrad tre"}),
        (5, {"indikator": "B", "kommentar": 'citat "inne"'}),
    ]


def test_headings_are_normalised_and_labels_kept() -> None:
    data = "  Indikator ;Värde\u00a0(kr)\t;PERIOD\n A ; 1 ;2026\n".encode()
    table = read_table(data, "x.csv")
    assert table.headers == ["indikator", "värde (kr)", "period"]
    assert table.labels == {
        "indikator": "Indikator",
        "värde (kr)": "Värde (kr)",
        "period": "PERIOD",
    }
    assert table.label("unknown") == "unknown"
    assert table.rows == [Row(2, {"indikator": "A", "värde (kr)": "1", "period": "2026"})]
    assert normalise_header("  Värde\u00a0\u00a0(KR) ") == "värde (kr)"


def test_short_rows_are_padded_and_empty_extra_cells_ignored() -> None:
    data = b"A;B;C;;\n1\n1;2;3;;;;\n;;;\n"
    table = read_table(data, "x.csv")
    assert table.headers == ["a", "b", "c"]
    assert cells(table) == [(2, {"a": "1", "b": "", "c": ""}), (3, {"a": "1", "b": "2", "c": "3"})]


def test_value_in_column_without_heading_is_refused() -> None:
    assert refused(b"A;B\n1;2\n1;2;3\n", "x.csv") == (
        "x.csv: row 3, column C: there is a value ('3') in a column without heading"
    )
    assert refused(b"A;;C\n1;;3\n1;2;3\n", "x.csv") == (
        "x.csv: row 3, column B: there is a value ('2') in a column without heading"
    )


def test_duplicate_headings_are_refused() -> None:
    assert refused("Värde;Period;värde \n".encode(), "x.csv") == (
        "x.csv: the heading 'värde' appears twice (columns A and C)"
    )


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "x.csv", "x.csv: the file is empty"),
        (
            b"\r\n\r\n;;\r\n",
            "x.csv",
            "x.csv: there are no rows; the first row must hold the headings",
        ),
        (b"A;B\x00\n", "x.csv", "x.csv: this is not a CSV file: it contains binary data"),
        (
            zipped({"a": b"b"}),
            "x.csv",
            "x.csv: this is an Excel workbook, not a CSV file; upload it with the .xlsx "
            "extension or save it as CSV",
        ),
        (
            b"\xef\xbb\xbfA;\xe5\n",
            "x.csv",
            "x.csv: the file says it is UTF-8 but byte 6 is not",
        ),
        (
            b"A;B\n\x81\x8d;1\n",
            "x.csv",
            "x.csv: the text is neither UTF-8 nor Windows-1252; save it as 'CSV UTF-8' from Excel",
        ),
        (b"\xff\xfeA\x00\x00\xd8", "x.csv", "x.csv: the file starts like UTF-16 text but is not"),
        (b"A;B\n", "uploads/data.txt", "data.txt: only .csv and .xlsx files can be read"),
        (b"A;B\n", "data", "data: only .csv and .xlsx files can be read"),
        (
            b"A;B\n",
            "C:\\Users\\anna\\data.xls",
            "data.xls: .xls files cannot be read; save the file as .xlsx or CSV",
        ),
    ],
)
def test_unreadable_csv_is_refused(data: bytes, filename: str, message: str) -> None:
    assert refused(data, filename) == message


def test_overlong_cell_is_refused_with_its_row() -> None:
    data = b'A;B\n1;2\n3;"' + b"x" * 200_000 + b'"\n'
    message = refused(data, "x.csv")
    assert message.startswith("x.csv: row 3 cannot be read (field larger than field limit")


def test_limits() -> None:
    data = b"A\n" + b"1\n" * 11
    assert len(read_table(data, "x.csv", max_rows=11).rows) == 11
    assert refused(data, "x.csv", max_rows=10) == "x.csv: more than 10 rows; the limit is 10"
    assert refused(data, "x.csv", max_bytes=10) == (
        "x.csv: the file is 24 bytes; the limit is 10 bytes"
    )
    assert refused(b"x" * (21 * 1024 * 1024), "x.csv") == (
        "x.csv: the file is 21.0 MB; the limit is 20.0 MB"
    )


def test_rows_beyond_excels_last_row_are_refused() -> None:
    data = b"A\n" + b"\n" * (1_048_576 - 1) + b"1\n"  # the 1 is on row 1,048,577
    assert refused(data, "x.csv") == "x.csv: there are more than 1,048,576 rows"


def test_many_rows_read_in_order() -> None:
    body = "".join(f"Indikator {i};2026-{i % 12 + 1:02d};{i},5\n" for i in range(20_000))
    table = read_table(("Indikator;Period;Värde\n" + body).encode(), "x.csv")
    assert len(table.rows) == 20_000
    assert table.rows[-1] == Row(
        20_001, {"indikator": "Indikator 19999", "period": "2026-08", "värde": "19999,5"}
    )


# XLSX


def test_real_xlsx_with_numbers_dates_and_empty_rows() -> None:
    data = xlsx(
        (
            "Blad1",
            [
                ["Indikator", "Period", "Värde", "Datum"],
                ["Andel återvunnet", 2026, 12.5, datetime(2026, 4, 30)],
                [],
                [None, None, None, None],
                ["Nöjdhet", "2026 T1", 1234, date(2026, 1, 1)],
                ["Summa", "2026-04", 0.1 + 0.2, datetime(2026, 4, 30, 13, 45)],
                ["Liten", 202604, -0.0000001, None],
                ["Stor", "2026 H2", 123456789012.25, "2026-12-31"],
            ],
        )
    )
    table = read_table(data, "Indikatorer.XLSX")
    assert table.headers == ["indikator", "period", "värde", "datum"]
    assert table.label("värde") == "Värde"
    assert cells(table) == [
        (
            2,
            {
                "indikator": "Andel återvunnet",
                "period": "2026",
                "värde": "12.5",
                "datum": "2026-04-30",
            },
        ),
        (5, {"indikator": "Nöjdhet", "period": "2026 T1", "värde": "1234", "datum": "2026-01-01"}),
        (
            6,
            {
                "indikator": "Summa",
                "period": "2026-04",
                "värde": "0.3",
                "datum": "2026-04-30 13:45:00",
            },
        ),
        (7, {"indikator": "Liten", "period": "202604", "värde": "-0.0000001", "datum": ""}),
        (
            8,
            {
                "indikator": "Stor",
                "period": "2026 H2",
                "värde": "123456789012.25",
                "datum": "2026-12-31",
            },
        ),
    ]
    values = [parse_decimal(row.cells["värde"]) for row in table.rows]
    assert values == [
        Decimal("12.5"),
        Decimal(1234),
        Decimal("0.3"),
        Decimal("-0.0000001"),
        Decimal("123456789012.25"),
    ]
    assert [str(parse_period(row.cells["period"])) for row in table.rows] == [
        "2026",
        "2026 T1",
        "2026-04",
        "2026-04",
        "2026 H2",
    ]
    assert parse_date(table.rows[0].cells["datum"]) == date(2026, 4, 30)


def test_xlsx_first_sheet_by_default_and_named_sheet_on_request() -> None:
    data = xlsx(("Första", [["A"], [1]]), ("Andra", [["B"], [2]]))
    assert cells(read_table(data, "x.xlsx")) == [(2, {"a": "1"})]
    assert cells(read_table(data, "x.xlsx", sheet="Andra")) == [(2, {"b": "2"})]
    with pytest.raises(TableError) as caught:
        read_table(data, "x.xlsx", sheet="Tredje")
    assert str(caught.value) == (
        "x.xlsx: there is no sheet named 'Tredje' (the sheets are 'Första', 'Andra')"
    )


def test_xlsx_headings_below_empty_rows_and_value_without_heading() -> None:
    data = xlsx(("Blad1", [[], ["", "Värde", None], [None, 5, None], [None, 6, "x"]]))
    with pytest.raises(TableError) as caught:
        read_table(data, "x.xlsx")
    assert str(caught.value) == (
        "x.xlsx: row 4, column C: there is a value ('x') in a column without heading"
    )
    table = read_table(xlsx(("Blad1", [[], ["", "Värde"], [None, 5]])), "x.xlsx")
    assert table.header_row == 2
    assert cells(table) == [(3, {"värde": "5"})]


def with_sheet_xml(data: bytes, sheet_data: str, dimension: str) -> bytes:
    """The workbook with the first sheet's <sheetData> and <dimension> replaced."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    xml = members["xl/worksheets/sheet1.xml"].decode()
    xml = re.sub(r"<dimension ref=\"[^\"]*\" />", f'<dimension ref="{dimension}" />', xml)
    xml = re.sub(r"<sheetData>.*</sheetData>", f"<sheetData>{sheet_data}</sheetData>", xml)
    members["xl/worksheets/sheet1.xml"] = xml.encode()
    return zipped(members)


def test_xlsx_rows_missing_from_the_file_still_count_and_dimensions_are_ignored() -> None:
    sheet_data = (
        '<row r="2"><c r="B2" t="inlineStr"><is><t>Värde</t></is></c></row>'
        '<row r="7"><c r="B7"><v>7</v></c></row>'
        '<row r="12"><c r="B12"><v>12.5</v></c><c r="XFD12" s="0"/></row>'
    )
    # The stated dimension is wrong on purpose: it must neither hide nor pad anything.
    data = with_sheet_xml(xlsx(("Blad1", [["x"]])), sheet_data, "D5:XFD1048576")
    table = read_table(data, "x.xlsx")
    assert table.header_row == 2
    assert cells(table) == [(7, {"värde": "7"}), (12, {"värde": "12.5"})]


def test_xlsx_formula_without_cached_value_reads_as_empty() -> None:
    data = xlsx(("Blad1", [["A", "B"], [1, "=A2*2"]]))
    assert cells(read_table(data, "x.xlsx")) == [(2, {"a": "1", "b": ""})]


def test_xlsx_row_limit() -> None:
    data = xlsx(("Blad1", [["A"], *[[i] for i in range(5)]]))
    assert refused(data, "x.xlsx", max_rows=4) == "x.xlsx: more than 4 rows; the limit is 4"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"Indikator;V\xe4rde\n",
            "x.xlsx: this is not an Excel .xlsx file (it is not a zip archive); a CSV file "
            "must be named .csv",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
            "x.xlsx: this is an old .xls workbook or a password-protected one; save it as "
            ".xlsx without password",
        ),
        (b"PK\x03\x04 truncated", "x.xlsx: the Excel file is damaged (File is not a zip file)"),
        (
            zipped({"content.xml": b"<office/>", "mimetype": b"application/ods"}),
            "x.xlsx: this zip archive is not an Excel .xlsx workbook",
        ),
    ],
)
def test_xlsx_that_is_not_a_workbook_is_refused(data: bytes, message: str) -> None:
    assert refused(data, "x.xlsx") == message


def test_damaged_workbook_is_refused() -> None:
    data = zipped({"[Content_Types].xml": b"<not-xml", "xl/workbook.xml": b"<<<"})
    assert refused(data, "x.xlsx").startswith("x.xlsx: the Excel file cannot be read (")


def test_xml_entity_bomb_is_refused() -> None:
    """openpyxl parses with defusedxml, which refuses entity declarations outright."""
    doctype = (
        b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    original = xlsx(("Blad1", [["A"], ["x"]]))
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    sheet = members["xl/worksheets/sheet1.xml"]
    assert sheet.startswith(b"<worksheet ") and b"<t>x</t>" in sheet
    members["xl/worksheets/sheet1.xml"] = doctype + sheet.replace(b"<t>x</t>", b"<t>&lol2;</t>")
    assert refused(zipped(members), "x.xlsx") == (
        "x.xlsx: the Excel file cannot be read (it contains XML entity or DTD declarations, "
        "which are refused for safety)"
    )


def test_zip_with_too_many_members_is_refused() -> None:
    members = {f"xl/media/image{i}.png": b"" for i in range(MAX_ZIP_MEMBERS + 1)}
    members["[Content_Types].xml"] = b"<Types/>"
    assert refused(zipped(members), "bomb.xlsx") == (
        "bomb.xlsx: the Excel file has 1,002 parts; at most 1,000 are accepted"
    )


def test_zip_that_unpacks_too_large_is_refused() -> None:
    """The declared sizes are summed; zipfile never inflates a member beyond its size."""
    data = bytearray(zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<w/>"}))
    # Declare 60 MB for each member in the central directory (uncompressed size at +24).
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:
        data[start + 24 : start + 28] = struct.pack("<I", 60 * 1024 * 1024)
        start += 4
    assert refused(bytes(data), "bomb.xlsx") == (
        "bomb.xlsx: the Excel file unpacks to 120.0 MB; at most 100.0 MB is accepted"
    )


# Cell values


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("  text\u00a0", "text"),
        (True, "TRUE"),
        (False, "FALSE"),
        (0, "0"),
        (-42, "-42"),
        (10**18, "1000000000000000000"),
        (5.0, "5"),
        (-0.0, "0"),
        (12.5, "12.5"),
        (0.1 + 0.2, "0.3"),
        (1e-7, "0.0000001"),
        (123456789.123456789, "123456789.123457"),
        (1e20, "100000000000000000000"),
        (float("nan"), "nan"),
        (Decimal("1234.50"), "1234.5"),
        (Decimal("1E+3"), "1000"),
        (datetime(2026, 4, 30), "2026-04-30"),
        (datetime(2026, 4, 30, 0, 0, 1), "2026-04-30 00:00:01"),
        (date(2026, 4, 30), "2026-04-30"),
        (time(13, 45), "13:45:00"),
    ],
)
def test_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.floats(min_value=-999_999_999_999_999.0, max_value=999_999_999_999_999.0).filter(
        lambda number: number == 0 or abs(number) >= 1e-12
    )
)
def test_float_cells_read_back_exactly(number: float) -> None:
    """Exactly: the number at its shortest repr, or rounded to Excel's 15 digits.

    (From 10**15 on, numbers have more digits than parse_decimal accepts.)
    """
    with localcontext() as context:
        context.prec = 15
        expected = +Decimal(repr(number))
    assert parse_decimal(cell_text(number)) == expected


@settings(max_examples=100, deadline=None, database=None)
@given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1))
def test_int_cells_read_back_exactly(number: int) -> None:
    assert parse_decimal(cell_text(number)) == number


# Arbitrary input


@settings(max_examples=250, deadline=None, database=None)
@given(
    st.one_of(
        st.binary(max_size=400),
        st.binary(max_size=400).map(lambda tail: b"PK\x03\x04" + tail),
        st.text(alphabet=';,\t"\r\n aåÅ1\x00', max_size=200).map(str.encode),
        st.text(max_size=100).map(lambda text: text.encode("utf-16")),
    ),
    st.sampled_from(["x.csv", "x.xlsx"]),
)
def test_read_table_raises_only_table_error(data: bytes, filename: str) -> None:
    try:
        table = read_table(data, filename)
    except TableError as error:
        assert str(error).startswith(f"{filename}: ")
    else:
        assert all(set(row.cells) == set(table.headers) for row in table.rows)


_BASE_XLSX = xlsx(("Blad1", [["Indikator", "Värde"], ["A", 1.5], ["B", datetime(2026, 1, 1)]]))


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(st.integers(0, len(_BASE_XLSX) - 1), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    ),
    st.integers(100, len(_BASE_XLSX)),
)
def test_damaged_xlsx_raises_only_table_error(changes: list[tuple[int, int]], length: int) -> None:
    data = bytearray(_BASE_XLSX)
    for position, byte in changes:
        data[position] = byte
    with contextlib.suppress(TableError):
        read_table(bytes(data[:length]), "x.xlsx")

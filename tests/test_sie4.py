"""The SIE 4 reader, writer and ledger generator (rodtrad.lib.sie4, rodtrad.lib.sie4_generate)."""

from __future__ import annotations

import codecs
import datetime as dt
import io
from collections.abc import Mapping
from decimal import Context, Decimal, InvalidOperation, getcontext, localcontext, setcontext
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rodtrad.lib import sie4
from rodtrad.lib.sie4 import (
    Balance,
    Dim,
    Konto,
    Objekt,
    Period,
    PeriodBalance,
    Rar,
    SieError,
    Trans,
    Voucher,
)
from rodtrad.lib.sie4_generate import LedgerSummary, generate_municipal_ledger

# The example of the reference notes (section 4.3), verbatim.
EXAMPLE = """\
#FLAGGA 0
#PROGRAM "Exempelsystem" 1.0
#FORMAT PC8
#GEN 20250131
#SIETYP 4
#ORGNR 212000-0000
#FNAMN "Exempels kommun"
#RAR 0 20250101 20251231
#RAR -1 20240101 20241231
#KPTYP "Kommun-Bas 20"
#DIM 1 "Ansvar"
#DIM 20 "Verksamhet"
#OBJEKT 1 "3100" "Barn- och utbildningsnämnden"
#OBJEKT 20 "407" "Grundskola"
#KONTO 3110 "Taxor och avgifter"
#KONTO 5111 "Månadsavlönade"
#KONTO 1930 "Bank"
#IB 0 1930 12500000.00
#UB 0 1930 11800000.00
#RES 0 5111 48250000.00
#PSALDO 0 202501 5111 {} 4020000.00
#PSALDO 0 202501 5111 {1 "3100" 20 "407"} 2810000.00
#VER A 1 20250115 "Löner januari" 20250116
{
#TRANS 5111 {1 "3100" 20 "407"} 2810000.00
#TRANS 1930 {} -2810000.00
}
"""

# A short header for the edge cases: 11 lines, so the body starts on line 12.
HEADER = """\
#FLAGGA 0
#PROGRAM "Test" 1.0
#FORMAT PC8
#GEN 20250131
#SIETYP 4
#FNAMN "Testkommun"
#RAR 0 20250101 20251231
#DIM 1 "Ansvar"
#OBJEKT 1 "3100" "Skola"
#KONTO 1930 "Bank"
#KONTO 5111 "Löner"
"""
BODY = HEADER.count("\n") + 1  # the first line after the header


def read(
    text: str | bytes, *, encoding: str | None = None, max_problems: int = 50
) -> tuple[sie4.SieInfo, list[sie4.Record]]:
    """Read a file given as text (encoded CP437) or bytes; all records and the header info."""
    data = text.encode("cp437") if isinstance(text, str) else text
    reader = sie4.SieReader(io.BytesIO(data), encoding=encoding, max_problems=max_problems)
    records = list(reader)
    return reader.info, records


def problems(text: str | bytes, *, encoding: str | None = None) -> list[str]:
    """The problems (as 'line N: message') of a file that must fail."""
    with pytest.raises(SieError) as caught:
        read(text, encoding=encoding)
    assert str(caught.value).startswith(str(caught.value.problems[0]))
    return [str(p) for p in caught.value.problems]


def vouchers(records: list[sie4.Record]) -> list[Voucher]:
    return [r for r in records if isinstance(r, Voucher)]


# ---------------------------------------------------------------------------------------------
# The reference example and edge cases


def test_reference_example_parses() -> None:
    info, records = read(EXAMPLE)
    assert info.encoding == "cp437"
    assert info.company == "Exempels kommun"
    assert info.orgnr == "212000-0000"
    assert info.sie_type == 4
    assert info.kptyp == "Kommun-Bas 20"
    assert info.years[0] == Rar(0, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert info.years[-1].start == dt.date(2024, 1, 1)
    assert info.dims == {1: "Ansvar", 20: "Verksamhet"}
    assert info.objects == {(1, "3100"): "Barn- och utbildningsnämnden", (20, "407"): "Grundskola"}
    assert info.accounts["5111"] == "Månadsavlönade"
    assert info.voucher_count == 1 and info.transaction_count == 2
    assert info.warnings == []
    balances = [r for r in records if isinstance(r, Balance)]
    assert balances == [
        Balance("IB", 0, "1930", Decimal("12500000.00")),
        Balance("UB", 0, "1930", Decimal("11800000.00")),
        Balance("RES", 0, "5111", Decimal("48250000.00")),
    ]
    assert balances[0].line == 18
    saldo = [r for r in records if isinstance(r, PeriodBalance)]
    assert saldo[0] == PeriodBalance("PSALDO", 0, Period(2025, 1), "5111", (), Decimal(4020000))
    assert saldo[1].objects == ((1, "3100"), (20, "407"))
    assert str(saldo[1].period) == "202501"
    (voucher,) = vouchers(records)
    assert voucher == Voucher(
        "A",
        "1",
        dt.date(2025, 1, 15),
        "Löner januari",
        dt.date(2025, 1, 16),
        [
            Trans("5111", ((1, "3100"), (20, "407")), Decimal("2810000.00")),
            Trans("1930", (), Decimal("-2810000.00")),
        ],
    )
    assert voucher.line == 23
    assert voucher.named[0].amount == Decimal("2810000.00")
    assert isinstance(voucher.transactions[0][2], Decimal)


def test_parse_collects_balances_and_hands_out_vouchers() -> None:
    got: list[Voucher] = []
    info = sie4.parse(io.BytesIO(EXAMPLE.encode("cp437")), on_voucher=got.append)
    assert [v.series for v in got] == ["A"]
    assert len(info.balances) == 3 and len(info.period_balances) == 2
    seen: list[object] = []
    info = sie4.parse(io.BytesIO(EXAMPLE.encode("cp437")), on_balance=seen.append)
    assert len(seen) == 5 and info.balances == []


def test_quotes_and_backslashes_inside_strings() -> None:
    text = HEADER.replace('"Testkommun"', r'"Kalle \"K\" Anka"') + (
        '#VER A 1 20250115 "Lön \\"extra\\" C:\\\\temp"\n{\n'
        '#TRANS 5111 {1 "3100"} 10.00 20250114 "rad med \'citat\' och \\"dubbla\\""\n'
        "#TRANS 1930 {} -10.00\n}\n"
    )
    info, records = read(text)
    assert info.company == 'Kalle "K" Anka'
    (voucher,) = vouchers(records)
    assert voucher.text == 'Lön "extra" C:\\temp'
    assert voucher.transactions[0][3] == dt.date(2025, 1, 14)
    assert voucher.transactions[0][4] == "rad med 'citat' och \"dubbla\""


def test_object_lists_empty_unquoted_and_spaced() -> None:
    text = HEADER + (
        "#DIM 20 Verksamhet\n"
        "#OBJEKT 20 407 Grundskola\n"
        '#PSALDO 0 202501 5111 { } 5.00\n#PSALDO 0 202501 5111 {1 3100 20 "407"} 5.00\n'
        '#VER A 1 20250115 ""\n{\n'
        "#TRANS 5111 {} 1.00\n"
        "#TRANS 5111 {1 3100} 2.00\n"
        '#TRANS 5111 { 1 "3100"  20 407 } 3.00\n'
        "#TRANS 1930 {} -6.00\n}\n"
    )
    info, records = read(text)
    saldo = [r for r in records if isinstance(r, PeriodBalance)]
    assert [s.objects for s in saldo] == [(), ((1, "3100"), (20, "407"))]
    (voucher,) = vouchers(records)
    assert [row[1] for row in voucher.transactions] == [
        (),
        ((1, "3100"),),
        ((1, "3100"), (20, "407")),
        (),
    ]
    assert info.objects[(20, "407")] == "Grundskola"


def test_cp437_letters() -> None:
    data = HEADER.replace("Testkommun", "Åre Älvdalen Öckerö å ä ö é").encode("cp437")
    assert b"\x8f" in data and b"\x94" in data  # Å and ö in CP437
    info, _ = read(data)
    assert info.encoding == "cp437"
    assert info.company == "Åre Älvdalen Öckerö å ä ö é"
    assert info.accounts["5111"] == "Löner"


def test_utf8_with_and_without_bom() -> None:
    text = HEADER.replace("Testkommun", "Åre kommun")
    info, _ = read(codecs.BOM_UTF8 + text.encode("utf-8"))
    assert (info.encoding, info.company) == ("utf-8", "Åre kommun")
    info, _ = read(text.encode("utf-8"))
    assert (info.encoding, info.company) == ("utf-8", "Åre kommun")


def test_latin1_is_recognised_and_encoding_can_be_forced() -> None:
    text = HEADER.replace("Testkommun", "Åre Älvdalen Öckerö")
    info, _ = read(text.encode("latin-1"))
    assert (info.encoding, info.company) == ("cp1252", "Åre Älvdalen Öckerö")
    info, _ = read(text.encode("cp437"), encoding="cp437")
    assert info.company == "Åre Älvdalen Öckerö"


def test_sniffing_rule() -> None:
    assert sie4.sniff_encoding(b"#FLAGGA 0\r\n") == "cp437"
    assert sie4.sniff_encoding(codecs.BOM_UTF8 + b"#FLAGGA 0") == "utf-8-sig"
    assert sie4.sniff_encoding('#FNAMN "Åre"'.encode()) == "utf-8"
    assert sie4.sniff_encoding('#FNAMN "Åre"'.encode("cp437")) == "cp437"
    cut = '#FNAMN "Å"'.encode()[:-2]  # a UTF-8 sequence cut by the sniff boundary
    assert sie4.sniff_encoding(cut) == "utf-8"
    assert sie4.sniff_encoding(cut, complete=True) == "cp437"


def test_invalid_utf8_after_the_sniffed_part_names_the_line() -> None:
    body = '#KONTO 3110 "Taxor"\n' * 5000  # pushes the bad byte past 64 KiB
    data = (HEADER + '#KONTO 4000 "Köp"\n' + body).encode() + b'#KONTO 9 "\xff"\n'
    assert problems(data) == [
        f"line {BODY + 5001}: the file is not valid utf-8: invalid start byte"
    ]


def test_crlf_tabs_and_indented_rows() -> None:
    text = HEADER + (
        '#VER\tA\t1\t20250115\t"Löner"\n{\n'
        '\t#TRANS\t5111\t{1\t"3100"}\t100.00\n'
        "   #TRANS 1930 {}   -100.00   \n}\n"
    )
    info, records = read(text.replace("\n", "\r\n"))
    (voucher,) = vouchers(records)
    assert voucher.text == "Löner"
    assert [row[2] for row in voucher.transactions] == [Decimal(100), Decimal(-100)]
    assert info.line_count == BODY + 4


def test_text_stream_is_accepted() -> None:
    info = sie4.parse(io.StringIO("\ufeff" + EXAMPLE))
    assert (info.encoding, info.voucher_count) == ("text", 1)


def test_decimal_comma_and_optional_fields() -> None:
    text = HEADER + (
        '#VER A 1 20250115 "x" 20250116 "signatur"\n{\n'
        '#TRANS 5111 {} 1,50 "" "" 2,5\n'
        "#TRANS 1930 {} -1.50 20250115\n}\n"
    )
    _, records = read(text)
    (voucher,) = vouchers(records)
    assert voucher.named[0] == Trans("5111", (), Decimal("1.50"), None, "", Decimal("2.5"))
    assert voucher.named[1].date == dt.date(2025, 1, 15)


def test_rtrans_and_btrans_are_not_counted() -> None:
    text = HEADER + (
        '#VER A 1 20250115 "x"\n{\n'
        "#TRANS 5111 {} 10.00\n"
        "#RTRANS 5111 {} 5.00\n"
        "#TRANS 5111 {} 5.00\n"
        "#BTRANS 5111 {} 7.00\n"
        "#TRANS 1930 {} -15.00\n}\n"
    )
    info, records = read(text)
    (voucher,) = vouchers(records)
    assert [row[2] for row in voucher.transactions] == [10, 5, -15]
    assert info.transaction_count == 3


def test_unknown_labels_and_ksumma_are_ignored() -> None:
    text = HEADER + '#PROSA "fritext"\n#FOO {1 2} bar\n#KSUMMA 12345\n#SRU 5111 7513\n'
    info, _ = read(text)
    assert info.ignored == {"#PROSA": 1, "#FOO": 1, "#SRU": 1}


def test_warnings_do_not_stop_the_import() -> None:
    text = EXAMPLE.replace("#FLAGGA 0\n", "").replace("#SIETYP 4", "#SIETYP 2")
    info, records = read(text)
    assert len(vouchers(records)) == 1
    assert [str(w) for w in info.warnings] == [
        "line 1: the file should start with #FLAGGA",
        "the file declares #SIETYP 2 but contains vouchers",
    ]
    info, _ = read(EXAMPLE.replace("#SIETYP 4\n", ""))
    assert [str(w) for w in info.warnings] == ["the file has no #SIETYP"]


def test_callers_decimal_context_is_left_alone() -> None:
    with localcontext() as ctx:
        ctx.prec = 5
        for record in sie4.iter_records(io.BytesIO(EXAMPLE.encode("cp437"))):
            assert getcontext() is ctx
            if isinstance(record, Voucher):
                assert record.transactions[0][2] == Decimal("2810000.00")
        assert getcontext() is ctx


def test_callers_decimal_context_may_change_while_it_holds_a_record() -> None:
    body = "".join(f"#PSALDO 0 2025{m:02d} 5111 {{}} {m}.00\n" for m in range(1, 4))
    data = (HEADER + body + "#IB 0 1930 1.00\n" + body + voucher_text("#TRANS 1930 {} 0")).encode()
    seen = []
    with localcontext() as outer:
        outer.prec = 5
        for _record in sie4.iter_records(io.BytesIO(data)):
            seen.append(getcontext().prec)
            setcontext(Context(prec=len(seen) + 6))  # the next record must see this one
        assert getcontext().prec == len(seen) + 6
    assert seen == [5, *range(7, len(seen) + 6)]
    # A bad amount on the fast path's form leaves no flag in the caller's context.
    with localcontext() as ctx:
        ctx.traps[InvalidOperation] = False
        text = HEADER + "#PSALDO 0 202501 5111 {} 1.00\n#PSALDO 0 202501 5111 {} 1.0.0\n"
        with pytest.raises(SieError):
            for _ in sie4.iter_records(io.BytesIO(text.encode())):
                pass
        assert not ctx.flags[InvalidOperation]


# ---------------------------------------------------------------------------------------------
# Errors: each names the line and the rule


def voucher_text(*rows: str, head: str = '#VER A 17 20250115 "x"') -> str:
    return head + "\n{\n" + "".join(row + "\n" for row in rows) + "}\n"


def test_truncated_file() -> None:
    text = HEADER + voucher_text("#TRANS 5111 {} 1.00", "#TRANS 1930 {} -1.00")
    truncated = text[: text.rindex("}")]
    assert problems(truncated) == [
        f"line {BODY}: voucher A 17 is not closed: the file ends (line {BODY + 3}) "
        "before its '}' -- is the file truncated?"
    ]


def test_unbalanced_voucher() -> None:
    text = HEADER + voucher_text("#TRANS 5111 {} 1.00", "#TRANS 1930 {} -0.50")
    assert problems(text) == [f"line {BODY}: voucher A 17 does not balance: sum 0.50"]


def test_unknown_account() -> None:
    text = HEADER + voucher_text("#TRANS 5111 {} 1.00", "#TRANS 1931 {} -1.00")
    assert problems(text) == [f"line {BODY + 3}: account 1931 is not declared by #KONTO"]
    text = HEADER + "#PSALDO 0 202501 7000 {} 1.00\n"
    assert problems(text) == [f"line {BODY}: account 7000 is not declared by #KONTO"]


def test_accounts_are_not_checked_when_none_are_declared() -> None:
    text = HEADER.replace('#KONTO 1930 "Bank"\n#KONTO 5111 "Löner"\n', "")
    info, _ = read(text + voucher_text("#TRANS 5111 {} 1.00", "#TRANS 1931 {} -1.00"))
    assert info.accounts == {} and info.voucher_count == 1


def test_unknown_dimension_and_object() -> None:
    text = HEADER + voucher_text(
        '#TRANS 5111 {1 "3100"} 1.00',
        '#TRANS 5111 {1 "9999"} 1.00',
        '#TRANS 5111 {6 "P1"} 1.00',
        "#TRANS 1930 {} -3.00",
    )
    assert problems(text) == [
        f"line {BODY + 3}: object '9999' of dimension 1 is not declared by #OBJEKT",
        f"line {BODY + 4}: dimension 6 is not declared by #DIM",
    ]
    # A dimension without any #OBJEKT accepts any object code.
    text = (
        HEADER
        + '#DIM 6 "Projekt"\n'
        + voucher_text('#TRANS 5111 {6 "P1"} 1.00', "#TRANS 1930 {} -1.00")
    )
    assert read(text)[0].voucher_count == 1


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ('#FNAMN "Kalle', 0, "unterminated quoted string"),
        ('#PSALDO 0 202501 5111 {1 "3100" 1.00', 0, "object list '{' is not closed by '}'"),
        ('#PSALDO 0 202501 5111 1 "3100"} 1.00', 0, "'}' without a matching '{'"),
        ('#PSALDO 0 202501 5111 {{1 "3100"}} 1.00', 0, "object lists cannot be nested"),
        ("#PSALDO 0 202501 5111 {1} 1.00", 0, "#PSALDO: object list needs dimension/object"),
        ("#PSALDO 0 202513 5111 {} 1.00", 0, "#PSALDO: period '202513' is not a valid period"),
        ("#PSALDO 0 202501 5111 1.00", 0, "#PSALDO: expected an object list"),
        ("#RAR 0 20250101", 0, "#RAR: missing end date"),
        ("#RAR 0 20250101 20251331", 0, "#RAR: end date '20251331' is not a valid date"),
        ("#IB 0 1930 12,5.0", 0, "#IB: balance '12,5.0' is not a number"),
        ("#IB 0 1930 1,5,5", 0, "#IB: balance '1,5,5' is not a number"),
        ("#IB x 1930 1.00", 0, "#IB: year number 'x' is not a whole number"),
        ("#IB 0 1930 1e20", 0, "#IB: balance '1e20' is not a number (or is 10^15 or more)"),
        ("#SIETYP 5", 0, "#SIETYP: type 5 is not supported (1-4 are)"),
        ("#FLAGGA 2", 0, "#FLAGGA: flag must be 0 or 1, not 2"),
        ("#KTYP 1930 X", 0, "#KTYP: account type 'X' is not T, S, K or I"),
        ("#TRANS 5111 {} 1.00", 0, "#TRANS outside a voucher (no #VER and '{' before it)"),
        ("{", 0, "'{' without a #VER before it"),
        ("}", 0, "'}' without an open voucher"),
        ("KONTO 1930 Bank", 0, "expected a record starting with '#'"),
        (
            voucher_text("#TRANS 5111 {} abc", "#TRANS 1930 {} 0"),
            2,
            "#TRANS: amount 'abc' is not a number",
        ),
        (voucher_text("#TRANS 5111 {}", "#TRANS 1930 {} 0"), 2, "#TRANS: missing amount"),
        (
            voucher_text("#TRANS 5111 {} 1 2025", "#TRANS 1930 {} -1"),
            2,
            "#TRANS: transaction date '2025' is not a valid date",
        ),
        (
            voucher_text('#TRANS 5111 {1 "3100} 1', "#TRANS 1930 {} -1"),
            2,
            "unterminated quoted string",
        ),
        (voucher_text("#KONTO 3000 x"), 2, "#KONTO is not allowed inside a voucher"),
        (
            voucher_text(head="#VER A 17 2025011"),
            0,
            "#VER: voucher date '2025011' is not a valid date",
        ),
        (
            voucher_text(head='#VER A 17 20251301 "x"'),
            0,
            "#VER: voucher date '20251301' is not a valid date",
        ),
        (voucher_text("#TRANS 5111 x {} 1"), 2, "#TRANS: amount 'x' is not a number"),
        (voucher_text('\t#TRANS 5111 {} 1 "x'), 2, "unterminated quoted string"),
        ("#VER A 17 20250115\n#TRANS 5111 {} 0\n}", 1, "expected '{' after #VER on line 12"),
        ("#VER A 17 20250115\n{\n{\n}", 2, "'{' inside a voucher (is a '}' missing?)"),
        (
            "#VER A 17 20250115\n{\n#VER A 18 20250115\n{\n}",
            0,
            "voucher A 17 is not closed by '}' before the #VER on line 14",
        ),
    ],
)
def test_malformed_lines(body: str, line: int, message: str) -> None:
    found = problems(HEADER + body + "\n")
    assert len(found) == 1, found
    assert found[0].startswith(f"line {BODY + line}: {message}"), found


def test_many_problems_are_reported_at_once_and_in_line_order() -> None:
    text = HEADER + voucher_text("#TRANS 5111 {} 1.00", "#TRANS 4000 {} 0") + "garbage\n#RAR x\n"
    assert problems(text) == [
        f"line {BODY}: voucher A 17 does not balance: sum 1.00",
        f"line {BODY + 3}: account 4000 is not declared by #KONTO",
        f"line {BODY + 5}: expected a record starting with '#' (or a '{{' or '}}' line)",
        f"line {BODY + 6}: #RAR: year number 'x' is not a whole number",
    ]


def test_reading_stops_after_max_problems() -> None:
    text = HEADER + "garbage\n" * 500
    with pytest.raises(SieError) as caught:
        read(text, max_problems=7)
    assert len(caught.value.problems) == 7 and caught.value.stopped
    assert str(caught.value).endswith("stopped after 7 problems")


def test_records_before_an_error_are_handed_out_then_the_error_is_raised() -> None:
    # The contract: a caller must write inside a transaction and roll back on SieError.
    text = EXAMPLE + voucher_text("#TRANS 5111 {} 1.00", "#TRANS 1930 {} -2.00")
    seen: list[Voucher] = []
    with pytest.raises(SieError, match=r"voucher A 17 does not balance: sum -1\.00"):
        sie4.parse(io.BytesIO(text.encode("cp437")), on_voucher=seen.append)
    assert [v.number for v in seen] == ["1"]


def test_empty_file_is_an_error() -> None:
    assert problems(b"") == ["the file holds no SIE records"]
    assert problems(b"\r\n\r\n") == ["the file holds no SIE records"]


def test_huge_amounts_and_sums_are_errors() -> None:
    text = HEADER + voucher_text(
        "#TRANS 5111 {} 999999999999999", "#TRANS 5111 {} 1", "#TRANS 1930 {} -1000000000000000"
    )
    found = problems(text)
    assert (
        found[0]
        == f"line {BODY + 3}: #TRANS: the voucher's sum reaches 10^15 or cannot be added up exactly"
    )
    text = HEADER + voucher_text("#TRANS 5111 {} NaN", "#TRANS 1930 {} 0")
    assert problems(text) == [
        f"line {BODY + 2}: #TRANS: amount 'NaN' is not a number (or is 10^15 or more)"
    ]
    # Once '#TRANS 5111 {' is known the fast path reads the row; the voucher catches it.
    text = HEADER + voucher_text("#TRANS 5111 {} 1", "#TRANS 5111 {} Infinity", "#TRANS 1930 {} 0")
    assert problems(text) == [f"line {BODY}: voucher A 17: #TRANS amount Infinity is not a number"]


def test_more_malformed_object_lists_and_headers() -> None:
    assert problems(HEADER + '#PSALDO 0 202501 5111 {x "3100"} 1\n') == [
        f"line {BODY}: #PSALDO: dimension 'x' in object list is not a number"
    ]
    assert problems(HEADER + '#PSALDO 0 202501 5111 {1 ""} 1\n') == [
        f"line {BODY}: #PSALDO: empty object code for dimension 1"
    ]
    assert problems(HEADER + "#RAR 0 20251231 20250101\n") == [
        f"line {BODY}: #RAR: year 0 ends before it starts"
    ]
    assert problems(HEADER + "#PSALDO 0 202501 5111\n") == [
        f"line {BODY}: #PSALDO: missing object list"
    ]
    assert problems(HEADER + '#KONTO "" "tomt"\n') == [f"line {BODY}: #KONTO: account is empty"]


def test_voucher_structure_problems() -> None:
    # A #VER directly after a #VER: the first one is dropped, once.
    text = HEADER + "#VER A 1 20250115\n" + voucher_text("#TRANS 5111 {} 0")
    assert problems(text) == [f"line {BODY + 1}: expected '{{' after #VER on line {BODY}"]
    # Rows that take the slow path (indented) report the same problems.
    text = HEADER + voucher_text(
        "\t#TRANS 5111 {} x", "\t#TRANS 5111 {} 999999999999999", "\t#TRANS 5111 {} 1"
    )
    assert problems(text) == [
        f"line {BODY + 2}: #TRANS: amount 'x' is not a number (or is 10^15 or more)",
        f"line {BODY + 4}: #TRANS: the voucher's sum reaches 10^15 or cannot be added up exactly",
    ]
    # Unknown labels inside a voucher are ignored; no object list at all is tolerated.
    text = HEADER + voucher_text("#FOO 1", "#TRANS 5111 1.00", "#TRANS 1930 {} -1.00")
    info, records = read(text)
    assert info.ignored == {"#FOO": 1}
    assert vouchers(records)[0].transactions[0][:3] == ("5111", (), Decimal(1))


def test_reader_limits_and_misuse(monkeypatch: pytest.MonkeyPatch) -> None:
    reader = sie4.SieReader(io.BytesIO(EXAMPLE.encode("cp437")))
    list(reader)
    with pytest.raises(RuntimeError):
        iter(reader)
    assert problems(EXAMPLE, encoding="no-such-codec") == ["unknown encoding 'no-such-codec'"]
    monkeypatch.setattr(sie4, "MAX_LINE", 50)
    assert problems(HEADER + "#FNAMN " + "x" * 100) == [
        f"line {BODY}: the line is longer than 50 characters"
    ]
    monkeypatch.setattr(sie4, "_CACHE_MAX", 1)  # the row cache is emptied, results stay
    info, records = read(EXAMPLE + voucher_text("#TRANS 5111 {} 1", "#TRANS 1930 {} -1"))
    assert len(vouchers(records)) == 2 and info.transaction_count == 4


def test_writer_writes_every_record_kind() -> None:
    out = io.BytesIO()
    many = [
        Voucher("A", str(n), dt.date(2025, 1, 2), "", None, [Trans("1930", (), Decimal(0))])
        for n in range(1200)
    ]
    lines = sie4.write_sie4(
        out,
        company="Kommun",
        orgnr="212000-0000",
        years=[Rar(0, dt.date(2025, 1, 1), dt.date(2025, 12, 31))],
        dims=[Dim(1, "Ansvar"), sie4.Underdim(2, "Kostnadsbärare", 1)],
        objects=[Objekt(2, "K1", "Bärare")],
        accounts=[Konto("1930", "Bank")],
        account_types=[sie4.Ktyp("1930", "T")],
        kptyp="Kommun-Bas 20",
        vouchers=many,
    )
    info, records = read(out.getvalue())
    assert lines == info.line_count == 14 + 4 * 1200
    assert info.dims == {1: "Ansvar", 2: "Kostnadsbärare"} and info.parent_dims == {2: 1}
    assert info.account_types == {"1930": "T"} and info.kptyp == "Kommun-Bas 20"
    assert vouchers(records) == many
    with pytest.raises(ValueError, match="not a finite amount"):
        sie4.format_amount(Decimal("NaN"))
    assert sie4.format_amount(Decimal("1E+3")) == "1000.00"
    assert sie4.format_amount(Decimal("0.125")) == "0.125"
    assert sie4.format_field("a b") == '"a b"' and sie4.format_field("#x") == '"#x"'


# ---------------------------------------------------------------------------------------------
# Property-based: round trip through the writer

QUICK = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SWEDISH = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 åäöÅÄÖéü\"\\{}#-.,'\t"
names = st.text(alphabet=SWEDISH, max_size=8)
codes = st.text(alphabet=SWEDISH, min_size=1, max_size=6).filter(lambda s: s.strip() != "")
accounts = st.integers(1000, 89999).map(str) | codes
amounts = st.integers(-(10**11), 10**11).map(lambda ore: Decimal(ore).scaleb(-2))
quantities = st.none() | st.integers(-(10**6), 10**6).map(lambda q: Decimal(q).scaleb(-3))
dates = st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31))


index = st.integers(0, 1000)
counts = st.integers(0, 3)
row_counts = st.integers(1, 5)
years = st.integers(-2, 0)
periods = st.builds(Period, st.integers(1990, 2040), st.integers(1, 12))
optional_dates = st.none() | dates
voucher_numbers = st.integers(1, 10**6).map(str)
orgnrs = st.integers(0, 10**10 - 1).map(lambda n: f"{n // 10**4:06d}-{n % 10**4:04d}")
account_lists = st.lists(accounts, min_size=1, max_size=5, unique=True)
dim_lists = st.lists(st.integers(1, 30), max_size=3, unique=True)
code_lists = st.lists(codes, min_size=1, max_size=3, unique=True)


@st.composite
def ledgers(draw: st.DrawFn, text: st.SearchStrategy[str] = names) -> dict[str, object]:
    """Everything write_sie4 takes; vouchers balance. Strategies are built once, up front."""

    def pick[T](items: list[T]) -> T:
        return items[draw(index) % len(items)]

    konton = draw(account_lists)
    dims = [Dim(n, draw(text)) for n in draw(dim_lists)]
    objects = [Objekt(d.number, code, draw(text)) for d in dims for code in draw(code_lists)]

    def object_list() -> tuple[tuple[int, str], ...]:
        chosen = [d for d in dims if draw(index) % 2][:2]
        return tuple(
            (d.number, pick([o.code for o in objects if o.dim == d.number])) for d in chosen
        )

    balances = [
        Balance(
            pick(["IB", "UB", "RES"]), draw(years), pick(konton), draw(amounts), draw(quantities)
        )
        for _ in range(draw(counts))
    ]
    period_balances = [
        PeriodBalance(
            pick(["PSALDO", "PBUDGET"]),
            draw(years),
            draw(periods),
            pick(konton),
            object_list(),
            draw(amounts),
            draw(quantities),
        )
        for _ in range(draw(counts))
    ]
    vouchers_ = []
    for _ in range(draw(counts)):
        rows = [
            Trans(
                pick(konton),
                object_list(),
                draw(amounts),
                draw(optional_dates),
                draw(text),
                draw(quantities),
            )
            for _ in range(draw(row_counts))
        ]
        rows[-1] = rows[-1]._replace(amount=-sum((r.amount for r in rows[:-1]), Decimal(0)))
        vouchers_.append(
            Voucher(
                pick(["A", "B", "LÖN", ""]),
                draw(voucher_numbers),
                draw(dates),
                draw(text),
                draw(optional_dates),
                list(rows),
            )
        )
    return {
        "company": draw(text),
        "orgnr": draw(orgnrs),
        "years": [Rar(0, dt.date(2025, 1, 1), dt.date(2025, 12, 31))],
        "dims": dims,
        "objects": objects,
        "accounts": [Konto(a, draw(text)) for a in konton],
        "balances": balances,
        "period_balances": period_balances,
        "vouchers": vouchers_,
    }


def written(ledger: Mapping[str, object], encoding: str = "cp437") -> bytes:
    out = io.BytesIO()
    sie4.write_sie4(out, encoding=encoding, generated=dt.date(2025, 2, 1), **ledger)  # type: ignore[arg-type]
    return out.getvalue()


def check_round_trip(
    ledger: Mapping[str, object], data: bytes, encoding: str | None = None
) -> None:
    info, records = read(data, encoding=encoding)
    assert info.company == ledger["company"]
    assert info.orgnr == ledger["orgnr"]
    assert [r for r in records if isinstance(r, Dim)] == ledger["dims"]
    assert [r for r in records if isinstance(r, Objekt)] == ledger["objects"]
    assert [r for r in records if isinstance(r, Konto)] == ledger["accounts"]
    assert [r for r in records if isinstance(r, Balance)] == ledger["balances"]
    assert [r for r in records if isinstance(r, PeriodBalance)] == ledger["period_balances"]
    assert vouchers(records) == ledger["vouchers"]
    assert info.warnings == []


@settings(QUICK, max_examples=100)
@given(ledgers())
def test_round_trip_cp437(ledger: dict[str, object]) -> None:
    data = written(ledger)
    check_round_trip(ledger, data)
    # The same file with every row indented takes the slow path; the result must not differ.
    check_round_trip(ledger, data.replace(b"\r\n#TRANS", b"\r\n\t#TRANS"))


any_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=10
)


@settings(QUICK, max_examples=30)
@given(ledgers(any_text))
def test_round_trip_utf8_any_text(ledger: dict[str, object]) -> None:
    check_round_trip(ledger, written(ledger, "utf-8"))


cp437_text = st.text(alphabet=st.characters(codec="cp437", exclude_characters="\r\n"), max_size=10)


@settings(QUICK, max_examples=30)
@given(ledgers(cp437_text))
def test_round_trip_any_cp437_text_with_forced_encoding(ledger: dict[str, object]) -> None:
    check_round_trip(ledger, written(ledger), encoding="cp437")


def test_writer_rejects_line_breaks_and_unencodable_text() -> None:
    ledger = {"company": "a\nb", "orgnr": "1", "years": []}
    with pytest.raises(ValueError, match="line break"):
        written(ledger)
    with pytest.raises(UnicodeEncodeError):
        written({"company": "€", "orgnr": "1", "years": []})


# ---------------------------------------------------------------------------------------------
# Property-based: garbage only ever raises SieError


def survives(data: bytes) -> None:
    try:
        sie4.parse(io.BytesIO(data))
    except SieError as exc:
        assert exc.problems


@settings(QUICK, max_examples=100)
@given(st.binary(max_size=600))
def test_random_bytes_raise_only_sie_error(data: bytes) -> None:
    survives(data)


fragments = st.sampled_from(
    [
        "#TRANS",
        "#VER",
        "#KONTO",
        "#PSALDO",
        "#RAR",
        "#DIM",
        "#OBJEKT",
        "#IB",
        "{",
        "}",
        '"',
        "\\",
        " ",
        "\t",
        "1930",
        "0",
        "-1.5",
        "1,5",
        "20250101",
        "202501",
        "{}",
        '{1 "3100"}',
        "NaN",
        "1e999",
    ]
)
lines_ = st.lists(fragments, max_size=8).map(" ".join) | st.text(
    alphabet='#{}"\\ \t019.,-AVERTKNS', max_size=20
)


@settings(QUICK, max_examples=75)
@given(st.lists(lines_, max_size=25))
def test_random_lines_raise_only_sie_error(lines: list[str]) -> None:
    survives(("\n".join(lines)).encode())
    survives((HEADER + "\n".join(lines)).encode("cp437"))


VALID = written(
    {
        "company": 'Kalle "K" Anka',
        "orgnr": "212000-0000",
        "years": [Rar(0, dt.date(2025, 1, 1), dt.date(2025, 12, 31))],
        "dims": [Dim(1, "Ansvar")],
        "objects": [Objekt(1, "3100", "Skola")],
        "accounts": [Konto("1930", "Bank"), Konto("5111", "Löner")],
        "balances": [Balance("IB", 0, "1930", Decimal(5))],
        "period_balances": [],
        "vouchers": [
            Voucher(
                "A",
                "1",
                dt.date(2025, 1, 2),
                "Lön",
                None,
                [
                    Trans("5111", ((1, "3100"),), Decimal("1.25")),
                    Trans("1930", (), Decimal("-1.25"), dt.date(2025, 1, 2), "bank", Decimal(1)),
                ],
            )
        ],
    }
)


@settings(QUICK, max_examples=75)
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(VALID)),
            st.sampled_from(["delete", "insert", "replace", "cut"]),
            st.binary(min_size=1, max_size=3),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_valid_file_raises_only_sie_error(mutations: list[tuple[int, str, bytes]]) -> None:
    data = VALID
    for at, how, piece in mutations:
        if how == "delete":
            data = data[:at] + data[at + len(piece) :]
        elif how == "insert":
            data = data[:at] + piece + data[at:]
        elif how == "replace":
            data = data[:at] + piece + data[at + len(piece) :]
        else:
            data = data[:at]
    survives(data)


# ---------------------------------------------------------------------------------------------
# The ledger generator

UNITS = [
    ("1000", "Kommunstyrelsen"),
    ("3100", "Barn- och utbildningsnämnden"),
    ("4100", "Omsorgsnämnden"),
]
ACTIVITIES = [
    ("407", "Grundskola"),
    ("410", "Förskola"),
    ("510", "Äldreomsorg"),
    ("100", "Politisk verksamhet"),
]


def generate(**kwargs: Any) -> tuple[bytes, LedgerSummary]:
    out = io.BytesIO()
    options: dict[str, Any] = {
        "seed": 7,
        "company_name": "Exempels kommun",
        "orgnr": "212000-0000",
        "year": 2025,
        "months": 3,
        "responsibility_units": UNITS,
        "activities": ACTIVITIES,
    } | kwargs
    summary = generate_municipal_ledger(out, **options)
    return out.getvalue(), summary


def test_generated_ledger_parses_balances_and_matches_its_summary() -> None:
    data, summary = generate(annual_costs_by_unit={"3100": Decimal(600_000_000)})
    by_unit_month: dict[tuple[str, int], Decimal] = {}
    by_account: dict[str, Decimal] = {}
    got: list[Voucher] = []
    info = sie4.parse(io.BytesIO(data), on_voucher=got.append)
    for voucher in got:
        for account, objects, amount, *_ in voucher.transactions:
            by_account[account] = by_account.get(account, Decimal(0)) + amount
            unit = dict(objects).get(1)
            if unit is not None:
                key = (unit, voucher.date.month)
                by_unit_month[key] = by_unit_month.get(key, Decimal(0)) + amount
    assert info.warnings == [] and info.encoding == "cp437"
    assert info.dims == {1: "Ansvar", 20: "Verksamhet"}
    assert info.objects[(20, "510")] == "Äldreomsorg"
    assert info.voucher_count == summary.vouchers
    assert info.transaction_count == summary.transactions
    assert info.line_count == summary.lines
    assert by_unit_month == summary.by_unit_month
    assert by_account == summary.by_account
    # The 600 MSEK unit costs about 50 MSEK a month.
    cost = summary.cost_by_unit_month[("3100", 1)]
    assert Decimal(40_000_000) < cost < Decimal(60_000_000)
    # Period balances agree with the vouchers.
    psaldo = {
        (p.period.month, p.account): p.amount
        for p in info.period_balances
        if p.kind == "PSALDO" and p.objects == ()
    }
    assert psaldo == {k: v for k, v in summary.by_month_account.items() if v}
    ub = {b.account: b.amount for b in info.balances if b.kind == "UB"}
    assert ub["1930"] == summary.closing_bank


def test_generator_is_deterministic_and_hits_an_exact_row_count() -> None:
    first, _ = generate(seed=3)
    assert generate(seed=3)[0] == first
    assert generate(seed=4)[0] != first
    data, summary = generate(n_transactions=25_000, include_balances=False)
    info = sie4.parse(io.BytesIO(data))
    assert info.transaction_count == 25_000 == summary.transactions
    assert len(data) > 1 << 20  # written in several pieces
    with pytest.raises(ValueError, match="n_transactions must be at least"):
        generate(n_transactions=10)
    bad_options: list[dict[str, Any]] = [
        {"months": 13},
        {"activities": []},
        {"annual_costs_by_unit": {"1000": -1}},
    ]
    for bad in bad_options:
        with pytest.raises(ValueError):
            generate(**bad)


def test_generator_full_year_and_tiny_invoices() -> None:
    data, summary = generate(months=12, n_transactions=1200, include_balances=False)
    info = sie4.parse(io.BytesIO(data))
    assert info.transaction_count == 1200
    july = summary.by_month_account[(7, "5111")]
    june = summary.by_month_account[(6, "5111")]
    assert july < june  # holidays


# The generator's options for a demo that looks like one municipality

PROJECTS: list[Any] = [
    ("P1", "Ny förskola", "3100", Decimal(24_000_000)),
    ("P2", "Inventarier äldreboende", "4100", Decimal(1_200_000), "1220"),
]
OPTIONS: dict[str, Any] = {
    "activities_by_unit": {"4100": ["510"], "1000": {"100": 1, "407": 3}},
    "fee_rate_by_unit": {"4100": 0.1, "1000": 0.0},
    "outcome_factor_by_unit": {"4100": 1.25},
    "depreciation_by_unit": {"1000": Decimal(12_000_000), "4100": Decimal(2_400_000)},
    "projects": PROJECTS,
}


def transactions(data: bytes) -> tuple[sie4.SieInfo, list[Voucher]]:
    got: list[Voucher] = []
    info = sie4.parse(io.BytesIO(data), on_voucher=got.append)
    return info, got


def test_generator_options_give_activities_fees_deviations_depreciation_and_projects() -> None:
    costs = {"1000": Decimal(120_000_000), "4100": Decimal(240_000_000)}
    data, summary = generate(annual_costs_by_unit=costs, **OPTIONS)
    info, vouchers = transactions(data)
    assert info.warnings == []
    assert info.dims == {1: "Ansvar", 6: "Projekt", 20: "Verksamhet"}
    assert info.objects[(6, "P1")] == "Ny förskola"
    assert info.accounts["7810"] == "Avskrivningar" and info.accounts["1220"] == "Inventarier"
    assert summary.activities_by_unit["4100"] == ["510"]
    assert summary.activities_by_unit["1000"] == ["100", "407"]
    budget: dict[tuple[str, str, str], Decimal] = {}
    for p in info.period_balances:
        if p.kind == "PBUDGET" and p.period.month == 1:
            by_dim = dict(p.objects)
            key = (p.account, by_dim[1], by_dim.get(20, ""))
            budget[key] = p.amount
    # Weighted activities: 407 has three times the costs of 100.
    assert budget[("4610", "1000", "407")] / budget[("4610", "1000", "100")] == pytest.approx(
        3, rel=1e-3
    )
    # Fee rate as given (no fees where it is 0).
    assert -budget[("3110", "4100", "510")] == pytest.approx(
        Decimal("0.1") * costs["4100"] / 12, rel=Decimal("0.001")
    )
    assert not any(a == "3110" and u == "1000" for a, u, _ in budget)
    # Depreciation: budgeted and booked, a twelfth a month, no activity.
    assert budget[("7810", "1000", "")] == Decimal(1_000_000)
    assert summary.by_account["7810"] == 3 * Decimal(1_200_000)
    # The outcome factor books about a quarter more than the budget; the budget is as planned.
    planned = sum(
        v for (a, u, _), v in budget.items() if u == "4100" and a[0] in "4567" and a != "7810"
    )
    assert planned == pytest.approx(costs["4100"] / 12, rel=Decimal("0.001"))
    booked = summary.cost_by_unit_month[("4100", 2)] - Decimal(200_000)  # less depreciation
    assert 1.15 < booked / planned < 1.35
    # Investments: one invoice per project and month, on the project, against the bank.
    invoices = [v for v in vouchers if "projekt" in v.text]
    assert len(invoices) == 2 * 3
    by_project: dict[str, Decimal] = {}
    for voucher in invoices:
        (account, objects, amount, *_), (bank, _, back, *_) = voucher.transactions
        by_dim = dict(objects)
        assert bank == "1930" and back == -amount and by_dim[1] in {"3100", "4100"}
        assert account == ("1220" if by_dim[6] == "P2" else "1110")
        by_project[by_dim[6]] = by_project.get(by_dim[6], Decimal(0)) + amount
    expected = {
        code: sum(v for (p, _), v in summary.investment_by_project_month.items() if p == code)
        for code in ("P1", "P2")
    }
    assert by_project == expected
    # Spring is slow: three months are well under a quarter of the year's 24 MSEK.
    assert Decimal(3_000_000) < by_project["P1"] < Decimal(6_000_000)
    ub = {b.account: b.amount for b in info.balances if b.kind == "UB"}
    assert ub["1110"] == by_project["P1"] and ub["1220"] == by_project["P2"]
    assert ub["1930"] == summary.closing_bank
    totals: dict[str, Decimal] = {}
    for voucher in vouchers:
        for account, _objects, amount, *_ in voucher.transactions:
            totals[account] = totals.get(account, Decimal(0)) + amount
    assert totals == summary.by_account
    assert info.transaction_count == summary.transactions and info.line_count == summary.lines


def test_generator_taxes_and_grants_can_be_given() -> None:
    _, summary = generate(taxes_and_grants=Decimal(1_200_000_000))
    taxes = summary.by_account["8010"] + summary.by_account["8210"]
    assert taxes == pytest.approx(Decimal(-300_000_000), abs=Decimal(1))  # three months
    assert summary.by_account["8210"] / taxes == pytest.approx(Decimal(20) / 98)
    with pytest.raises(ValueError, match="taxes_and_grants"):
        generate(taxes_and_grants=Decimal(-1))


def test_generator_options_leave_the_rest_of_the_ledger_alone() -> None:
    # Chosen activities and fee rates change which cells the units have, so the noise of the
    # units after them; deviations, depreciation and projects change nothing else.
    _, plain = generate()
    unchanged = ("outcome_factor_by_unit", "depreciation_by_unit", "projects")
    _, dressed = generate(**{k: v for k, v in OPTIONS.items() if k in unchanged})
    for month in (1, 2, 3):
        assert dressed.by_unit_month[("3100", month)] == plain.by_unit_month[("3100", month)]
    assert dressed.activities_by_unit["3100"] == plain.activities_by_unit["3100"]
    assert generate(**OPTIONS)[0] == generate(**OPTIONS)[0]


def test_generator_options_keep_the_exact_row_count_and_are_checked() -> None:
    data, summary = generate(n_transactions=6000, include_balances=False, **OPTIONS)
    assert sie4.parse(io.BytesIO(data)).transaction_count == 6000 == summary.transactions
    with pytest.raises(ValueError, match="n_transactions must be at least"):
        generate(n_transactions=100, **OPTIONS)
    bad_options: list[dict[str, Any]] = [
        {"activities_by_unit": {"9999": ["407"]}},
        {"activities_by_unit": {"1000": ["999"]}},
        {"activities_by_unit": {"1000": []}},
        {"activities_by_unit": {"1000": {"407": 0}}},
        {"fee_rate_by_unit": {"1000": 1.0}},
        {"outcome_factor_by_unit": {"1000": 0}},
        {"depreciation_by_unit": {"1000": Decimal(-1)}},
        {"projects": [("P1", "A", "9999", Decimal(1))]},
        {"projects": [("P1", "A", "1000", Decimal(1)), ("P1", "B", "1000", Decimal(1))]},
        {"projects": [("P1", "A", "1000", Decimal(1), "1930")]},
    ]
    for bad in bad_options:
        with pytest.raises(ValueError):
            generate(**bad)


def test_generated_ledger_imports_with_what_the_financial_goals_need(db: None) -> None:
    from rodtrad.finance import services
    from rodtrad.finance.models import GoalKind, LedgerRow
    from rodtrad.organisations.models import Municipality

    municipality = Municipality.objects.create(code="0665", name="Vaggeryds kommun")
    data, summary = generate(**OPTIONS)
    result = services.ledger_import_sie4(
        user=None,
        municipality=municipality,
        stream=io.BytesIO(data),
        filename="huvudbok.se",
        with_budget=False,
    )
    assert result.problems == []
    rows = LedgerRow.objects.filter(municipality=municipality)
    assert {r.project for r in rows.filter(account__in=["1110", "1220"])} == {"P1", "P2"}
    invested = sum(summary.investment_by_project_month.values(), Decimal(0))
    result_ = -sum(v for a, v in summary.by_account.items() if a[0] in "345678")
    degree = (result_ + summary.by_account["7810"]) * 100 / invested
    values = services.goal_values(municipality, 2025, GoalKind.SELF_FINANCING)
    assert values[3] == degree.quantize(Decimal("0.01"))


# ---------------------------------------------------------------------------------------------
# The #PSALDO/#PBUDGET fast path gives exactly what the general path gives


def outcome(data: bytes, *, fast: bool) -> tuple[object, ...]:
    """Everything a reader reports about `data`, with or without the period-balance fast path."""
    with pytest.MonkeyPatch.context() as patch:
        if not fast:
            patch.setattr(sie4.SieReader, "_period_quick", lambda self, line, lineno: None)
        reader = sie4.SieReader(io.BytesIO(data))
        records: list[str] = []
        failure: list[str] | None = None
        try:
            for record in reader:
                assert getcontext().prec == 28  # the caller's context while it holds a record
                records.append(repr(record))
        except SieError as exc:
            failure = [str(p) for p in exc.problems]
        info = reader.info
        return records, failure, [str(w) for w in info.warnings], info.ignored, info.line_count


def test_period_balance_fast_path_is_taken_and_matches() -> None:
    body = (
        '#PSALDO 0 202501 5111 {1 "3100"} 1.00 2\r\n'
        "#PBUDGET -1 202412 5111 {} -2,50\r\n"
        "#PSALDO 0 202501 5111 {1 3100} 1E+3 0.5 extra\r\n"
        '#PSALDO 0 202501 5111 {1 "3100"} 3.25\r\n'
    )
    data = (HEADER + body).encode("cp437")
    reader = sie4.SieReader(io.BytesIO(data))
    quick = reader._period_quick('#PSALDO 0 202501 5111 {1 "3100"} 1.00 2\r', 7)
    assert quick == PeriodBalance(
        "PSALDO", 0, Period(2025, 1), "5111", ((1, "3100"),), Decimal("1.00"), Decimal(2)
    )
    assert quick is not None and quick.line == 7
    with pytest.raises(AttributeError):
        quick.amount = Decimal(0)  # type: ignore[misc]
    assert reader._period_quick("#PBUDGET -1 202412 5111 {} -2,50", 8) is None  # comma: general
    assert outcome(data, fast=True) == outcome(data, fast=False)
    _, records = read(data)
    saldo = [r for r in records if isinstance(r, PeriodBalance)]
    assert [(p.line, p.amount, p.quantity) for p in saldo] == [
        (BODY, Decimal("1.00"), Decimal(2)),
        (BODY + 1, Decimal("-2.50"), None),
        (BODY + 2, Decimal(1000), Decimal("0.5")),
        (BODY + 3, Decimal("3.25"), None),
    ]


# Each part of a line: forms the fast path takes, then forms it must leave to the general path.
PERIOD_LINE_PARTS = [
    (["#PSALDO", "#PBUDGET"], ["#psaldo", "#PSALDO\t", '"#PSALDO"']),
    (["0", "-1", "+1"], ["x", "1234567890", "", '"0"']),
    (["202501", "202412"], ["202513", "20251", "x", '"202501"']),
    (["5111", "1930", "9999"], ['"5111"', '"a b"', "}", "", "{}"]),
    (
        ["{}", "{ }", '{1 "3100"}', "{1 3100}", '{1 "3100" 7 "å ä\\"ö"}', '{9 "3100"}'],
        ['{1 "a}b"}', '{1 "a\\"}"}', '{7 "x"', "{1}", '{x "1"}', '{1 ""}', '{{1 "1"}}', ""],
    ),
    (
        ["1.00", "-1", "1E+3", "99999999999999.99", "1_000", "-0.001"],
        ["-1,5", "1,5.0", "NaN", "-Infinity", "1e999", "0E+20", "1e15", '"1.00"', "abc", ""],
    ),
    (["", "2", "-0.5", "2 x", "\r"], ["x", '"2"', "sNaN", "1e15", "{}", '"y z"']),
    ([" ", "\t", "  ", "\u00a0", "\x0b"], [""]),
]


@pytest.mark.parametrize("objects", ['{1 "3100"}', '{9 "3100"}'])  # dimension 9: undeclared
@pytest.mark.parametrize(
    ("at", "odd"), [(at, odd) for at, (_, bad) in enumerate(PERIOD_LINE_PARTS) for odd in bad]
)
def test_period_balance_fast_path_leaves_odd_lines_to_the_general_path(
    objects: str, at: int, odd: str
) -> None:
    parts = ["#PSALDO", "0", "202501", "5111", objects, "1.00", "2", " "]
    good = " ".join(parts[:-1])
    parts[at] = odd
    bad = parts.pop().join(parts)
    data = (HEADER + f"{bad}\n{good}\n{bad}\n{good}\n").encode("utf-8")
    assert outcome(data, fast=True) == outcome(data, fast=False)


@st.composite
def period_lines(draw: st.DrawFn) -> str:
    """A #PSALDO/#PBUDGET line of the fast path's form, with up to two parts made odd."""
    parts = [draw(st.sampled_from(good)) for good, _ in PERIOD_LINE_PARTS]
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        at = draw(st.integers(0, len(parts) - 1))
        parts[at] = draw(st.sampled_from(PERIOD_LINE_PARTS[at][1]))
    separator = parts.pop()
    return separator.join(parts)


@settings(QUICK, max_examples=200)
@given(st.lists(period_lines(), min_size=1, max_size=6), st.booleans(), st.booleans())
def test_period_balance_fast_path_matches_the_general_path(
    lines: list[str],
    with_header: bool,
    in_voucher: bool,
) -> None:
    body = "\n".join(lines) + "\n"
    if in_voucher:
        body = '#VER A 1 20250101 "x"\n{\n' + body + "}\n"
    data = ((HEADER if with_header else "") + body).encode("utf-8")
    assert outcome(data, fast=True) == outcome(data, fast=False)

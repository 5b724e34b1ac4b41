"""The economy (rodtrad/finance) through its pages and services.

The world is conftest's with ledger codes on its units (Kommunstyrelsen 1000, board A 2000,
its administration 2100 and school 2110, board B 3000 and its administration 3100). It is
built once for the module inside a transaction; every test runs in a savepoint that is rolled
back, so each starts from the same state: no outcome, no budget, no frames.

Ledger files are written here with `write_sie4` (or `generate_municipal_ledger`), so each test
knows to the öre what the import must store. Amounts are net cost as the ledger has them:
costs positive, revenue negative.

Pages are asked for in English (the language cookie) so messages can be read; what a page shows
is checked in its context where the figures matter and in its text where the reader's view
matters.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import translation

from rodtrad.finance import selectors, services
from rodtrad.finance.models import (
    Account,
    ActivityArea,
    BudgetFrame,
    BudgetLine,
    FinanceSettings,
    FinancialGoal,
    Forecast,
    GoalKind,
    InvestmentBudget,
    InvestmentProject,
    LedgerImport,
    LedgerMapping,
    LedgerRow,
    ProgrammeBudget,
)
from rodtrad.indicators import services as indicator_services
from rodtrad.indicators.models import Indicator, Source, Value
from rodtrad.lib import sie4
from rodtrad.lib.sie4_generate import generate_municipal_ledger
from rodtrad.organisations.models import AuditEvent, Membership, Municipality, OrgUnit, User
from tests.conftest import World, build_world

KRAMFORS = "2282"
NYNASHAMN = "0192"
YEAR = 2026

# Ledger codes (ansvar) of the World's units, by a short name.
CODES = {
    "ks": "1000",
    "board_a": "2000",
    "admin_a": "2100",
    "school": "2110",
    "board_b": "3000",
    "admin_b": "3100",
}
ACCOUNTS = {
    "1110": "Byggnader och mark",
    "1930": "Bank",
    "3110": "Taxor och avgifter",
    "4410": "Förbrukningsmaterial",
    "5111": "Månadsavlönade",
    "7810": "Avskrivningar byggnader",
    "8010": "Kommunalskatt",
    "8210": "Generella statsbidrag och utjämning",
}
OBJECT_NAMES = {
    (1, "1000"): "Kommunstyrelsen",
    (1, "2000"): "Barn- och utbildningsnämnden",
    (1, "2100"): "Barn- och utbildningsförvaltningen",
    (1, "2110"): "Gudmundråskolan",
    (1, "3000"): "Omsorgsnämnden",
    (1, "3100"): "Omsorgsförvaltningen",
    (1, "9999"): "Okänd enhet i Ådalen",
    (20, "407"): "Grundskola åk 7-9",
    (20, "510"): "Äldreomsorg",
}
USERS = (
    "admin",
    "controller",
    "controller_a",
    "editor_a",
    "editor_b",
    "reader",
    "other",
    "anonymous",
)

# account, ansvar, verksamhet, amount
Row = tuple[str, str, str, Decimal]
Ledger = dict[int, list[Row]]


def d(value: str | int) -> Decimal:
    return Decimal(value)


def month_rows(month: int, *, school_wages: int | None = None) -> list[Row]:
    """One month of the base ledger: taxes at KS, board A (school and board), board B."""
    wages = 600_000 + 1_000 * month if school_wages is None else school_wages
    return [
        ("8010", "1000", "", d(-1_000_000)),
        ("8210", "1000", "", d(-200_000)),
        ("5111", "2110", "407", d(wages)),
        ("4410", "2000", "", d(50_000)),
        ("5111", "3100", "510", d(400_000 + 2_000 * month)),
        ("4410", "3100", "510", d("30000.50")),
        ("3110", "3100", "510", d("-20000.50")),
    ]


def base_ledger(months: range = range(1, 4)) -> Ledger:
    return {m: month_rows(m) for m in months}


def budget_rows() -> list[Row]:
    """One month of the internal budget: board A 650 000, board B 410 000."""
    return [
        ("5111", "2110", "407", d(600_000)),
        ("4410", "2000", "", d(50_000)),
        ("5111", "3100", "510", d(400_000)),
        ("4410", "3100", "510", d(30_000)),
        ("3110", "3100", "510", d(-20_000)),
    ]


BUDGET: Ledger = {m: budget_rows() for m in range(1, 13)}
BOARD_A_BUDGET = d(7_800_000)
BOARD_B_BUDGET = d(4_920_000)


def sie_file(
    ledger: Ledger,
    budget: Ledger | None = None,
    *,
    year: int = YEAR,
    encoding: str = "cp437",
    company: str = "Kramfors kommun",
    accounts: dict[str, str] | None = None,
) -> bytes:
    """A SIE 4 file: one voucher per month (balanced against the bank), #PBUDGET rows."""
    used: dict[tuple[int, str], str] = {}

    def objects(ansvar: str, activity: str) -> sie4.Objects:
        pairs = tuple(p for p in ((1, ansvar), (20, activity)) if p[1])
        for pair in pairs:
            used[pair] = OBJECT_NAMES.get(pair, f"Objekt {pair[1]}")
        return pairs

    vouchers = []
    for month, rows in sorted(ledger.items()):
        trans: list[sie4.TransRow] = [
            (account, objects(ansvar, activity), amount, None, "", None)
            for account, ansvar, activity, amount in rows
        ]
        total = sum((r[3] for r in rows), Decimal(0))
        if total:
            trans.append(("1930", (), -total, None, "", None))
        vouchers.append(
            sie4.Voucher(
                series="A",
                number=str(month),
                date=dt.date(year, month, 25),
                text=f"Månadens bokföring {month}",
                transactions=trans,
            )
        )
    balances = [
        sie4.PeriodBalance(
            "PBUDGET", 0, sie4.Period(year, month), account, objects(ansvar, activity), amount
        )
        for month, rows in sorted((budget or {}).items())
        for account, ansvar, activity, amount in rows
    ]
    out = io.BytesIO()
    sie4.write_sie4(
        out,
        company=company,
        orgnr="212000-2411",
        years=[sie4.Rar(0, dt.date(year, 1, 1), dt.date(year, 12, 31))],
        dims=[sie4.Dim(1, "Ansvar"), sie4.Dim(20, "Verksamhet")],
        objects=[sie4.Objekt(dim, code, name) for (dim, code), name in sorted(used.items())],
        accounts=[sie4.Konto(a, n) for a, n in (accounts or ACCOUNTS).items()],
        period_balances=balances,
        vouchers=vouchers,
        encoding=encoding,
        generated=dt.date(year, 11, 2),
    )
    return out.getvalue()


def line_of(data: bytes, needle: str, *, encoding: str = "cp437") -> int:
    """The (1-based) number of the first line of a file holding `needle`."""
    for number, line in enumerate(data.decode(encoding).split("\r\n"), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} is not in the file")


def outcome(ledger: Ledger, *codes: str) -> dict[int, Decimal]:
    """Net cost by month of the operating accounts (3-7) booked on `codes`."""
    found: dict[int, Decimal] = defaultdict(Decimal)
    for month, rows in ledger.items():
        for account, ansvar, _activity, amount in rows:
            if ansvar in codes and account[0] in "34567":
                found[month] += amount
    return dict(found)


def subtree(name: str) -> tuple[str, ...]:
    return {
        "board_a": (CODES["board_a"], CODES["admin_a"], CODES["school"]),
        "board_b": (CODES["board_b"], CODES["admin_b"]),
        "school": (CODES["school"],),
        "ks": (CODES["ks"],),
    }[name]


# --- The world -------------------------------------------------------------------------------


@dataclass
class Env:
    w: World
    units: dict[str, OrgUnit]  # ks, board_a, admin_a, school, board_b, admin_b
    controller_a: User  # a controller of board A only
    sessions: dict[str, str]
    clients: dict[str, Client] = field(default_factory=dict)

    @property
    def kramfors(self) -> Municipality:
        return self.w.kramfors

    def user(self, name: str) -> User | None:
        if name == "anonymous":
            return None
        if name == "controller_a":
            return self.controller_a
        user: User = getattr(self.w, name)
        return user

    def client(self, name: str) -> Client:
        """One client per user for the module, with only that user's session cookie (a new
        Client builds the middleware chain again, which costs more than a request)."""
        client = self.clients.setdefault(name, Client())
        client.cookies = SimpleCookie()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        if name != "anonymous":
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[name]
        return client

    def unit(self, name: str) -> OrgUnit:
        return OrgUnit.objects.get(pk=self.units[name].pk)


def build_env() -> Env:
    w = build_world()
    units = {
        "ks": OrgUnit.objects.get(municipality=w.kramfors, name="Kommunstyrelsen"),
        "board_a": w.board_a,
        "admin_a": OrgUnit.objects.get(municipality=w.kramfors, children=w.school),
        "school": w.school,
        "board_b": w.board_b,
        "admin_b": OrgUnit.objects.get(municipality=w.kramfors, name="Omsorgsförvaltningen"),
    }
    for name, unit in units.items():
        OrgUnit.objects.filter(pk=unit.pk).update(ledger_code=CODES[name])
        unit.ledger_code = CODES[name]
    controller_a = User.objects.create_user(
        username="controller-board-a", password="x" * 20, municipality=w.kramfors
    )
    Membership.objects.create(user=controller_a, org_unit=w.board_a, role="controller")
    env = Env(w, units, controller_a, sessions={})
    for name in USERS:
        user = env.user(name)
        if user is not None:
            client = Client()
            client.force_login(user)
            env.sessions[name] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return env


@contextmanager
def built_once[T](blocker: Any, build: Callable[[], T]) -> Iterator[T]:
    """`build()` inside a transaction that is rolled back when the module is done."""
    atomic = transaction.atomic()
    with blocker.unblock(), translation.override("en"):
        atomic.__enter__()
        try:
            built = build()
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    try:
        yield built
    finally:
        with blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module")
def shared_env(django_db_setup: None, django_db_blocker: Any) -> Iterator[Env]:
    with built_once(django_db_blocker, build_env) as built:
        yield built


@pytest.fixture
def env(shared_env: Env, db: None) -> Env:
    """The shared world; `db` wraps each test in a savepoint that is rolled back."""
    return shared_env


def snapshot() -> dict[str, Any]:
    """Everything an economy write could touch, in a comparable form."""
    return {
        "ledger_rows": sorted(
            LedgerRow.objects.values_list(
                "municipality_id",
                "imported_id",
                "year",
                "month",
                "account",
                "responsibility",
                "activity",
                "project",
                "amount",
            ),
            key=repr,
        ),
        "imports": sorted(LedgerImport.objects.values_list("pk", "months", "rows"), key=repr),
        "frames": sorted(
            BudgetFrame.objects.values_list(
                "pk", "org_unit_id", "year", "amount", "decided_by", "decided_on", "version"
            ),
            key=repr,
        ),
        "budget_lines": sorted(
            BudgetLine.objects.values_list(
                "org_unit_id", "year", "month", "account", "activity_code", "amount"
            ),
            key=repr,
        ),
        "forecasts": sorted(
            Forecast.objects.values_list(
                "pk", "org_unit_id", "year", "month", "amount", "comment", "version"
            ),
            key=repr,
        ),
        "mappings": sorted(
            LedgerMapping.objects.values_list(
                "municipality_id", "dimension", "code", "org_unit_id", "activity_area_id"
            ),
            key=repr,
        ),
        "settings": sorted(
            FinanceSettings.objects.values_list(
                "municipality_id",
                "deviation_pct",
                "deviation_amount",
                "boards_see_only_own",
                "published_year",
                "version",
            ),
            key=repr,
        ),
        "programme": sorted(
            ProgrammeBudget.objects.values_list("activity_area_id", "year", "amount"), key=repr
        ),
        "investments": sorted(
            InvestmentBudget.objects.values_list(
                "project__code", "project__name", "project__org_unit_id", "year", "amount"
            ),
            key=repr,
        ),
        "projects": InvestmentProject.objects.count(),
        "accounts": Account.objects.count(),
        "activity_areas": ActivityArea.objects.count(),
        "values": sorted(Value.objects.values_list("indicator_id", "period_number", "value")),
        "audit": AuditEvent.objects.count(),
    }


# --- Helpers ---------------------------------------------------------------------------------


def upload(data: bytes, name: str = "huvudbok.se") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def post_import(
    env: Env,
    data: bytes,
    *,
    name: str = "huvudbok.se",
    with_budget: bool = False,
    user: str = "controller",
) -> Any:
    form: dict[str, Any] = {"file": upload(data, name)}
    if with_budget:
        form["with_budget"] = "on"
    return env.client(user).post(reverse("finance:import", args=[KRAMFORS]), form)


def import_service(env: Env, data: bytes, *, with_budget: bool = True) -> services.LedgerResult:
    result = services.ledger_import_sie4(
        user=env.w.controller,
        municipality=env.kramfors,
        stream=io.BytesIO(data),
        filename="huvudbok.se",
        with_budget=with_budget,
    )
    assert not result.problems, result.problems
    return result


def stored_by_month() -> dict[int, Decimal]:
    return {
        row["month"]: row["total"]
        for row in LedgerRow.objects.filter(municipality__code=KRAMFORS, year=YEAR)
        .values("month")
        .annotate(total=Sum("amount"))
    }


def stored_by_code_month() -> dict[tuple[str, int], Decimal]:
    return {
        (row["responsibility"], row["month"]): row["total"]
        for row in LedgerRow.objects.filter(municipality__code=KRAMFORS, year=YEAR)
        .values("responsibility", "month")
        .annotate(total=Sum("amount"))
    }


def file_totals(ledger: Ledger) -> dict[int, Decimal]:
    """What the outcome must sum to per month: every kept row (not the bank's)."""
    return {m: sum((r[3] for r in rows), Decimal(0)) for m, rows in ledger.items()}


def economy(env: Env, name: str, year: int = YEAR) -> selectors.UnitEconomy:
    (figures,) = selectors.economy(env.kramfors, year, [env.unit(name)])
    return figures


def by_month(figures: selectors.UnitEconomy) -> dict[int, Decimal]:
    return {m + 1: v for m, v in enumerate(figures.outcome_by_month) if v}


def set_rules(env: Env, **values: Any) -> FinanceSettings:
    rules, _created = FinanceSettings.objects.get_or_create(municipality=env.kramfors)
    for key, value in values.items():
        setattr(rules, key, value)
    rules.save()
    return rules


def frame(env: Env, name: str, amount: str, year: int = YEAR) -> BudgetFrame:
    return services.frame_set(
        user=env.w.controller,
        municipality=env.kramfors,
        org_unit=env.unit(name),
        year=year,
        amount=d(amount),
        decided_by="Kommunfullmäktige",
        decided_on=dt.date(year - 1, 11, 24),
        paragraph="§ 112",
        expected_version=None,
    )


def body(response: Any) -> str:
    text: str = response.content.decode()
    return text


# --- SIE4 import through the page ------------------------------------------------------------


def test_sie4_import_stores_outcome_per_month(env: Env) -> None:
    ledger = base_ledger()
    data = sie_file(ledger)
    response = post_import(env, data)
    assert response.status_code == 200, body(response)[:500]
    result = response.context["result"]
    assert result.problems == []
    batch = result.batch
    assert (batch.year, batch.months, batch.source) == (YEAR, [1, 2, 3], "sie4")
    assert (batch.vouchers, batch.rows, batch.stored) == (3, 3 * 8, 3 * 7)
    assert batch.created_by == env.w.controller
    text = body(response)
    assert "months 1, 2, 3" in text and "24 ledger rows" in text
    assert "huvudbok.se" in text  # the import is listed
    # Outcome per month and code, to the öre; the bank row is not outcome.
    assert stored_by_month() == file_totals(ledger)
    expected_codes: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for month, rows in ledger.items():
        for _account, ansvar, _activity, amount in rows:
            expected_codes[(ansvar, month)] += amount
    assert stored_by_code_month() == expected_codes
    assert not LedgerRow.objects.filter(account="1930").exists()
    # The units' economy: each board has its whole subtree.
    assert by_month(economy(env, "board_a")) == outcome(ledger, *subtree("board_a"))
    assert by_month(economy(env, "board_b")) == outcome(ledger, *subtree("board_b"))
    assert by_month(economy(env, "school")) == outcome(ledger, *subtree("school"))
    assert economy(env, "board_a").months_with_outcome == 3
    (event,) = AuditEvent.objects.filter(object_type="finance.ledgerimport")
    assert (event.user, event.municipality) == (env.w.controller, env.kramfors)
    assert (
        event.after is not None
        and event.after["outcome"]["2026-02"] == f"{file_totals(ledger)[2]:.2f}"
    )
    # Accounts and activity areas come with the file.
    assert Account.objects.get(municipality=env.kramfors, number="4410").name == (
        "Förbrukningsmaterial"
    )
    assert ActivityArea.objects.get(municipality=env.kramfors, code="510").name == "Äldreomsorg"


def test_unit_page_shows_the_months(env: Env) -> None:
    ledger = base_ledger()
    import_service(env, sie_file(ledger, BUDGET))
    url = reverse("finance:unit", args=[KRAMFORS, env.units["board_a"].pk])
    response = env.client("reader").get(url, {"ar": YEAR})
    assert response.status_code == 200
    table = response.context["table"]
    expected = outcome(ledger, *subtree("board_a"))
    assert [r["outcome"] for r in table[:3]] == [expected[1], expected[2], expected[3]]
    assert all(r["outcome"] is None for r in table[3:])
    assert [r["budget"] for r in table] == [d(650_000)] * 12
    assert response.context["form"] is None  # a reader has no forecast form
    figures = response.context["figures"]
    assert figures.outcome_to_date == sum(expected.values())
    assert figures.budget_to_date == d(1_950_000)
    children = {c.unit.name: c.outcome_to_date for c in response.context["children"]}
    assert children == {"Barn- och utbildningsförvaltningen": sum(outcome(ledger, "2110").values())}


def test_generated_ledger_matches_its_summary(env: Env) -> None:
    out = io.BytesIO()
    summary = generate_municipal_ledger(
        out,
        seed=7,
        company_name="Kramfors kommun",
        orgnr="212000-2411",
        year=YEAR,
        months=2,
        responsibility_units=[
            ("1000", "Kommunstyrelsen"),
            ("2110", "Gudmundråskolan"),
            ("3100", "Omsorgsförvaltningen"),
        ],
        activities=[("407", "Grundskola"), ("510", "Äldreomsorg")],
        annual_costs_by_unit={"1000": d(12_000_000), "2110": d(24_000_000), "3100": d(36_000_000)},
        generated=dt.date(YEAR, 3, 5),
    )
    response = post_import(env, out.getvalue(), with_budget=True)
    assert response.status_code == 200, response.context["result"].problems
    batch = response.context["result"].batch
    assert (batch.months, batch.vouchers, batch.rows) == (
        [1, 2],
        summary.vouchers,
        summary.transactions,
    )
    assert stored_by_code_month() == {k: v for k, v in summary.by_unit_month.items() if v}
    for code, name in (("2110", "school"), ("3100", "admin_b")):
        figures = economy(env, name)
        expected = {
            m: summary.cost_by_unit_month.get((code, m), d(0))
            + summary.revenue_by_unit_month.get((code, m), d(0))
            for m in (1, 2)
        }
        assert by_month(figures) == expected, code
        # The budget of all twelve months comes from #PBUDGET.
        assert figures.has_internal_budget and all(figures.budget_by_month)
    assert batch.budget_lines == BudgetLine.objects.count() > 0


def _unbalanced(data: bytes) -> tuple[bytes, int]:
    # Month 2's school wages are 602 000: one krona more and the voucher does not balance.
    bad = data.replace(b"602000.00", b"602001.00")
    return bad, line_of(bad, "#VER A 2 ")


def _unknown_account(data: bytes) -> tuple[bytes, int]:
    # Month 3's wages booked on 5119, which the file's chart (#KONTO) does not have.
    bad = data.replace(
        b'#TRANS 5111 {1 "2110" 20 "407"} 603000.00', b'#TRANS 5119 {1 "2110" 20 "407"} 603000.00'
    )
    return bad, line_of(bad, "#TRANS 5119")


def _malformed_line(data: bytes) -> tuple[bytes, int]:
    # An amount with a letter O for a zero.
    bad = data.replace(b"} 601000.00", b"} 6O1000.00")
    return bad, line_of(bad, "6O1000.00")


def _truncated(data: bytes) -> tuple[bytes, int]:
    # The transfer stopped in the middle of a line of the last voucher.
    cut = data[: data.index(b'#TRANS 4410 {1 "2000"}', data.index(b"#VER A 3 ")) + 16]
    assert cut.endswith(b'#TRANS 4410 {1 "')
    return cut, line_of(data, "#VER A 3 ")


def _stray_text(data: bytes) -> tuple[bytes, int]:
    # A line that is not a record (a program wrote its sum between the vouchers).
    marker = b"#VER A 2 "
    bad = data.replace(marker, b"Summa mars: 1 234\r\n" + marker)
    return bad, line_of(bad, "Summa mars")


@pytest.mark.parametrize(
    "damage",
    [_unbalanced, _unknown_account, _malformed_line, _truncated, _stray_text],
    ids=["unbalanced", "unknown-account", "malformed-amount", "truncated", "stray-text"],
)
def test_a_file_with_errors_writes_nothing(
    env: Env, damage: Callable[[bytes], tuple[bytes, int]]
) -> None:
    # What is there before: an earlier import of January, and a financial goal whose
    # values a good import would write.
    import_service(env, sie_file(base_ledger(range(1, 2)), BUDGET))
    _result_share_goal(env)
    LedgerMapping.objects.create(
        municipality=env.kramfors, dimension="ansvar", code="9999", org_unit=env.unit("school")
    )
    before = snapshot()
    good = sie_file(base_ledger(), BUDGET)
    bad, line = damage(good)
    assert bad != good
    response = post_import(env, bad, with_budget=True)
    assert response.status_code == 422
    problems = response.context["result"].problems
    assert any(p.startswith(f"Line {line}:") for p in problems), problems
    text = body(response)
    assert "Nothing was imported" in text and f"Line {line}:" in text
    assert snapshot() == before


def test_a_file_without_a_financial_year_writes_nothing(env: Env) -> None:
    before = snapshot()
    data = sie_file(base_ledger()).replace(b"#RAR 0 20260101 20261231\r\n", b"")
    response = post_import(env, data)
    assert response.status_code == 422
    assert "#RAR" in " ".join(response.context["result"].problems)
    assert snapshot() == before


def test_a_file_that_is_not_sie_writes_nothing(env: Env) -> None:
    before = snapshot()
    response = post_import(env, b"Period;Konto;Ansvar;Belopp\r\n2026-01;5111;2110;100\r\n")
    assert response.status_code == 422
    assert any(p.startswith("Line 1:") for p in response.context["result"].problems)
    assert snapshot() == before


# --- Importing again -------------------------------------------------------------------------


def test_importing_the_same_file_twice_replaces_never_doubles(env: Env) -> None:
    ledger = base_ledger()
    data = sie_file(ledger, BUDGET)
    first = post_import(env, data, with_budget=True)
    assert first.status_code == 200
    rows_once = snapshot()["ledger_rows"]
    budget_once = snapshot()["budget_lines"]
    second = post_import(env, data, with_budget=True)
    assert second.status_code == 200
    assert stored_by_month() == file_totals(ledger)
    assert LedgerRow.objects.count() == len(rows_once)
    assert snapshot()["budget_lines"] == budget_once
    assert LedgerImport.objects.count() == 2
    # The second import says what it replaced.
    replaced = second.context["result"].replaced
    assert replaced == {f"2026-0{m}": f"{file_totals(ledger)[m]:.2f}" for m in (1, 2, 3)}
    assert economy(env, "board_a").budget == BOARD_A_BUDGET


def test_a_file_with_one_month_replaces_that_month_only(env: Env) -> None:
    ledger = base_ledger()
    import_service(env, sie_file(ledger))
    before = stored_by_code_month()
    march = {3: month_rows(3, school_wages=700_000)}
    response = post_import(env, sie_file(march))
    assert response.status_code == 200
    assert response.context["result"].batch.months == [3]
    after = stored_by_code_month()
    assert {k: v for k, v in after.items() if k[1] != 3} == {
        k: v for k, v in before.items() if k[1] != 3
    }
    assert after[("2110", 3)] == d(700_000)
    assert stored_by_month()[3] == file_totals(march)[3]
    assert by_month(economy(env, "school")) == {1: d(601_000), 2: d(602_000), 3: d(700_000)}


def test_a_month_imported_again_loses_rows_no_longer_in_the_ledger(env: Env) -> None:
    import_service(env, sie_file(base_ledger()))
    # March again, without board A's own purchases (moved to the school's code).
    march = [r for r in month_rows(3) if r[1] != "2000"] + [("4410", "2110", "407", d(50_000))]
    import_service(env, sie_file({3: march}))
    assert not LedgerRow.objects.filter(month=3, responsibility="2000").exists()
    assert LedgerRow.objects.filter(month=2, responsibility="2000").exists()
    assert economy(env, "board_a").outcome_by_month[2] == outcome({3: march}, "2110")[3]


def test_all_months_again_with_march_changed(env: Env) -> None:
    import_service(env, sie_file(base_ledger()))
    ledger = base_ledger()
    ledger[3] = month_rows(3, school_wages=612_345)
    import_service(env, sie_file(ledger))
    assert stored_by_month() == file_totals(ledger)
    assert by_month(economy(env, "school")) == {1: d(601_000), 2: d(602_000), 3: d(612_345)}


# --- Encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["cp437", "utf-8", "cp1252"])
def test_swedish_letters_in_names(env: Env, encoding: str) -> None:
    company = "Kramfors kommun, Ådalens ekonomikontor"
    data = sie_file(base_ledger(), encoding=encoding, company=company)
    if encoding == "cp437":
        assert "Äldreomsorg".encode("cp437") in data and b"\x8e" in data  # Ä in CP437
        assert "Ä".encode() not in data
    response = post_import(env, data)
    assert response.status_code == 200, response.context["result"].problems
    assert ActivityArea.objects.get(municipality=env.kramfors, code="510").name == "Äldreomsorg"
    assert ActivityArea.objects.get(municipality=env.kramfors, code="407").name == (
        "Grundskola åk 7-9"
    )
    assert Account.objects.get(municipality=env.kramfors, number="4410").name == (
        "Förbrukningsmaterial"
    )
    assert stored_by_month() == file_totals(base_ledger())
    page = env.client("reader").get(reverse("finance:budgets", args=[KRAMFORS]))
    assert "510 Äldreomsorg" in body(page)


# --- CSV -------------------------------------------------------------------------------------


def csv_upload(
    env: Env, text: str, *, encoding: str = "utf-8-sig", name: str = "utfall.csv"
) -> Any:
    return post_import(env, text.encode(encoding), name=name)


def test_csv_outcome_import(env: Env) -> None:
    text = (
        "Period;Konto;Ansvar;Verksamhet;Belopp\n"
        "2026-04;5111;2110;407;1 234 567,50\n"
        "2026-04;5111;2110;407;100,50\n"
        "2026-04;3110;3100;510;\u221212 345,25\n"
        "2026-05;4410;2000;;50 000\n"
        "2026-05;4410;3100;510;-1,75\n"
    )
    response = csv_upload(env, text)
    assert response.status_code == 200, response.context["result"].problems
    batch = response.context["result"].batch
    assert (batch.source, batch.year, batch.months, batch.rows) == ("csv", YEAR, [4, 5], 5)
    assert stored_by_code_month() == {
        ("2110", 4): d("1234668.00"),
        ("3100", 4): d("-12345.25"),
        ("2000", 5): d(50_000),
        ("3100", 5): d("-1.75"),
    }
    assert LedgerRow.objects.get(month=4, responsibility="2110").activity == "407"
    assert by_month(economy(env, "board_a")) == {4: d("1234668.00"), 5: d(50_000)}
    assert AuditEvent.objects.filter(object_type="finance.ledgerimport").count() == 1
    # Swedish Excel's own CSV (Windows-1252, hyphen minus) replaces April the same way.
    again = csv_upload(
        env,
        "Period;Konto;Ansvar;Belopp\n2026-04;5111;2110;1 000,25\n",
        encoding="cp1252",
    )
    assert again.status_code == 200
    assert stored_by_code_month() == {
        ("2110", 4): d("1000.25"),
        ("2000", 5): d(50_000),
        ("3100", 5): d("-1.75"),
    }


def test_csv_keeps_the_same_accounts_as_sie4(env: Env) -> None:
    """A ledger export with its bank rows: the bank is not outcome, as in a SIE4 file."""
    text = (
        "Period;Konto;Ansvar;Belopp\n"
        "2026-04;5111;2110;100\n"
        "2026-04;1110;1000;400\n"
        "2026-04;1930;;-500\n"
    )
    response = csv_upload(env, text)
    assert response.status_code == 200
    assert sorted(LedgerRow.objects.values_list("account", "amount")) == [
        ("1110", d(400)),
        ("5111", d(100)),
    ]
    mapping = env.client("admin").get(reverse("finance:mapping", args=[KRAMFORS]))
    assert mapping.context["unmapped"] == []


def test_csv_bad_rows_are_reported_by_row_and_column_and_nothing_is_written(env: Env) -> None:
    import_service(env, sie_file(base_ledger()))
    before = snapshot()
    text = (
        "Period;Konto;Ansvar;Verksamhet;Belopp\n"
        "2026-04;5111;2110;407;1 000\n"
        "2026-13;5111;2110;407;1 000\n"
        "2026-04;51x1;2110;407;1 000\n"
        "2026-04;5111;2110;407;ett tusen\n"
        "2026-04;5111;2110;407;1,005\n"
        "2026;5111;2110;407;1\n"
    )
    response = csv_upload(env, text)
    assert response.status_code == 422
    problems = response.context["result"].problems
    for row, column in ((3, "Period"), (4, "Konto"), (5, "Belopp"), (6, "Belopp"), (7, "Period")):
        assert any(p.startswith(f"Row {row}, column {column}:") for p in problems), (row, problems)
    assert len(problems) == 5
    assert "Row 5, column Belopp" in body(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    "text",
    [
        "Period;Konto;Belopp\n2026-04;5111;100\n",  # no Ansvar column
        "Period;Konto;Ansvar;Belopp\n2025-12;5111;2110;100\n2026-01;5111;2110;100\n",  # two years
        "Period;Konto;Ansvar;Belopp\n",  # headings only
        "Period;Konto;Ansvar;Belopp\n2026-04;1930;2110;100\n",  # only balance-sheet rows
        "Period;Konto;Ansvar;Belopp\n"
        + "2026-04;5111;2110;9 999 999 999 999\n" * 11,  # sum too big
        "Period;Konto;Ansvar;Belopp\n2026-04;5111;" + "9" * 30 + ";100\n",  # code too long
        "Period;Konto;Ansvar;Belopp\n2026-04;3²²;2110;100\n",  # not ASCII digits
    ],
    ids=["missing-column", "two-years", "no-rows", "no-outcome", "too-large", "too-long", "digits"],
)
def test_csv_refused_as_a_whole(env: Env, text: str) -> None:
    before = snapshot()
    response = csv_upload(env, text)
    assert response.status_code == 422
    assert response.context["result"].problems
    assert snapshot() == before


def test_odd_year_and_month_in_the_address_are_ignored(env: Env) -> None:
    import_service(env, sie_file(base_ledger(), BUDGET))
    for url in (
        reverse("finance:overview", args=[KRAMFORS]) + "?ar=²",
        unit_url(env, "board_a") + "?ar=2026&manad=²",
    ):
        assert env.client("admin").get(url).status_code == 200, url
    assert Client().get(reverse("finance:public", args=[KRAMFORS]) + "?ar=²").status_code == 200


def test_xlsx_outcome_import(env: Env) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Period", "Konto", "Ansvar", "Verksamhet", "Belopp"])
    sheet.append(["2026-04", 5111, 2110, 407, 1234.5])
    sheet.append(["2026-04", "3110", "3100", "510", -250])
    out = io.BytesIO()
    book.save(out)
    response = post_import(env, out.getvalue(), name="utfall.xlsx")
    assert response.status_code == 200, response.context["result"].problems
    assert stored_by_code_month() == {("2110", 4): d("1234.50"), ("3100", 4): d(-250)}


def test_vouchers_of_another_year_are_left_out_with_a_warning(env: Env) -> None:
    data = sie_file(base_ledger())
    # The year-end voucher of December 2025 came along in the 2026 file.
    stray = '#VER B 99 20251231 "Bokslut 2025"\r\n{\r\n#TRANS 5111 {1 "2110" 20 "407"} 99.00\r\n#TRANS 1930 {} -99.00\r\n}\r\n'
    response = post_import(env, data + stray.encode("cp437"))
    assert response.status_code == 200
    assert "1 vouchers dated outside 2026 were left out." in response.context["result"].warnings
    assert "were left out" in body(response)
    assert stored_by_month() == file_totals(base_ledger())
    assert not LedgerRow.objects.filter(year=2025).exists()


# --- The internal budget from #PBUDGET -------------------------------------------------------


def test_pbudget_becomes_the_internal_budget_when_asked(env: Env) -> None:
    data = sie_file(base_ledger(), BUDGET)
    response = post_import(env, data, with_budget=False)
    assert response.status_code == 200
    assert not BudgetLine.objects.exists()
    response = post_import(env, data, with_budget=True)
    assert response.status_code == 200
    assert response.context["result"].batch.budget_lines == 5 * 12
    assert "replaced by 60 lines" in body(response)
    lines = BudgetLine.objects.filter(municipality=env.kramfors, year=YEAR)
    assert lines.count() == 60
    school = lines.get(org_unit=env.units["school"], month=7)
    assert (school.account, school.activity_code, school.amount) == ("5111", "407", d(600_000))
    board_a = economy(env, "board_a")
    assert (board_a.internal_budget, board_a.budget) == (BOARD_A_BUDGET, BOARD_A_BUDGET)
    assert board_a.budget_to_date == d(1_950_000)
    assert economy(env, "board_b").internal_budget == BOARD_B_BUDGET
    # Without the box ticked, a new file leaves the budget alone.
    post_import(env, sie_file(base_ledger(), {1: [("5111", "2110", "407", d(1))]}))
    assert economy(env, "board_a").internal_budget == BOARD_A_BUDGET


def test_pbudget_with_an_ansvar_code_without_unit_refuses_the_file(env: Env) -> None:
    before = snapshot()
    budget = {m: [*budget_rows(), ("4410", "9999", "", d(1_000))] for m in range(1, 13)}
    response = post_import(env, sie_file(base_ledger(), budget), with_budget=True)
    assert response.status_code == 422
    (problem,) = response.context["result"].problems
    assert "9999" in problem and "Map" in problem
    assert "9999" in body(response)
    assert snapshot() == before
    # Mapped, the same file goes in.
    LedgerMapping.objects.create(
        municipality=env.kramfors, dimension="ansvar", code="9999", org_unit=env.unit("admin_a")
    )
    response = post_import(env, sie_file(base_ledger(), budget), with_budget=True)
    assert response.status_code == 200
    mapped = BudgetLine.objects.filter(org_unit=env.units["admin_a"])
    assert mapped.aggregate(total=Sum("amount"))["total"] == d(12_000)


def test_pbudget_of_two_codes_of_one_unit_adds_up(env: Env) -> None:
    """An old and a new ansvar code both mean the school: their budgets add up."""
    LedgerMapping.objects.create(
        municipality=env.kramfors, dimension="ansvar", code="2119", org_unit=env.unit("school")
    )
    budget = {1: [("5111", "2110", "407", d(100_000)), ("5111", "2119", "407", d(20_000))]}
    response = post_import(env, sie_file(base_ledger(), budget), with_budget=True)
    assert response.status_code == 200, body(response)[:300]
    assert economy(env, "school").budget_by_month[0] == d(120_000)


def test_pbudget_of_another_year_is_not_this_years_budget(env: Env) -> None:
    data = sie_file(base_ledger(), BUDGET)
    # A row for January next year in a file whose financial year is 2026.
    extra = b'#PBUDGET 0 202701 5111 {1 "2110" 20 "407"} 777777.00\r\n'
    data = data.replace(b"#PBUDGET 0 202601", extra + b"#PBUDGET 0 202601", 1)
    response = post_import(env, data, with_budget=True)
    assert response.status_code in (200, 422)
    assert not BudgetLine.objects.filter(year=YEAR, amount=d(777_777)).exists()
    assert (
        not BudgetLine.objects.filter(year=YEAR, month=1, org_unit=env.units["school"])
        .exclude(amount=d(600_000))
        .exists()
    )


# --- Mapping ---------------------------------------------------------------------------------


def test_unmapped_code_is_listed_and_mapping_it_needs_no_new_import(env: Env) -> None:
    ledger = base_ledger()
    for month in ledger:
        ledger[month].append(("4410", "9999", "", d(25_000)))
    import_service(env, sie_file(ledger))
    school_before = by_month(economy(env, "school"))
    board_a_before = economy(env, "board_a").outcome_to_date
    url = reverse("finance:mapping", args=[KRAMFORS])
    page = env.client("controller").get(url)
    assert page.status_code == 200
    assert [(r["responsibility"], r["year"], r["total"]) for r in page.context["unmapped"]] == [
        ("9999", YEAR, d(75_000))
    ]
    imports = env.client("admin").get(reverse("finance:import", args=[KRAMFORS]))
    assert imports.context["unmapped"] == 1
    rows_before = snapshot()["ledger_rows"]
    response = env.client("controller").post(
        url, {"code": "9999", "dimension": "ansvar", "org_unit": env.units["school"].pk}
    )
    assert response.status_code == 302
    mapping = LedgerMapping.objects.get(municipality=env.kramfors, code="9999")
    assert (mapping.dimension, mapping.org_unit_id) == ("ansvar", env.units["school"].pk)
    assert snapshot()["ledger_rows"] == rows_before
    assert LedgerImport.objects.count() == 1
    assert by_month(economy(env, "school")) == {m: v + d(25_000) for m, v in school_before.items()}
    assert economy(env, "board_a").outcome_to_date == board_a_before + d(75_000)
    assert env.client("controller").get(url).context["unmapped"] == []
    assert AuditEvent.objects.filter(object_type="finance.ledgermapping").count() == 1
    # Mapped again elsewhere: it moves, still without an import.
    env.client("controller").post(
        url, {"code": "9999", "dimension": "ansvar", "org_unit": env.units["admin_b"].pk}
    )
    assert economy(env, "board_a").outcome_to_date == board_a_before
    assert economy(env, "board_b").outcome_to_date == sum(
        outcome(ledger, *subtree("board_b"), "9999").values()
    )


def test_mapping_to_another_municipalitys_unit_is_refused(env: Env) -> None:
    import_service(env, sie_file({1: [*month_rows(1), ("4410", "9999", "", d(1))]}))
    before = snapshot()
    response = env.client("admin").post(
        reverse("finance:mapping", args=[KRAMFORS]),
        {"code": "9999", "dimension": "ansvar", "org_unit": env.w.other_vision.owner.pk},
    )
    assert response.status_code == 422
    assert response.context["errors"]
    assert snapshot() == before


def test_an_activity_code_is_mapped_to_an_activity_area(env: Env) -> None:
    import_service(env, sie_file(base_ledger()))  # brings the areas 407 and 510
    services.ledger_import_csv(
        user=None,
        municipality=env.kramfors,
        data=b"Period;Konto;Ansvar;Verksamhet;Belopp\n2026-04;5111;2110;4071;1 000\n",
        filename="utfall.csv",
    )
    url = reverse("finance:mapping", args=[KRAMFORS])
    page = env.client("admin").get(url)
    assert [(r["activity"], r["total"]) for r in page.context["unmapped_activities"]] == [
        ("4071", d(1000))
    ]
    area = ActivityArea.objects.get(municipality=env.kramfors, code="407")
    response = env.client("admin").post(
        url, {"code": "4071", "dimension": "verksamhet", "activity_area": area.pk}
    )
    assert response.status_code == 302
    assert env.client("admin").get(url).context["unmapped_activities"] == []
    budgets = env.client("reader").get(reverse("finance:budgets", args=[KRAMFORS]), {"ar": YEAR})
    (row,) = [p for p in budgets.context["programme"] if p["area"] == area]
    assert row["outcome"] == sum(outcome(base_ledger(), "2110").values()) + d(1000)
    # Without a target the mapping is refused with a message.
    before = snapshot()
    response = env.client("admin").post(url, {"code": "4071", "dimension": "verksamhet"})
    assert response.status_code == 422 and response.context["errors"]
    assert snapshot() == before


# --- Frames ----------------------------------------------------------------------------------


def frame_data(
    env: Env, name: str = "board_a", version: int | str = "", **changes: Any
) -> dict[str, Any]:
    data = {
        "board": env.units[name].pk,
        "amount": "12 500 000",
        "decided_by": "Kommunfullmäktige",
        "decided_on": "2025-11-24",
        "paragraph": "§ 112",
        "version": version,
    }
    data.update(changes)
    return data


def test_a_frame_is_recorded_with_its_decision(env: Env) -> None:
    url = reverse("finance:budgets", args=[KRAMFORS]) + f"?ar={YEAR}"
    response = env.client("controller").post(url, frame_data(env))
    assert response.status_code == 302
    saved = BudgetFrame.objects.get(org_unit=env.units["board_a"], year=YEAR)
    assert (saved.amount, saved.decided_by, saved.decided_on, saved.decision_paragraph) == (
        d(12_500_000),
        "Kommunfullmäktige",
        dt.date(2025, 11, 24),
        "§ 112",
    )
    assert (saved.version, saved.municipality) == (1, env.kramfors)
    event = AuditEvent.objects.get(object_type="finance.budgetframe")
    assert (event.action, event.user) == ("create", env.w.controller)
    assert event.after == {
        "amount": "12500000.00",
        "decided_by": "Kommunfullmäktige",
        "decided_on": "2025-11-24",
        "paragraph": "§ 112",
    }
    page = env.client("reader").get(url)
    assert "12,500,000" in body(page) and "§ 112" in body(page)
    overview = env.client("reader").get(reverse("finance:overview", args=[KRAMFORS]), {"ar": YEAR})
    (row,) = [r for r in overview.context["rows"] if r.unit.pk == env.units["board_a"].pk]
    assert row.frame.amount == d(12_500_000)
    # Changed with the version the page had: version 2, and the log has what it was.
    response = env.client("admin").post(url, frame_data(env, version=1, amount="12 600 000,50"))
    assert response.status_code == 302
    saved.refresh_from_db()
    assert (saved.amount, saved.version) == (d("12600000.50"), 2)
    update = AuditEvent.objects.filter(object_type="finance.budgetframe").latest("pk")
    assert update.before is not None and update.before["amount"] == "12500000.00"


def test_a_stale_frame_is_refused_and_nothing_changes(env: Env) -> None:
    url = reverse("finance:budgets", args=[KRAMFORS]) + f"?ar={YEAR}"
    assert env.client("controller").post(url, frame_data(env)).status_code == 302
    # Both open the page at version 1; the admin saves first.
    assert (
        env.client("admin").post(url, frame_data(env, version=1, amount="13 000 000")).status_code
        == 302
    )
    before = snapshot()
    response = env.client("controller").post(url, frame_data(env, version=1, amount="11 000 000"))
    assert response.status_code == 409
    assert "changed by someone else" in " ".join(response.context["errors"])
    assert snapshot() == before
    assert BudgetFrame.objects.get(org_unit=env.units["board_a"]).amount == d(13_000_000)
    # A page opened before there was any frame is stale too.
    response = env.client("controller").post(url, frame_data(env, version="", amount="1"))
    assert response.status_code == 409
    assert snapshot() == before


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"amount": "tolv miljoner"}, "not a number"),
        ({"decided_on": ""}, "required"),
        ({"board": "999999"}, "boards"),
    ],
)
def test_a_bad_frame_is_refused(env: Env, changes: dict[str, Any], why: str) -> None:
    before = snapshot()
    response = env.client("admin").post(
        reverse("finance:budgets", args=[KRAMFORS]), frame_data(env, **changes)
    )
    assert response.status_code == 422
    assert why in " ".join(response.context["errors"])
    assert snapshot() == before


def test_a_frame_for_another_municipalitys_unit_is_refused(env: Env) -> None:
    before = snapshot()
    data = frame_data(env)
    data["board"] = env.w.other_vision.owner.pk
    response = env.client("admin").post(reverse("finance:budgets", args=[KRAMFORS]), data)
    assert response.status_code == 422
    assert snapshot() == before


def test_programme_and_investment_budgets(env: Env) -> None:
    import_service(env, sie_file(base_ledger()))
    services.ledger_import_csv(
        user=None,
        municipality=env.kramfors,
        data=b"Period;Konto;Ansvar;Projekt;Belopp\n2026-04;1110;1000;P100;400 000\n",
        filename="investeringar.csv",
    )
    url = reverse("finance:budgets", args=[KRAMFORS]) + f"?ar={YEAR}"
    area = ActivityArea.objects.get(municipality=env.kramfors, code="510")
    response = env.client("controller").post(
        url, {"kind": "programme", "area": area.pk, "amount": "5 000 000"}
    )
    assert response.status_code == 302
    assert ProgrammeBudget.objects.get(activity_area=area, year=YEAR).amount == d(5_000_000)
    response = env.client("admin").post(
        url,
        {
            "kind": "investment",
            "code": "P100",
            "name": "Ny förskola i Gudmundrå",
            "board": env.units["board_a"].pk,
            "amount": "2 500 000",
        },
    )
    assert response.status_code == 302
    project = InvestmentProject.objects.get(municipality=env.kramfors, code="P100")
    assert (project.name, project.org_unit_id) == (
        "Ny förskola i Gudmundrå",
        env.units["board_a"].pk,
    )
    assert InvestmentBudget.objects.get(project=project, year=YEAR).amount == d(2_500_000)
    page = env.client("reader").get(url)
    (programme,) = [p for p in page.context["programme"] if p["area"] == area]
    assert programme["budget"] == d(5_000_000)
    assert programme["outcome"] == sum(outcome(base_ledger(), "3100").values())
    (investment,) = page.context["investments"]
    assert (investment["budget"], investment["outcome"]) == (d(2_500_000), d(400_000))
    assert AuditEvent.objects.filter(object_type="finance.programmebudget").count() == 1
    assert AuditEvent.objects.filter(object_type="finance.investmentproject").count() == 1
    # Refused with a message, nothing saved: an area of another municipality, no name.
    before = snapshot()
    for data in (
        {"kind": "programme", "area": 999_999, "amount": "1"},
        {"kind": "programme", "area": area.pk, "amount": "en miljon"},
        {"kind": "investment", "code": "P200", "name": "", "board": env.units["board_a"].pk},
        {"kind": "investment", "code": "P200", "name": "X", "board": env.w.other_vision.owner.pk},
    ):
        response = env.client("admin").post(url, {**data, "amount": data.get("amount", "1")})
        assert response.status_code == 422, data
        assert response.context["errors"], data
    assert snapshot() == before


# --- Forecasts -------------------------------------------------------------------------------


def unit_url(env: Env, name: str) -> str:
    return reverse("finance:unit", args=[KRAMFORS, env.units[name].pk]) + f"?ar={YEAR}"


def forecast_data(
    amount: str, comment: str = "", version: int | str = "", month: int = 3
) -> dict[str, Any]:
    return {"month": month, "amount": amount, "comment": comment, "version": version}


def test_a_deviation_over_the_threshold_needs_a_comment(env: Env) -> None:
    import_service(env, sie_file(base_ledger(), BUDGET))
    url = unit_url(env, "board_a")
    page = env.client("editor_a").get(url)
    assert page.context["form"].initial["month"] == 3  # the last month with outcome
    before = snapshot()
    # 8 000 000 against 7 800 000 is 2.56 %: over the default 2 %.
    response = env.client("editor_a").post(url, forecast_data("8 000 000"))
    assert response.status_code == 422
    (problem,) = response.context["errors"]
    assert "200 000" in problem and "comment" in problem and "2.0 %" in problem
    assert "The forecast was not saved" in body(response)
    assert snapshot() == before
    response = env.client("editor_a").post(url, forecast_data("8 000 000", "   "))
    assert response.status_code == 422
    assert snapshot() == before
    comment = "Fler elever än planerat i årskurs 7."
    response = env.client("editor_a").post(url, forecast_data("8 000 000", comment))
    assert response.status_code == 302
    saved = Forecast.objects.get(org_unit=env.units["board_a"], year=YEAR, month=3)
    assert (saved.amount, saved.comment, saved.created_by, saved.version) == (
        d(8_000_000),
        comment,
        env.w.editor_a,
        1,
    )
    event = AuditEvent.objects.get(object_type="finance.forecast")
    assert event.after is not None and event.after["deviation"] == "200000.00"


def test_a_deviation_within_the_threshold_needs_no_comment(env: Env) -> None:
    import_service(env, sie_file(base_ledger(), BUDGET))
    url = unit_url(env, "board_a")
    # 7 900 000 is 1.28 % over.
    response = env.client("editor_a").post(url, forecast_data("7 900 000"))
    assert response.status_code == 302
    # The municipality's own threshold counts: at 5 % even 2.56 % needs none.
    set_rules(env, deviation_pct=d("5.0"))
    response = env.client("editor_a").post(url, forecast_data("8 000 000", version=1))
    assert response.status_code == 302
    # ... and an amount threshold catches large sums at a small percentage.
    set_rules(env, deviation_amount=d(50_000))
    response = env.client("editor_a").post(url, forecast_data("7 900 000", version=2))
    assert response.status_code == 422
    assert Forecast.objects.get(org_unit=env.units["board_a"], month=3).amount == d(8_000_000)


def test_two_people_editing_the_same_forecast(env: Env) -> None:
    import_service(env, sie_file(base_ledger(), BUDGET))
    url = unit_url(env, "board_a")
    # Both open the page: no forecast for March yet.
    for user in ("editor_a", "controller_a"):
        assert env.client(user).get(url).context["form"].initial["version"] is None
    first = forecast_data("7 850 000", "Vikarier under våren.")
    assert env.client("editor_a").post(url, first).status_code == 302
    before = snapshot()
    mine = forecast_data("9 100 000", "Helt annan bedömning från controllern.")
    response = env.client("controller_a").post(url, mine)
    assert response.status_code == 409
    assert "changed by someone else" in " ".join(response.context["errors"])
    assert snapshot() == before
    saved = Forecast.objects.get(org_unit=env.units["board_a"], month=3)
    assert (saved.amount, saved.comment, saved.created_by) == (
        d(7_850_000),
        "Vikarier under våren.",
        env.w.editor_a,
    )
    # Nothing is lost: the refused page still holds what the controller typed, and shows
    # the saved forecast beside it.
    text = body(response)
    assert "Helt annan bedömning från controllern." in text
    assert "9 100 000" in text
    assert "Vikarier under våren." in text
    # Reloaded, the controller saves over it knowingly.
    page = env.client("controller_a").get(url)
    assert page.context["form"].initial["version"] == 1
    response = env.client("controller_a").post(url, {**mine, "version": 1})
    assert response.status_code == 302
    saved.refresh_from_db()
    assert (saved.amount, saved.version, saved.created_by) == (
        d(9_100_000),
        2,
        env.controller_a,
    )


def test_overview_shows_the_deviation_in_money_and_percent(env: Env) -> None:
    import_service(env, sie_file(base_ledger(), BUDGET))
    frame(env, "board_a", "7800000")
    services.forecast_set(
        user=env.w.editor_a,
        municipality=env.kramfors,
        org_unit=env.unit("board_a"),
        year=YEAR,
        month=3,
        amount=d(8_000_000),
        comment="Fler elever.",
        budget=BOARD_A_BUDGET,
        expected_version=None,
    )
    services.forecast_set(
        user=env.w.editor_b,
        municipality=env.kramfors,
        org_unit=env.unit("board_b"),
        year=YEAR,
        month=3,
        amount=d(4_900_000),
        comment="",
        budget=BOARD_B_BUDGET,
        expected_version=None,
    )
    response = env.client("reader").get(reverse("finance:overview", args=[KRAMFORS]), {"ar": YEAR})
    rows = {r.unit.pk: r for r in response.context["rows"]}
    a, b = rows[env.units["board_a"].pk], rows[env.units["board_b"].pk]
    assert (a.deviation, a.deviation_pct) == (d(200_000), d("2.6"))
    assert (b.deviation, b.deviation_pct) == (d(-20_000), d("-0.4"))
    text = body(response)
    assert "200,000 (2.6 %)" in text
    assert "\u221220,000 (\u22120.4 %)" in text
    assert "Fler elever." in text
    assert "Comment missing" not in text
    # A stricter threshold later: board B's uncommented deviation is flagged.
    set_rules(env, deviation_pct=d("0.2"))
    response = env.client("reader").get(reverse("finance:overview", args=[KRAMFORS]), {"ar": YEAR})
    assert body(response).count("Comment missing") == 1


# --- Financial goals -------------------------------------------------------------------------


def _result_share_goal(env: Env, kind: str = GoalKind.RESULT_SHARE) -> Indicator:
    indicator = indicator_services.indicator_create(
        user=None,
        municipality=env.kramfors,
        data={
            "title": "Resultat i procent av skatter och generella statsbidrag",
            "kind": "target",
            "frequency": "month",
            "unit": "%",
            "owner": env.w.kf,
            "source": Source.LEDGER,
        },
    )
    FinancialGoal.objects.create(municipality=env.kramfors, kind=kind, indicator=indicator)
    return indicator


def goal_values(indicator: Indicator) -> dict[tuple[str, int], Decimal | None]:
    return {
        (v.period_kind, v.period_number): v.value
        for v in Value.objects.filter(indicator=indicator, year=YEAR, area=KRAMFORS)
    }


def test_result_share_from_the_ledger(env: Env) -> None:
    indicator = _result_share_goal(env)
    # January: taxes 1 000, grants 200, costs 1 150: a result of 50 = 50 / 1 200 = 4.17 %.
    # February: the same income, costs 1 300: -100 for the month, -50 to date = -2.08 %.
    ledger = {
        1: [
            ("8010", "1000", "", d(-1000)),
            ("8210", "1000", "", d(-200)),
            ("5111", "2110", "", d(1150)),
        ],
        2: [
            ("8010", "1000", "", d(-1000)),
            ("8210", "1000", "", d(-200)),
            ("5111", "2110", "", d(1300)),
        ],
    }
    response = post_import(env, sie_file(ledger))
    assert response.status_code == 200
    assert goal_values(indicator) == {("month", 1): d("4.17"), ("month", 2): d("-2.08")}
    value = Value.objects.get(indicator=indicator, period_number=1)
    assert value.source == Source.LEDGER
    # February corrected: costs 1 100, +100 for the month, 150 to date = 6.25 %.
    ledger[2][2] = ("5111", "2110", "", d(1100))
    post_import(env, sie_file({2: ledger[2]}))
    assert goal_values(indicator) == {("month", 1): d("4.17"), ("month", 2): d("6.25")}


def test_result_share_for_the_whole_year(env: Env) -> None:
    indicator = _result_share_goal(env)
    month = [
        ("8010", "1000", "", d(-1000)),
        ("8210", "1000", "", d(-200)),
        ("5111", "2110", "", d(1176)),
    ]
    import_service(env, sie_file(dict.fromkeys(range(1, 13), month)))
    values = goal_values(indicator)
    # 24 a month over 1 200 a month: 2 % every month to date and for the year.
    assert values == {**{("month", m): d("2.00") for m in range(1, 13)}, ("year", 0): d("2.00")}


def test_self_financing_from_the_ledger(env: Env) -> None:
    indicator = _result_share_goal(env, GoalKind.SELF_FINANCING)
    # Result: 1 200 income - 1 000 wages - 100 depreciation = 100; with the depreciation
    # back 200 of own money against an investment of 400: 50 %.
    ledger = {
        1: [
            ("8010", "1000", "", d(-1000)),
            ("8210", "1000", "", d(-200)),
            ("5111", "2110", "", d(1000)),
            ("7810", "1000", "", d(100)),
            ("1110", "1000", "", d(400)),
        ]
    }
    import_service(env, sie_file(ledger))
    assert goal_values(indicator) == {("month", 1): d("50.00")}


# --- Who sees whose economy ------------------------------------------------------------------


def overview_names(env: Env, user: str) -> list[str]:
    response = env.client(user).get(reverse("finance:overview", args=[KRAMFORS]), {"ar": YEAR})
    assert response.status_code == 200
    return [r.unit.name for r in response.context["rows"]]


ALL_BOARDS = ["Kommunstyrelsen", "Barn- och utbildningsnämnden", "Omsorgsnämnden"]


def test_boards_see_only_their_own_when_the_municipality_says_so(env: Env) -> None:
    import_service(env, sie_file(base_ledger(), BUDGET))
    set_rules(env, boards_see_only_own=True)
    board_b_outcome = f"{sum(outcome(base_ledger(), *subtree('board_b')).values()):,.0f}"
    assert overview_names(env, "editor_a") == ["Barn- och utbildningsnämnden"]
    assert overview_names(env, "controller_a") == ["Barn- och utbildningsnämnden"]
    assert overview_names(env, "editor_b") == ["Omsorgsnämnden"]
    for user in ("admin", "controller", "reader"):
        assert overview_names(env, user) == ALL_BOARDS, user
    text = body(env.client("editor_a").get(reverse("finance:overview", args=[KRAMFORS])))
    assert "Omsorgsnämnden" not in text and board_b_outcome not in text
    assert env.client("editor_a").get(unit_url(env, "board_b")).status_code == 404
    assert env.client("editor_a").get(unit_url(env, "admin_b")).status_code == 404
    assert env.client("editor_a").get(unit_url(env, "school")).status_code == 200
    assert env.client("reader").get(unit_url(env, "board_b")).status_code == 200
    # Off again: every member reads every board.
    set_rules(env, boards_see_only_own=False)
    for user in ("editor_a", "editor_b", "controller_a", "reader"):
        assert overview_names(env, user) == ALL_BOARDS, user
    assert env.client("editor_a").get(unit_url(env, "board_b")).status_code == 200


def test_the_budget_page_hides_other_boards_internal_budget_and_outcome(env: Env) -> None:
    import_service(env, sie_file(base_ledger(), BUDGET))
    set_rules(env, boards_see_only_own=True)
    board_b_budget = f"{BOARD_B_BUDGET:,.0f}"
    board_b_outcome = f"{sum(outcome(base_ledger(), *subtree('board_b')).values()):,.0f}"
    own = body(env.client("editor_b").get(reverse("finance:budgets", args=[KRAMFORS])))
    assert board_b_budget in own and board_b_outcome in own
    text = body(env.client("editor_a").get(reverse("finance:budgets", args=[KRAMFORS])))
    assert f"{BOARD_A_BUDGET:,.0f}" in text
    assert board_b_budget not in text
    assert board_b_outcome not in text


def test_item_page_hides_other_boards_money_when_only_own(env: Env) -> None:
    import_service(env, sie_file(base_ledger(), BUDGET))
    set_rules(env, boards_see_only_own=True)
    url = reverse("steering:item", args=[KRAMFORS, env.w.goal_a.pk])
    text = body(env.client("editor_b").get(url))
    assert f"{BOARD_A_BUDGET:,.0f}" not in text
    assert f"{BOARD_A_BUDGET:,.0f}" in body(env.client("editor_a").get(url))


def test_another_municipalitys_code_with_a_kramfors_unit_is_404(env: Env) -> None:
    url = reverse("finance:unit", args=[NYNASHAMN, env.units["board_a"].pk])
    for user in ("other", "admin"):
        assert env.client(user).get(url).status_code == 404, user
        assert env.client(user).post(url, forecast_data("1")).status_code == 404, user


# --- The public page -------------------------------------------------------------------------


def test_public_page_shows_nothing_until_published_then_only_published_years(env: Env) -> None:
    import_service(env, sie_file(base_ledger(), BUDGET))
    frame(env, "board_a", "7654321", year=2025)
    frame(env, "board_a", "8765432", year=YEAR)
    services.ledger_import_csv(
        user=None,
        municipality=env.kramfors,
        data=b"Period;Konto;Ansvar;Belopp\n2025-06;5111;2110;4 444 444\n",
        filename="2025.csv",
    )
    url = reverse("finance:public", args=[KRAMFORS])
    anonymous = env.client("anonymous")
    response = anonymous.get(url)
    assert response.status_code == 200
    assert (response.context["year"], response.context["rows"]) == (None, [])
    text = body(response)
    assert "has not published" in text
    for secret in ("7,654,321", "8,765,432", "4,444,444", "Barn- och utbildningsnämnden"):
        assert secret not in text
    set_rules(env, published_year=2025)
    for query in ({}, {"ar": YEAR}, {"ar": 2025}):
        response = anonymous.get(url, query)
        assert response.status_code == 200
        assert response.context["year"] == 2025 and response.context["years"] == [2025]
        text = body(response)
        assert "7,654,321" in text and "4,444,444" in text
        assert "8,765,432" not in text, query
        assert f"{sum(outcome(base_ledger(), *subtree('board_a')).values()):,.0f}" not in text
    set_rules(env, published_year=YEAR)
    response = anonymous.get(url)
    assert response.context["year"] == YEAR and response.context["years"] == [2025, YEAR]
    assert "8,765,432" in body(response)
    assert env.client("anonymous").get(reverse("finance:public", args=["9999"])).status_code == 404


# --- Money behind the goal -------------------------------------------------------------------


def test_item_page_shows_the_money_behind_the_goal(env: Env) -> None:
    url = reverse("steering:item", args=[KRAMFORS, env.w.goal_a.pk])
    assert 'id="h-money"' not in body(env.client("reader").get(url))
    ledger = base_ledger()
    import_service(env, sie_file(ledger, BUDGET))
    response = env.client("reader").get(url)
    text = body(response)
    assert 'id="h-money"' in text and "Money behind the goal, 2026" in text
    expected = sum(outcome(ledger, *subtree("board_a")).values())
    assert f"budget of {BOARD_A_BUDGET:,.0f} kr" in text
    assert f"after 3 months is {expected:,.0f} kr" in text
    assert reverse("finance:unit", args=[KRAMFORS, env.units["board_a"].pk]) in text
    # Board B's goal has its own board's money.
    text_b = body(
        env.client("reader").get(reverse("steering:item", args=[KRAMFORS, env.w.goal_b.pk]))
    )
    assert f"budget of {BOARD_B_BUDGET:,.0f} kr" in text_b


def test_item_page_shows_money_with_a_budget_but_no_outcome_yet(env: Env) -> None:
    """A budget imported before the year's first outcome is money behind the goal too."""
    import_service(env, sie_file({}, BUDGET))
    assert BudgetLine.objects.exists() and not LedgerRow.objects.exists()
    text = body(
        env.client("reader").get(reverse("steering:item", args=[KRAMFORS, env.w.goal_a.pk]))
    )
    assert 'id="h-money"' in text
    assert f"budget of {BOARD_A_BUDGET:,.0f} kr" in text


# --- Settings --------------------------------------------------------------------------------


def settings_data(version: int, **changes: Any) -> dict[str, Any]:
    data = {
        "version": version,
        "deviation_pct": "3,5",
        "deviation_amount": "100 000",
        "boards_see_only_own": "on",
        "published_year": "2025",
        "responsibility_dim": "1",
        "activity_dim": "20",
        "project_dim": "6",
    }
    data.update(changes)
    return data


def test_only_admins_change_the_settings(env: Env) -> None:
    url = reverse("finance:settings", args=[KRAMFORS])
    for user in ("controller", "controller_a", "editor_a", "editor_b", "reader"):
        page = env.client(user).get(url)
        assert page.status_code == 200
        assert all(f.disabled for f in page.context["form"].fields.values()), user
        assert "Only an administrator changes the settings." in body(page)
        before = snapshot()
        assert env.client(user).post(url, settings_data(0)).status_code == 403, user
        assert snapshot() == before
    page = env.client("admin").get(url)
    assert not any(
        f.disabled for name, f in page.context["form"].fields.items() if name != "version"
    )
    response = env.client("admin").post(url, settings_data(0))
    assert response.status_code == 302
    saved = FinanceSettings.objects.get(municipality=env.kramfors)
    assert (saved.deviation_pct, saved.deviation_amount, saved.boards_see_only_own) == (
        d("3.5"),
        d(100_000),
        True,
    )
    assert (saved.published_year, saved.version) == (2025, 1)
    event = AuditEvent.objects.get(object_type="finance.financesettings")
    assert event.user == env.w.admin and event.after is not None
    assert event.after["published_year"] == 2025
    # Saved again from a page opened before that save: refused.
    before = snapshot()
    response = env.client("admin").post(url, settings_data(0, deviation_pct="9"))
    assert response.status_code == 409
    assert snapshot() == before


@pytest.mark.parametrize(
    "changes",
    [{"deviation_pct": "-2"}, {"deviation_amount": "-1"}, {"deviation_pct": "tre"}],
    ids=["negative-percentage", "negative-amount", "not-a-number"],
)
def test_settings_refuse_a_threshold_below_zero(env: Env, changes: dict[str, Any]) -> None:
    before = snapshot()
    response = env.client("admin").post(
        reverse("finance:settings", args=[KRAMFORS]), settings_data(0, **changes)
    )
    assert response.status_code == 422
    assert snapshot() == before

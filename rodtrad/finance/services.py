"""Writes to the economy: ledger imports (SIE4, CSV), internal budgets, frames, forecasts,
mappings, settings, and the financial goals computed from the ledger.

Every import validates the whole file before anything stays: it runs in one transaction and
rolls back on the first problem found anywhere in the file, and the problems name the line.
Re-importing months replaces those months' outcome; it never adds to them.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

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
from rodtrad.indicators.models import Indicator, Source
from rodtrad.lib import sie4
from rodtrad.lib.swedish import FormatError, parse_decimal, parse_period
from rodtrad.lib.tabular import TableError, read_table
from rodtrad.organisations.audit import record
from rodtrad.organisations.models import OrgUnit

if TYPE_CHECKING:
    from rodtrad.organisations.models import Municipality, User

# Accounts kept as outcome: the income statement (classes 3-8) and investments in fixed
# assets (10-13). Other balance-sheet rows (bank, liabilities) are not outcome.
KEPT_PREFIXES = ("3", "4", "5", "6", "7", "8", "10", "11", "12", "13")
OPERATING = ("3", "4", "5", "6", "7")  # a unit's net cost
TAXES_AND_GRANTS = ("80", "82")
LARGEST_SUM = Decimal(10) ** 14  # numeric(16, 2)
MAX_CODE = 20  # LedgerRow's code columns
MAX_ACCOUNT = 10
DEPRECIATION = ("78",)
INVESTMENT = ("10", "11", "12")  # intangible assets, buildings and land, equipment


class FinanceError(Exception):
    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class StaleFinanceEdit(FinanceError):
    pass


def settings_for(municipality: Municipality) -> FinanceSettings:
    found = FinanceSettings.objects.filter(municipality=municipality).first()
    return found or FinanceSettings(municipality=municipality)


def _user(user: User | None) -> User | None:
    return user if user is not None and user.is_authenticated else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


# --- Mapping ---------------------------------------------------------------------------------


def responsibility_map(municipality: Municipality) -> dict[str, int]:
    """Ledger ansvar code -> org unit id: explicit mappings over the units' ledger codes."""
    found = dict(
        OrgUnit.objects.filter(municipality=municipality)
        .exclude(ledger_code="")
        .values_list("ledger_code", "pk")
    )
    found.update(
        LedgerMapping.objects.filter(municipality=municipality, dimension="ansvar").values_list(
            "code", "org_unit_id"
        )
    )
    return found


def activity_map(municipality: Municipality) -> dict[str, int]:
    found = dict(ActivityArea.objects.filter(municipality=municipality).values_list("code", "pk"))
    found.update(
        LedgerMapping.objects.filter(municipality=municipality, dimension="verksamhet").values_list(
            "code", "activity_area_id"
        )
    )
    return found


@transaction.atomic
def mapping_set(
    *,
    user: User | None,
    municipality: Municipality,
    dimension: str,
    code: str,
    org_unit: OrgUnit | None = None,
    activity_area: ActivityArea | None = None,
) -> LedgerMapping:
    if org_unit is not None and org_unit.municipality_id != municipality.pk:
        raise FinanceError([_("The org unit belongs to another municipality.")])
    if activity_area is not None and activity_area.municipality_id != municipality.pk:
        raise FinanceError([_("The activity area belongs to another municipality.")])
    current = LedgerMapping.objects.filter(
        municipality=municipality, dimension=dimension, code=code
    ).first()
    before = None
    if current is not None:
        before = {
            "org_unit": str(current.org_unit or ""),
            "activity": str(current.activity_area or ""),
        }
    else:
        current = LedgerMapping(municipality=municipality, dimension=dimension, code=code)
    current.org_unit, current.activity_area = org_unit, activity_area
    current.save()
    record(
        user=user,
        municipality=municipality,
        action="update" if before else "create",
        obj=current,
        before=before,
        after={"org_unit": str(org_unit or ""), "activity": str(activity_area or "")},
    )
    return current


# --- Ledger import: SIE4 ---------------------------------------------------------------------


@dataclass
class LedgerResult:
    problems: list[str] = field(default_factory=list)
    batch: LedgerImport | None = None
    warnings: list[str] = field(default_factory=list)
    replaced: dict[str, str] = field(default_factory=dict)  # month -> total before


class _Aggregate:
    """Sums #TRANS rows by (month, account, object list) as they stream by.

    The hot loop of an import (a million rows): no per-row object is built. Rows are keyed
    by the object list itself (the reader hands out one shared tuple per distinct list, so
    equal lists are usually the same object and compare at once), accounts that are not
    outcome are skipped through a cached lookup, and codes are read off the object lists
    once at the end (`sums`).
    """

    def __init__(self, year: int, dims: tuple[int, int, int]) -> None:
        self.year = year
        self.dims = dims
        self.raw: dict[tuple[int, str, tuple], Decimal] = {}
        self.kept: dict[str, bool] = {}
        self.rows = 0
        self.vouchers = 0
        self.outside = 0

    def voucher(self, voucher: sie4.Voucher) -> None:
        self.vouchers += 1
        date = voucher.date
        if date.year != self.year:
            self.outside += 1
            return
        month = date.month
        raw, kept = self.raw, self.kept
        rows = voucher.transactions
        self.rows += len(rows)
        for row in rows:
            account = row[0]
            keep = kept.get(account)
            if keep is None:
                keep = kept[account] = account.startswith(KEPT_PREFIXES)
            if keep:
                key = (month, account, row[1])
                if key in raw:
                    raw[key] += row[2]
                else:
                    raw[key] = row[2]

    def take_sums(self) -> dict[tuple[int, str, str, str, str], Decimal]:
        """The sums by codes; the raw sums are released (a large import's memory)."""
        codes: dict[tuple, tuple[str, str, str]] = {}
        out: dict[tuple[int, str, str, str, str], Decimal] = defaultdict(Decimal)
        responsibility, activity, project = self.dims
        for (month, account, objects), amount in self.raw.items():
            found = codes.get(objects)
            if found is None:
                by_dim = dict(objects)
                found = codes[objects] = (
                    by_dim.get(responsibility, ""),
                    by_dim.get(activity, ""),
                    by_dim.get(project, ""),
                )
            out[(month, account, *found)] += amount
        self.raw = {}
        return out


def ledger_import_sie4(
    *,
    user: User | None,
    municipality: Municipality,
    stream: IO[bytes],
    filename: str,
    with_budget: bool = True,
) -> LedgerResult:
    """Import a SIE4 file's vouchers as outcome for the months they cover (and, with
    `with_budget`, its #PBUDGET rows as the internal budget). All or nothing."""
    rules = settings_for(municipality)
    digest = hashlib.sha256()
    tee = _Hashing(stream, digest)
    dims = (rules.responsibility_dim, rules.activity_dim, rules.project_dim)
    result = LedgerResult()
    aggregate: _Aggregate | None = None
    budget: dict[tuple[int, str, str, str], Decimal] = defaultdict(Decimal)
    budget_outside = [0]

    def on_voucher(voucher: sie4.Voucher) -> None:
        assert aggregate is not None
        aggregate.voucher(voucher)

    def on_balance(balance: sie4.Balance | sie4.PeriodBalance) -> None:
        if (
            with_budget
            and isinstance(balance, sie4.PeriodBalance)
            and balance.kind == "PBUDGET"
            and balance.year == 0
            and balance.objects
        ):
            current = reader.info.years.get(0)
            if current is None or balance.period.year != current.start.year:
                budget_outside[0] += 1  # a budget row for another year than #RAR 0's
                return
            by_dim = dict(balance.objects)
            responsibility = by_dim.get(rules.responsibility_dim, "")
            if responsibility and balance.account.startswith(OPERATING):
                key = (
                    balance.period.month,
                    balance.account,
                    responsibility,
                    by_dim.get(rules.activity_dim, ""),
                )
                budget[key] += balance.amount

    # The year comes from #RAR 0, which precedes the vouchers: read the head first.
    reader = sie4.SieReader(tee)
    try:
        with transaction.atomic():
            for item in reader:
                if isinstance(item, sie4.Voucher):
                    if aggregate is None:
                        current = reader.info.years.get(0)
                        if current is None:
                            raise FinanceError(
                                [
                                    _(
                                        "The file has no #RAR 0 (the financial year) before its "
                                        "first voucher (line %(line)s)."
                                    )
                                    % {"line": item.line}
                                ]
                            )
                        aggregate = _Aggregate(current.start.year, dims)
                    on_voucher(item)
                elif isinstance(item, sie4.Balance | sie4.PeriodBalance):
                    on_balance(item)
            info = reader.info
            if 0 not in info.years:
                raise FinanceError([_("The file has no #RAR 0 (the financial year).")])
            year = info.years[0].start.year
            if aggregate is None:
                aggregate = _Aggregate(year, dims)
            result.warnings = [str(w) for w in info.warnings]
            if budget_outside[0]:
                result.warnings.append(
                    _("%(n)s budget rows (#PBUDGET) for other years than %(year)s were left out.")
                    % {"n": budget_outside[0], "year": year}
                )
            if aggregate.outside:
                result.warnings.append(
                    _("%(n)s vouchers dated outside %(year)s were left out.")
                    % {"n": aggregate.outside, "year": year}
                )
            _store_ledger(
                user=user,
                municipality=municipality,
                result=result,
                source="sie4",
                name=filename,
                sha256=digest.hexdigest(),
                year=year,
                sums=aggregate.take_sums(),
                rows=aggregate.rows,
                vouchers=aggregate.vouchers,
                accounts=info.accounts,
                account_types=info.account_types,
                activities={
                    code: name
                    for (dim, code), name in info.objects.items()
                    if dim == rules.activity_dim
                },
                budget=budget,
            )
    except sie4.SieError as exc:
        result.problems = [
            _("Line %(line)s: %(message)s") % {"line": p.line, "message": p.message}
            for p in exc.problems
        ]
        if exc.stopped:
            result.problems.append(_("Reading stopped after this many problems."))
        result.batch = None
    except FinanceError as exc:
        result.problems = exc.problems
        result.batch = None
    return result


class _Hashing:
    """Passes reads through while hashing them (the import records the file's digest)."""

    def __init__(self, stream: IO[bytes], digest: Any) -> None:
        self.stream, self.digest = stream, digest

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        return data


def _store_ledger(
    *,
    user: User | None,
    municipality: Municipality,
    result: LedgerResult,
    source: str,
    name: str,
    sha256: str,
    year: int,
    sums: dict[tuple[int, str, str, str, str], Decimal],
    rows: int,
    vouchers: int,
    accounts: dict[str, str],
    account_types: dict[str, str],
    activities: dict[str, str],
    budget: dict[tuple[int, str, str, str], Decimal] | None = None,
) -> None:
    too_large = [key for key, amount in sums.items() if abs(amount) >= LARGEST_SUM]
    too_long = next(
        (
            key
            for key in sums
            if len(key[1]) > MAX_ACCOUNT or any(len(code) > MAX_CODE for code in key[2:])
        ),
        None,
    )
    if too_long is not None:
        raise FinanceError(
            [
                _(
                    "Account %(account)s or one of its codes (%(codes)s) is longer than the "
                    "ledger's columns allow (accounts 10, codes 20 characters)."
                )
                % {"account": too_long[1][:20], "codes": ", ".join(c[:30] for c in too_long[2:])}
            ]
        )
    if too_large:
        month, account, responsibility, _activity, _project = too_large[0]
        raise FinanceError(
            [
                _(
                    "The month's sum for account %(account)s, ansvar %(code)s in month %(month)s "
                    "is too large to keep (at most 14 digits of kronor)."
                )
                % {"account": account, "code": responsibility or "–", "month": month}
            ]
        )
    months = sorted({key[0] for key in sums})
    before = {
        f"{year}-{row['month']:02d}": _money(row["total"])
        for row in LedgerRow.objects.filter(municipality=municipality, year=year, month__in=months)
        .values("month")
        .annotate(total=Sum("amount"))
    }
    LedgerRow.objects.filter(municipality=municipality, year=year, month__in=months).delete()
    batch = LedgerImport.objects.create(
        municipality=municipality,
        source=source,
        name=name[:255],
        sha256=sha256,
        year=year,
        months=months,
        rows=rows,
        stored=len(sums),
        vouchers=vouchers,
        created_by=_user(user),
    )
    _bulk_insert(
        LedgerRow._meta.db_table,
        (
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
        (
            (
                municipality.pk,
                batch.pk,
                year,
                month,
                account,
                responsibility,
                activity,
                project,
                amount,
            )
            for (month, account, responsibility, activity, project), amount in sums.items()
            if amount
        ),
    )
    _upsert_accounts(municipality, accounts, account_types)
    _upsert_activities(municipality, activities)
    if budget:
        batch.budget_lines = _replace_budget_from_ledger(municipality, year, budget)
        batch.save(update_fields=["budget_lines"])
    after = {
        f"{year}-{month:02d}": _money(total) for month, total in _totals_by_month(sums).items()
    }
    record(
        user=user,
        municipality=municipality,
        action="import",
        obj=batch,
        before={"outcome": before} if before else None,
        after={"outcome": after, "file": name, "rows": rows, "budget_lines": batch.budget_lines},
    )
    result.replaced = {k: v or "0" for k, v in before.items()}
    result.batch = batch
    compute_financial_goals(user=user, municipality=municipality, year=year)


def _bulk_insert(table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """Insert many rows fast: COPY on PostgreSQL, one prepared INSERT in chunks elsewhere.

    Rows stream from the iterable (no full list in memory); the last column is a Decimal
    amount in kronor and öre.
    """
    if connection.vendor == "postgresql":
        names = ", ".join(columns)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor, for COPY
            with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    adapt = connection.ops.adapt_decimalfield_value
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - names from our models
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    chunk: list[tuple] = []
    with connection.cursor() as cursor:
        for row in rows:
            chunk.append((*row[:-1], adapt(row[-1], 16, 2)))
            if len(chunk) == 10_000:
                cursor.executemany(sql, chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)


def _totals_by_month(sums: dict[tuple[int, str, str, str, str], Decimal]) -> dict[int, Decimal]:
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for (month, *_rest), amount in sums.items():
        totals[month] += amount
    return dict(sorted(totals.items()))


def _upsert_accounts(
    municipality: Municipality, accounts: dict[str, str], types: dict[str, str]
) -> None:
    if not accounts:
        return
    Account.objects.bulk_create(
        [
            Account(
                municipality=municipality,
                number=number,
                name=name[:150],
                kind=types.get(number, "")[:1],
            )
            for number, name in accounts.items()
        ],
        update_conflicts=True,
        unique_fields=["municipality", "number"],
        update_fields=["name", "kind"],
        batch_size=1000,
    )


def _upsert_activities(municipality: Municipality, activities: dict[str, str]) -> None:
    if not activities:
        return
    ActivityArea.objects.bulk_create(
        [
            ActivityArea(municipality=municipality, code=code, name=name[:150] or code)
            for code, name in activities.items()
            if len(code) <= MAX_CODE  # declared but too long to be used: checked on use
        ],
        update_conflicts=True,
        unique_fields=["municipality", "code"],
        update_fields=["name"],
    )


def _replace_budget_from_ledger(
    municipality: Municipality, year: int, budget: dict[tuple[int, str, str, str], Decimal]
) -> int:
    """The internal budget from the file's #PBUDGET rows, for the units they name."""
    units = responsibility_map(municipality)
    per_unit: dict[tuple[int, int, str, str], Decimal] = defaultdict(Decimal)
    unmapped: set[str] = set()
    for (month, account, responsibility, activity), amount in budget.items():
        unit_id = units.get(responsibility)
        if unit_id is None:
            unmapped.add(responsibility)
            continue
        # Two codes may mean one unit (its own code and a mapped one): their rows add up.
        per_unit[(unit_id, month, account, activity)] += amount
    for (_unit, month, account, _activity), amount in per_unit.items():
        if abs(amount) >= LARGEST_SUM or len(account) > MAX_ACCOUNT or len(_activity) > MAX_CODE:
            raise FinanceError(
                [
                    _(
                        "The budget (#PBUDGET) for account %(account)s in month %(month)s cannot "
                        "be kept: the amount or a code is too large."
                    )
                    % {"account": account[:20], "month": month}
                ]
            )
    budget.clear()  # re-keyed by unit: the copy by code is no longer needed
    lines = [(*key, amount) for key, amount in per_unit.items()]
    per_unit.clear()
    if unmapped:
        raise FinanceError(
            [
                _(
                    "The budget (#PBUDGET) names ansvar codes no org unit has: %(codes)s. Map "
                    "them first (Economy › Mapping), then import again."
                )
                % {"codes": ", ".join(sorted(unmapped)[:20])}
            ]
        )
    unit_ids = {line[0] for line in lines}
    BudgetLine.objects.filter(municipality=municipality, year=year, org_unit__in=unit_ids).delete()
    _bulk_insert(
        BudgetLine._meta.db_table,
        ("municipality_id", "org_unit_id", "year", "month", "account", "activity_code", "amount"),
        (
            (municipality.pk, unit_id, year, month, account, activity, amount)
            for unit_id, month, account, activity, amount in lines
        ),
    )
    return len(lines)


# --- Ledger import: CSV ----------------------------------------------------------------------

CSV_COLUMNS = {
    "period": ("period", "månad", "month"),
    "account": ("konto", "account"),
    "responsibility": ("ansvar", "responsibility"),
    "activity": ("verksamhet", "activity"),
    "project": ("projekt", "project"),
    "amount": ("belopp", "amount", "utfall"),
}


def _csv_columns(headers: list[str], wanted: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {
        key: next(h for h in headers if h in names)
        for key, names in wanted.items()
        if any(h in names for h in headers)
    }


def ledger_import_csv(
    *, user: User | None, municipality: Municipality, data: bytes, filename: str
) -> LedgerResult:
    """Outcome from CSV/XLSX: Period (2026-03), Konto, Ansvar, Verksamhet, Projekt, Belopp."""
    result = LedgerResult()
    try:
        table = read_table(data, filename)
    except TableError as exc:
        result.problems = [_("The file could not be read: %(reason)s") % {"reason": exc}]
        return result
    columns = _csv_columns(table.headers, CSV_COLUMNS)
    missing = [k for k in ("period", "account", "responsibility", "amount") if k not in columns]
    if missing:
        result.problems = [
            _(
                "The file needs the columns Period, Konto, Ansvar and Belopp (and optionally "
                "Verksamhet, Projekt); %(missing)s is missing."
            )
            % {"missing": ", ".join(CSV_COLUMNS[k][0].capitalize() for k in missing)}
        ]
        return result
    sums: dict[tuple[int, str, str, str, str], Decimal] = defaultdict(Decimal)
    years: set[int] = set()
    for line in table.rows:
        cells = line.cells

        def problem(column: str, message: str, number: int = line.number) -> None:
            if len(result.problems) < 200:
                result.problems.append(
                    _("Row %(row)s, column %(column)s: %(message)s")
                    % {
                        "row": number,
                        "column": table.label(columns[column]),
                        "message": message,
                    }
                )

        text = cells.get(columns["period"], "").strip()
        try:
            period = parse_period(text)
        except FormatError:
            problem("period", _("“%(text)s” is not a month; write 2026-03.") % {"text": text[:20]})
            continue
        if period.kind != "month" or period.number is None:
            problem("period", _("“%(text)s” is not a month; write 2026-03.") % {"text": text[:20]})
            continue
        account = cells.get(columns["account"], "").strip()
        if not (account.isascii() and account.isdigit()) or not 3 <= len(account) <= 6:
            problem("account", _("“%(text)s” is not an account number.") % {"text": account[:20]})
            continue
        if not account.startswith(KEPT_PREFIXES):
            continue  # balance-sheet rows (bank, liabilities) are not outcome, as in SIE4
        amount_text = cells.get(columns["amount"], "")
        try:
            amount = parse_decimal(amount_text)
        except FormatError:
            problem(
                "amount",
                _("“%(text)s” is not an amount; write for example −1 234,50.")
                % {"text": amount_text[:30]},
            )
            continue
        if abs(amount) >= Decimal(10) ** 13 or amount != amount.quantize(Decimal("0.01")):
            problem(
                "amount",
                _("“%(text)s” is not an amount in kronor and öre.") % {"text": amount_text[:30]},
            )
            continue
        codes = [
            cells.get(columns.get(name, ""), "").strip()
            for name in ("responsibility", "activity", "project")
        ]
        long = next(
            (
                name
                for name, code in zip(("responsibility", "activity", "project"), codes, strict=True)
                if len(code) > MAX_CODE
            ),
            None,
        )
        if long is not None:
            problem(long, _("a code may be at most %(n)s characters.") % {"n": MAX_CODE})
            continue
        years.add(period.year)
        sums[(period.number, account, codes[0], codes[1], codes[2])] += amount
    if len(years) > 1:
        result.problems.append(
            _("The file covers several years (%(years)s); import one year at a time.")
            % {"years": ", ".join(map(str, sorted(years)))}
        )
    if not table.rows:
        result.problems.append(_("The file has headings but no rows."))
    elif not years and not result.problems:
        result.problems.append(
            _("The file has no outcome rows (accounts in classes 3–8 and 10–12).")
        )
    if result.problems:
        return result
    try:
        with transaction.atomic():
            _store_ledger(
                user=user,
                municipality=municipality,
                result=result,
                source="csv",
                name=filename,
                sha256=hashlib.sha256(data).hexdigest(),
                year=years.pop(),
                sums=sums,
                rows=len(table.rows),
                vouchers=0,
                accounts={},
                account_types={},
                activities={},
            )
    except FinanceError as exc:
        result.problems = exc.problems
        result.batch = None
    return result


# --- Budgets and forecasts -------------------------------------------------------------------


@transaction.atomic
def frame_set(
    *,
    user: User | None,
    municipality: Municipality,
    org_unit: OrgUnit,
    year: int,
    amount: Decimal,
    decided_by: str,
    decided_on: datetime.date | None,
    paragraph: str,
    expected_version: int | None,
) -> BudgetFrame:
    if org_unit.municipality_id != municipality.pk:
        raise FinanceError([_("The board belongs to another municipality.")])
    current = BudgetFrame.objects.select_for_update().filter(org_unit=org_unit, year=year).first()
    if (current.version if current else None) != expected_version:
        raise StaleFinanceEdit(
            [
                _(
                    "The frame was changed by someone else after you opened the page. Nothing was "
                    "saved; reload the page and enter it again."
                )
            ]
        )
    before = None
    if current is None:
        current = BudgetFrame(municipality=municipality, org_unit=org_unit, year=year, amount=0)
    else:
        before = {
            "amount": _money(current.amount),
            "decided_by": current.decided_by,
            "decided_on": str(current.decided_on or ""),
            "paragraph": current.decision_paragraph,
        }
        current.version += 1
    current.amount = amount
    current.decided_by, current.decided_on = decided_by, decided_on
    current.decision_paragraph = paragraph
    current.save()
    record(
        user=user,
        municipality=municipality,
        action="update" if before else "create",
        obj=current,
        before=before,
        after={
            "amount": _money(amount),
            "decided_by": decided_by,
            "decided_on": str(decided_on or ""),
            "paragraph": paragraph,
        },
    )
    return current


@transaction.atomic
def programme_budget_set(
    *,
    user: User | None,
    municipality: Municipality,
    area: ActivityArea,
    year: int,
    amount: Decimal,
) -> ProgrammeBudget:
    if area.municipality_id != municipality.pk:
        raise FinanceError([_("The activity area belongs to another municipality.")])
    current = ProgrammeBudget.objects.filter(activity_area=area, year=year).first()
    before = {"amount": _money(current.amount)} if current else None
    if current is None:
        current = ProgrammeBudget(municipality=municipality, activity_area=area, year=year)
    current.amount = amount
    current.save()
    record(
        user=user,
        municipality=municipality,
        action="update" if before else "create",
        obj=current,
        before=before,
        after={"amount": _money(amount), "year": year},
    )
    return current


@transaction.atomic
def investment_budget_set(
    *,
    user: User | None,
    municipality: Municipality,
    code: str,
    name: str,
    board: OrgUnit,
    year: int,
    amount: Decimal,
) -> InvestmentBudget:
    """Create or change a project and its budget for the year."""
    if board.municipality_id != municipality.pk:
        raise FinanceError([_("The board belongs to another municipality.")])
    project = InvestmentProject.objects.filter(municipality=municipality, code=code).first()
    before: dict[str, Any] | None = None
    if project is None:
        project = InvestmentProject.objects.create(
            municipality=municipality, code=code, name=name, org_unit=board
        )
    else:
        before = {"name": project.name, "board": project.org_unit.name}
        project.name, project.org_unit = name, board
        project.save()
    budget = InvestmentBudget.objects.filter(project=project, year=year).first()
    if budget is not None:
        before = (before or {}) | {"amount": _money(budget.amount)}
    else:
        budget = InvestmentBudget(project=project, year=year)
    budget.amount = amount
    budget.save()
    record(
        user=user,
        municipality=municipality,
        action="update" if before else "create",
        obj=project,
        before=before,
        after={"name": name, "board": board.name, "year": year, "amount": _money(amount)},
    )
    return budget


@transaction.atomic
def forecast_set(
    *,
    user: User | None,
    municipality: Municipality,
    org_unit: OrgUnit,
    year: int,
    month: int,
    amount: Decimal,
    comment: str,
    budget: Decimal,
    expected_version: int | None,
) -> Forecast:
    """Save a forecast; a deviation over the municipality's threshold needs a comment."""
    if org_unit.municipality_id != municipality.pk:
        raise FinanceError([_("The unit belongs to another municipality.")])
    if not 1 <= month <= 12:
        raise FinanceError([_("The month must be 1–12.")])
    rules = settings_for(municipality)
    deviation = amount - budget
    if rules.needs_comment(budget, deviation) and not comment.strip():
        raise FinanceError(
            [
                _(
                    "The forecast deviates from the budget by %(deviation)s kronor; explain the "
                    "deviation in the comment (required above %(pct)s %%)."
                )
                % {"deviation": f"{deviation:,.0f}".replace(",", " "), "pct": rules.deviation_pct}
            ]
        )
    current = (
        Forecast.objects.select_for_update()
        .filter(org_unit=org_unit, year=year, month=month)
        .first()
    )
    if (current.version if current else None) != expected_version:
        raise StaleFinanceEdit(
            [
                _(
                    "The forecast was changed by someone else after you opened the page. Yours "
                    "was not saved; reload the page, check theirs and enter yours again."
                )
            ]
        )
    before = None
    if current is None:
        current = Forecast(
            municipality=municipality, org_unit=org_unit, year=year, month=month, amount=amount
        )
    else:
        before = {"amount": _money(current.amount), "comment": current.comment}
        current.version += 1
    current.amount, current.comment = amount, comment.strip()
    current.created_by = _user(user)
    current.save()
    record(
        user=user,
        municipality=municipality,
        action="update" if before else "create",
        obj=current,
        before=before,
        after={
            "amount": _money(amount),
            "comment": current.comment,
            "deviation": _money(deviation),
        },
    )
    return current


@transaction.atomic
def settings_update(
    *, user: User | None, municipality: Municipality, data: dict[str, Any], expected_version: int
) -> FinanceSettings:
    current = FinanceSettings.objects.select_for_update().filter(
        municipality=municipality
    ).first() or FinanceSettings(municipality=municipality)
    if current.version != expected_version:
        raise StaleFinanceEdit(
            [
                _(
                    "The settings were changed by someone else after you opened them. Reload the "
                    "page and make your changes again."
                )
            ]
        )
    before = current.snapshot()
    for key, value in data.items():
        setattr(current, key, value)
    current.version += 1
    current.save()
    after = current.snapshot()
    record(
        user=user,
        municipality=municipality,
        action="update",
        obj=current,
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
    )
    return current


# --- Financial goals --------------------------------------------------------------------------


def _sum_by_month(
    municipality: Municipality,
    year: int,
    prefixes: Iterable[str],
    exclude: Q | None = None,
) -> dict[int, Decimal]:
    query = LedgerRow.objects.filter(municipality=municipality, year=year)
    if exclude is not None:
        query = query.exclude(exclude)
    condition = Q()
    for prefix in prefixes:
        condition |= Q(account__startswith=prefix)
    return {
        row["month"]: row["total"]
        for row in query.filter(condition).values("month").annotate(total=Sum("amount"))
    }


def goal_values(municipality: Municipality, year: int, kind: str) -> dict[int, Decimal]:
    """Year-to-date values by month: the result share or the self-financing degree (%)."""
    # The result before year-end appropriations (89 closes the year and would zero it).
    result = _sum_by_month(
        municipality, year, ("3", "4", "5", "6", "7", "8"), exclude=Q(account__startswith="89")
    )
    if not result:
        return {}
    values: dict[int, Decimal] = {}
    if kind == GoalKind.RESULT_SHARE:
        taxes = _sum_by_month(municipality, year, TAXES_AND_GRANTS)
        running_result = running_taxes = Decimal(0)
        for month in range(1, 13):
            running_result -= result.get(month, Decimal(0))  # credit is negative: a surplus
            running_taxes -= taxes.get(month, Decimal(0))
            if month in result and running_taxes:
                values[month] = (running_result * 100 / running_taxes).quantize(Decimal("0.01"))
    else:
        depreciation = _sum_by_month(municipality, year, DEPRECIATION)
        # Gross investment: debits to fixed assets, not the accumulated depreciation
        # accounts (Kommun-Bas xxx9) that are credited as assets are written off.
        investment = _sum_by_month(
            municipality, year, INVESTMENT, exclude=Q(account__regex=r"^1[0-2][0-9]9")
        )
        running_result = running_depreciation = running_investment = Decimal(0)
        for month in range(1, 13):
            running_result -= result.get(month, Decimal(0))
            running_depreciation += depreciation.get(month, Decimal(0))
            running_investment += investment.get(month, Decimal(0))
            if month in result and running_investment > 0:
                values[month] = (
                    (running_result + running_depreciation) * 100 / running_investment
                ).quantize(Decimal("0.01"))
    return values


@transaction.atomic
def financial_goal_create(
    *, user: User | None, municipality: Municipality, kind: str, indicator: Indicator
) -> FinancialGoal:
    """Compute an indicator's values from the ledger from now on (result share or
    self-financing); the indicator gets the source "computed from the ledger"."""
    if indicator.municipality_id != municipality.pk:
        raise FinanceError([_("The indicator belongs to another municipality.")])
    if FinancialGoal.objects.filter(municipality=municipality, kind=kind).exists():
        raise FinanceError([_("This financial goal is already computed into an indicator.")])
    goal = FinancialGoal.objects.create(municipality=municipality, kind=kind, indicator=indicator)
    if indicator.source != Source.LEDGER:
        Indicator.objects.filter(pk=indicator.pk).update(source=Source.LEDGER)
    record(
        user=user,
        municipality=municipality,
        action="create",
        obj=goal,
        after={"kind": kind, "indicator": {"id": indicator.pk, "title": indicator.title}},
    )
    return goal


def compute_financial_goals(*, user: User | None, municipality: Municipality, year: int) -> int:
    """Write the financial goals' indicator values from the ledger: one per month (year to
    date) and the year when all twelve months are in. Returns the values changed."""
    changed = 0
    for goal in FinancialGoal.objects.filter(municipality=municipality).select_related("indicator"):
        by_month = goal_values(municipality, year, goal.kind)
        rows = [
            (goal.indicator, indicator_services.ValueInput(year, "month", month, value))
            for month, value in by_month.items()
        ]
        if 12 in by_month:
            rows.append(
                (goal.indicator, indicator_services.ValueInput(year, "year", None, by_month[12]))
            )
        summary = indicator_services.values_write(
            user=user,
            municipality=municipality,
            rows=rows,
            source=Source.LEDGER,
            name=f"Huvudbok {year}",
        )
        changed += summary.created + summary.updated
    return changed

"""Generate a realistic, synthetic municipal ledger as a SIE 4 file.

Used by the demo (a believable ledger for the sample municipalities) and by the import
benchmark (an exact number of #TRANS lines, fast). Framework-free, deterministic for a seed.

The ledger, in Kommun-Bas style (account numbers and names are illustrative):

* dimension 1 "Ansvar" (responsibility units) and dimension 20 "Verksamhet" (activities);
  each unit runs one to three activities and its costs are split between them;
* per unit and month: a payroll voucher (series L: a 5111 wage row and a 5611 employer
  contribution row per employee and activity; wages dip in July), supplier invoices (series I:
  4410, 4610, 6110, 7010, each invoice mixing the unit's activities) and, for most units, fee
  revenue (series K: 3110, one voucher per month for all units). The first responsibility
  unit is the central one: it also receives tax revenue and general grants (series S: 8010,
  8210);
* every voucher balances against the bank account 1930;
* header: #RAR, #DIM, #OBJEKT, #KONTO, #KTYP, #IB/#UB for 1930 and 2010, #RES per P&L account,
  #PSALDO per month/account/unit/activity plus account totals, and #PBUDGET per month (all
  twelve) from the unit's plan. Amounts are exact to the öre.

Optional, for a demo that should look like one municipality rather than noise: the units'
activities and fee rates can be given instead of drawn; ``outcome_factor_by_unit`` books a
unit's costs above or below its budget (1.05: five per cent over, every month, the budget
unchanged); ``taxes_and_grants`` sets the year's revenue from taxes and general grants (else
98 % of the costs); ``depreciation_by_unit`` books depreciation (7810, series A, one twelfth a month,
budgeted too, no activity); ``projects`` books investments (1110 Byggnader or 1220
Inventarier, objects ansvar and dimension 6 "Projekt", declared only then) as supplier
invoices, more of them in the autumn, with #UB for the asset accounts. Depreciation is
booked against 1930 like everything else: the generator keeps one counter-account, and an
importer that sums the fixed-asset classes as investments would otherwise count a credit on
accumulated depreciation as a negative investment. Deviations, depreciation and projects draw
nothing from the main random sequence: the rest of the ledger stays as it was without them.

With ``n_transactions`` the file has exactly that many #TRANS lines: the surplus over the
smallest possible ledger goes half to more employees (longer payroll vouchers), half to more
supplier invoices of about eight rows. The returned :class:`LedgerSummary` holds the totals
the rows must add up to, so tests and benchmarks can check an import against it.

Output is CP437 with CR LF. Lines are built as text per voucher and encoded per voucher (ASCII
fast path), so a million rows take a few seconds.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from rodtrad.lib.sie4 import format_field, quote

__all__ = ["ACCOUNTS", "LedgerSummary", "Project", "generate_municipal_ledger"]


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


# account: (name, KTYP)
ACCOUNTS: dict[str, tuple[str, str]] = {
    "1930": ("Bank", "T"),
    "2010": ("Eget kapital", "S"),
    "3110": ("Taxor och avgifter", "I"),
    "4410": ("Förbrukningsmaterial", "K"),
    "4610": ("Köp av huvudverksamhet", "K"),
    "5111": ("Månadsavlönade", "K"),
    "5611": ("Sociala avgifter enligt lag och avtal", "K"),
    "6110": ("Lokal- och markhyror", "K"),
    "7010": ("Konsulttjänster", "K"),
    "8010": ("Kommunalskatt", "I"),
    "8210": ("Generella statsbidrag och utjämning", "I"),
}
# Accounts declared only when the options that book them are used.
DEPRECIATION_ACCOUNT = "7810"
INVESTMENT_ACCOUNTS: dict[str, str] = {"1110": "Byggnader", "1220": "Inventarier"}
# Share of a project's year booked in each month (sums to 12): slow spring, busy autumn.
INVESTMENT_PROFILE = (0.4, 0.6, 0.8, 0.9, 1.0, 1.1, 0.6, 0.9, 1.2, 1.3, 1.4, 1.8)
WAGES, FEES = "5111", "5611"
PURCHASES = {"4410": 0.08, "4610": 0.22, "6110": 0.10, "7010": 0.048}
WAGE_SHARE = 0.42
EMPLOYER_FEE_RATE = 0.3142  # of wages
TAX_SHARE, GRANT_SHARE = 0.78, 0.20  # of all units' costs, booked at the central unit
MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)
SUPPLIERS = (
    "Lyreco Sverige AB",
    "Dustin AB",
    "Skolmat i Norr AB",
    "Bygg & Måleri AB",
    "Vård & Omsorg Sverige AB",
    'Kafé "Solen"',
    "Fastighetsbolaget Kommunhus AB",
    "Tieto Sverige AB",
)


@dataclass
class LedgerSummary:
    """What was generated; amounts are booked amounts (costs positive, revenue negative)."""

    vouchers: int = 0
    transactions: int = 0
    lines: int = 0
    # (unit, month) -> sum of all #TRANS amounts with that unit (all P&L accounts)
    by_unit_month: dict[tuple[str, int], Decimal] = field(default_factory=dict)
    cost_by_unit_month: dict[tuple[str, int], Decimal] = field(default_factory=dict)  # 4-7
    revenue_by_unit_month: dict[tuple[str, int], Decimal] = field(default_factory=dict)  # 3, 8
    by_account: dict[str, Decimal] = field(default_factory=dict)
    by_month_account: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    opening_bank: Decimal = Decimal(0)
    closing_bank: Decimal = Decimal(0)
    activities_by_unit: dict[str, list[str]] = field(default_factory=dict)
    # (project, month) -> invested (on 1110/1220); depreciation (7810) is in by_account
    investment_by_project_month: dict[tuple[str, int], Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class _Project:
    code: str
    name: str
    unit: str
    ore: int  # per year
    account: str


Project = tuple[str, str, str, Decimal] | tuple[str, str, str, Decimal, str]


def _ore(amount: Decimal | float | int, what: str) -> int:
    ore = int(Decimal(amount) * 100)
    if not 0 <= ore < 10**14:
        raise ValueError(f"{what} must be 0 to 10^12 SEK")
    return ore


def _check_options(
    units: list[str],
    activity_codes: list[str],
    activities_by_unit: Mapping[str, Sequence[str] | Mapping[str, float]] | None,
    fee_rate_by_unit: Mapping[str, float] | None,
    outcome_factor_by_unit: Mapping[str, float] | None,
    depreciation_by_unit: Mapping[str, Decimal] | None,
    projects: Sequence[Project] | None,
) -> tuple[
    dict[str, dict[str, float]], dict[str, float], dict[str, float], dict[str, int], list[_Project]
]:
    """The optional per-unit settings, checked (ValueError naming what is wrong)."""
    known = set(units)
    for option, given in (
        ("activities_by_unit", activities_by_unit),
        ("fee_rate_by_unit", fee_rate_by_unit),
        ("outcome_factor_by_unit", outcome_factor_by_unit),
        ("depreciation_by_unit", depreciation_by_unit),
    ):
        unknown = sorted(set(given or {}) - known)
        if unknown:
            raise ValueError(f"{option} names units that are not there: {', '.join(unknown)}")
    acts: dict[str, dict[str, float]] = {}
    for code, chosen in (activities_by_unit or {}).items():
        weighted = (
            {a: float(w) for a, w in chosen.items()}
            if isinstance(chosen, Mapping)
            else dict.fromkeys(chosen, 1.0)
        )
        if (
            not weighted
            or len(weighted) != len(chosen)
            or set(weighted) - set(activity_codes)
            or any(w <= 0 for w in weighted.values())
        ):
            raise ValueError(
                f"unit {code} needs distinct activities among those declared, weights above 0"
            )
        acts[code] = weighted
    fees = dict(fee_rate_by_unit or {})
    if any(not 0 <= rate < 1 for rate in fees.values()):
        raise ValueError("a fee rate must be at least 0 and below 1")
    factors = dict(outcome_factor_by_unit or {})
    if any(not 0 < factor < 10 for factor in factors.values()):
        raise ValueError("an outcome factor must be above 0 and below 10")
    depreciation = {
        code: _ore(amount, f"depreciation of unit {code}")
        for code, amount in (depreciation_by_unit or {}).items()
    }
    checked: list[_Project] = []
    for project in projects or ():
        code, name, unit, amount = project[:4]
        account = project[4] if len(project) > 4 else "1110"
        if not code or code in {p.code for p in checked}:
            raise ValueError(f"project codes must be given and distinct ({code!r})")
        if unit not in known:
            raise ValueError(f"project {code} names unit {unit}, which is not there")
        if account not in INVESTMENT_ACCOUNTS:
            raise ValueError(
                f"project {code}: the account must be one of {list(INVESTMENT_ACCOUNTS)}"
            )
        checked.append(_Project(code, name, unit, _ore(amount, f"project {code}"), account))
    return acts, fees, factors, depreciation, checked


def _fmt(ore: int) -> str:
    sign = "-" if ore < 0 else ""
    ore = abs(ore)
    return f"{sign}{ore // 100}.{ore % 100:02d}"


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` öre in `parts` roughly random pieces that sum exactly to it."""
    if parts == 1:
        return [total]
    weights = [rng.random() + 0.3 for _ in range(parts)]
    scale = total / sum(weights)
    pieces = [int(w * scale) for w in weights]
    pieces[-1] += total - sum(pieces)
    return pieces


def _even(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + 1 if i < extra else base for i in range(parts)]


def generate_municipal_ledger(
    stream: Writable,
    *,
    seed: int | str,
    company_name: str,
    orgnr: str,
    year: int,
    months: int = 10,
    responsibility_units: Sequence[tuple[str, str]],
    activities: Sequence[tuple[str, str]],
    annual_costs_by_unit: dict[str, Decimal] | None = None,
    n_transactions: int | None = None,
    include_balances: bool = True,
    generated: dt.date | None = None,
    activities_by_unit: Mapping[str, Sequence[str] | Mapping[str, float]] | None = None,
    fee_rate_by_unit: Mapping[str, float] | None = None,
    outcome_factor_by_unit: Mapping[str, float] | None = None,
    depreciation_by_unit: Mapping[str, Decimal] | None = None,
    projects: Sequence[Project] | None = None,
    taxes_and_grants: Decimal | None = None,
) -> LedgerSummary:
    """Write a synthetic municipal SIE 4 ledger (CP437, CR LF) to the binary `stream`.

    `responsibility_units` and `activities` are (code, name) pairs; the first unit is the
    central one. Units missing from `annual_costs_by_unit` (SEK per year, gross costs before
    fees and depreciation) get a random size. `n_transactions` asks for exactly that many
    #TRANS lines (ValueError if fewer than the fixed vouchers need).

    `activities_by_unit` (activity codes, sharing the unit's costs equally, or a mapping of
    code to weight) and `fee_rate_by_unit` (fee revenue as a share of the unit's costs, 0 to
    below 1) replace the random choice for the units they name;
    `outcome_factor_by_unit` scales a unit's booked costs, not its budget;
    `depreciation_by_unit` is SEK per year; `projects` are (code, name, unit, SEK per year)
    or with a fifth element, the asset account (1110, the default, or 1220).
    `taxes_and_grants` (SEK per year) replaces 98 % of the costs as the central unit's tax
    revenue and general grants, so a budgeted result can be given.
    """
    if not 1 <= months <= 12:
        raise ValueError("months must be 1-12")
    if not responsibility_units or not activities:
        raise ValueError("at least one responsibility unit and one activity are needed")
    rng = random.Random(f"sie4-ledger/{seed}")
    units = [code for code, _ in responsibility_units]
    central = units[0]
    costs = dict(annual_costs_by_unit or {})
    chosen_acts, fee_given, factors, depreciation, invest = _check_options(
        units,
        [a for a, _ in activities],
        activities_by_unit,
        fee_rate_by_unit,
        outcome_factor_by_unit,
        depreciation_by_unit,
        projects,
    )

    # -- the plan: booked öre per (month, account, unit, activity) -------------------------
    acts: dict[str, list[str]] = {}
    weights: dict[str, list[float]] = {}
    annual: dict[str, int] = {}
    fee_rate: dict[str, float] = {}
    for code in units:
        k = min(len(activities), rng.choice((1, 1, 2, 2, 3)))
        acts[code] = sorted(rng.sample([a for a, _ in activities], k))
        weights[code] = [rng.random() + 0.5 for _ in range(k)]
        if code in chosen_acts:  # drawn all the same, so the other units stay as they were
            acts[code] = sorted(chosen_acts[code])
            weights[code] = [chosen_acts[code][a] for a in acts[code]]
        if code in costs:
            annual[code] = int(Decimal(costs[code]) * 100)
            if not 0 <= annual[code] < 10**14:
                raise ValueError(f"annual cost of unit {code} must be 0 to 10^12 SEK")
        else:
            annual[code] = int(10 ** rng.uniform(7.3, 8.8)) * 100  # 20-630 MSEK
        fee_rate[code] = rng.choice((0.0, 0.03, 0.05, 0.08, 0.12))
        if code in fee_given:
            fee_rate[code] = fee_given[code]

    shares = {WAGES: WAGE_SHARE, FEES: WAGE_SHARE * EMPLOYER_FEE_RATE, **PURCHASES}
    budget: dict[tuple[str, str, str], int] = {}  # (account, unit, activity) -> per month
    for code in units:
        w = weights[code]
        wsum = sum(w)
        for act, wi in zip(acts[code], w, strict=True):
            part = annual[code] * wi / wsum / 12
            for account, share in shares.items():
                budget[(account, code, act)] = int(part * share)
            if fee_rate[code]:
                budget[("3110", code, act)] = -int(part * fee_rate[code])
    for code, ore in depreciation.items():
        budget[(DEPRECIATION_ACCOUNT, code, "")] = ore // 12
    total_cost = sum(v for (a, _, _), v in budget.items() if a[0] in "4567")
    if taxes_and_grants is not None:  # per month, as 98 % of the costs would be
        total_cost = int(
            _ore(taxes_and_grants, "taxes_and_grants") / 12 / (TAX_SHARE + GRANT_SHARE)
        )
    budget[("8010", central, "")] = -int(total_cost * TAX_SHARE)
    budget[("8210", central, "")] = -int(total_cost * GRANT_SHARE)

    cells: dict[tuple[int, str, str, str], int] = {}
    for month in range(1, months + 1):
        for (account, code, act), planned in budget.items():
            if account == DEPRECIATION_ACCOUNT:
                cells[(month, account, code, act)] = planned  # straight-line, no noise
                continue
            noise = 1.0 if account[0] == "8" else rng.uniform(0.94, 1.06)
            if account == WAGES and month == 7:
                noise *= 0.7  # holidays
            if account[0] in "4567" and code in factors:
                noise *= factors[code]
            cells[(month, account, code, act)] = int(planned * noise)
        for code in units:  # employer contributions follow wages exactly
            for act in acts[code]:
                cells[(month, FEES, code, act)] = int(
                    cells[(month, WAGES, code, act)] * EMPLOYER_FEE_RATE
                )

    # -- line budget ------------------------------------------------------------------------
    # Per (month, unit): a payroll voucher with one 5111 and one 5611 row per employee and
    # activity, and supplier invoices covering the purchase cells. A surplus of lines (from
    # n_transactions) goes half to more employees, half to more and longer invoices.
    def purchase_cells(code: str) -> int:
        return len(PURCHASES) * len(acts[code])

    fee_lines = sum(len(acts[c]) for c in units if fee_rate[c])
    slots = [(m, c) for m in range(1, months + 1) for c in units]
    fixed = months * (
        (fee_lines + 1 if fee_lines else 0)
        + 3
        + (len(depreciation) + 1 if depreciation else 0)
        + 2 * len(invest)
    )
    employees: dict[tuple[int, str], list[int]] = {}  # per activity, in acts[unit] order
    purchase_lines: dict[tuple[int, str], int] = {}
    if n_transactions is None:
        headcount = {c: [rng.randint(1, 6) for _ in acts[c]] for c in units}
        for m, c in slots:
            employees[(m, c)] = headcount[c]
            purchase_lines[(m, c)] = (
                purchase_cells(c) + rng.randint(0, purchase_cells(c)) + rng.randint(2, 5)
            )
    else:
        minimum = fixed + sum(2 * len(acts[c]) + 1 + purchase_cells(c) + 1 for _, c in slots)
        if n_transactions < minimum:
            raise ValueError(
                f"n_transactions must be at least {minimum} for this many units, "
                "activities and months"
            )
        extra = _even(n_transactions - minimum, len(slots))
        for (m, c), e in zip(slots, extra, strict=True):
            more_staff = e // 4  # each employee adds two rows
            employees[(m, c)] = [1 + k for k in _even(more_staff, len(acts[c]))]
            purchase_lines[(m, c)] = purchase_cells(c) + 1 + e - 2 * more_staff

    # -- writing ----------------------------------------------------------------------------
    summary = LedgerSummary(activities_by_unit={c: list(a) for c, a in acts.items()})
    out: list[bytes] = []
    pending = 0

    def emit(data: str, lines: int) -> None:
        nonlocal pending
        out.append(data.encode("ascii") if data.isascii() else data.encode("cp437"))
        summary.lines += lines
        pending += len(data)
        if pending >= 1 << 20:
            stream.write(b"".join(out))
            out.clear()
            pending = 0

    def line(text: str) -> None:
        emit(text + "\r\n", 1)

    objstr: dict[tuple[str, str], str] = {}
    for code in units:
        objstr[(code, "")] = "{1 " + quote(code) + "}"
        for act in acts[code]:
            objstr[(code, act)] = "{1 " + quote(code) + " 20 " + quote(act) + "}"

    last_day = calendar.monthrange(year, months)[1]
    line("#FLAGGA 0")
    line('#PROGRAM "Röd tråd demogenerator" 1.0')
    line("#FORMAT PC8")
    line(f"#GEN {(generated or dt.date(year, months, last_day)):%Y%m%d}")
    line("#SIETYP 4")
    line(f"#ORGNR {format_field(orgnr)}")
    line(f"#FNAMN {quote(company_name)}")
    line(f"#RAR 0 {year}0101 {year}1231")
    line(f"#RAR -1 {year - 1}0101 {year - 1}1231")
    line('#KPTYP "Kommun-Bas 20"')
    line('#DIM 1 "Ansvar"')
    line('#DIM 20 "Verksamhet"')
    if invest:
        line('#DIM 6 "Projekt"')
    for code, name in responsibility_units:
        line(f"#OBJEKT 1 {quote(code)} {quote(name)}")
    for code, name in activities:
        line(f"#OBJEKT 20 {quote(code)} {quote(name)}")
    for project in invest:
        line(f"#OBJEKT 6 {quote(project.code)} {quote(project.name)}")
    accounts = dict(ACCOUNTS)
    if depreciation:
        accounts[DEPRECIATION_ACCOUNT] = ("Avskrivningar", "K")
    for project in invest:
        accounts[project.account] = (INVESTMENT_ACCOUNTS[project.account], "T")
    accounts = dict(sorted(accounts.items()))
    for account, (name, _) in accounts.items():
        line(f"#KONTO {account} {quote(name)}")
    for account, (_, kind) in accounts.items():
        line(f"#KTYP {account} {kind}")

    # Investments: per project and month, spread by INVESTMENT_PROFILE, own random stream.
    invested: dict[tuple[int, str], int] = {}  # (month, project) -> öre
    for project in invest:
        sub = random.Random(f"sie4-ledger/{seed}/project/{project.code}")
        for month in range(1, months + 1):
            share = INVESTMENT_PROFILE[month - 1] / 12 * sub.uniform(0.85, 1.15)
            invested[(month, project.code)] = int(project.ore * share)
    asset_total: dict[str, int] = {}
    for project in invest:
        asset_total[project.account] = asset_total.get(project.account, 0) + sum(
            invested[(m, project.code)] for m in range(1, months + 1)
        )

    # Totals, from the plan (every voucher below books exactly the cells).
    opening = int(annual[central] * 0.05) + sum(annual.values()) // 20
    net_pl = sum(cells.values())
    net_invested = sum(invested.values())
    zero = Decimal(0)
    for (month, account, code, _act), ore in cells.items():
        amount = Decimal(ore) / 100
        key = (code, month)
        summary.by_unit_month[key] = summary.by_unit_month.get(key, zero) + amount
        side = summary.cost_by_unit_month if account[0] in "4567" else summary.revenue_by_unit_month
        side[key] = side.get(key, zero) + amount
        summary.by_account[account] = summary.by_account.get(account, zero) + amount
        mk = (month, account)
        summary.by_month_account[mk] = summary.by_month_account.get(mk, zero) + amount
    for project in invest:
        for month in range(1, months + 1):
            amount = Decimal(invested[(month, project.code)]) / 100
            summary.investment_by_project_month[(project.code, month)] = amount
            summary.by_account[project.account] = (
                summary.by_account.get(project.account, zero) + amount
            )
    summary.opening_bank = Decimal(opening) / 100
    summary.closing_bank = Decimal(opening - net_pl - net_invested) / 100
    summary.by_account["1930"] = Decimal(-net_pl - net_invested) / 100

    if include_balances:
        line(f"#IB 0 1930 {_fmt(opening)}")
        line(f"#IB 0 2010 {_fmt(-opening)}")
        for account, ore in sorted(asset_total.items()):
            line(f"#UB 0 {account} {_fmt(ore)}")
        line(f"#UB 0 1930 {_fmt(opening - net_pl - net_invested)}")
        line(f"#UB 0 2010 {_fmt(-opening)}")
        for account in sorted(a for a in accounts if a[0] in "345678"):
            year_total = sum(v for (_, a, _, _), v in cells.items() if a == account)
            line(f"#RES 0 {account} {_fmt(year_total)}")
        for month in range(1, months + 1):
            per_account: dict[str, int] = {}
            detail = []
            for (m, account, code, act), ore in cells.items():
                if m == month:
                    per_account[account] = per_account.get(account, 0) + ore
                    detail.append(
                        f"#PSALDO 0 {year}{month:02d} {account} {objstr[(code, act)]} {_fmt(ore)}"
                    )
            for account in sorted(per_account):
                line(f"#PSALDO 0 {year}{month:02d} {account} {{}} {_fmt(per_account[account])}")
            for text in detail:
                line(text)
        for month in range(1, 13):
            for (account, code, act), planned in budget.items():
                line(
                    f"#PBUDGET 0 {year}{month:02d} {account} {objstr[(code, act)]} {_fmt(planned)}"
                )

    numbers = {"L": 0, "I": 0, "K": 0, "S": 0, "A": 0}

    def voucher(series: str, day: dt.date, text: str, rows: list[tuple[str, str, int]]) -> None:
        number = numbers[series] = numbers[series] + 1
        bank = -sum([row[2] for row in rows])
        regdate = day + dt.timedelta(days=1 + number % 3)
        head = f"#VER {series} {number} {day:%Y%m%d} {quote(text)} {regdate:%Y%m%d}\r\n{{\r\n"
        # Amounts are whole öre below 2**50, so a float prints them exactly.
        body = "".join([f"#TRANS {a} {o} {v / 100:.2f}\r\n" for a, o, v in rows])
        emit(head + body + f"#TRANS 1930 {{}} {bank / 100:.2f}\r\n}}\r\n", len(rows) + 4)
        summary.vouchers += 1
        summary.transactions += len(rows) + 1

    bought = list(PURCHASES)
    for month in range(1, months + 1):
        name = MONTHS[month - 1]
        # Supplier invoices, spread over the month; each mixes the unit's cells.
        for code in units:
            sub = random.Random(f"sie4-ledger/{seed}/{code}/{month}")
            total_lines = purchase_lines[(month, code)]
            cell_keys = [(a, act) for act in acts[code] for a in bought]
            n_cells = len(cell_keys)
            invoices = max(1, total_lines // (5 if n_transactions is None else 9))
            if total_lines - invoices < n_cells:
                invoices = total_lines - n_cells
            cost_lines = total_lines - invoices
            rows: list[tuple[str, str, int]] = []
            for (account, act), k in zip(
                cell_keys, _even(cost_lines - n_cells, n_cells), strict=True
            ):
                obj = objstr[(code, act)]
                rows.extend(
                    (account, obj, ore)
                    for ore in _split(cells[(month, account, code, act)], k + 1, sub)
                )
            days = sorted(sub.randint(1, 28) for _ in range(invoices))
            for j, day in enumerate(days):
                supplier = SUPPLIERS[sub.randrange(len(SUPPLIERS))]
                voucher("I", dt.date(year, month, day), f"Faktura {supplier}", rows[j::invoices])
        # Investments: one invoice per project and month.
        for project in invest:
            sub = random.Random(f"sie4-ledger/{seed}/project/{project.code}/{month}")
            supplier = SUPPLIERS[sub.randrange(len(SUPPLIERS))]
            voucher(
                "I",
                dt.date(year, month, sub.randint(1, 28)),
                f"Faktura {supplier}, projekt {project.code}",
                [
                    (
                        project.account,
                        "{1 " + quote(project.unit) + " 6 " + quote(project.code) + "}",
                        invested[(month, project.code)],
                    )
                ],
            )
        # Fees.
        fee_rows = [
            ("3110", objstr[(code, act)], cells[(month, "3110", code, act)])
            for code in units
            if fee_rate[code]
            for act in acts[code]
        ]
        if fee_rows:
            voucher("K", dt.date(year, month, 10), f"Avgifter {name}", fee_rows)
        # Taxes and general grants at the central unit.
        voucher(
            "S",
            dt.date(year, month, 19),
            f"Skatteintäkter och bidrag {name}",
            [
                ("8010", objstr[(central, "")], cells[(month, "8010", central, "")]),
                ("8210", objstr[(central, "")], cells[(month, "8210", central, "")]),
            ],
        )
        # Payroll: one wage row and one employer-contribution row per employee.
        for code in units:
            sub = random.Random(f"sie4-ledger/{seed}/{code}/{month}/payroll")
            wage_rows: list[tuple[str, str, int]] = []
            for act, staff in zip(acts[code], employees[(month, code)], strict=True):
                obj = objstr[(code, act)]
                wages = _split(cells[(month, WAGES, code, act)], staff, sub)
                fees = _split(cells[(month, FEES, code, act)], staff, sub)
                for wage, fee in zip(wages, fees, strict=True):
                    wage_rows.append((WAGES, obj, wage))
                    wage_rows.append((FEES, obj, fee))
            voucher("L", dt.date(year, month, 25), f"Löner {name} {code}", wage_rows)
        # Depreciation of the units' fixed assets.
        if depreciation:
            voucher(
                "A",
                dt.date(year, month, calendar.monthrange(year, month)[1]),
                f"Avskrivningar {name}",
                [
                    (
                        DEPRECIATION_ACCOUNT,
                        objstr[(code, "")],
                        cells[(month, DEPRECIATION_ACCOUNT, code, "")],
                    )
                    for code in depreciation
                ],
            )

    if out:
        stream.write(b"".join(out))
    return summary

"""Demo economy for the seed municipalities, from rodtrad/finance/demo/<name>.yaml.

Loaded after the demo plan (the `demo_loaded` signal), through the same services as the
interface, for one year: the economy settings, the council's frames per board, the financial
goals (indicators with targets, created before the import computes them), a SIE4 ledger
generated from the frames (`rodtrad.lib.sie4_generate`: the internal budget as #PBUDGET, the
months of outcome, depreciation, investments per project) and imported through the real
importer, then the programme and investment budgets and the boards' forecasts. Amounts are
millions of kronor (net cost). Format:

    year: 2026
    seed: vaggeryd-2026               # the generator's seed (same file, same ledger)
    months: 10                        # months of outcome, default 10
    settings: {deviation_pct: 2.0, deviation_amount: 0, boards_see_only_own: false,
               published_year: 2026}  # all optional
    frames_decided: {by: Kommunfullmäktige, date: 2025-06-16, paragraph: "§ 82"}
    budgeted_result: 2.0              # % of taxes and grants: they are the frames plus this
    forecast_months: [4, 8]           # when the boards forecast
    activities: {"407": Grundskola}   # the ledger's verksamhet codes
    boards:                           # every kommunstyrelse and nämnd of the municipality
      - board: Socialnämnden
        frame: 400
        units:                        # every unit with a ledger code under the board
          "410": {share: 16,          # per cent of the frame (the shares sum to 100)
                  activities: {"530": 2, "540": 1},  # or a list: equal parts
                  fees: 0.05,         # fee revenue as a share of the unit's costs
                  outcome: 1.14,      # costs booked against budgeted (1.14: 14 % over)
                  depreciation: 6}    # per year, part of the unit's share
        forecasts:                    # deviation from the budget in some months; months
          8: {deviation: 11.0, comment: ...}  # between are interpolated from 0 in month 0
    projects: [{code: P2601, name: ..., unit: "530", budget: 34, account: "1110"}]
    goals: [{kind: result_share, target: 2.0, accepted: 1.0,
             measures: [{level: overgripande-mal, number: "5", year: 2026}]}]

The first unit in the ledger, which gets the taxes and general grants, is the executive
board's own code. Units without a ledger code, and units outside the boards (companies),
get no ledger rows.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Sum

from rodtrad.finance import selectors, services
from rodtrad.finance.models import ActivityArea, BudgetLine, GoalKind
from rodtrad.indicators import services as indicator_services
from rodtrad.indicators.models import Source
from rodtrad.lib.sie4_generate import (
    EMPLOYER_FEE_RATE,
    INVESTMENT_ACCOUNTS,
    PURCHASES,
    WAGE_SHARE,
    Project,
    generate_municipal_ledger,
)
from rodtrad.lib.yamlfile import FileProblems, Problem, load_located, path_text
from rodtrad.organisations.models import Municipality, OrgUnit
from rodtrad.steering.models import PlanItem, PlanPeriod

DEMOS = Path(__file__).resolve().parent / "demo"
MILLION = Decimal(1_000_000)
KEYS = {
    "year",
    "seed",
    "months",
    "settings",
    "frames_decided",
    "budgeted_result",
    "forecast_months",
    "activities",
    "boards",
    "projects",
    "goals",
}
BOARD_KEYS = {"board", "frame", "units", "forecasts"}
UNIT_KEYS = {"share", "activities", "fees", "outcome", "depreciation"}
FORECAST_KEYS = {"deviation", "comment"}
PROJECT_KEYS = {"code", "name", "unit", "budget", "account"}
GOAL_KEYS = {"kind", "title", "description", "target", "accepted", "measures"}
SETTINGS = {"deviation_pct", "deviation_amount", "boards_see_only_own", "published_year"}
GOAL_TEXT = {
    GoalKind.RESULT_SHARE: (
        "Resultat i procent av skatteintäkter och generella statsbidrag",
        "Årets resultat hittills i år i procent av skatteintäkter, generella statsbidrag och "
        "utjämning. Beräknas ur huvudboken efter varje import.",
    ),
    GoalKind.SELF_FINANCING: (
        "Självfinansieringsgrad för investeringar",
        "Årets resultat plus avskrivningar i procent av årets investeringar, hittills i år. "
        "100 procent betyder att investeringarna betalas utan nya lån. Beräknas ur huvudboken "
        "efter varje import.",
    ),
}

Where = tuple[str | int, ...]


@dataclass
class _Unit:
    unit: OrgUnit
    share: Decimal
    activities: dict[str, float]
    fees: float = 0.0
    outcome: float = 1.0
    depreciation: Decimal = Decimal(0)


@dataclass
class _Board:
    unit: OrgUnit
    frame: Decimal
    where: Where
    units: list[_Unit] = field(default_factory=list)
    forecasts: dict[int, tuple[Decimal, str]] = field(default_factory=dict)


def _check_keys(
    entry: Any, allowed: set[str], where: Where, fail: Callable[[Where, str], FileProblems]
) -> None:
    if not isinstance(entry, dict):
        raise fail(where, "expected a mapping (key: value)")
    unknown = sorted(str(k) for k in set(entry) - allowed)
    if unknown:
        raise fail((*where, unknown[0]), f"unknown keys: {', '.join(unknown)}")


def _number(
    entry: dict[str, Any],
    key: str,
    default: float | None,
    where: Where,
    fail: Callable[[Where, str], FileProblems],
) -> Decimal:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail((*where, key), f"{key} must be a number")
    return Decimal(str(value))


def _cp437(text: str) -> bool:
    try:
        text.encode("cp437")
    except UnicodeEncodeError:
        return False
    return True


@transaction.atomic
def load_demo_economy(municipality: Municipality, name: str) -> None:
    path = DEMOS / f"{name}.yaml"
    if not path.exists():
        return
    located = load_located(path.read_text(encoding="utf-8"))
    data = located.data or {}

    def fail(where: Where, message: str) -> FileProblems:
        return FileProblems([Problem(located.line(where), path_text(where), f"{path}: {message}")])

    _check_keys(data, KEYS, (), fail)
    year, months = data.get("year"), data.get("months", 10)
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise fail(("year",), "the year is needed, e.g. 2026")
    if not isinstance(months, int) or not 1 <= months <= 12:
        raise fail(("months",), "months must be 1–12")
    units = list(OrgUnit.objects.filter(municipality=municipality).select_related("kind"))
    activities = {str(code): str(text) for code, text in (data.get("activities") or {}).items()}
    for text in activities.values():
        if not _cp437(text):
            raise fail(("activities",), f"{text!r} cannot be written in a SIE file (CP437)")
    # Checked as far as possible before anything is written; what only a service can judge
    # (a forecast that needs a comment) fails later and the transaction rolls everything back.
    boards = _boards(data, units, activities, months, fail)
    projects = _projects(data, boards, fail)
    goals = _goals(municipality, year, data, fail)
    result = _number(data, "budgeted_result", 2, (), fail) / 100
    if not -1 < result < 1:
        raise fail(("budgeted_result",), "the budgeted result is a percentage, −100 to 100")
    forecast_months = data.get("forecast_months") or []
    if not all(isinstance(m, int) and 1 <= m <= months for m in forecast_months):
        raise fail(("forecast_months",), f"forecast months are 1–{months}")
    _settings(municipality, data, fail)
    _frames(municipality, year, data, boards, fail)
    owner = next(u for u in units if u.kind.key == "kommunstyrelse")
    _create_goals(municipality, year, owner, goals, fail)
    _import(municipality, name, year, months, data, result, boards, activities, projects, fail)
    _budgets(municipality, year, projects)
    _forecasts(municipality, year, sorted(set(forecast_months)), boards, fail)


def _boards(
    data: dict[str, Any],
    units: list[OrgUnit],
    activities: dict[str, str],
    months: int,
    fail: Callable[[Where, str], FileProblems],
) -> list[_Board]:
    """The boards of the file, checked against the organisation."""
    all_boards = [u for u in units if u.kind.key in selectors.BOARD_KINDS]
    by_name = {u.name: u for u in all_boards}
    found: list[_Board] = []
    for index, entry in enumerate(data.get("boards") or []):
        where: Where = ("boards", index)
        _check_keys(entry, BOARD_KEYS, where, fail)
        unit = by_name.get(entry.get("board", ""))
        if unit is None:
            raise fail(
                (*where, "board"), f"no board (kommunstyrelse, nämnd) {entry.get('board')!r}"
            )
        if any(b.unit == unit for b in found):
            raise fail((*where, "board"), f"{unit.name} is given twice")
        board = _Board(unit, _number(entry, "frame", None, where, fail) * MILLION, where)
        coded = {u.ledger_code: u for u in units if u.ledger_code and u.path.startswith(unit.path)}
        for code, spec in (entry.get("units") or {}).items():
            at: Where = (*where, "units", code)
            if str(code) not in coded:
                raise fail(at, f"no unit with ledger code {code!r} under {unit.name}")
            _check_keys(spec, UNIT_KEYS, at, fail)
            chosen = spec.get("activities") or []
            weights = (
                {str(a): float(w) for a, w in chosen.items()}
                if isinstance(chosen, dict)
                else {str(a): 1.0 for a in chosen}
            )
            if not weights or set(weights) - set(activities):
                raise fail((*at, "activities"), "give one or more of the file's activities")
            item = _Unit(
                coded[str(code)],
                _number(spec, "share", None, at, fail),
                weights,
                float(_number(spec, "fees", 0, at, fail)),
                float(_number(spec, "outcome", 1, at, fail)),
                _number(spec, "depreciation", 0, at, fail) * MILLION,
            )
            if not 0 <= item.fees < 1 or not 0 < item.outcome < 10:
                raise fail(at, "fees must be 0 to below 1 and outcome above 0")
            if item.depreciation >= board.frame * item.share / 100:
                raise fail((*at, "depreciation"), "the depreciation exceeds the unit's share")
            if not _cp437(item.unit.name):
                raise fail(at, f"{item.unit.name!r} cannot be written in a SIE file (CP437)")
            board.units.append(item)
        missing = sorted(set(coded) - {u.unit.ledger_code for u in board.units})
        if missing:
            raise fail((*where, "units"), f"units with ledger codes missing: {', '.join(missing)}")
        if abs(sum((u.share for u in board.units), Decimal(0)) - 100) > Decimal("0.01"):
            raise fail((*where, "units"), "the shares must sum to 100")
        for key, spec in (entry.get("forecasts") or {}).items():
            _check_keys(spec, FORECAST_KEYS, (*where, "forecasts", key), fail)
            month = int(key) if str(key).isdigit() else 0
            if not 1 <= month <= months:
                raise fail((*where, "forecasts", key), f"a forecast month is 1–{months}")
            board.forecasts[month] = (
                _number(spec, "deviation", 0, (*where, "forecasts", key), fail) * MILLION,
                str(spec.get("comment", "")).strip(),
            )
        found.append(board)
    missing_boards = sorted(set(by_name) - {b.unit.name for b in found})
    if missing_boards:
        raise fail(("boards",), f"boards without a frame: {', '.join(missing_boards)}")
    if not any(b.unit.kind.key == "kommunstyrelse" and b.unit.ledger_code for b in found):
        raise fail(("boards",), "the executive board needs a ledger code (it gets the taxes)")
    return found


def _settings(
    municipality: Municipality, data: dict[str, Any], fail: Callable[[Where, str], FileProblems]
) -> None:
    given = data.get("settings") or {}
    _check_keys(given, SETTINGS, ("settings",), fail)
    values: dict[str, Any] = {"boards_see_only_own": bool(given.get("boards_see_only_own"))}
    values["published_year"] = given.get("published_year")
    values["deviation_pct"] = _number(given, "deviation_pct", 2.0, ("settings",), fail)
    values["deviation_amount"] = (
        _number(given, "deviation_amount", 0, ("settings",), fail) * MILLION
    )
    current = services.settings_for(municipality)
    services.settings_update(
        user=None, municipality=municipality, data=values, expected_version=current.version
    )


def _frames(
    municipality: Municipality,
    year: int,
    data: dict[str, Any],
    boards: list[_Board],
    fail: Callable[[Where, str], FileProblems],
) -> None:
    decided = data.get("frames_decided") or {}
    _check_keys(decided, {"by", "date", "paragraph"}, ("frames_decided",), fail)
    on = decided.get("date")
    if on is not None and not isinstance(on, datetime.date):
        raise fail(("frames_decided", "date"), "write the date as 2025-06-16")
    for board in boards:
        services.frame_set(
            user=None,
            municipality=municipality,
            org_unit=board.unit,
            year=year,
            amount=board.frame,
            decided_by=str(decided.get("by", "")),
            decided_on=on,
            paragraph=str(decided.get("paragraph", "")),
            expected_version=None,
        )


@dataclass
class _Goal:
    where: Where
    kind: GoalKind
    entry: dict[str, Any]
    measures: list[PlanItem]
    period: PlanPeriod


def _goals(
    municipality: Municipality,
    year: int,
    data: dict[str, Any],
    fail: Callable[[Where, str], FileProblems],
) -> list[_Goal]:
    """The financial goals of the file, with the plan items they measure."""
    period = PlanPeriod.objects.filter(
        municipality=municipality, start_year__lte=year, end_year__gte=year
    ).first()
    items = list(
        PlanItem.objects.filter(municipality=municipality).select_related(
            "level", "plan_year", "owner"
        )
    )
    found: list[_Goal] = []
    for index, entry in enumerate(data.get("goals") or []):
        where: Where = ("goals", index)
        _check_keys(entry, GOAL_KEYS, where, fail)
        kind = entry.get("kind")
        if kind not in GoalKind.values:
            raise fail((*where, "kind"), f"kind is one of {', '.join(GoalKind.values)}")
        measures: list[PlanItem] = []
        for number, ref in enumerate(entry.get("measures") or []):
            matching = [
                i
                for i in items
                if i.level.key == ref.get("level")
                and i.number == str(ref.get("number"))
                and ("year" not in ref or (i.plan_year and i.plan_year.year == ref["year"]))
            ]
            if len(matching) != 1:
                raise fail((*where, "measures", number), f"{len(matching)} items match {ref}")
            measures.append(matching[0])
        if period is None:
            raise fail(where, f"{year} is in no plan period, so the goal can have no target")
        _number(entry, "target", None, where, fail)
        if entry.get("accepted") is not None:
            _number(entry, "accepted", None, where, fail)
        found.append(_Goal(where, GoalKind(kind), entry, measures, period))
    return found


def _create_goals(
    municipality: Municipality,
    year: int,
    owner: OrgUnit,
    goals: list[_Goal],
    fail: Callable[[Where, str], FileProblems],
) -> None:
    """The goals' indicators, with targets; the import then computes their values."""
    for goal in goals:
        entry = goal.entry
        title, description = GOAL_TEXT[goal.kind]
        try:
            indicator = indicator_services.indicator_create(
                user=None,
                municipality=municipality,
                data={
                    "title": entry.get("title", title),
                    "description": entry.get("description", description),
                    "kind": "target",
                    "unit": "%",
                    "decimals": 1,
                    "direction": "higher",
                    "frequency": "month",
                    "source": Source.LEDGER,
                    "owner": owner,
                    "responsible": "Ekonomichef",
                },
                items=goal.measures,
            )
            accepted = entry.get("accepted")
            indicator_services.targets_set(
                user=None,
                indicator=indicator,
                rows=[
                    indicator_services.TargetInput(
                        goal.period,
                        year,
                        Decimal(str(entry.get("target"))),
                        None if accepted is None else Decimal(str(accepted)),
                    )
                ],
            )
        except indicator_services.IndicatorError as exc:
            raise fail(goal.where, "; ".join(exc.problems)) from None
        services.financial_goal_create(
            user=None, municipality=municipality, kind=goal.kind, indicator=indicator
        )


def _projects(
    data: dict[str, Any], boards: list[_Board], fail: Callable[[Where, str], FileProblems]
) -> list[tuple[Project, OrgUnit]]:
    """The investment projects as the generator takes them, each with its board."""
    board_of = {u.unit.ledger_code: b.unit for b in boards for u in b.units}
    found: list[tuple[Project, OrgUnit]] = []
    for index, entry in enumerate(data.get("projects") or []):
        where: Where = ("projects", index)
        _check_keys(entry, PROJECT_KEYS, where, fail)
        unit = str(entry.get("unit", ""))
        if unit not in board_of:
            raise fail((*where, "unit"), f"no unit with ledger code {unit!r} in the file")
        name = str(entry.get("name", ""))
        if not name or not _cp437(name):
            raise fail((*where, "name"), "a project needs a name SIE can hold (CP437)")
        code, account = str(entry.get("code", "")), str(entry.get("account", "1110"))
        if not code or code in {p[0] for p, _board in found} or not _cp437(code):
            raise fail((*where, "code"), "a project needs a code of its own")
        if account not in INVESTMENT_ACCOUNTS:
            raise fail(
                (*where, "account"), f"the account is one of {', '.join(INVESTMENT_ACCOUNTS)}"
            )
        budget = _number(entry, "budget", None, where, fail)
        if budget < 0:
            raise fail((*where, "budget"), "the budget cannot be negative")
        project: Project = (code, name, unit, budget * MILLION, account)
        found.append((project, board_of[unit]))
    return found


def _import(
    municipality: Municipality,
    name: str,
    year: int,
    months: int,
    data: dict[str, Any],
    result: Decimal,
    boards: list[_Board],
    activities: dict[str, str],
    projects: list[tuple[Project, OrgUnit]],
    fail: Callable[[Where, str], FileProblems],
) -> None:
    """Generate the year's ledger from the frames and import it like any SIE4 file. Taxes
    and general grants are the frames plus the budgeted result."""
    # In the file's order (database ids must not change the ledger), the executive board first.
    units = sorted(
        (u for b in boards for u in b.units), key=lambda u: u.unit.kind.key != "kommunstyrelse"
    )
    # The generator books this share of a unit's annual cost (just under 1) and fees as a share
    # of the whole: the cost that gives the unit's share of the frame as its net budget.
    booked = WAGE_SHARE * (1 + EMPLOYER_FEE_RATE) + sum(PURCHASES.values())
    costs: dict[str, Decimal] = {}
    for board in boards:
        for item in board.units:
            net = board.frame * item.share / 100
            costs[item.unit.ledger_code] = (
                (net - item.depreciation) / Decimal(str(booked - item.fees))
            ).quantize(Decimal(1))
    frames = sum((b.frame for b in boards), Decimal(0))
    stream = io.BytesIO()
    try:
        generate_municipal_ledger(
            stream,
            seed=str(data.get("seed", name)),
            company_name=municipality.name,
            orgnr="212000-0000",
            year=year,
            months=months,
            responsibility_units=[(u.unit.ledger_code, u.unit.name) for u in units],
            activities=list(activities.items()),
            annual_costs_by_unit=costs,
            activities_by_unit={u.unit.ledger_code: u.activities for u in units},
            fee_rate_by_unit={u.unit.ledger_code: u.fees for u in units},
            outcome_factor_by_unit={u.unit.ledger_code: u.outcome for u in units if u.outcome != 1},
            depreciation_by_unit={
                u.unit.ledger_code: u.depreciation for u in units if u.depreciation
            },
            projects=[project for project, _board in projects],
            taxes_and_grants=(frames / (1 - result)).quantize(Decimal(1)),
        )
    except ValueError as exc:
        raise fail(("boards",), str(exc)) from None
    stream.seek(0)
    imported = services.ledger_import_sie4(
        user=None,
        municipality=municipality,
        stream=stream,
        filename=f"huvudbok-{year}-01-{months:02d}.se",
        with_budget=True,
    )
    if imported.problems:
        raise fail((), "the generated ledger did not import: " + "; ".join(imported.problems))


def _budgets(
    municipality: Municipality, year: int, projects: list[tuple[Project, OrgUnit]]
) -> None:
    """The programme budget from the internal budget by activity, and the investment budget."""
    areas = {a.code: a for a in ActivityArea.objects.filter(municipality=municipality)}
    by_activity = (
        BudgetLine.objects.filter(municipality=municipality, year=year)
        .exclude(activity_code="")
        .values("activity_code")
        .annotate(total=Sum("amount"))
        .order_by("activity_code")
    )
    for row in by_activity:
        area = areas.get(row["activity_code"])
        if area is not None:
            services.programme_budget_set(
                user=None,
                municipality=municipality,
                area=area,
                year=year,
                amount=_round(row["total"]),
            )
    for project, board in projects:
        services.investment_budget_set(
            user=None,
            municipality=municipality,
            code=project[0],
            name=project[1],
            board=board,
            year=year,
            amount=project[3],
        )


def _round(amount: Decimal) -> Decimal:
    """To a tenth of a million, as budgets and forecasts are written."""
    step = MILLION / 10
    return (amount / step).quantize(Decimal(1)) * step


def _forecasts(
    municipality: Municipality,
    year: int,
    months: list[int],
    boards: list[_Board],
    fail: Callable[[Where, str], FileProblems],
) -> None:
    """Each board's forecasts in the forecast months, against its internal budget."""
    economy = {
        e.unit.pk: e for e in selectors.economy(municipality, year, [b.unit for b in boards])
    }
    for board in boards:
        budget = economy[board.unit.pk].budget
        for month in months:
            deviation, comment = _forecast_at(board.forecasts, month)
            try:
                services.forecast_set(
                    user=None,
                    municipality=municipality,
                    org_unit=board.unit,
                    year=year,
                    month=month,
                    amount=_round(budget + deviation),
                    comment=comment,
                    budget=budget,
                    expected_version=None,
                )
            except services.FinanceError as exc:
                raise fail(
                    (*board.where, "forecasts"), f"month {month}: {'; '.join(exc.problems)}"
                ) from None


def _forecast_at(given: dict[int, tuple[Decimal, str]], month: int) -> tuple[Decimal, str]:
    """The deviation in `month`: as given, else interpolated (from 0 in month 0), with the
    comment of the nearest month given."""
    if month in given or not given:
        return given.get(month, (Decimal(0), ""))
    anchors = sorted(given)
    before = max((m for m in anchors if m < month), default=0)
    after = min((m for m in anchors if m > month), default=None)
    low = given[before][0] if before else Decimal(0)
    if after is None:
        deviation = low
    else:
        deviation = low + (given[after][0] - low) * (month - before) / (after - before)
    nearest = min(anchors, key=lambda m: (abs(m - month), m))
    return deviation, given[nearest][1]

"""Reads for the economy pages: budget, outcome, forecast and deviation per unit.

A unit's figures include everything below it (a board's are its administration's and units'):
ledger codes map to org units, and a unit collects the codes of its whole subtree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Max, Q, Sum
from django.db.models.functions import Substr

from rodtrad.finance.models import BudgetFrame, BudgetLine, FinanceSettings, Forecast, LedgerRow
from rodtrad.finance.services import OPERATING, activity_map, responsibility_map, settings_for
from rodtrad.organisations.access import Access
from rodtrad.organisations.models import Municipality, OrgUnit, OrgUnitKind

ZERO = Decimal(0)
BOARD_KINDS = ("kommunstyrelse", "namnd")


@dataclass
class UnitEconomy:
    unit: OrgUnit
    year: int
    frame: BudgetFrame | None = None
    budget_by_month: list[Decimal] = field(default_factory=lambda: [ZERO] * 12)
    outcome_by_month: list[Decimal] = field(default_factory=lambda: [ZERO] * 12)
    months_with_outcome: int = 0
    forecast: Forecast | None = None
    needs_comment: bool = False

    @property
    def internal_budget(self) -> Decimal:
        return sum(self.budget_by_month, ZERO)

    @property
    def has_internal_budget(self) -> bool:
        return any(self.budget_by_month)

    @property
    def budget(self) -> Decimal:
        """The year's budget: the internal budget, else the frame."""
        if self.has_internal_budget:
            return self.internal_budget
        return self.frame.amount if self.frame else ZERO

    @property
    def frame_difference(self) -> Decimal | None:
        """Internal budget minus frame: what the board's own budget leaves unplaced."""
        if self.frame is None or not self.has_internal_budget:
            return None
        return self.internal_budget - self.frame.amount

    @property
    def outcome_to_date(self) -> Decimal:
        return sum(self.outcome_by_month, ZERO)

    @property
    def budget_to_date(self) -> Decimal:
        if self.has_internal_budget:
            return sum(self.budget_by_month[: self.months_with_outcome], ZERO)
        return self.budget * self.months_with_outcome / 12

    @property
    def deviation(self) -> Decimal | None:
        """Forecast minus budget (net cost): above zero is an overspend."""
        if self.forecast is None:
            return None
        return self.forecast.amount - self.budget

    @property
    def deviation_pct(self) -> Decimal | None:
        if self.deviation is None or not self.budget:
            return None
        return (self.deviation * 100 / abs(self.budget)).quantize(Decimal("0.1"))

    def cumulative(self, series: list[Decimal]) -> list[Decimal]:
        total = ZERO
        out = []
        for value in series:
            total += value
            out.append(total)
        return out


def visible_paths(access: Access, rules: FinanceSettings) -> tuple[str, ...] | None:
    """Whose economy the person may see: None for all, else these subtrees."""
    if not rules.boards_see_only_own or access.is_admin:
        return None
    paths = tuple(unit.path for unit in access.units)
    if any(path.count("/") == 2 for path in paths):  # a role at the top of the tree
        return None
    return paths


def may_see(unit: OrgUnit, paths: tuple[str, ...] | None) -> bool:
    return paths is None or any(unit.path.startswith(p) for p in paths)


def boards(municipality: Municipality, year: int) -> list[OrgUnit]:
    """The boards (and the executive board), and any other unit given a frame for the year."""
    framed = BudgetFrame.objects.filter(municipality=municipality, year=year).values("org_unit")
    kinds = OrgUnitKind.objects.filter(municipality=municipality, key__in=BOARD_KINDS)
    return list(
        OrgUnit.objects.filter(municipality=municipality)
        .filter(Q(kind__in=kinds) | Q(pk__in=framed))
        .order_by("path")
    )


def economy(municipality: Municipality, year: int, units: Iterable[OrgUnit]) -> list[UnitEconomy]:
    """Budget, outcome and forecast for each unit (with its subtree), in few queries.

    Only the ledger rows and budget lines of the asked units' subtrees are read, and each
    (unit, month) total is added to the asked units on its path, so one board's figures cost
    the same whatever the size of the municipality.
    """
    units = list(units)
    result = [UnitEconomy(unit=unit, year=year) for unit in units]
    if not units:
        return result
    rules = settings_for(municipality)
    prefixes = sorted({unit.path for unit in units})
    whole_tree = any(path.count("/") == 2 for path in prefixes)
    scope = Q()
    for prefix in prefixes:
        scope |= Q(path__startswith=prefix)
    paths = dict(
        OrgUnit.objects.filter(municipality=municipality).filter(scope).values_list("pk", "path")
    )
    code_path = {
        code: paths[unit_id]
        for code, unit_id in responsibility_map(municipality).items()
        if unit_id in paths
    }
    # The months the ledger has reached: from the (municipality, year, month) index.
    months_seen = (
        LedgerRow.objects.filter(municipality=municipality, year=year).aggregate(m=Max("month"))[
            "m"
        ]
        or 0
    )
    ledger = (
        LedgerRow.objects.filter(municipality=municipality, year=year)
        .annotate(account_class=Substr("account", 1, 1))
        .filter(account_class__in=OPERATING)
    )
    if not whole_tree:
        ledger = ledger.filter(responsibility__in=list(code_path))
    outcome: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    rows = ledger.values("responsibility", "month").annotate(total=Sum("amount")).order_by()
    for row in rows:
        path = code_path.get(row["responsibility"])
        if path is not None:
            outcome[(path, row["month"])] += row["total"]
    budget: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    if whole_tree:
        lines = BudgetLine.objects.filter(municipality=municipality, year=year)
    else:
        # The units are the municipality's own (paths above): by unit, so the planner uses
        # the (org_unit, year, ...) unique index rather than scanning the whole year.
        lines = BudgetLine.objects.filter(org_unit_id__in=list(paths), year=year)
    for unit_id, month, total in (
        lines.values("org_unit_id", "month")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("org_unit_id", "month", "total")
    ):
        if unit_id in paths:
            budget[(paths[unit_id], month)] += total
    frames = {
        f.org_unit_id: f for f in BudgetFrame.objects.filter(municipality=municipality, year=year)
    }
    forecasts: dict[int, Forecast] = {}
    for forecast in Forecast.objects.filter(
        municipality=municipality, year=year, org_unit__in=units
    ).order_by("month"):
        forecasts[forecast.org_unit_id] = forecast  # the latest month wins
    asked: dict[str, list[UnitEconomy]] = defaultdict(list)
    for item in result:
        asked[item.unit.path].append(item)

    def receivers(path: str) -> list[UnitEconomy]:
        """The asked units on a path: the unit itself and those above it."""
        out: list[UnitEconomy] = []
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            out += asked.get("/" + "/".join(parts[:depth]) + "/", [])
        return out

    for (path, month), total in outcome.items():
        for item in receivers(path):
            item.outcome_by_month[month - 1] += total
    for (path, month), total in budget.items():
        for item in receivers(path):
            item.budget_by_month[month - 1] += total
    for item in result:
        item.months_with_outcome = months_seen
        item.frame = frames.get(item.unit.pk)
        item.forecast = forecasts.get(item.unit.pk)
        if item.deviation is not None:
            item.needs_comment = rules.needs_comment(item.budget, item.deviation)
    return result


def unmapped_codes(municipality: Municipality) -> list[dict[str, Any]]:
    """Ansvar codes in the outcome that no org unit has, with what they hold."""
    mapped = responsibility_map(municipality)
    rows = (
        LedgerRow.objects.filter(municipality=municipality)
        .values("responsibility", "year")
        .annotate(total=Sum("amount"))
        .order_by("responsibility", "year")
    )
    return [dict(row) for row in rows if row["responsibility"] not in mapped]


def unmapped_activities(municipality: Municipality) -> list[dict[str, Any]]:
    mapped = activity_map(municipality)
    rows = (
        LedgerRow.objects.filter(municipality=municipality)
        .exclude(activity="")
        .values("activity", "year")
        .annotate(total=Sum("amount"))
        .order_by("activity", "year")
    )
    return [dict(row) for row in rows if row["activity"] not in mapped]


def units_for_items(item_owner_paths: Iterable[str], municipality: Municipality) -> list[OrgUnit]:
    """The smallest set of subtrees covering the given owners (no unit counted twice)."""
    chosen: list[str] = []
    for path in sorted(set(item_owner_paths), key=len):
        if not any(path.startswith(p) for p in chosen):
            chosen.append(path)
    return list(OrgUnit.objects.filter(municipality=municipality, path__in=chosen))

"""Reads of the plan: scope (period, year, org unit), the thread's nodes and an item's chain."""

from __future__ import annotations

import datetime
import html
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils.safestring import SafeString, mark_safe

from rodtrad.organisations.models import Municipality, OrgUnit
from rodtrad.steering.models import (
    ClassificationValue,
    Level,
    PlanItem,
    PlanLink,
    PlanPeriod,
    PlanYear,
    PlanYearStatus,
)


@dataclass
class Scope:
    """What part of the plan a page shows: a period, one of its years, optionally one unit."""

    municipality: Municipality
    period: PlanPeriod | None
    plan_year: PlanYear | None
    unit: OrgUnit | None = None
    level: Level | None = None
    value: ClassificationValue | None = None
    periods: list[PlanPeriod] = field(default_factory=list)
    years: list[PlanYear] = field(default_factory=list)

    def q(self, prefix: str = "") -> Q:
        """The scope as a condition on an item, or on the item at `prefix` ("from_item__")."""
        p = prefix
        q = Q(**{f"{p}municipality": self.municipality, f"{p}period": self.period})
        if self.plan_year is not None:
            q &= Q(**{f"{p}plan_year__isnull": True}) | Q(**{f"{p}plan_year": self.plan_year})
        else:
            q &= Q(**{f"{p}plan_year__isnull": True})
        if self.unit is not None:
            q &= Q(**{f"{p}owner__path__startswith": self.unit.path}) | Q(
                **{f"{p}owner_id__in": self.unit.ancestor_ids()}
            )
        return q

    def items(self) -> QuerySet[PlanItem]:
        if self.period is None:
            return PlanItem.objects.none()
        return PlanItem.objects.filter(self.q())

    def query_string(self) -> str:
        parts = []
        if self.period:
            parts.append(f"period={self.period.pk}")
        if self.plan_year:
            parts.append(f"year={self.plan_year.year}")
        if self.unit:
            parts.append(f"unit={self.unit.pk}")
        return "&".join(parts)


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def resolve_scope(municipality: Municipality, params: dict[str, str]) -> Scope:
    """The scope asked for in the query string, defaulting to the plan in force today."""
    periods = list(PlanPeriod.objects.filter(municipality=municipality))
    period = None
    wanted = _int(params.get("period"))
    if wanted:
        period = next((p for p in periods if p.pk == wanted), None)
    today = datetime.date.today().year
    if period is None and periods:
        period = next((p for p in periods if today in p.years), periods[-1])
    years = list(PlanYear.objects.filter(period=period)) if period else []
    plan_year = None
    wanted_year = _int(params.get("year"))
    if wanted_year:
        plan_year = next((y for y in years if y.year == wanted_year), None)
    if plan_year is None and years:
        adopted = [y for y in years if y.status != PlanYearStatus.PLANNING]
        current = [y for y in adopted if y.year == today]
        plan_year = (current or adopted or years)[-1]
    unit = None
    wanted_unit = _int(params.get("unit"))
    if wanted_unit:
        unit = OrgUnit.objects.filter(municipality=municipality, pk=wanted_unit).first()
    level = None
    wanted_level = (params.get("level") or "").replace("\x00", "")
    if wanted_level:
        level = Level.objects.filter(model__municipality=municipality, key=wanted_level).first()
    value = None
    wanted_value = _int(params.get("c"))
    if wanted_value:
        value = (
            ClassificationValue.objects.filter(
                classification__model__municipality=municipality, pk=wanted_value
            )
            .select_related("classification")
            .first()
        )
    return Scope(municipality, period, plan_year, unit, level, value, periods, years)


def with_display(items: QuerySet[PlanItem]) -> QuerySet[PlanItem]:
    return items.select_related("level", "owner", "plan_year").prefetch_related("classifications")


def contributor_counts(scope: Scope, item_ids: list[int]) -> dict[int, int]:
    """For each item, how many items in scope contribute to it: one query."""
    if not item_ids:
        return {}
    if scope.period is None:
        return {}
    # The scope goes in the count's FILTER, not in WHERE: the query is then driven by the
    # index on to_item (a few rows) and never scans the municipality's items.
    rows = (
        PlanLink.objects.filter(to_item_id__in=item_ids)
        .values("to_item_id")
        .annotate(n=Count("id", filter=scope.q("from_item__")))
    )
    return {row["to_item_id"]: row["n"] for row in rows}


def thread_roots(scope: Scope) -> list[PlanItem]:
    """The items the thread page starts from: the top level, or what the filters pick."""
    items = scope.items()
    if scope.level is not None or scope.value is not None:
        if scope.level is not None:
            items = items.filter(level=scope.level)
        if scope.value is not None:
            items = items.filter(classifications=scope.value)
    else:
        levels = list(
            Level.objects.filter(model__municipality=scope.municipality)
            .annotate(n_parents=Count("parents"))
            .order_by("order")
        )
        if not levels:
            return []
        root_levels = [lv.pk for i, lv in enumerate(levels) if i == 0 or lv.n_parents == 0]
        items = items.filter(level_id__in=root_levels)
    return _annotated(scope, with_display(items).order_by("level__order", "number", "title"))


CHILDREN_PAGE = 50


def thread_children(
    scope: Scope, item: PlanItem, offset: int = 0, limit: int = CHILDREN_PAGE
) -> tuple[list[PlanItem], bool]:
    """One page of the items in scope that contribute to `item`, and whether more follow."""
    items = scope.items().filter(
        pk__in=PlanLink.objects.filter(to_item=item).values("from_item_id")
    )
    ordered = with_display(items).order_by("level__order", "owner__path", "number", "title", "pk")
    page = list(ordered[offset : offset + limit + 1])
    more = len(page) > limit
    return _annotated_list(scope, page[:limit]), more


def _annotated(scope: Scope, items: QuerySet[PlanItem]) -> list[PlanItem]:
    return _annotated_list(scope, list(items))


def _annotated_list(scope: Scope, result: list[PlanItem]) -> list[PlanItem]:
    counts = contributor_counts(scope, [item.pk for item in result])
    for item in result:
        item.n_contributors = counts.get(item.pk, 0)  # type: ignore[attr-defined]
    return result


def ancestors_by_level(item: PlanItem) -> list[tuple[Level, list[PlanItem]]]:
    """Everything the item contributes to, directly or through others, grouped by level.

    One query per step upward; the number of steps is bounded by the model's depth.
    """
    found: dict[int, PlanItem] = {}
    frontier = [item.pk]
    while frontier:
        parents = list(
            PlanItem.objects.filter(links_down__from_item_id__in=frontier)
            .select_related("level", "owner")
            .distinct()
        )
        frontier = [p.pk for p in parents if p.pk not in found and p.pk != item.pk]
        for parent in parents:
            found.setdefault(parent.pk, parent)
    grouped: dict[int, list[PlanItem]] = defaultdict(list)
    levels: dict[int, Level] = {}
    for parent in found.values():
        grouped[parent.level_id].append(parent)
        levels[parent.level_id] = parent.level
    return [
        (levels[level_id], sorted(grouped[level_id], key=lambda p: (p.number, p.title)))
        for level_id in sorted(grouped, key=lambda lid: levels[lid].order)
    ]


def parent_candidates(
    item_level: Level, scope: Scope, owner: OrgUnit | None = None
) -> QuerySet[PlanItem]:
    """Items the model lets an item at `item_level` contribute to, within the scope.

    With an `owner`, only items owned along that unit's line (itself, the bodies above it
    and the units below it): a unit contributes to its own board's and the council's items,
    and the list stays short in a large municipality.
    """
    items = scope.items()
    if owner is not None:
        items = items.filter(
            Q(owner_id__in=owner.ancestor_ids()) | Q(owner__path__startswith=owner.path)
        )
    return (
        items.filter(level__in=item_level.parents.all())
        .exclude(status="cancelled")
        .select_related("level", "owner", "plan_year")
        .order_by("level__order", "number", "title")
    )


def unit_options(municipality: Municipality, selected: OrgUnit | None) -> SafeString:
    """The <option>s of the org unit filter, indented by depth.

    Built in Python rather than in the template, and escaped with the standard library's
    html.escape rather than format_html: a large municipality has 1,500 units and this list
    is on every filtered page.
    """
    rows = (
        OrgUnit.objects.filter(municipality=municipality)
        .order_by("path")
        .values_list("id", "name", "depth")
    )
    chosen = selected.pk if selected is not None else None
    options = "".join(
        f'<option value="{pk}"{" selected" if pk == chosen else ""}>'
        f"{'– ' * depth}{html.escape(name)}</option>"
        for pk, name, depth in rows
    )
    return mark_safe(options)  # noqa: S308  (every name is escaped above; ids are integers)

"""Keep the stored statuses in step with the plan: load facts, run the roll-up, store changes.

Writes anywhere (values, targets, links, overrides, the plan itself) only bump the
municipality's `RollupState.generation`; `ensure_fresh` recomputes on the first read after
that. One recomputation is a handful of queries and a pass in memory over the whole plan.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from rodtrad.indicators import assessment
from rodtrad.indicators.models import (
    AssessmentSettings,
    Indicator,
    IndicatorKind,
    IndicatorStatus,
    ItemRollup,
    RollupState,
    StatusOverride,
    Target,
    Value,
)
from rodtrad.organisations.models import Municipality
from rodtrad.steering.models import (
    Horizon,
    ItemStatus,
    Level,
    PlanItem,
    PlanLink,
    PlanPeriod,
    PlanYear,
    SteeringModel,
)


def mark_stale(
    municipality: Municipality | int,
    *,
    indicators: Iterable[int] = (),
    all_indicators: bool = False,
) -> None:
    """Note that statuses must be recomputed. Name the indicators whose values, targets or
    rules changed (or say all did): their stored judgements go, the others are reused."""
    municipality_id = municipality if isinstance(municipality, int) else municipality.pk
    if all_indicators:
        IndicatorStatus.objects.filter(indicator__municipality_id=municipality_id).delete()
    elif indicators:
        IndicatorStatus.objects.filter(indicator__in=list(indicators)).delete()
    updated = RollupState.objects.filter(municipality_id=municipality_id).update(
        generation=F("generation") + 1
    )
    if not updated:
        RollupState.objects.get_or_create(municipality_id=municipality_id)


def settings_for(model: SteeringModel) -> AssessmentSettings:
    found = AssessmentSettings.objects.filter(model=model).first()
    return found or AssessmentSettings(model=model, version=0)


def ensure_fresh(municipality: Municipality) -> None:
    state = RollupState.objects.filter(municipality=municipality).first()
    if state is not None and state.computed >= state.generation:
        return
    recompute(municipality)


def load_facts(
    municipality: Municipality, tolerance: float, series_for: set[int] | None = None
) -> dict[int, assessment.IndicatorFacts]:
    """Every indicator of the municipality; the series and targets only of `series_for`
    (None: of all), the indicators whose judgements must be made again.

    The series is read with a plain cursor: the ORM's per-value Decimal and date conversion
    would be most of the cost of a full read. The judgement works on floats; four decimals
    survive that exactly.
    """
    indicators = Indicator.objects.filter(municipality=municipality)
    facts = {
        pk: assessment.IndicatorFacts(
            id=pk,
            title=title,
            direction=direction,
            has_targets=kind != IndicatorKind.KEY_FIGURE,
            tolerance_pct=float(own_tolerance) if own_tolerance is not None else tolerance,
            weight=weight,
        )
        for pk, title, direction, kind, own_tolerance, weight in indicators.values_list(
            "pk", "title", "direction", "kind", "tolerance_pct", "weight"
        )
    }
    if series_for is not None and not series_for:
        return facts
    values, owners = Value._meta.db_table, Indicator._meta.db_table
    sql = (
        "SELECT v.indicator_id, v.year, v.period_end, v.period_kind, v.period_number, v.value "  # noqa: S608 - table names only
        f"FROM {values} v JOIN {owners} i ON i.id = v.indicator_id "
        "WHERE i.municipality_id = %s AND v.area = %s AND v.gender = 'T' "
        "AND v.value IS NOT NULL"
    )
    params: list[Any] = [municipality.pk, municipality.code]
    targets = Target.objects.filter(indicator__municipality=municipality)
    if series_for is not None:
        chosen = sorted(series_for)
        sql += f" AND v.indicator_id IN ({', '.join(['%s'] * len(chosen))})"
        params += chosen
        targets = targets.filter(indicator__in=chosen)
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY v.indicator_id, v.period_end", params)
        for indicator_id, year, end, kind, number, value in cursor.fetchall():
            facts[indicator_id].series.append((year, end, kind, number, float(value)))
    for indicator_id, target_year, first, last, target, accepted in targets.values_list(
        "indicator_id", "year", "period__start_year", "period__end_year", "value", "accepted_value"
    ):
        row = assessment.TargetRow(
            target_year, first, last, float(target), None if accepted is None else float(accepted)
        )
        facts[indicator_id].targets.append(row)
    return facts


def _stored_judgements(
    municipality: Municipality,
) -> dict[tuple[int, int], assessment.IndicatorJudgement]:
    rows = IndicatorStatus.objects.filter(indicator__municipality=municipality).values_list(
        "indicator_id", "year", "status", "reasons", "projection", "projection_year", "warning"
    )
    return {
        (indicator_id, year): assessment.IndicatorJudgement(
            status,
            reasons,
            None if projection is None else float(projection),
            projection_year,
            warning,
        )
        for indicator_id, year, status, reasons, projection, projection_year, warning in rows
    }


def _signature(*parts: object) -> str:
    """A fingerprint of what was computed. repr() is stable here: the reasons are built in
    a fixed order from plain values."""
    return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()


@transaction.atomic
def recompute(municipality: Municipality) -> dict[int, assessment.ItemJudgement]:
    state, _created = RollupState.objects.select_for_update().get_or_create(
        municipality=municipality
    )
    generation = state.generation
    model = SteeringModel.objects.filter(municipality=municipality).first()
    if model is None:
        return {}
    rules = settings_for(model)
    # The items without joins: levels, years and periods are few and looked up here.
    levels = dict(Level.objects.filter(model=model).values_list("pk", "key"))
    yearly = set(
        Level.objects.filter(model=model, horizon=Horizon.YEAR).values_list("pk", flat=True)
    )
    years = dict(
        PlanYear.objects.filter(period__municipality=municipality).values_list("pk", "year")
    )
    ends = dict(PlanPeriod.objects.filter(municipality=municipality).values_list("pk", "end_year"))
    items: dict[int, assessment.ItemNode] = {}
    rows = (
        PlanItem.objects.filter(municipality=municipality)
        .exclude(status=ItemStatus.CANCELLED)
        .values_list("pk", "level_id", "plan_year_id", "period_id")
    )
    for pk, level_id, year_id, period_id in rows:
        year = years.get(year_id) if year_id else None
        as_of = year if level_id in yearly and year else ends[period_id]
        items[pk] = assessment.ItemNode(pk, "", levels[level_id], as_of)
    links = PlanLink.objects.filter(to_item__municipality=municipality).values_list(
        "from_item_id", "to_item_id"
    )
    for from_id, to_id in links:
        node = items.get(to_id)
        if node is not None and from_id in items:
            node.contributor_ids.append(from_id)
    through = Indicator.plan_items.through.objects.filter(
        indicator__municipality=municipality
    ).values_list("indicator_id", "planitem_id")
    for indicator_id, item_id in through:
        node = items.get(item_id)
        if node is not None:
            node.indicator_ids.append(indicator_id)
    overrides: dict[int, str] = {}
    for item_id, status in (
        StatusOverride.objects.filter(item__municipality=municipality)
        .order_by("item_id", "created_at", "pk")
        .values_list("item_id", "status")
    ):
        overrides[item_id] = status  # the newest wins; "" clears
    for item_id, status in overrides.items():
        if item_id in items:
            items[item_id].override = status
    # Judgements stored earlier still hold for indicators nothing changed (mark_stale
    # deleted the others'); only the rest need their values read.
    stored = _stored_judgements(municipality)
    judged_ids = {indicator_id for indicator_id, _year in stored}
    needed = {
        (indicator_id, node.as_of_year)
        for node in items.values()
        for indicator_id in node.indicator_ids
    }
    all_ids = set(Indicator.objects.filter(municipality=municipality).values_list("pk", flat=True))
    dirty = (all_ids - judged_ids) | {i for i, year in needed if (i, year) not in stored}
    facts = load_facts(
        municipality,
        float(rules.tolerance_pct),
        None if len(dirty) > len(all_ids) / 2 else dirty,
    )
    judged = {key: value for key, value in stored.items() if key[0] not in dirty}
    # Every indicator gets a status for its latest year, even when no item uses it.
    this_year = timezone.localdate().year
    for indicator_id in dirty:
        indicator_facts = facts[indicator_id]
        year = indicator_facts.series[-1][0] if indicator_facts.series else this_year
        judged[(indicator_id, year)] = assessment.judge_indicator(indicator_facts, year)
    result, judged = assessment.rollup(
        items,
        facts,
        rule=rules.rollup_rule,
        include_contributors=rules.include_contributors,
        judged=judged,
    )
    _name_items(result)
    _store_items(municipality, items, result)
    _store_indicators({k: v for k, v in judged.items() if k[0] in dirty}, dirty)
    state.computed = generation
    state.computed_at = timezone.now()
    state.save(update_fields=["computed", "computed_at"])
    return result


def _name_items(result: dict[int, assessment.ItemJudgement]) -> None:
    """Put the titles into the explanations (items are loaded without them)."""
    wanted = {
        entry["id"]
        for judgement in result.values()
        for entry in judgement.reasons.get("worst", ())
        if entry["kind"] == "item"
    }
    titles = dict(PlanItem.objects.filter(pk__in=wanted).values_list("pk", "title"))
    for judgement in result.values():
        for entry in judgement.reasons.get("worst", ()):
            if entry["kind"] == "item":
                entry["title"] = titles.get(entry["id"], "")


def _store_items(
    municipality: Municipality,
    items: dict[int, assessment.ItemNode],
    result: dict[int, assessment.ItemJudgement],
) -> None:
    """Write only what changed: each row's signature says whether it did."""
    existing = {
        item_id: (pk, signature)
        for item_id, pk, signature in ItemRollup.objects.filter(
            municipality=municipality
        ).values_list("item_id", "pk", "signature")
    }
    create: list[ItemRollup] = []
    update: list[ItemRollup] = []
    for item_id, judgement in result.items():
        if judgement is assessment.EMPTY:
            continue  # no row: nothing to judge from (a leftover row is deleted below)
        overridden = bool(items[item_id].override)
        signature = _signature(
            judgement.proposed, judgement.status, overridden, judgement.warning, judgement.reasons
        )
        pk, old = existing.pop(item_id, (None, None))
        if old == signature:
            continue
        row = ItemRollup(
            pk=pk,
            item_id=item_id,
            municipality=municipality,
            proposed=judgement.proposed,
            reasons=judgement.reasons,
            status=judgement.status,
            overridden=overridden,
            warning=judgement.warning,
            signature=signature,
        )
        (create if pk is None else update).append(row)
    ItemRollup.objects.bulk_create(create, batch_size=2000)
    ItemRollup.objects.bulk_update(
        update,
        ["proposed", "reasons", "status", "overridden", "warning", "signature"],
        batch_size=2000,
    )
    if existing:  # items with nothing to judge, cancelled items
        ItemRollup.objects.filter(pk__in=[pk for pk, _s in existing.values()]).delete()


def _store_indicators(
    judged: dict[tuple[int, int], assessment.IndicatorJudgement], dirty: set[int]
) -> None:
    """Write the judgements made again (those of the `dirty` indicators)."""
    existing = {
        (indicator_id, year): (pk, signature)
        for indicator_id, year, pk, signature in IndicatorStatus.objects.filter(
            indicator__in=dirty
        ).values_list("indicator_id", "year", "pk", "signature")
    }
    create: list[IndicatorStatus] = []
    update: list[IndicatorStatus] = []
    for (indicator_id, year), judgement in judged.items():
        signature = _signature(
            judgement.status,
            judgement.reasons,
            judgement.projection,
            judgement.projection_year,
            judgement.warning,
        )
        pk, old = existing.pop((indicator_id, year), (None, None))
        if old == signature:
            continue
        row = IndicatorStatus(
            pk=pk,
            indicator_id=indicator_id,
            year=year,
            status=judgement.status,
            reasons=judgement.reasons,
            projection=None if judgement.projection is None else Decimal(str(judgement.projection)),
            projection_year=judgement.projection_year,
            warning=judgement.warning,
            signature=signature,
        )
        (create if pk is None else update).append(row)
    IndicatorStatus.objects.bulk_create(create, batch_size=2000)
    IndicatorStatus.objects.bulk_update(
        update,
        ["status", "reasons", "projection", "projection_year", "warning", "signature"],
        batch_size=2000,
    )
    if existing:
        IndicatorStatus.objects.filter(pk__in=[pk for pk, _s in existing.values()]).delete()


def latest_statuses(indicator_ids: list[int]) -> dict[int, IndicatorStatus]:
    """Each indicator's stored status for its latest judged year."""
    out: dict[int, IndicatorStatus] = {}
    for row in IndicatorStatus.objects.filter(indicator__in=indicator_ids).order_by("year"):
        out[row.indicator_id] = row
    return out


def statuses_by_year(indicator_ids: list[int]) -> dict[tuple[int, int], IndicatorStatus]:
    return {
        (row.indicator_id, row.year): row
        for row in IndicatorStatus.objects.filter(indicator__in=indicator_ids)
    }


def end_of(year: int) -> datetime.date:
    return datetime.date(year, 12, 31)


def series_by_area(indicator: Indicator) -> dict[tuple[str, str], list[Value]]:
    grouped: dict[tuple[str, str], list[Value]] = defaultdict(list)
    for value in indicator.values.order_by("period_end"):
        grouped[(value.area, value.gender)].append(value)
    return grouped

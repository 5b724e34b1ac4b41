"""The content of reports as plain data: what the live report page shows and what approval
freezes. Built for many reports at once in a fixed number of queries, so freezing a whole
period costs the same few queries as freezing one report.

Everything a frozen report shows is in the content (names in both languages, statuses with the
facts their explanations are written from, indicator values and targets, the contributing
items' assessments, the economy); nothing is looked up in live data when it is read.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import F, Max
from django.utils.translation import override

from rodtrad.followup.models import (
    Assessment,
    FollowUpPeriod,
    Report,
    ReportSection,
    ReportStatus,
)
from rodtrad.indicators import assessment, rollup
from rodtrad.indicators.models import (
    AssessmentSettings,
    Indicator,
    IndicatorStatus,
    ItemRollup,
    Target,
    Value,
    period_label,
)
from rodtrad.steering.models import PlanLink

if TYPE_CHECKING:
    from collections.abc import Iterable

FORMAT = 1
CHUNK = 20_000


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def scale_of(municipality_id: int) -> str:
    settings = AssessmentSettings.objects.filter(model__municipality_id=municipality_id).first()
    return settings.scale if settings else "achieved"


def _rule_of(municipality_id: int) -> str:
    settings = AssessmentSettings.objects.filter(model__municipality_id=municipality_id).first()
    return settings.rollup_rule if settings else "worst"


def reported_rollup(contributors: list[dict[str, Any]], rule: str) -> dict[str, Any] | None:
    """The contributing items' statuses reported this period, combined by the model's rule:
    the council level's (and a board's) roll-up of what was reported below it."""
    if not contributors:
        return None
    counts = {"met": 0, "partly": 0, "not_met": 0, "none": 0}
    for contributor in contributors:
        counts[contributor["status"] or "none"] += 1
    status = assessment.combine([(c["status"], 1) for c in contributors], rule)
    return {"status": status, "rule": rule, **counts}


def build_snapshots(reports: Iterable[Report]) -> dict[int, dict[str, Any]]:
    """The content of each report (keyed by report id), as it stands now."""
    reports = list(reports)
    if not reports:
        return {}
    periods = {r.period_id: r.period for r in reports}
    municipality = reports[0].period.municipality
    scale = scale_of(municipality.pk)
    rule = _rule_of(municipality.pk)
    report_ids = [r.pk for r in reports]

    # The roll-up's proposal as it stands (the one copied into the assessment is from the
    # last save): what the report shows beside the judgement, and what approval freezes.
    rollup.ensure_fresh(municipality)
    rows = list(
        Assessment.objects.filter(report_id__in=report_ids)
        .order_by("report_id", "item__level__order", "item__number", "item__title", "pk")
        .values(
            "pk",
            "report_id",
            "item_id",
            "status",
            "analysis",
            "measures",
            "proposed",
            "ready",
            "item__number",
            "item__title",
            "item__level__name",
            "item__level__name_en",
            "item__level__order",
        )
    )
    # Ids go to the database as a subquery, not a list: a whole period at city scale is tens
    # of thousands of items, beyond what SQLite takes as parameters.
    item_ids = Assessment.objects.filter(report_id__in=report_ids).values("item_id")
    proposals = {
        item_id: (proposed, reasons)
        for item_id, proposed, reasons in ItemRollup.objects.filter(
            item_id__in=item_ids
        ).values_list("item_id", "proposed", "reasons")
    }

    # Indicators of the items, with the value, target and status as of each period.
    links: dict[int, list[int]] = defaultdict(list)
    for item_id, indicator_id in Indicator.plan_items.through.objects.filter(
        planitem_id__in=item_ids
    ).values_list("planitem_id", "indicator_id"):
        links[item_id].append(indicator_id)
    indicator_ids = sorted({i for ids in links.values() for i in ids})
    indicators = {
        row["pk"]: row
        for row in Indicator.objects.filter(pk__in=indicator_ids).values(
            "pk", "title", "unit", "decimals", "kind", "frequency"
        )
    }
    latest_end = max(p.end for p in periods.values())
    series: dict[int, list[tuple[Any, Decimal | None, str]]] = defaultdict(list)
    for indicator_id, end, value, value_year, value_kind, value_number in (
        Value.objects.filter(
            indicator_id__in=indicator_ids,
            area=municipality.code,
            gender="T",
            period_end__lte=latest_end,
        )
        .order_by("indicator_id", "period_end")
        .values_list("indicator_id", "period_end", "value", "year", "period_kind", "period_number")
    ):
        series[indicator_id].append(
            (end, value, period_label(value_year, value_kind, value_number))
        )
    years = {p.year for p in periods.values()}
    targets: dict[tuple[int, int], tuple[Decimal, Decimal | None]] = {}
    # A target for the year wins over a target for the plan period's end.
    for target in (
        Target.objects.filter(indicator_id__in=indicator_ids)
        .select_related("period")
        .order_by(F("year").desc(nulls_last=True))
    ):
        for year in years:
            if target.year == year or (
                target.year is None
                and target.period.start_year <= year <= target.period.end_year
                and (target.indicator_id, year) not in targets
            ):
                targets[(target.indicator_id, year)] = (target.value, target.accepted_value)
    statuses = {
        (indicator_id, year): status
        for indicator_id, year, status in IndicatorStatus.objects.filter(
            indicator_id__in=indicator_ids, year__in=years
        ).values_list("indicator_id", "year", "status")
    }

    # The contributing items' assessments in the same period (units' beside the board's).
    contributors: dict[int, list[int]] = defaultdict(list)
    for to_item, from_item in (
        PlanLink.objects.filter(to_item_id__in=item_ids)
        .order_by()
        .values_list("to_item_id", "from_item_id")
    ):
        contributors[to_item].append(from_item)
    from_ids = sorted({i for ids in contributors.values() for i in ids})
    contributed: dict[tuple[int, int], dict[str, Any]] = {}
    # A list of ids (in chunks under SQLite's parameter limit) lets PostgreSQL use the item
    # index instead of reading the whole period's assessments against a subquery.
    for chunk_start in range(0, len(from_ids), CHUNK):
        for crow in (
            Assessment.objects.filter(
                report__period_id__in=list(periods),
                item_id__in=from_ids[chunk_start : chunk_start + CHUNK],
            ).order_by()
        ).values(
            "item_id",
            "report_id",
            "report__period_id",
            "report__status",
            "report__org_unit__name",
            "item__number",
            "item__title",
            "item__level__name",
            "item__level__name_en",
            "status",
            "analysis",
            "measures",
            "ready",
        ):
            contributed[(crow["report__period_id"], crow["item_id"])] = {
                "item_id": crow["item_id"],
                "report_id": crow["report_id"],
                "number": crow["item__number"],
                "title": crow["item__title"],
                "level": crow["item__level__name"],
                "level_en": crow["item__level__name_en"],
                "owner": crow["report__org_unit__name"],
                "status": crow["status"],
                "analysis": crow["analysis"],
                "measures": crow["measures"],
                "ready": crow["ready"],
                "report_status": crow["report__status"],
            }

    # The latest assessment of each item in an earlier period: "what changed since".
    previous: dict[tuple[int, int], dict[str, Any]] = {}
    earliest = min(p.end for p in periods.values())
    earlier = (
        Assessment.objects.filter(item_id__in=item_ids, report__period__end__lt=latest_end)
        .exclude(report__period__end__lt=earliest.replace(year=earliest.year - 2))
        .order_by("report__period__end", "pk")
        .values_list(
            "item_id",
            "report__period_id",
            "report__period__end",
            "status",
            "analysis",
            "report__status",
        )
    )
    history: dict[int, list[tuple[int, int, datetime.date, str, str, str]]] = defaultdict(list)
    for entry in earlier:
        history[entry[0]].append(entry)
    labels: dict[int, tuple[str, str]] = {}
    for earlier_period in FollowUpPeriod.objects.filter(
        pk__in={e[1] for entries in history.values() for e in entries}
    ).select_related("kind"):
        with override("sv"):
            swedish = earlier_period.label
        with override("en"):
            english = earlier_period.label
        labels[earlier_period.pk] = (swedish, english)
    for period in periods.values():
        for item_id, entries in history.items():
            before = [e for e in entries if e[2] < period.end]
            if before:
                last_entry = before[-1]
                swedish, english = labels[last_entry[1]]
                previous[(period.pk, item_id)] = {
                    "period": swedish,
                    "period_en": english,
                    "status": last_entry[3],
                    "analysis": last_entry[4],
                    "approved": last_entry[5]
                    in (ReportStatus.APPROVED, ReportStatus.COUNCIL_APPROVED),
                }

    sections: dict[int, list[ReportSection]] = defaultdict(list)
    for section in ReportSection.objects.filter(report_id__in=report_ids).order_by(
        "report_id", "order"
    ):
        sections[section.report_id].append(section)

    economy = _economy(reports)

    out: dict[int, dict[str, Any]] = {}
    by_report: dict[int, list[Any]] = defaultdict(list)
    for assessment_row in rows:
        by_report[assessment_row["report_id"]].append(assessment_row)
    for report in reports:
        period = report.period
        follow_up_kind = period.kind
        named = {entry["key"]: entry for entry in follow_up_kind.sections or []}
        items = []
        for arow in by_report[report.pk]:
            shown_indicators = []
            for indicator_id in links.get(arow["item_id"], []):
                info = indicators[indicator_id]
                known = [s for s in series.get(indicator_id, []) if s[0] <= period.end]
                last = known[-1] if known else None
                goal = targets.get((indicator_id, period.year))
                shown_indicators.append(
                    {
                        "id": indicator_id,
                        "title": info["title"],
                        "unit": info["unit"],
                        "decimals": info["decimals"],
                        "kind": info["kind"],
                        "value": _num(last[1]) if last else None,
                        "value_label": last[2] if last else "",
                        "target": _num(goal[0]) if goal else None,
                        "accepted": _num(goal[1]) if goal else None,
                        "status": statuses.get((indicator_id, period.year), ""),
                    }
                )
            shown_contributors = [
                contributed[(period.pk, from_id)]
                for from_id in contributors.get(arow["item_id"], [])
                if (period.pk, from_id) in contributed
            ]
            items.append(
                {
                    "assessment_id": arow["pk"],
                    "item_id": arow["item_id"],
                    "number": arow["item__number"],
                    "title": arow["item__title"],
                    "level": arow["item__level__name"],
                    "level_en": arow["item__level__name_en"],
                    "status": arow["status"],
                    "analysis": arow["analysis"],
                    "measures": arow["measures"],
                    "ready": arow["ready"],
                    "proposed": proposals.get(arow["item_id"], (arow["proposed"],))[0],
                    "proposed_reasons": proposals.get(arow["item_id"], ("", {}))[1],
                    "indicators": shown_indicators,
                    "contributors": shown_contributors,
                    "reported": reported_rollup(shown_contributors, rule),
                    "previous": previous.get((period.pk, arow["item_id"])),
                }
            )
        out[report.pk] = {
            "format": FORMAT,
            "report": {
                "id": report.pk,
                "period": period.label,
                "kind": follow_up_kind.key,
                "kind_name": follow_up_kind.name,
                "kind_name_en": follow_up_kind.name_en,
                "year": period.year,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "deadline": period.deadline.isoformat(),
                "org_unit": report.org_unit.name,
                "org_unit_id": report.org_unit_id,
                "tier": report.tier,
                "scale": scale,
            },
            "items": items,
            "sections": [
                {
                    "key": s.key,
                    "name": named.get(s.key, {}).get("name", "Ekonomi"),
                    "name_en": named.get(s.key, {}).get("name_en", "Economy"),
                    "text": s.text,
                    "ready": s.ready,
                }
                for s in sections[report.pk]
            ],
            "economy": economy.get(report.pk),
        }
    return out


def _economy(reports: list[Report]) -> dict[int, dict[str, Any]]:
    """The economy part of board reports: budget, outcome to date, forecast and deviation."""
    from rodtrad.finance.models import Forecast
    from rodtrad.finance.selectors import economy

    wanted = [r for r in reports if r.economy]
    if not wanted:
        return {}
    out: dict[int, dict[str, Any]] = {}
    by_year: dict[int, list[Report]] = defaultdict(list)
    for report in wanted:
        by_year[report.period.year].append(report)
    for year, year_reports in by_year.items():
        figures = economy(
            year_reports[0].period.municipality, year, [r.org_unit for r in year_reports]
        )
        forecasts: dict[int, list[Forecast]] = defaultdict(list)
        for forecast in Forecast.objects.filter(
            org_unit__in=[r.org_unit_id for r in year_reports], year=year
        ).order_by("month"):
            forecasts[forecast.org_unit_id].append(forecast)
        for report, unit in zip(year_reports, figures, strict=True):
            end_month = report.period.end.month
            made = [f for f in forecasts[report.org_unit_id] if f.month <= end_month]
            latest = made[-1] if made else None
            months = min(unit.months_with_outcome, end_month)
            outcome = sum(unit.outcome_by_month[:months], Decimal(0))
            if unit.has_internal_budget:
                budget_to_date = sum(unit.budget_by_month[:months], Decimal(0))
            else:
                budget_to_date = unit.budget * months / 12
            deviation = latest.amount - unit.budget if latest else None
            out[report.pk] = {
                "budget": _num(unit.budget),
                "frame": _num(unit.frame.amount) if unit.frame else None,
                "months": months,
                "outcome_to_date": _num(outcome),
                "budget_to_date": _num(budget_to_date),
                "forecast": _num(latest.amount) if latest else None,
                "forecast_month": latest.month if latest else None,
                "forecast_comment": latest.comment if latest else "",
                "deviation": _num(deviation),
                "deviation_pct": _num((deviation * 100 / abs(unit.budget)).quantize(Decimal("0.1")))
                if deviation is not None and unit.budget
                else None,
            }
    return out


def refer_to_frozen_contributors(contents: dict[int, dict[str, Any]]) -> None:
    """Replace the texts of contributors whose own report is frozen by a reference to that
    report's latest snapshot: what they approved is kept there, unchangeable, so a board's or
    the council's snapshot need not copy every unit's analysis again.

    The reports in `contents` are being frozen now: their own snapshots do not exist yet (or
    are older versions), so a contributor among them keeps its copied text."""
    from rodtrad.followup.models import Snapshot

    report_ids = {
        c["report_id"]
        for content in contents.values()
        for item in content["items"]
        for c in item["contributors"]
        if c["report_status"] in (ReportStatus.APPROVED, ReportStatus.COUNCIL_APPROVED)
    } - set(contents)
    if not report_ids:
        return
    latest = dict(
        Snapshot.objects.filter(report_id__in=report_ids)
        .values("report_id")
        .annotate(last=Max("pk"))
        .order_by()
        .values_list("report_id", "last")
    )
    for content in contents.values():
        for item in content["items"]:
            for c in item["contributors"]:
                snapshot_id = latest.get(c["report_id"]) if c["report_id"] in report_ids else None
                if snapshot_id is not None:
                    c["snapshot"] = snapshot_id
                    c.pop("analysis", None)
                    c.pop("measures", None)


def resolve_references(content: dict[str, Any]) -> None:
    """Fill in the contributors' texts from the snapshots a frozen report refers to."""
    from rodtrad.followup.models import Snapshot

    wanted = {
        c["snapshot"] for item in content["items"] for c in item["contributors"] if "snapshot" in c
    }
    if not wanted:
        return
    texts: dict[tuple[int, int], tuple[str, str]] = {}
    for snapshot_id, referred in Snapshot.objects.filter(pk__in=wanted).values_list(
        "pk", "content"
    ):
        for entry in referred["items"]:
            texts[(snapshot_id, entry["item_id"])] = (entry["analysis"], entry["measures"])
    for item in content["items"]:
        for c in item["contributors"]:
            if "snapshot" in c:
                c["analysis"], c["measures"] = texts.get((c["snapshot"], c["item_id"]), ("", ""))

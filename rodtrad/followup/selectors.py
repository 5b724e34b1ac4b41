"""Reads and rules of the follow-up pages: who may do what with a report, the cycle overview,
a person's assignments, the indicator values a report owes, and an item's history."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count

from rodtrad.followup.models import (
    Assessment,
    FollowUpPeriod,
    PeriodStatus,
    Reminder,
    Report,
    ReportStatus,
    Tier,
)
from rodtrad.indicators.models import MONTHS_PER, Indicator, Source, Value
from rodtrad.organisations.models import OrgUnit

if TYPE_CHECKING:
    from rodtrad.organisations.access import Access
    from rodtrad.steering.models import PlanItem

STATUS_ORDER: dict[str, int] = {
    ReportStatus.DRAFT: 0,
    ReportStatus.SUBMITTED: 1,
    ReportStatus.APPROVED: 2,
    ReportStatus.COUNCIL_APPROVED: 3,
}


# --- Who may do what ------------------------------------------------------------------------


def may_edit(access: Access, report: Report) -> bool:
    """Write the report's assessments and sections: whoever edits the org unit, while draft."""
    return (
        report.status == ReportStatus.DRAFT
        and report.period.status == PeriodStatus.OPEN
        and access.can_edit_unit(report.org_unit)
    )


def may_submit(access: Access, report: Report) -> bool:
    return may_edit(access, report)


def may_approve(access: Access, report: Report) -> bool:
    """Record the approval: a controller over the unit. A unit's report is approved from
    above it (its board), so a controller whose role sits on the unit itself may not."""
    if report.status != ReportStatus.SUBMITTED or report.period.status != PeriodStatus.OPEN:
        return False
    return controls(access, report.org_unit, strictly_above=report.tier == Tier.UNIT)


def controls(access: Access, unit: OrgUnit, *, strictly_above: bool = False) -> bool:
    return controls_path(access, unit.path, strictly_above=strictly_above)


def controls_path(access: Access, unit_path: str, *, strictly_above: bool = False) -> bool:
    if access.is_admin:
        return True
    for path in access.controller_paths:
        if unit_path.startswith(path) and not (strictly_above and unit_path == path):
            return True
    return False


def may_council_approve(access: Access, report: Report) -> bool:
    return (
        report.needs_council
        and report.status == ReportStatus.APPROVED
        and report.period.status == PeriodStatus.OPEN
        and access.can_plan()
    )


def may_reopen(access: Access, report: Report) -> bool:
    if report.status == ReportStatus.DRAFT or report.period.status != PeriodStatus.OPEN:
        return False
    if report.status == ReportStatus.COUNCIL_APPROVED:
        return access.can_plan()
    return controls(access, report.org_unit, strictly_above=report.tier == Tier.UNIT)


def may_manage(access: Access) -> bool:
    """Generate and open periods, move deadlines, send reminders, close: the whole tree."""
    return access.can_plan()


def may_oversee(access: Access) -> bool:
    """See a cycle overview: controllers (of their subtrees) and administrators."""
    return access.is_controller


# --- The cycle overview ---------------------------------------------------------------------


@dataclass
class OverviewRow:
    report_id: int
    unit: str
    unit_id: int
    path: str
    board: str
    tier: int
    status: str
    parts_ready: int
    parts_total: int
    submitted_at: datetime.datetime | None
    late: bool
    reminders: int = 0

    @property
    def progress_pct(self) -> int:
        return round(self.parts_ready * 100 / self.parts_total) if self.parts_total else 100


@dataclass
class Overview:
    rows: list[OverviewRow]
    by_board: list[dict[str, Any]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    late: int = 0


def overview(
    period: FollowUpPeriod,
    access: Access,
    today: datetime.date,
    *,
    status: str = "",
    board: str = "",
) -> Overview:
    """Every report the person oversees in the period, late ones first, then by how far they
    are; and a matrix of boards × status."""
    reports = Report.objects.filter(period=period)
    if not access.can_plan():
        from django.db.models import Q

        scope = Q(pk__in=[])
        for path in access.controller_paths:
            scope |= Q(org_unit__path__startswith=path)
        reports = reports.filter(scope)
    reminders = dict(
        Reminder.objects.filter(report__period=period)
        .values("report_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("report_id", "n")
    )
    units = dict(
        OrgUnit.objects.filter(
            municipality_id=period.municipality_id, kind__key__in=BOARDISH
        ).values_list("pk", "name")
    )
    past_deadline = today > period.deadline and period.status == PeriodStatus.OPEN
    rows = []
    for values in reports.values_list(
        "pk",
        "org_unit__name",
        "org_unit_id",
        "org_unit__path",
        "tier",
        "status",
        "parts_ready",
        "parts_total",
        "submitted_at",
    ):
        pk, name, unit_id, path, tier, report_status, ready, total, submitted = values
        ids = [int(p) for p in path.strip("/").split("/")]
        board_name = next((units[i] for i in ids if i in units), name)
        rows.append(
            OverviewRow(
                report_id=pk,
                unit=name,
                unit_id=unit_id,
                path=path,
                board=board_name,
                tier=tier,
                status=report_status,
                parts_ready=ready,
                parts_total=total,
                submitted_at=submitted,
                late=past_deadline and report_status == ReportStatus.DRAFT,
                reminders=reminders.get(pk, 0),
            )
        )
    result = Overview(rows=[])
    matrix: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        key = "late" if row.late else row.status
        result.counts[key] += 1
        matrix[row.board][key] += 1
        matrix[row.board]["total"] += 1
    result.late = result.counts["late"]
    result.by_board = [
        {"board": name, **counts}
        for name, counts in sorted(matrix.items(), key=lambda kv: (-kv[1]["late"], kv[0]))
    ]
    if status:
        rows = [r for r in rows if (("late" if r.late else r.status) == status)]
    if board:
        rows = [r for r in rows if r.board == board]
    rows.sort(
        key=lambda r: (
            not r.late,
            STATUS_ORDER.get(r.status, 9),
            r.progress_pct,
            r.tier,
            r.path,
        )
    )
    result.rows = rows
    return result


BOARDISH = ("kommunstyrelse", "namnd", "utskott", "presidium", "bolag")


# --- A person's assignments -----------------------------------------------------------------


def assignments(access: Access, limit: int = 50) -> tuple[list[Report], int]:
    """The draft reports in open periods the person writes, nearest deadline first."""
    if not access.edit_paths:
        return [], 0
    from django.db.models import Q

    scope = Q(pk__in=[])
    for path in access.edit_paths:
        scope |= Q(org_unit__path__startswith=path)
    reports = (
        Report.objects.filter(
            municipality=access.municipality,
            period__status=PeriodStatus.OPEN,
            status=ReportStatus.DRAFT,
        )
        .filter(scope)
        .select_related("period__kind", "org_unit")
        .order_by("period__deadline", "-tier", "org_unit__path")
    )
    # Units where the person's own role sits come first: their own report before the many
    # below them.
    own = {unit.pk for unit in access.units}
    total = reports.count()
    shown = list(reports.filter(org_unit_id__in=own)[:limit])
    if len(shown) < limit:
        shown += list(reports.exclude(org_unit_id__in=own)[: limit - len(shown)])
    return shown, total


# --- What a report owes besides its texts --------------------------------------------------


@dataclass
class ValueDue:
    indicator: Indicator
    year: int
    kind: str
    number: int
    value: Value | None

    @property
    def label(self) -> str:
        from rodtrad.indicators.models import period_label

        return period_label(self.year, self.kind, self.number)


def due_period(frequency: str, end: datetime.date) -> tuple[str, int] | None:
    """The indicator period of `frequency` that ends with the follow-up period, if any."""
    months = MONTHS_PER[frequency]
    if end.month % months:
        return None
    if frequency == "year":
        return ("year", 0)
    return (frequency, end.month // months)


def values_due(report: Report) -> list[ValueDue]:
    """The indicator values the unit enters by hand that fall due with this period."""
    if not report.period.kind.indicators:
        return []
    indicators = list(
        Indicator.objects.filter(
            plan_items__assessments__report=report,
            source__in=[Source.MANUAL, Source.FILE],
        )
        .distinct()
        .order_by("title")
    )
    wanted: dict[int, tuple[str, int]] = {}
    for indicator in indicators:
        due = due_period(indicator.frequency, report.period.end)
        if due is not None:
            wanted[indicator.pk] = due
    found = {
        (v.indicator_id, v.period_kind, v.period_number): v
        for v in Value.objects.filter(
            indicator_id__in=list(wanted),
            area=report.municipality.code,
            year=report.period.year,
            gender="T",
        )
    }
    return [
        ValueDue(
            indicator,
            report.period.year,
            wanted[indicator.pk][0],
            wanted[indicator.pk][1],
            found.get((indicator.pk, *wanted[indicator.pk])),
        )
        for indicator in indicators
        if indicator.pk in wanted
    ]


# --- An item's follow-up history -------------------------------------------------------------


def item_history(item: PlanItem) -> list[dict[str, Any]]:
    """Every period's assessment of the item, newest first, each with what changed since the
    one before it."""
    rows = list(
        Assessment.objects.filter(item=item)
        .select_related("report__period__kind", "report__org_unit", "updated_by")
        .order_by("report__period__end", "report__period__kind__order")
    )
    out: list[dict[str, Any]] = []
    previous: Assessment | None = None
    for row in rows:
        changes = []
        if previous is not None:
            if previous.status != row.status:
                changes.append("status")
            if previous.analysis != row.analysis:
                changes.append("analysis")
            if previous.measures != row.measures:
                changes.append("measures")
        out.append({"assessment": row, "previous": previous, "changes": changes})
        previous = row
    out.reverse()
    return out

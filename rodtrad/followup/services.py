"""Writes of the follow-up cycle: each one transaction with an audit event.

Periods are generated for a plan year from the model's follow-up kinds; opening a period gives
every org unit that reports its `Report`; reporters save assessments and sections (a stale
save is refused), mark them ready and submit; a controller records the board's approval (and
the council's where the model says so), which freezes a `Snapshot`; reopening needs a reason.
"""

from __future__ import annotations

import calendar
import datetime
import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, override, pgettext

from rodtrad.followup.models import (
    Assessment,
    EventAction,
    FollowUpPeriod,
    PeriodStatus,
    Reminder,
    Report,
    ReportEvent,
    ReportSection,
    ReportStatus,
    Snapshot,
    Tier,
)
from rodtrad.followup.snapshots import build_snapshots, refer_to_frozen_contributors
from rodtrad.indicators import rollup
from rodtrad.indicators.models import ItemRollup
from rodtrad.organisations.audit import record
from rodtrad.organisations.models import AuditEvent, Membership, Municipality, OrgUnit, Role
from rodtrad.steering.models import FollowUpKind, ItemStatus, PlanItem, PlanYear
from rodtrad.steering.services import PlanError, StaleEdit

if TYPE_CHECKING:
    from rodtrad.organisations.models import User

COUNCIL_KINDS = ("kommunfullmaktige",)
BOARD_KINDS = ("kommunstyrelse", "namnd", "utskott", "presidium", "bolag")
REPORTED_ITEM_STATUSES = (ItemStatus.ACTIVE, ItemStatus.ONGOING, ItemStatus.DONE)
STATUSES = ("", "met", "partly", "not_met")
MAX_TEXT = 20_000


class FollowUpError(PlanError):
    """A step the follow-up rules refuse; `messages` say why in words."""


def _user(user: User | None) -> User | None:
    return user if user is not None and user.is_authenticated else None


def _month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def tier_of(unit: OrgUnit) -> int:
    """Council, board or unit: by kind, and for a municipality's own kinds by place in the
    tree (a kind of its own directly under the council, e.g. a joint authority, is a board)."""
    key = unit.kind.key
    if key in COUNCIL_KINDS or (unit.parent_id is None and key not in BOARD_KINDS):
        return Tier.COUNCIL
    if key in BOARD_KINDS:
        return Tier.BOARD
    parent = unit.parent
    if not unit.kind.builtin and parent is not None and parent.kind.key in COUNCIL_KINDS:
        return Tier.BOARD
    return Tier.UNIT


# --- Periods ------------------------------------------------------------------------------


@transaction.atomic
def periods_generate(*, plan_year: PlanYear, user: User | None) -> list[FollowUpPeriod]:
    """Create the year's periods of every follow-up kind, with their deadlines.

    Periods that exist already are left as they are (a moved deadline stays moved), so
    generating again only adds what a changed model added.
    """
    municipality = plan_year.period.municipality
    kinds = list(FollowUpKind.objects.filter(model__municipality=municipality))
    if not kinds:
        raise FollowUpError(
            [_("The steering model has no follow-up kinds; add them to the model file first.")]
        )
    year = plan_year.year
    existing: dict[int, dict[datetime.date, int]] = {}
    for period in FollowUpPeriod.objects.filter(municipality=municipality, year=year):
        existing.setdefault(period.kind_id, {})[period.end] = period.number
    created = []
    for kind in kinds:
        have = existing.get(kind.pk, {})
        used = set(have.values())
        start_month = 1
        for place, month in enumerate(sorted(kind.months), start=1):
            end = _month_end(year, month)
            if end not in have:
                # Periods are matched by the day they end; a month the model added gets its
                # place's number, or the next free one if a kept period holds that number.
                number = place if place not in used else max(used) + 1
                used.add(number)
                created.append(
                    FollowUpPeriod(
                        municipality=municipality,
                        kind=kind,
                        plan_year=plan_year,
                        year=year,
                        number=number,
                        start=datetime.date(year, start_month, 1),
                        end=end,
                        deadline=end + datetime.timedelta(days=kind.deadline_days),
                    )
                )
            start_month = month + 1 if month < 12 else 12
    FollowUpPeriod.objects.bulk_create(created)
    for period in created:
        record(
            user=user,
            municipality=municipality,
            action="create",
            obj=period,
            after={"period": period.label, "deadline": period.deadline.isoformat()},
        )
    return created


def _lock_period(period: FollowUpPeriod, expected_version: int | None) -> FollowUpPeriod:
    current = (
        FollowUpPeriod.objects.select_for_update(of=("self",))
        .select_related("kind")
        .get(pk=period.pk)
    )
    if expected_version is not None and current.version != expected_version:
        raise StaleEdit(
            [
                _(
                    "“%(period)s” was changed by someone else after you opened it. Nothing was "
                    "saved; reload the page and try again."
                )
                % {"period": current.label}
            ]
        )
    return current


@transaction.atomic
def period_update(
    *, period: FollowUpPeriod, user: User | None, deadline: datetime.date, expected_version: int
) -> FollowUpPeriod:
    current = _lock_period(period, expected_version)
    if current.status == PeriodStatus.CLOSED:
        raise FollowUpError([_("The period is closed; its deadline can no longer change.")])
    if deadline < current.end:
        raise FollowUpError(
            [
                _("The deadline cannot be before the period ends (%(end)s).")
                % {"end": current.end.isoformat()}
            ]
        )
    before = {"deadline": current.deadline.isoformat()}
    current.deadline = deadline
    current.version += 1
    current.save(update_fields=["deadline", "version"])
    record(
        user=user,
        municipality=current.municipality,
        action="update",
        obj=current,
        before=before,
        after={"deadline": deadline.isoformat()},
    )
    return current


def _items_for(period: FollowUpPeriod) -> list[tuple[int, int]]:
    """(id, owner id) of the assessed items of the period's year at the kind's levels, owned
    by reporters."""
    kind = period.kind
    plan_year = period.plan_year
    return list(
        PlanItem.objects.filter(
            municipality_id=period.municipality_id,
            level__in=kind.levels.all(),
            owner__kind__in=kind.reporters.all(),
            status__in=REPORTED_ITEM_STATUSES,
        )
        .filter(Q(plan_year=plan_year) | Q(plan_year__isnull=True, period_id=plan_year.period_id))
        .order_by("pk")
        .values_list("pk", "owner_id")
    )


@transaction.atomic
def period_open(*, period: FollowUpPeriod, user: User | None) -> int:
    """Open the period: every reporting org unit gets its report listing what it owes.

    Returns the number of reports. The roll-up's proposal for each item is copied beside the
    empty assessment (the reporter sees it refreshed while the report is a draft).
    """
    current = _lock_period(period, None)
    if current.status != PeriodStatus.PLANNED:
        raise FollowUpError([_("The period is open already.")])
    kind = current.kind
    municipality = current.municipality
    rollup.ensure_fresh(municipality)
    items = _items_for(current)
    by_owner: dict[int, list[int]] = {}
    for item_id, owner_id in items:
        by_owner.setdefault(owner_id, []).append(item_id)
    reporter_kinds = list(kind.reporters.all())
    units = list(
        OrgUnit.objects.filter(municipality=municipality, kind__in=reporter_kinds)
        .select_related("kind", "parent__kind")
        .order_by("path")
    )
    sections = kind.sections or []
    reports: list[Report] = []
    plans: list[tuple[Report, list[int], list[dict[str, Any]]]] = []
    for unit in units:
        tier = tier_of(unit)
        own_sections = [
            s for s in sections if not s.get("reporters") or unit.kind.key in s["reporters"]
        ]
        # Companies keep their own books: the economy part is the boards' only.
        economy = kind.economy and tier == Tier.BOARD and unit.kind.key != "bolag"
        item_ids = by_owner.get(unit.pk, [])
        if not item_ids and not own_sections and not economy:
            continue
        report = Report(
            municipality=municipality,
            period=current,
            org_unit=unit,
            tier=tier,
            economy=economy,
            needs_council=kind.council_approval and tier == Tier.COUNCIL,
            parts_total=len(item_ids) + len(own_sections) + (1 if economy else 0),
        )
        reports.append(report)
        plans.append((report, item_ids, own_sections))
    Report.objects.bulk_create(reports, batch_size=1000)
    # The proposal's status only: its reasons are read live while the report is a draft and
    # frozen with it on approval.
    proposals = dict(
        ItemRollup.objects.filter(municipality=municipality).values_list("item_id", "proposed")
    )
    assessments: list[Assessment] = []
    report_sections: list[ReportSection] = []
    for report, item_ids, own_sections in plans:
        for item_id in item_ids:
            assessments.append(
                Assessment(report=report, item_id=item_id, proposed=proposals.get(item_id, ""))
            )
        order = 1
        if report.economy:
            report_sections.append(ReportSection(report=report, key=ReportSection.ECONOMY, order=0))
        for section in own_sections:
            report_sections.append(ReportSection(report=report, key=section["key"], order=order))
            order += 1
    Assessment.objects.bulk_create(assessments, batch_size=2000)
    ReportSection.objects.bulk_create(report_sections, batch_size=2000)
    current.status = PeriodStatus.OPEN
    current.opened_at = timezone.now()
    current.opened_by = _user(user)
    current.version += 1
    current.save(update_fields=["status", "opened_at", "opened_by", "version"])
    record(
        user=user,
        municipality=municipality,
        action="update",
        obj=current,
        before={"status": PeriodStatus.PLANNED},
        after={
            "status": PeriodStatus.OPEN,
            "reports": len(reports),
            "assessments": len(assessments),
        },
    )
    return len(reports)


@transaction.atomic
def period_close(*, period: FollowUpPeriod, user: User | None) -> FollowUpPeriod:
    """Close a period whose every report is approved: nothing in it can be reopened after."""
    current = _lock_period(period, None)
    if current.status != PeriodStatus.OPEN:
        raise FollowUpError([_("Only an open period can be closed.")])
    waiting = current.reports.exclude(
        status__in=[ReportStatus.APPROVED, ReportStatus.COUNCIL_APPROVED]
    ).count()
    waiting_council = current.reports.filter(
        needs_council=True, status=ReportStatus.APPROVED
    ).count()
    if waiting or waiting_council:
        raise FollowUpError(
            [
                ngettext(
                    "%(count)s report is not approved yet; the period can be closed when every "
                    "report is.",
                    "%(count)s reports are not approved yet; the period can be closed when "
                    "every report is.",
                    waiting + waiting_council,
                )
                % {"count": waiting + waiting_council}
            ]
        )
    current.status = PeriodStatus.CLOSED
    current.version += 1
    current.save(update_fields=["status", "version"])
    record(
        user=user,
        municipality=current.municipality,
        action="update",
        obj=current,
        before={"status": PeriodStatus.OPEN},
        after={"status": PeriodStatus.CLOSED},
    )
    return current


# --- Reporting ----------------------------------------------------------------------------


def _lock_report(report: Report) -> Report:
    return (
        Report.objects.select_for_update(of=("self",))
        .select_related("period__kind", "org_unit", "municipality")
        .get(pk=report.pk)
    )


def _refuse_unless_draft(report: Report) -> None:
    if report.period.status == PeriodStatus.CLOSED:
        raise FollowUpError([_("The period is closed; its reports can no longer change.")])
    if report.status != ReportStatus.DRAFT:
        raise FollowUpError(
            [
                _(
                    "The report is %(status)s and can no longer be edited. A controller can "
                    "reopen it, giving a reason."
                )
                % {"status": report.get_status_display().lower()}
            ]
        )


def _recount(report: Report) -> None:
    ready = Report.objects.filter(pk=report.pk).aggregate(
        n=Count("assessments", filter=Q(assessments__ready=True), distinct=True)
        + Count("sections", filter=Q(sections__ready=True), distinct=True)
    )["n"]
    if ready != report.parts_ready:
        report.parts_ready = ready
        report.save(update_fields=["parts_ready", "updated_at"])


def _stale(what: str, who: User | None, when: datetime.datetime | None) -> StaleEdit:
    name = (who.get_full_name() or who.get_username()) if who else _("someone else")
    at = timezone.localtime(when).strftime("%Y-%m-%d %H:%M") if when else ""
    return StaleEdit(
        [
            _(
                "%(what)s was saved by %(who)s at %(when)s after you opened it. Your text was "
                "not saved: it is kept in the form below, beside the version now saved. Merge "
                "the two and save again."
            )
            % {"what": what, "who": name, "when": at}
        ]
    )


def _clean_text(value: str, field: str) -> str:
    value = (value or "").replace("\r\n", "\n").strip()
    if len(value) > MAX_TEXT:
        raise FollowUpError(
            [
                _("%(field)s: at most %(max)s characters, not %(length)s.")
                % {"field": field, "max": MAX_TEXT, "length": len(value)}
            ]
        )
    return value


@transaction.atomic
def assessment_save(
    *,
    assessment: Assessment,
    user: User | None,
    expected_version: int,
    status: str,
    analysis: str,
    measures: str,
    ready: bool,
) -> Assessment:
    """Save one item's assessment. A save based on an older version is refused (StaleEdit)."""
    report = _lock_report(assessment.report)
    _refuse_unless_draft(report)
    current = (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("item", "updated_by")
        .get(pk=assessment.pk)
    )
    current.report = report
    if current.version != expected_version:
        raise _stale(
            _("The assessment of “%(item)s”") % {"item": current.item},
            current.updated_by,
            current.updated_at,
        )
    if status not in STATUSES:
        raise FollowUpError([_("Status: choose one of the statuses offered.")])
    analysis = _clean_text(analysis, _("Analysis"))
    measures = _clean_text(measures, pgettext("follow-up", "Measures"))
    if ready:
        problems = []
        if not status:
            problems.append(_("Status: choose a status before you mark the assessment ready."))
        if not analysis:
            problems.append(_("Analysis: write an analysis before you mark it ready."))
        if status == "not_met" and not measures:
            problems.append(_("Measures: say what will be done when the goal is not achieved."))
        if problems:
            raise FollowUpError(problems)
    before = current.snapshot()
    proposal = ItemRollup.objects.filter(item_id=current.item_id).first()
    current.status, current.analysis, current.measures, current.ready = (
        status,
        analysis,
        measures,
        ready,
    )
    if proposal is not None:
        current.proposed, current.proposed_reasons = proposal.proposed, proposal.reasons
    current.updated_by = _user(user)
    current.updated_at = timezone.now()
    current.version += 1
    current.save()
    _recount(report)
    record(
        user=user,
        municipality=report.municipality,
        action="update",
        obj=current,
        before=before,
        after=current.snapshot(),
    )
    return current


@transaction.atomic
def section_save(
    *, section: ReportSection, user: User | None, expected_version: int, text: str, ready: bool
) -> ReportSection:
    report = _lock_report(section.report)
    _refuse_unless_draft(report)
    current = (
        ReportSection.objects.select_for_update(of=("self",))
        .select_related("updated_by")
        .get(pk=section.pk)
    )
    current.report = report
    label = section_label(report, current.key)
    if current.version != expected_version:
        raise _stale(
            _("The section “%(section)s”") % {"section": label},
            current.updated_by,
            current.updated_at,
        )
    text = _clean_text(text, label)
    if ready and not text:
        raise FollowUpError(
            [_("%(section)s: write the text before you mark it ready.") % {"section": label}]
        )
    if ready and current.key == ReportSection.ECONOMY and not forecast_made(report):
        raise FollowUpError(
            [
                _("Economy: enter the forecast for %(month)s before you mark the economy ready.")
                % {"month": f"{report.period.year}-{report.period.end.month:02d}"}
            ]
        )
    before = current.snapshot()
    current.text, current.ready = text, ready
    current.updated_by = _user(user)
    current.updated_at = timezone.now()
    current.version += 1
    current.save()
    _recount(report)
    record(
        user=user,
        municipality=report.municipality,
        action="update",
        obj=current,
        before=before,
        after=current.snapshot(),
    )
    return current


def section_label(report: Report, key: str) -> str:
    if key == ReportSection.ECONOMY:
        return _("Economy")
    for section in report.period.kind.section_list():
        if section["key"] == key:
            return str(section["label"])
    return key


def forecast_made(report: Report) -> bool:
    """Whether the board has made a forecast within the period (for the economy part)."""
    from rodtrad.finance.models import Forecast

    period = report.period
    return Forecast.objects.filter(
        org_unit=report.org_unit,
        year=period.year,
        month__gte=period.start.month,
        month__lte=period.end.month,
    ).exists()


def missing_parts(report: Report) -> list[str]:
    """What is not ready yet, in words."""
    missing = [
        str(a.item)
        for a in report.assessments.filter(ready=False).select_related("item").order_by("pk")
    ]
    missing += [section_label(report, s.key) for s in report.sections.filter(ready=False)]
    return missing


@transaction.atomic
def report_submit(*, report: Report, user: User | None) -> Report:
    current = _lock_report(report)
    _refuse_unless_draft(current)
    if current.period.status != PeriodStatus.OPEN:
        raise FollowUpError([_("The period is not open for reporting.")])
    missing = missing_parts(current)
    if missing:
        shown = ", ".join(f"“{m}”" for m in missing[:10])
        if len(missing) > 10:
            shown += " " + _("and %(count)s more") % {"count": len(missing) - 10}
        raise FollowUpError(
            [
                ngettext(
                    "%(count)s part is not marked ready: %(parts)s.",
                    "%(count)s parts are not marked ready: %(parts)s.",
                    len(missing),
                )
                % {"count": len(missing), "parts": shown}
            ]
        )
    return _step(current, user, EventAction.SUBMIT, ReportStatus.SUBMITTED)


def _step(
    report: Report,
    user: User | None,
    action: str,
    status: str,
    *,
    decided_by: str = "",
    decided_on: datetime.date | None = None,
    paragraph: str = "",
    reason: str = "",
) -> Report:
    now = timezone.now()
    before = report.snapshot()
    report.status = status
    if action == EventAction.SUBMIT:
        report.submitted_at = now
    if action in (EventAction.APPROVE, EventAction.COUNCIL_APPROVE):
        report.approved_at = now
    report.version += 1
    report.save()
    event = ReportEvent.objects.create(
        report=report,
        action=action,
        at=now,
        by=_user(user),
        decided_by=decided_by,
        decided_on=decided_on,
        paragraph=paragraph,
        reason=reason,
    )
    record(
        user=user,
        municipality=report.municipality,
        action=action,
        obj=report,
        before=before,
        after=report.snapshot()
        | {
            k: v
            for k, v in {
                "decided_by": decided_by,
                "decided_on": decided_on.isoformat() if decided_on else "",
                "paragraph": paragraph,
                "reason": reason,
            }.items()
            if v
        },
    )
    report._last_event = event  # type: ignore[attr-defined]
    return report


def _decision_problems(
    decided_by: str, decided_on: datetime.date | None, paragraph: str
) -> list[str]:
    problems = []
    if not decided_by.strip():
        problems.append(_("Decided by: name the body that decided (e.g. the board)."))
    if decided_on is None:
        problems.append(_("Decision date: give the date of the decision."))
    elif decided_on > timezone.localdate():
        problems.append(_("Decision date: a decision cannot be dated in the future."))
    if not paragraph.strip():
        problems.append(_("Paragraph (§): give the paragraph of the minutes."))
    return problems


@transaction.atomic
def reports_approve(
    *,
    reports: Iterable[Report],
    user: User | None,
    decided_by: str,
    decided_on: datetime.date | None,
    paragraph: str,
) -> list[Report]:
    """Record the board's approval of submitted reports and freeze each one's snapshot.

    Several reports can be approved by one decision (a board approving its units' reports).
    All or nothing: one report that is not submitted refuses them all.
    """
    problems = _decision_problems(decided_by, decided_on, paragraph)
    if problems:
        raise FollowUpError(problems)
    locked = list(
        Report.objects.select_for_update(of=("self",))
        .select_related("period__kind", "org_unit")
        .filter(pk__in=[r.pk for r in reports])
        .order_by("pk")
    )
    if not locked:
        raise FollowUpError([_("Choose at least one report to approve.")])
    for report in locked:
        if report.status != ReportStatus.SUBMITTED:
            raise FollowUpError(
                [
                    _("“%(report)s” is %(status)s; only a submitted report can be approved.")
                    % {"report": report, "status": report.get_status_display().lower()}
                ]
            )
    if len(locked) == 1:
        _step(
            locked[0],
            user,
            EventAction.APPROVE,
            ReportStatus.APPROVED,
            decided_by=decided_by.strip(),
            decided_on=decided_on,
            paragraph=paragraph.strip(),
        )
    else:
        _approve_many(locked, user, decided_by.strip(), decided_on, paragraph.strip())
    _freeze(locked)
    return locked


def _approve_many(
    reports: list[Report],
    user: User | None,
    decided_by: str,
    decided_on: datetime.date | None,
    paragraph: str,
) -> None:
    """The same as `_step` for each report, in a few bulk queries (a board approving all its
    units' reports at once, or a whole period at city scale)."""
    now = timezone.now()
    by = _user(user)
    decision = {
        "decided_by": decided_by,
        "decided_on": decided_on.isoformat() if decided_on else "",
        "paragraph": paragraph,
    }
    befores = [report.snapshot() for report in reports]
    for report in reports:
        report.status = ReportStatus.APPROVED
        report.approved_at = now
        report.updated_at = now
        report.version += 1
    Report.objects.filter(pk__in=[report.pk for report in reports]).update(
        status=ReportStatus.APPROVED, approved_at=now, updated_at=now, version=F("version") + 1
    )
    events = [
        ReportEvent(
            report=report,
            action=EventAction.APPROVE,
            at=now,
            by=by,
            decided_by=decided_by,
            decided_on=decided_on,
            paragraph=paragraph,
        )
        for report in reports
    ]
    ReportEvent.objects.bulk_create(events, batch_size=500)
    for report, event in zip(reports, events, strict=True):
        report._last_event = event  # type: ignore[attr-defined]
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                municipality_id=report.municipality_id,
                at=now,
                user=by,
                action=EventAction.APPROVE,
                object_type=Report._meta.label_lower,
                object_id=str(report.pk),
                object_repr=str(report)[:255],
                before=before,
                after=report.snapshot() | decision,
            )
            for report, before in zip(reports, befores, strict=True)
        ],
        batch_size=500,
    )


def _freeze(reports: list[Report]) -> None:
    contents = build_snapshots(reports)
    refer_to_frozen_contributors(contents)
    numbers = dict(
        Snapshot.objects.filter(report__in=reports)
        .values("report")
        .annotate(n=Count("pk"))
        .values_list("report", "n")
    )
    rows = []
    for report in reports:
        content = contents[report.pk]
        event: ReportEvent = report._last_event  # type: ignore[attr-defined]
        content["decision"] = {
            "action": event.action,
            "decided_by": event.decided_by,
            "decided_on": event.decided_on.isoformat() if event.decided_on else "",
            "paragraph": event.paragraph,
            "at": event.at.isoformat(),
            "by": (event.by.get_full_name() or event.by.get_username()) if event.by else "",
        }
        # Encoded once: the text stored is the text the checksum is of.
        text = json.dumps(content, sort_keys=True, ensure_ascii=False)
        rows.append(
            (
                report.pk,
                numbers.get(report.pk, 0) + 1,
                event.pk,
                event.at,
                text,
                hashlib.sha256(text.encode()).hexdigest(),
            )
        )
    _insert_snapshots(rows)


def _insert_snapshots(rows: list[tuple[int, int, int, datetime.datetime, str, str]]) -> None:
    """Write snapshot rows with their JSON text as it is: COPY on PostgreSQL (a whole period's
    snapshots are tens of megabytes), one prepared INSERT elsewhere."""
    table = Snapshot._meta.db_table
    columns = "report_id, number, event_id, created_at, content, sha256"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg's own cursor, for COPY
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        adapt = connection.ops.adapt_datetimefield_value
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s)",  # noqa: S608
            [(r[0], r[1], r[2], adapt(r[3]), r[4], r[5]) for r in rows],
        )


@transaction.atomic
def report_council_approve(
    *,
    report: Report,
    user: User | None,
    decided_by: str,
    decided_on: datetime.date | None,
    paragraph: str,
) -> Report:
    """Record the council's approval of an approved council-level report; freezes it again
    with the council's decision (the board's snapshot stays as it was)."""
    problems = _decision_problems(decided_by, decided_on, paragraph)
    if problems:
        raise FollowUpError(problems)
    current = _lock_report(report)
    if not current.needs_council:
        raise FollowUpError([_("The model does not send this report to the council.")])
    if current.status != ReportStatus.APPROVED:
        raise FollowUpError([_("The council approves a report after the board has approved it.")])
    _step(
        current,
        user,
        EventAction.COUNCIL_APPROVE,
        ReportStatus.COUNCIL_APPROVED,
        decided_by=decided_by.strip(),
        decided_on=decided_on,
        paragraph=paragraph.strip(),
    )
    _freeze([current])
    return current


@transaction.atomic
def report_reopen(*, report: Report, user: User | None, reason: str) -> Report:
    """Back to draft, with the reason. Earlier snapshots are kept as they were."""
    reason = (reason or "").strip()
    if not reason:
        raise FollowUpError([_("Reason: say why the report is reopened.")])
    current = _lock_report(report)
    if current.period.status == PeriodStatus.CLOSED:
        raise FollowUpError([_("The period is closed; its reports can no longer be reopened.")])
    if current.status == ReportStatus.DRAFT:
        raise FollowUpError([_("The report is a draft already.")])
    return _step(current, user, EventAction.REOPEN, ReportStatus.DRAFT, reason=reason)


# --- Reminders ----------------------------------------------------------------------------


def recipients(report: Report) -> list[User]:
    """Who is reminded: the editors and controllers of the unit itself, else of the nearest
    unit above it that has any."""
    paths = report.org_unit.ancestor_ids()
    memberships = list(
        Membership.objects.filter(
            org_unit_id__in=paths, role__in=[Role.EDITOR, Role.CONTROLLER]
        ).select_related("user", "org_unit")
    )
    for unit_id in reversed(paths):
        people = [m.user for m in memberships if m.org_unit_id == unit_id]
        people = [p for p in people if p.is_active and p.email]
        if people:
            return sorted({p.pk: p for p in people}.values(), key=lambda p: p.username)
    return []


def _due_reminder(report: Report, today: datetime.date, sent: set[str]) -> str:
    period = report.period
    if today > period.deadline:
        days_late = (today - period.deadline).days
        # The first day after the deadline, then once a week.
        week = (days_late - 1) // 7
        key = f"late-{week}"
        return "" if key in sent else key
    for days in sorted(period.kind.reminder_days):
        if today >= period.deadline - datetime.timedelta(days=days):
            key = f"before-{days}"
            return "" if key in sent else key
    return ""


def reminders_send(
    *,
    today: datetime.date,
    municipality: Municipality | None = None,
    period: FollowUpPeriod | None = None,
    dry_run: bool = False,
) -> list[tuple[Report, str, list[str]]]:
    """Send the reminders that are due: before each deadline (the kind's days) and, once a
    week, to reports that are late. Each is sent once (recorded in `Reminder`)."""
    reports = (
        Report.objects.filter(period__status=PeriodStatus.OPEN, status=ReportStatus.DRAFT)
        .select_related("period__kind", "period__municipality", "org_unit")
        .order_by("period__deadline", "org_unit__path")
    )
    if municipality is not None:
        reports = reports.filter(municipality=municipality)
    if period is not None:
        reports = reports.filter(period=period)
    sent_keys: dict[int, set[str]] = {}
    for report_id, key in Reminder.objects.filter(report__in=reports).values_list(
        "report_id", "key"
    ):
        sent_keys.setdefault(report_id, set()).add(key)
    out: list[tuple[Report, str, list[str]]] = []
    messages = []
    rows = []
    now = timezone.now()
    for report in reports:
        key = _due_reminder(report, today, sent_keys.get(report.pk, set()))
        if not key:
            continue
        people = recipients(report)
        addresses = [p.email for p in people]
        out.append((report, key, addresses))
        if dry_run or not addresses:
            continue
        messages.append(_reminder_message(report, key, addresses, today))
        rows.append(Reminder(report=report, key=key, sent_at=now, recipients=", ".join(addresses)))
    if not dry_run and rows:
        with transaction.atomic():
            Reminder.objects.bulk_create(rows)
            transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=False))
    return out


def _reminder_message(
    report: Report, key: str, addresses: list[str], today: datetime.date
) -> tuple[str, str, str, list[str]]:
    period = report.period
    url = f"{settings.SITE_URL}/k/{period.municipality.code}/uppfoljning/rapport/{report.pk}/"
    with override("sv"):
        context = {
            "period": period.label,
            "unit": report.org_unit.name,
            "deadline": period.deadline.isoformat(),
            "ready": report.parts_ready,
            "total": report.parts_total,
            "url": url,
        }
        if key.startswith("late"):
            subject = _("Late: %(period)s for %(unit)s") % context
            lead = _("The report for %(unit)s in %(period)s was due on %(deadline)s.") % context
        else:
            days = (period.deadline - today).days
            subject = _("Reminder: %(period)s for %(unit)s is due %(deadline)s") % context
            lead = ngettext(
                "The report for %(unit)s in %(period)s is due in %(days)s day, on %(deadline)s.",
                "The report for %(unit)s in %(period)s is due in %(days)s days, on %(deadline)s.",
                days,
            ) % (context | {"days": days})
        body = "\n\n".join(
            [
                lead,
                _("%(ready)s of %(total)s parts are marked ready.") % context,
                _("Open the report: %(url)s") % context,
                _("This message was sent by Röd tråd."),
            ]
        )
    return subject, body, settings.DEFAULT_FROM_EMAIL, addresses

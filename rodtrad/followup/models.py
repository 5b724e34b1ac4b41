"""Follow-up: periods, the reports each org unit owes, assessments, decisions and snapshots.

A `FollowUpPeriod` is one occasion of a `FollowUpKind` (Tertial 1 2026, Årsredovisning 2026).
Opening it gives every org unit that reports a `Report`: what it owes is an `Assessment` per
assessed item, the model's free `ReportSection`s and, where the kind says so, the economy.
Approval writes a `Snapshot` that is never changed; reopening keeps it and the next approval
writes another.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rodtrad.organisations.models import Municipality, OrgUnit
from rodtrad.steering.models import FollowUpKind, PlanItem, PlanYear

MONTH_NAMES = [
    _("January"),
    _("February"),
    _("March"),
    _("April"),
    _("May"),
    _("June"),
    _("July"),
    _("August"),
    _("September"),
    _("October"),
    _("November"),
    _("December"),
]


class PeriodStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    OPEN = "open", _("Open for reporting")
    CLOSED = "closed", _("Closed")


class FollowUpPeriod(models.Model):
    """One occasion of follow-up: a kind, a year and which of the kind's periods it is."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="follow_up_periods"
    )
    kind = models.ForeignKey(FollowUpKind, on_delete=models.PROTECT, related_name="periods")
    plan_year = models.ForeignKey(PlanYear, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveSmallIntegerField(_("number"))
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    deadline = models.DateField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=10, choices=PeriodStatus.choices, default=PeriodStatus.PLANNED
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["municipality", "end", "kind__order"]
        verbose_name = _("follow-up period")
        verbose_name_plural = _("follow-up periods")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "year", "number"], name="followupperiod_unique_number"
            ),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="period_ordered"),
            models.CheckConstraint(
                condition=Q(deadline__gte=models.F("end")), name="period_deadline_after_end"
            ),
        ]
        indexes = [models.Index(fields=["municipality", "status"])]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        name = str(self.kind)
        months = self.kind.months
        if len(months) > 4:  # monthly: named by the month
            return f"{name} {MONTH_NAMES[self.end.month - 1].lower()} {self.year}"
        if len(months) > 1:
            return f"{name} {self.number} {self.year}"
        return f"{name} {self.year}"

    @property
    def end_month(self) -> int:
        return self.end.month

    def is_late(self, today: datetime.date) -> bool:
        return today > self.deadline


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    COUNCIL_APPROVED = "council_approved", _("Approved by the council")


class Tier(models.IntegerChoices):
    """The bottom-up order: units report first, then boards, then the council level."""

    UNIT = 1, _("Unit")
    BOARD = 2, _("Board")
    COUNCIL = 3, _("Council")


class Report(models.Model):
    """What one org unit owes in one period, and where it is in the workflow."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey(FollowUpPeriod, on_delete=models.CASCADE, related_name="reports")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="reports")
    tier = models.PositiveSmallIntegerField(choices=Tier.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    economy = models.BooleanField(default=False)
    needs_council = models.BooleanField(default=False)
    parts_total = models.PositiveIntegerField(default=0)
    parts_ready = models.PositiveIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["period", "org_unit__path"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.UniqueConstraint(fields=["period", "org_unit"], name="report_unique_unit"),
            models.CheckConstraint(
                condition=Q(parts_ready__lte=models.F("parts_total")), name="report_parts_ready"
            ),
        ]
        indexes = [models.Index(fields=["period", "status"])]

    def __str__(self) -> str:
        return f"{self.org_unit} – {self.period}"

    @property
    def editable(self) -> bool:
        return self.status == ReportStatus.DRAFT

    @property
    def frozen(self) -> bool:
        return self.status in (ReportStatus.APPROVED, ReportStatus.COUNCIL_APPROVED)

    @property
    def complete(self) -> bool:
        return self.parts_ready == self.parts_total

    @property
    def progress_pct(self) -> int:
        if not self.parts_total:
            return 100
        return round(self.parts_ready * 100 / self.parts_total)

    def snapshot(self) -> dict[str, Any]:
        return {
            "period": self.period.label,
            "org_unit": self.org_unit.name,
            "status": self.status,
            "parts_ready": self.parts_ready,
            "parts_total": self.parts_total,
        }


class Assessment(models.Model):
    """A reporter's status, analysis and measures (åtgärder) for one item in one period."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="assessments")
    # What was reported about an item is history: the item cannot be deleted, only cancelled.
    item = models.ForeignKey(PlanItem, on_delete=models.PROTECT, related_name="assessments")
    status = models.CharField(_("status"), max_length=10, blank=True)
    analysis = models.TextField(_("analysis"), blank=True)
    measures = models.TextField(_("measures"), blank=True)
    # The roll-up's proposal when the assessment was last saved (or the period opened).
    proposed = models.CharField(max_length=10, blank=True)
    proposed_reasons = models.JSONField(default=dict)
    ready = models.BooleanField(_("ready"), default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["report", "item__level__order", "item__number", "item__title"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [
            models.UniqueConstraint(fields=["report", "item"], name="assessment_unique_item"),
            models.CheckConstraint(
                condition=Q(status__in=["", "met", "partly", "not_met"]),
                name="assessment_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["item", "report"])]

    def __str__(self) -> str:
        return f"{self.item} – {self.report.period}"

    def snapshot(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "analysis": self.analysis,
            "measures": self.measures,
            "ready": self.ready,
        }


class ReportSection(models.Model):
    """A free section the model defines ("Viktiga händelser", "Framtid") or the economy text."""

    ECONOMY = "ekonomi"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="sections")
    key = models.SlugField(max_length=40)
    text = models.TextField(_("text"), blank=True)
    ready = models.BooleanField(_("ready"), default=False)
    order = models.PositiveSmallIntegerField(default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["report", "order"]
        constraints = [
            models.UniqueConstraint(fields=["report", "key"], name="reportsection_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.report}: {self.key}"

    def snapshot(self) -> dict[str, Any]:
        return {"text": self.text, "ready": self.ready}


class EventAction(models.TextChoices):
    SUBMIT = "submit", _("Submitted")
    APPROVE = "approve", _("Approved")
    COUNCIL_APPROVE = "council_approve", _("Approved by the council")
    REOPEN = "reopen", _("Reopened")


class ReportEvent(models.Model):
    """One step of the workflow, with its decision (body, date, §) or reason. Append-only."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=EventAction.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    decided_by = models.CharField(_("decided by"), max_length=120, blank=True)
    decided_on = models.DateField(_("decision date"), null=True, blank=True)
    paragraph = models.CharField(_("paragraph (§)"), max_length=40, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["report", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.report}: {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk:
            raise ValueError("Report events are never changed.")
        super().save(*args, **kwargs)


class Snapshot(models.Model):
    """The report as approved: content, statuses, values and texts. Written once, never changed."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="snapshots")
    number = models.PositiveSmallIntegerField()
    event = models.OneToOneField(ReportEvent, on_delete=models.PROTECT, related_name="snapshot")
    created_at = models.DateTimeField()
    content = models.JSONField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["report", "number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="snapshot_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.report} #{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk:
            raise ValueError("An approved report's snapshot is never changed.")
        super().save(*args, **kwargs)


class Reminder(models.Model):
    """A reminder sent for a report: before the deadline (`before-7`) or late (`late-<date>`)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="reminders")
    key = models.CharField(max_length=30)
    sent_at = models.DateTimeField()
    recipients = models.TextField()

    class Meta:
        ordering = ["report", "sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["report", "key"], name="reminder_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.report}: {self.key}"

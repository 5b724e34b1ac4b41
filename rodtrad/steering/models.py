"""The steering model (levels, links, classifications), plan periods and the plan items.

A municipality's model is data: which levels exist, what they are called, which kinds of org
unit own items at each level, which levels each may contribute to, and which classifications
apply. The plan is the items at those levels and the `contributes_to` links between them:
the red thread.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from rodtrad.organisations.models import Municipality, OrgUnit, OrgUnitKind, localized


class SteeringModel(models.Model):
    municipality = models.OneToOneField(
        Municipality, on_delete=models.CASCADE, related_name="steering_model"
    )
    name = models.CharField(_("name"), max_length=150)
    name_en = models.CharField(_("name in English"), max_length=150, blank=True)
    description = models.TextField(_("description"), blank=True)
    source = models.TextField(
        _("source"), blank=True, help_text=_("Where the model is described (decision, web page).")
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("steering model")
        verbose_name_plural = _("steering models")

    def __str__(self) -> str:
        return localized(self, "name")


class Horizon(models.TextChoices):
    PERIOD = "period", _("The whole plan period")
    YEAR = "year", _("One year")


class Level(models.Model):
    """One rung of a steering model: vision, council goal, board goal, commitment, activity..."""

    model = models.ForeignKey(SteeringModel, on_delete=models.CASCADE, related_name="levels")
    key = models.SlugField(_("key"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    plural = models.CharField(_("plural"), max_length=80)
    name_en = models.CharField(_("name in English"), max_length=80, blank=True)
    plural_en = models.CharField(_("plural in English"), max_length=80, blank=True)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"))
    owner_kinds = models.ManyToManyField(
        OrgUnitKind, related_name="levels", verbose_name=_("owned by")
    )
    parents = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="children",
        verbose_name=_("may contribute to"),
    )
    link_required = models.BooleanField(
        _("upward link required"),
        default=False,
        help_text=_("Every item at this level must contribute to at least one item above."),
    )
    horizon = models.CharField(
        _("horizon"), max_length=10, choices=Horizon.choices, default=Horizon.PERIOD
    )
    assessed = models.BooleanField(_("assessed in follow-up"), default=False)
    has_indicators = models.BooleanField(_("carries indicators"), default=False)
    is_assignment = models.BooleanField(
        _("political assignment"),
        default=False,
        help_text=_(
            "Items are assignments (uppdrag) given by one body to another, tracked to done."
        ),
    )

    class Meta:
        ordering = ["model", "order"]
        verbose_name = _("level")
        verbose_name_plural = _("levels")
        constraints = [
            models.UniqueConstraint(fields=["model", "key"], name="level_unique_key"),
            models.UniqueConstraint(fields=["model", "order"], name="level_unique_order"),
        ]

    def __str__(self) -> str:
        return localized(self, "name")

    @property
    def label_plural(self) -> str:
        return localized(self, "plural")


class ClassificationKind(models.TextChoices):
    PERSPECTIVE = "perspective", _("Perspective / focus area")
    AGENDA2030 = "agenda2030", _("Agenda 2030 goal")
    TARGET_GROUP = "target_group", _("Target group")
    SUSTAINABILITY = "sustainability", _("Sustainability dimension")
    CUSTOM = "custom", _("Other")


class Classification(models.Model):
    """A cross-cutting way to group items (perspectives, Agenda 2030, target groups...)."""

    model = models.ForeignKey(
        SteeringModel, on_delete=models.CASCADE, related_name="classifications"
    )
    key = models.SlugField(_("key"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("name in English"), max_length=80, blank=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=ClassificationKind.choices, default="custom"
    )
    multiple = models.BooleanField(_("several values per item"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["model", "order", "name"]
        verbose_name = _("classification")
        verbose_name_plural = _("classifications")
        constraints = [
            models.UniqueConstraint(fields=["model", "key"], name="classification_unique_key")
        ]

    def __str__(self) -> str:
        return localized(self, "name")


class ClassificationValue(models.Model):
    classification = models.ForeignKey(
        Classification, on_delete=models.CASCADE, related_name="values"
    )
    key = models.SlugField(_("key"), max_length=40)
    name = models.CharField(_("name"), max_length=150)
    name_en = models.CharField(_("name in English"), max_length=150, blank=True)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["classification", "order", "name"]
        verbose_name = _("classification value")
        verbose_name_plural = _("classification values")
        constraints = [
            models.UniqueConstraint(
                fields=["classification", "key"], name="classificationvalue_unique_key"
            )
        ]

    def __str__(self) -> str:
        return localized(self, "name")


class LevelClassification(models.Model):
    """Whether a classification applies at a level, and whether it is required there."""

    level = models.ForeignKey(Level, on_delete=models.CASCADE, related_name="classification_rules")
    classification = models.ForeignKey(
        Classification, on_delete=models.CASCADE, related_name="level_rules"
    )
    required = models.BooleanField(_("required"), default=False)

    class Meta:
        verbose_name = _("classification at level")
        verbose_name_plural = _("classifications at levels")
        constraints = [
            models.UniqueConstraint(
                fields=["level", "classification"], name="levelclassification_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.level} – {self.classification}"


class PlanPeriod(models.Model):
    """A multi-year plan, e.g. the mandate period 2023–2026, with its years."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="plan_periods"
    )
    name = models.CharField(_("name"), max_length=100)
    start_year = models.PositiveSmallIntegerField(_("first year"))
    end_year = models.PositiveSmallIntegerField(_("last year"))

    class Meta:
        ordering = ["municipality", "start_year"]
        verbose_name = _("plan period")
        verbose_name_plural = _("plan periods")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_year__gte=models.F("start_year")), name="planperiod_years_ordered"
            ),
            models.UniqueConstraint(
                fields=["municipality", "start_year"], name="planperiod_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def years(self) -> range:
        return range(self.start_year, self.end_year + 1)


class PlanYearStatus(models.TextChoices):
    PLANNING = "planning", _("Planning version")
    ADOPTED = "adopted", _("Adopted")
    CLOSED = "closed", _("Closed")


class PlanYear(models.Model):
    """One year of a plan period: a planning version until adopted, then the plan in force."""

    period = models.ForeignKey(PlanPeriod, on_delete=models.CASCADE, related_name="plan_years")
    year = models.PositiveSmallIntegerField(_("year"))
    status = models.CharField(
        _("status"), max_length=10, choices=PlanYearStatus.choices, default="planning"
    )
    decided_by = models.CharField(_("decided by"), max_length=120, blank=True)
    decided_on = models.DateField(_("decision date"), null=True, blank=True)
    decision_paragraph = models.CharField(_("paragraph (§)"), max_length=40, blank=True)
    rolled_over_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["period", "year"]
        verbose_name = _("plan year")
        verbose_name_plural = _("plan years")
        constraints = [
            models.UniqueConstraint(fields=["period", "year"], name="planyear_unique_year")
        ]

    def __str__(self) -> str:
        return f"{self.year} ({self.get_status_display()})"


class ItemStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("In force")
    ONGOING = "ongoing", _("Ongoing")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class PlanItemQuerySet(models.QuerySet["PlanItem"]):
    def for_municipality(self, municipality: Municipality) -> PlanItemQuerySet:
        return self.filter(municipality=municipality)


class PlanItem(models.Model):
    """A vision, goal, commitment, activity or assignment at a Level, owned by an OrgUnit."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="plan_items"
    )
    level = models.ForeignKey(Level, on_delete=models.PROTECT, related_name="items")
    owner = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="plan_items", verbose_name=_("owner")
    )
    period = models.ForeignKey(
        PlanPeriod, on_delete=models.PROTECT, related_name="items", verbose_name=_("plan period")
    )
    plan_year = models.ForeignKey(
        PlanYear,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("year"),
    )
    number = models.CharField(_("number"), max_length=20, blank=True)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    responsible = models.CharField(_("responsible person"), max_length=150, blank=True)
    start_date = models.DateField(_("start"), null=True, blank=True)
    end_date = models.DateField(_("end"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.ACTIVE
    )
    classifications = models.ManyToManyField(
        ClassificationValue, blank=True, related_name="items", verbose_name=_("classifications")
    )
    contributes_to = models.ManyToManyField(
        "self",
        through="PlanLink",
        symmetrical=False,
        related_name="contributors",
        verbose_name=_("contributes to"),
    )
    # Political assignments (uppdrag): who gave it, by which decision, by when.
    assigned_by = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments_given",
        verbose_name=_("assigned by"),
    )
    decision_reference = models.CharField(_("decision"), max_length=120, blank=True)
    due_date = models.DateField(_("due"), null=True, blank=True)
    completed_on = models.DateField(_("completed"), null=True, blank=True)
    copied_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="copies"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PlanItemQuerySet.as_manager()

    class Meta:
        ordering = ["level__order", "number", "title"]
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")
        indexes = [
            models.Index(fields=["municipality", "period", "level"]),
            models.Index(fields=["municipality", "owner"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="planitem_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}".strip()

    def snapshot(self) -> dict[str, Any]:
        """The editable values, for the audit log."""
        return {
            "level": self.level.key,
            "owner": self.owner.name,
            "period": self.period.name,
            "year": self.plan_year.year if self.plan_year else None,
            "number": self.number,
            "title": self.title,
            "description": self.description,
            "responsible": self.responsible,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "status": self.status,
            "assigned_by": self.assigned_by.name if self.assigned_by else None,
            "decision_reference": self.decision_reference,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "completed_on": self.completed_on.isoformat() if self.completed_on else None,
        }


class PlanLink(models.Model):
    """`from_item` contributes to `to_item`: one strand of the red thread."""

    from_item = models.ForeignKey(PlanItem, on_delete=models.CASCADE, related_name="links_up")
    to_item = models.ForeignKey(PlanItem, on_delete=models.CASCADE, related_name="links_down")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        verbose_name = _("link")
        verbose_name_plural = _("links")
        constraints = [
            models.UniqueConstraint(fields=["from_item", "to_item"], name="planlink_unique"),
            models.CheckConstraint(
                condition=~Q(from_item=models.F("to_item")), name="planlink_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_item} → {self.to_item}"


class FollowUpKind(models.Model):
    """A kind of follow-up in the model: month, tertial, delår, årsredovisning, "Året som gått".

    `months` are the months whose last day ends a period of this kind (4, 8, 12 for tertials);
    the deadline is `deadline_days` after that day, so a January report on the year before
    ("Året som gått") is month 12 with a deadline 31 days later. Which levels are assessed and which kinds of org unit report are configured here,
    so "monthly = economy only" is a kind with no levels and `economy` set.
    """

    model = models.ForeignKey(
        SteeringModel, on_delete=models.CASCADE, related_name="follow_up_kinds"
    )
    key = models.SlugField(_("key"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("name in English"), max_length=80, blank=True)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    months = models.JSONField(_("period end months"), default=list)
    deadline_days = models.PositiveSmallIntegerField(
        _("days from the period's end to the deadline"), default=15
    )
    reminder_days = models.JSONField(_("reminders, days before the deadline"), default=list)
    levels = models.ManyToManyField(
        Level, blank=True, related_name="follow_up_kinds", verbose_name=_("assessed levels")
    )
    reporters = models.ManyToManyField(
        OrgUnitKind, related_name="follow_up_kinds", verbose_name=_("reporting org unit kinds")
    )
    economy = models.BooleanField(_("economy (forecast) is reported"), default=False)
    indicators = models.BooleanField(_("indicator values are reported"), default=True)
    council_approval = models.BooleanField(_("approved by the council"), default=False)
    sections = models.JSONField(_("free sections"), default=list)

    class Meta:
        ordering = ["model", "order"]
        verbose_name = _("follow-up kind")
        verbose_name_plural = _("follow-up kinds")
        constraints = [
            models.UniqueConstraint(fields=["model", "key"], name="followupkind_unique_key")
        ]

    def __str__(self) -> str:
        return localized(self, "name")

    def section_list(self) -> list[dict[str, Any]]:
        """The free sections with their names in the reader's language."""
        out = []
        for section in self.sections:
            name = section.get("name", "")
            if (get_language() or "sv").startswith("en") and section.get("name_en"):
                name = section["name_en"]
            out.append({**section, "label": name})
        return out

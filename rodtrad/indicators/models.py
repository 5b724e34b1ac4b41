"""Indicators, their targets and values, the Kolada catalogue, and how goals are judged.

An `Indicator` measures something a goal is about. It has `Target`s (per year and for the
end of a plan period, each with an optional short-term accepted value) and `Value`s (per
period, area and gender, each saying where it came from). The municipality's own values have
`area` = its code; comparison values (the "liknande kommuner" group, Riket) are values with
another area. `AssessmentSettings` say, per steering model, how a value against its target
becomes a status and how statuses roll up along the thread; an indicator may override them.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rodtrad.organisations.models import Municipality, OrgUnit
from rodtrad.steering.models import PlanItem, PlanPeriod, SteeringModel


class Direction(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")
    CLOSEST = "closest", _("Closest to the target")


class IndicatorKind(models.TextChoices):
    TARGET = "target", _("Indicator with target value")
    KEY_FIGURE = "key_figure", _("Key figure (no target value)")
    INDEX = "index", _("Index")


class Frequency(models.TextChoices):
    MONTH = "month", _("Monthly")
    TERTIAL = "tertial", _("Per tertial")
    HALF = "half", _("Per half year")
    YEAR = "year", _("Yearly")


class Source(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    KOLADA = "kolada", _("Kolada")
    FILE = "file", _("File import")
    LEDGER = "ledger", _("Computed from the ledger")


class Gender(models.TextChoices):
    TOTAL = "T", _("Total")
    WOMEN = "K", _("Women")
    MEN = "M", _("Men")


class Status(models.TextChoices):
    """A judgement; the scale decides the words shown (achieved… or green…)."""

    MET = "met", _("Achieved")
    PARTLY = "partly", _("Partly achieved")
    NOT_MET = "not_met", _("Not achieved")


class Scale(models.TextChoices):
    ACHIEVED = "achieved", _("Achieved / partly / not achieved")
    TRAFFIC = "traffic", _("Green / yellow / red")


class RollupRule(models.TextChoices):
    WORST = "worst", _("The worst status decides")
    MAJORITY = "majority", _("The most common status decides")
    MEAN = "mean", _("Weighted mean")


class KoladaKpi(models.Model):
    """One KPI of Kolada's catalogue, as last imported (shared by all municipalities)."""

    id = models.CharField(primary_key=True, max_length=10)
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    operating_area = models.CharField(max_length=200, blank=True)
    perspective = models.CharField(max_length=100, blank=True)
    municipality_type = models.CharField(max_length=1, blank=True)
    is_divided_by_gender = models.BooleanField(default=False)
    auspice = models.CharField(max_length=5, blank=True)
    publ_period = models.CharField(max_length=10, blank=True)
    publication_date = models.CharField(max_length=10, blank=True)
    prel_publication_date = models.CharField(max_length=10, blank=True)
    has_ou_data = models.BooleanField(default=False)
    imported_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        verbose_name = _("Kolada KPI")
        verbose_name_plural = _("Kolada KPIs")

    def __str__(self) -> str:
        return f"{self.id} {self.title}"

    @property
    def discontinued(self) -> bool:
        return not self.publ_period


class AssessmentSettings(models.Model):
    """How a steering model judges goals: the scale, tolerance and roll-up rule."""

    model = models.OneToOneField(
        SteeringModel, on_delete=models.CASCADE, related_name="assessment_settings"
    )
    scale = models.CharField(
        _("scale"), max_length=10, choices=Scale.choices, default=Scale.ACHIEVED
    )
    tolerance_pct = models.DecimalField(
        _("tolerance for partly achieved (%)"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("10.0"),
        help_text=_(
            "Used when a target has no accepted value: a value this close to the target "
            "(in per cent of the target) counts as partly achieved."
        ),
    )
    rollup_rule = models.CharField(
        _("roll-up rule"), max_length=10, choices=RollupRule.choices, default=RollupRule.WORST
    )
    include_contributors = models.BooleanField(
        _("contributing goals count in the roll-up"), default=True
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("assessment settings")
        verbose_name_plural = _("assessment settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(tolerance_pct__gte=0) & Q(tolerance_pct__lte=100),
                name="assessmentsettings_tolerance_range",
            )
        ]

    def __str__(self) -> str:
        return str(self.model)

    def snapshot(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "tolerance_pct": str(self.tolerance_pct),
            "rollup_rule": self.rollup_rule,
            "include_contributors": self.include_contributors,
        }


class Indicator(models.Model):
    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="indicators"
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    unit = models.CharField(_("unit"), max_length=40, blank=True)
    decimals = models.PositiveSmallIntegerField(_("decimals"), default=1)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.HIGHER
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=IndicatorKind.choices, default=IndicatorKind.TARGET
    )
    frequency = models.CharField(
        _("frequency"), max_length=10, choices=Frequency.choices, default=Frequency.YEAR
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.MANUAL
    )
    by_gender = models.BooleanField(_("split by gender"), default=False)
    owner = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="indicators", verbose_name=_("owner")
    )
    responsible = models.CharField(_("responsible person"), max_length=150, blank=True)
    baseline_value = models.DecimalField(
        _("baseline value"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    baseline_year = models.PositiveSmallIntegerField(_("baseline year"), null=True, blank=True)
    plan_items = models.ManyToManyField(
        PlanItem, blank=True, related_name="indicators", verbose_name=_("measures")
    )
    # Per-indicator overrides of the model's assessment settings (empty = the model's).
    tolerance_pct = models.DecimalField(
        _("own tolerance (%)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    weight = models.PositiveSmallIntegerField(
        _("weight in the roll-up"), default=1, help_text=_("Used by the weighted-mean rule.")
    )
    # Kolada: the KPI, its comparison group, and what it said when last imported.
    kolada_kpi = models.CharField(_("Kolada KPI"), max_length=10, blank=True)
    kolada_title = models.CharField(max_length=500, blank=True, editable=False)
    kolada_description = models.TextField(blank=True, editable=False)
    kolada_publ_period = models.CharField(max_length=10, blank=True, editable=False)
    compare_group = models.CharField(_("comparison group"), max_length=20, blank=True)
    compare_group_title = models.CharField(max_length=200, blank=True, editable=False)
    kolada_renamed = models.BooleanField(default=False, editable=False)
    kolada_discontinued = models.BooleanField(default=False, editable=False)
    kolada_missing = models.BooleanField(default=False, editable=False)
    kolada_revisions = models.PositiveIntegerField(default=0, editable=False)
    kolada_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    demo_values = models.BooleanField(
        default=False, editable=False, help_text="Values are invented for the demo."
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        indexes = [models.Index(fields=["municipality", "kolada_kpi"])]
        constraints = [
            models.CheckConstraint(condition=Q(decimals__lte=6), name="indicator_decimals_max"),
            models.CheckConstraint(
                condition=Q(tolerance_pct__isnull=True)
                | (Q(tolerance_pct__gte=0) & Q(tolerance_pct__lte=100)),
                name="indicator_tolerance_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def has_targets(self) -> bool:
        return self.kind != IndicatorKind.KEY_FIGURE

    @property
    def kolada_flagged(self) -> bool:
        return bool(
            self.kolada_renamed
            or self.kolada_discontinued
            or self.kolada_missing
            or self.kolada_revisions
        )

    def snapshot(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "unit": self.unit,
            "decimals": self.decimals,
            "direction": self.direction,
            "kind": self.kind,
            "frequency": self.frequency,
            "source": self.source,
            "by_gender": self.by_gender,
            "owner": self.owner.name,
            "responsible": self.responsible,
            "baseline_value": None if self.baseline_value is None else str(self.baseline_value),
            "baseline_year": self.baseline_year,
            "tolerance_pct": None if self.tolerance_pct is None else str(self.tolerance_pct),
            "weight": self.weight,
            "kolada_kpi": self.kolada_kpi,
            "compare_group": self.compare_group,
        }


class Target(models.Model):
    """A target value for one year, or (year empty) for the end of a plan period."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="targets")
    period = models.ForeignKey(
        PlanPeriod, on_delete=models.CASCADE, related_name="+", verbose_name=_("plan period")
    )
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    value = models.DecimalField(_("target value"), max_digits=18, decimal_places=4)
    accepted_value = models.DecimalField(
        _("accepted value"), max_digits=18, decimal_places=4, null=True, blank=True
    )

    class Meta:
        ordering = ["indicator", "period__start_year", "year"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period", "year"], name="target_unique_year"
            ),
            models.UniqueConstraint(
                fields=["indicator", "period"],
                condition=Q(year__isnull=True),
                name="target_unique_period_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator}: {self.year or self.period} {self.value}"

    @property
    def for_year(self) -> int:
        return self.year or self.period.end_year


class PeriodKind(models.TextChoices):
    YEAR = "year", _("Year")
    HALF = "half", _("Half year")
    TERTIAL = "tertial", _("Tertial")
    MONTH = "month", _("Month")


MONTHS_PER = {"year": 12, "half": 6, "tertial": 4, "month": 1}


def period_end(year: int, kind: str, number: int | None) -> datetime.date:
    """The last day of a period: (2026, "tertial", 1) -> 2026-04-30."""
    month = 12 if kind == "year" else MONTHS_PER[kind] * int(number or 1)
    if month == 12:
        return datetime.date(year, 12, 31)
    return datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)


def period_label(year: int, kind: str, number: int | None) -> str:
    if kind == "year":
        return str(year)
    if kind == "month":
        return f"{year}-{int(number or 1):02d}"
    return f"{year} {'T' if kind == 'tertial' else 'H'}{number}"


class ValueImport(models.Model):
    """One import of values (a file, a Kolada fetch): who, when, what, and what it changed."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices)
    name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.created_at:%Y-%m-%d %H:%M})"


class Value(models.Model):
    """One measured value: indicator, area (own code, a group, 0000 Riket), period, gender."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="values")
    area = models.CharField(_("area"), max_length=20)
    year = models.PositiveSmallIntegerField(_("year"))
    period_kind = models.CharField(max_length=10, choices=PeriodKind.choices, default="year")
    # Month, tertial or half-year number; 0 for a whole year (not NULL, so the unique
    # constraint holds on SQLite too).
    period_number = models.PositiveSmallIntegerField(default=0)
    period_end = models.DateField()
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, default="T")
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=4, null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    imported = models.ForeignKey(
        ValueImport, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField()
    # Kolada revised the value after we imported it: what it was before.
    revised_from = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["indicator", "area", "period_end", "gender"]
        verbose_name = _("value")
        verbose_name_plural = _("values")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "area", "year", "period_kind", "period_number", "gender"],
                name="value_unique_period",
            ),
            models.CheckConstraint(
                condition=(Q(period_kind="year") & Q(period_number=0))
                | (Q(period_kind="half") & Q(period_number__gte=1) & Q(period_number__lte=2))
                | (Q(period_kind="tertial") & Q(period_number__gte=1) & Q(period_number__lte=3))
                | (Q(period_kind="month") & Q(period_number__gte=1) & Q(period_number__lte=12)),
                name="value_period_number_valid",
            ),
        ]
        indexes = [models.Index(fields=["indicator", "area", "gender", "period_end"])]

    def __str__(self) -> str:
        return f"{self.indicator} {self.label} {self.area} {self.gender}: {self.value}"

    @property
    def label(self) -> str:
        return period_label(self.year, self.period_kind, self.period_number)


class StatusOverride(models.Model):
    """A person's judgement of an item, overriding the proposal, with the reason.

    The proposal at the time is kept beside it. A newer row replaces an older one; clearing an
    override is a row with an empty status.
    """

    item = models.ForeignKey(PlanItem, on_delete=models.CASCADE, related_name="status_overrides")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, blank=True)
    justification = models.TextField(_("justification"))
    proposed_status = models.CharField(max_length=10, blank=True)
    proposed_reasons = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "-created_at", "-pk"]
        get_latest_by = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.item}: {self.status or '-'}"


class RollupState(models.Model):
    """Whether the stored roll-up is up to date: every change bumps `generation`.

    Writes only bump the counter (cheap, also inside bulk operations); the first read that
    needs statuses recomputes when `computed` is behind, and records the generation it saw.
    """

    municipality = models.OneToOneField(
        Municipality, on_delete=models.CASCADE, related_name="rollup_state"
    )
    generation = models.PositiveBigIntegerField(default=1)
    computed = models.PositiveBigIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.municipality}: {self.computed}/{self.generation}"


class ItemRollup(models.Model):
    """The stored result of the roll-up for one plan item (recomputed when inputs change).

    `reasons` holds the facts the explanation is written from (counts, the worst inputs), so
    it can be rendered in the reader's language.
    """

    item = models.OneToOneField(PlanItem, on_delete=models.CASCADE, related_name="rollup")
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    proposed = models.CharField(max_length=10, blank=True)
    reasons = models.JSONField(default=dict)
    status = models.CharField(max_length=10, blank=True)  # the override if any, else proposed
    overridden = models.BooleanField(default=False)
    warning = models.BooleanField(default=False)
    signature = models.CharField(max_length=40, blank=True)  # what was computed, hashed

    class Meta:
        indexes = [models.Index(fields=["municipality"])]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.status}"


class IndicatorStatus(models.Model):
    """The stored judgement of an indicator for one year (recomputed when inputs change)."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="statuses")
    year = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, blank=True)
    reasons = models.JSONField(default=dict)
    projection = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    projection_year = models.PositiveSmallIntegerField(null=True, blank=True)
    warning = models.BooleanField(default=False)
    signature = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["indicator", "year"], name="indicatorstatus_unique")
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.year}: {self.status}"

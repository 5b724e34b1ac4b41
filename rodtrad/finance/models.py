"""Economy: budget frames, programme and internal budgets, investments, ledger outcome from
SIE4 or CSV, forecasts, and the municipality's rules for deviations and publication.

Amounts are kronor. Budgets, outcome and forecasts are **net cost**: costs positive, revenue
negative, as the ledger has them (debit positive, credit negative), so "more" is "more
expensive" everywhere and a deviation above zero is an overspend.

Outcome is stored as the ledger has it, by responsibility code (ansvar), activity code
(verksamhet), project, account and month (`LedgerRow`); which org unit and activity area a
code means is looked up at read time (`LedgerMapping`, else `OrgUnit.ledger_code`), so
mapping a code later needs no new import.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rodtrad.indicators.models import Indicator
from rodtrad.organisations.models import Municipality, OrgUnit


class FinanceSettings(models.Model):
    municipality = models.OneToOneField(
        Municipality, on_delete=models.CASCADE, related_name="finance_settings"
    )
    deviation_pct = models.DecimalField(
        _("deviation that needs a comment (%)"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("2.0"),
        help_text=_("A forecast that deviates from the budget by more than this needs a comment."),
    )
    deviation_amount = models.DecimalField(
        _("deviation that needs a comment (kronor)"),
        default=Decimal(0),
        help_text=_("Also when the deviation exceeds this amount; 0 means only the percentage."),
        max_digits=16,
        decimal_places=2,
    )
    boards_see_only_own = models.BooleanField(
        _("a board's officials see only their own board's economy"),
        default=False,
        help_text=_(
            "Internal budgets, outcome and forecasts of other boards are then hidden from "
            "those whose roles cover one board only."
        ),
    )
    published_year = models.PositiveSmallIntegerField(
        _("published up to year"),
        null=True,
        blank=True,
        help_text=_("Frames and outcome up to this year are on the public pages."),
    )
    responsibility_dim = models.PositiveSmallIntegerField(_("dimension for ansvar"), default=1)
    activity_dim = models.PositiveSmallIntegerField(_("dimension for verksamhet"), default=20)
    project_dim = models.PositiveSmallIntegerField(_("dimension for projects"), default=6)
    version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("economy settings")
        verbose_name_plural = _("economy settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(deviation_pct__gte=0) & Q(deviation_amount__gte=0),
                name="financesettings_thresholds_not_negative",
            )
        ]

    def __str__(self) -> str:
        return str(self.municipality)

    def snapshot(self) -> dict[str, Any]:
        return {
            "deviation_pct": str(self.deviation_pct),
            "deviation_amount": str(self.deviation_amount),
            "boards_see_only_own": self.boards_see_only_own,
            "published_year": self.published_year,
            "responsibility_dim": self.responsibility_dim,
            "activity_dim": self.activity_dim,
            "project_dim": self.project_dim,
        }

    def needs_comment(self, budget: Decimal, deviation: Decimal) -> bool:
        if self.deviation_amount and abs(deviation) > self.deviation_amount:
            return True
        if not budget:
            return bool(deviation)
        return abs(deviation) * 100 / abs(budget) > self.deviation_pct


class ActivityArea(models.Model):
    """A verksamhet (activity area) of the programme budget and the ledger."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="activity_areas"
    )
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=150)

    class Meta:
        ordering = ["municipality", "code"]
        verbose_name = _("activity area")
        verbose_name_plural = _("activity areas")
        constraints = [
            models.UniqueConstraint(fields=["municipality", "code"], name="activityarea_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Account(models.Model):
    """An account of the ledger's chart (Kommun-Bas), as the SIE file declares it."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    number = models.CharField(_("account"), max_length=10)
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(max_length=1, blank=True)  # T S K I from #KTYP

    class Meta:
        ordering = ["municipality", "number"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "number"], name="account_unique")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class Dimension(models.TextChoices):
    RESPONSIBILITY = "ansvar", _("Responsibility (ansvar)")
    ACTIVITY = "verksamhet", _("Activity (verksamhet)")


class LedgerMapping(models.Model):
    """What a ledger code means: an org unit (ansvar) or an activity area (verksamhet)."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    code = models.CharField(_("code"), max_length=20)
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    activity_area = models.ForeignKey(
        ActivityArea, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "dimension", "code"], name="ledgermapping_unique"
            ),
            models.CheckConstraint(
                condition=(Q(dimension="ansvar") & Q(org_unit__isnull=False))
                | (Q(dimension="verksamhet") & Q(activity_area__isnull=False)),
                name="ledgermapping_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dimension} {self.code}"


class BudgetFrame(models.Model):
    """The council's frame (ram) for a board and year: its net cost, and the decision."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="budget_frames", verbose_name=_("board")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    amount = models.DecimalField(_("frame (net cost, kronor)"), max_digits=16, decimal_places=2)
    decided_by = models.CharField(_("decided by"), max_length=120, blank=True)
    decided_on = models.DateField(_("decision date"), null=True, blank=True)
    decision_paragraph = models.CharField(_("paragraph (§)"), max_length=40, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["year", "org_unit__name"]
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "year"], name="budgetframe_unique")
        ]

    def __str__(self) -> str:
        return f"{self.org_unit} {self.year}: {self.amount}"


class ProgrammeBudget(models.Model):
    """The programme budget: net cost per activity area and year."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    activity_area = models.ForeignKey(ActivityArea, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    amount = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["activity_area", "year"], name="programmebudget_unique")
        ]

    def __str__(self) -> str:
        return f"{self.activity_area} {self.year}"


class BudgetLine(models.Model):
    """The internal budget: one unit, account, activity and month."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="budget_lines")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    account = models.CharField(max_length=10)
    activity_code = models.CharField(max_length=20, blank=True)
    amount = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org_unit", "year", "month", "account", "activity_code"],
                name="budgetline_unique",
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1) & Q(month__lte=12), name="budgetline_month"
            ),
        ]
        indexes = [models.Index(fields=["municipality", "year"])]

    def __str__(self) -> str:
        return f"{self.org_unit_id} {self.year}-{self.month:02d} {self.account}"


class InvestmentProject(models.Model):
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("project code"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("board")
    )

    class Meta:
        ordering = ["municipality", "code"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "code"], name="project_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class InvestmentBudget(models.Model):
    project = models.ForeignKey(InvestmentProject, on_delete=models.CASCADE, related_name="budgets")
    year = models.PositiveSmallIntegerField()
    amount = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "year"], name="investmentbudget_unique")
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.year}"


class LedgerImport(models.Model):
    """One import of outcome: a SIE4 or CSV file for some months of a year."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=10)  # sie4 | csv
    name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    year = models.PositiveSmallIntegerField()
    months = models.JSONField(default=list)
    rows = models.PositiveIntegerField(default=0)  # ledger rows (#TRANS or CSV rows) read
    stored = models.PositiveIntegerField(default=0)  # aggregated rows kept
    vouchers = models.PositiveIntegerField(default=0)
    budget_lines = models.PositiveIntegerField(default=0)  # internal budget from #PBUDGET
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.year})"


class LedgerRow(models.Model):
    """Outcome: the sum of one month's ledger rows with the same codes."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    imported = models.ForeignKey(LedgerImport, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    account = models.CharField(max_length=10)
    responsibility = models.CharField(max_length=20, blank=True)
    activity = models.CharField(max_length=20, blank=True)
    project = models.CharField(max_length=20, blank=True)
    amount = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        indexes = [
            models.Index(fields=["municipality", "year", "month"]),
            # One board's outcome: its responsibility codes only.
            models.Index(fields=["municipality", "year", "responsibility"]),
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d} {self.account} {self.responsibility}: {self.amount}"


class Forecast(models.Model):
    """A board's or unit's forecast of the year's net cost, made in one month."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="forecasts")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField(help_text="The month the forecast was made in.")
    amount = models.DecimalField(
        _("forecast for the year (net cost)"), max_digits=16, decimal_places=2
    )
    comment = models.TextField(_("comment"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["org_unit", "year", "month"]
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "year", "month"], name="forecast_unique"),
            models.CheckConstraint(
                condition=Q(month__gte=1) & Q(month__lte=12), name="forecast_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.org_unit} {self.year}-{self.month:02d}: {self.amount}"


class GoalKind(models.TextChoices):
    RESULT_SHARE = "result_share", _("Result as a share of taxes and general grants (%)")
    SELF_FINANCING = "self_financing", _("Investments financed by the result and depreciation (%)")


class FinancialGoal(models.Model):
    """A goal of good financial management computed from the ledger into an indicator."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=GoalKind.choices)
    indicator = models.OneToOneField(
        Indicator, on_delete=models.CASCADE, related_name="financial_goal"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "kind"], name="financialgoal_unique")
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

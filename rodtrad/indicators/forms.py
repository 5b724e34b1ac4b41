from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rodtrad.indicators.models import AssessmentSettings, Gender, Indicator, Status
from rodtrad.lib.swedish import FormatError, format_decimal, parse_decimal, parse_period
from rodtrad.organisations.models import OrgUnit
from rodtrad.steering.models import PlanPeriod


class SwedishDecimalField(forms.CharField):
    """A number as Swedes write it: "1 234,5", also with a non-breaking space or a point."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.widget.attrs.update(inputmode="decimal", autocomplete="off", maxlength="40")

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        if len(text) > 40:
            raise forms.ValidationError(_("The number is too long."), code="invalid")
        try:
            number = parse_decimal(text)
        except FormatError:
            raise forms.ValidationError(
                _("“%(text)s” is not a number. Write for example 1 234,5."),
                code="invalid",
                params={"text": text[:40]},
            ) from None
        if abs(number) >= Decimal(10) ** 14:
            raise forms.ValidationError(_("The number is too large."), code="invalid")
        return number


def _show_decimal(form: forms.ModelForm, name: str) -> None:
    """Show a stored number the Swedish way ("10,0") in a text field."""
    value = form.initial.get(name)
    if isinstance(value, Decimal):
        form.initial[name] = format_decimal(value, 1)


def _percent(value: Decimal | None) -> None:
    if value is not None and not 0 <= value <= 100:
        raise forms.ValidationError(_("Give a percentage between 0 and 100."))


class IndicatorForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    tolerance_pct = SwedishDecimalField(
        label=gettext_lazy("own tolerance (%)"), required=False, validators=[_percent]
    )

    class Meta:
        model = Indicator
        fields = [
            "title",
            "description",
            "kind",
            "unit",
            "decimals",
            "direction",
            "frequency",
            "by_gender",
            "owner",
            "responsible",
            "tolerance_pct",
            "weight",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, owners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner_field = self.fields["owner"]
        assert isinstance(owner_field, forms.ModelChoiceField)
        owner_field.queryset = owners
        self.fields["tolerance_pct"].help_text = _("Leave empty to use the steering model's rule.")
        self.fields["decimals"].widget.attrs["max"] = 6
        if self.instance.pk and self.instance.kolada_kpi:
            self.fields["by_gender"].disabled = True
        _show_decimal(self, "tolerance_pct")


class ValueForm(forms.Form):
    period = forms.CharField(
        label=gettext_lazy("Period"),
        max_length=20,
        help_text=gettext_lazy("For example 2026, 2026-04, 2026 T1 or 2026 H1."),
    )
    gender = forms.ChoiceField(label=gettext_lazy("Gender"), choices=Gender.choices, initial="T")
    value = SwedishDecimalField(label=gettext_lazy("Value"), required=False)
    comment = forms.CharField(
        label=gettext_lazy("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, indicator: Indicator, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.indicator = indicator
        if not indicator.by_gender:
            del self.fields["gender"]

    def clean_period(self) -> Any:
        text = self.cleaned_data["period"]
        try:
            period = parse_period(text)
        except FormatError:
            raise forms.ValidationError(
                _(
                    "“%(text)s” is not a period. Write for example 2026, 2026-04, 2026 T1 or "
                    "2026 H1."
                ),
                params={"text": text[:20]},
            ) from None
        if period.kind not in ("year", self.indicator.frequency):
            raise forms.ValidationError(
                _("This indicator is followed up %(frequency)s.")
                % {"frequency": self.indicator.get_frequency_display().lower()}
            )
        return period


class TargetsForm(forms.Form):
    """Targets for every year of the chosen plan periods and for each period's end."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    baseline_value = SwedishDecimalField(label=gettext_lazy("Baseline value"), required=False)
    baseline_year = forms.IntegerField(
        label=gettext_lazy("Baseline year"), required=False, min_value=1900, max_value=2100
    )

    def __init__(
        self, *args: Any, indicator: Indicator, periods: list[PlanPeriod], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[tuple[PlanPeriod, int | None, str, str]] = []
        for period in periods:
            for year in [*period.years, None]:
                key = f"{period.pk}_{year or 'end'}"
                label = str(year) if year else _("End of %(period)s") % {"period": period.name}
                self.fields[f"target_{key}"] = SwedishDecimalField(
                    label=_("Target value, %(when)s") % {"when": label}, required=False
                )
                self.fields[f"accepted_{key}"] = SwedishDecimalField(
                    label=_("Accepted value, %(when)s") % {"when": label}, required=False
                )
                self.rows.append((period, year, key, label))

    def table(self) -> list[tuple[str, Any, Any]]:
        return [
            (label, self[f"target_{key}"], self[f"accepted_{key}"])
            for _p, _y, key, label in self.rows
        ]


class KpiCreateForm(forms.Form):
    kpi = forms.RegexField(regex=r"^[NUnu]\d{5}$", max_length=6, widget=forms.HiddenInput)
    owner = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=gettext_lazy("Owner"))

    def __init__(self, *args: Any, owners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner_field = self.fields["owner"]
        assert isinstance(owner_field, forms.ModelChoiceField)
        owner_field.queryset = owners


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File (CSV or Excel .xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


class OverrideForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Your judgement"),
        choices=[("", gettext_lazy("Use the proposal")), *Status.choices],
        required=False,
    )
    justification = forms.CharField(
        label=gettext_lazy("Justification"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text=gettext_lazy("Required: why the judgement differs from the proposal."),
    )


class LinkIndicatorForm(forms.Form):
    indicator = forms.ModelChoiceField(
        queryset=Indicator.objects.none(), label=gettext_lazy("Indicator")
    )

    def __init__(self, *args: Any, indicators: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["indicator"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = indicators


class SettingsForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    tolerance_pct = SwedishDecimalField(
        label=gettext_lazy("tolerance for partly achieved (%)"),
        validators=[_percent],
        help_text=AssessmentSettings._meta.get_field("tolerance_pct").help_text,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _show_decimal(self, "tolerance_pct")

    class Meta:
        model = AssessmentSettings
        fields = ["scale", "tolerance_pct", "rollup_rule", "include_contributors"]

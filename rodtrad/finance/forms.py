from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rodtrad.finance.models import ActivityArea, FinanceSettings
from rodtrad.indicators.forms import SwedishDecimalField
from rodtrad.organisations.models import OrgUnit


def _not_negative(value: Decimal | None) -> None:
    if value is not None and value < 0:
        raise forms.ValidationError(_("Give zero or more."))


class LedgerImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File (SIE4 .se/.si, or CSV/.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".se,.si,.sie,.txt,.csv,.xlsx"}),
    )
    with_budget = forms.BooleanField(
        label=gettext_lazy("Also take the internal budget from the file's #PBUDGET rows"),
        required=False,
        initial=True,
    )


def _kronor(value: Decimal | None) -> None:
    if value is not None and value != value.quantize(Decimal("0.01")):
        raise forms.ValidationError(_("Give kronor with at most two decimals (öre)."))


class FrameForm(forms.Form):
    amount = SwedishDecimalField(
        label=gettext_lazy("Frame (net cost, kronor)"), validators=[_kronor]
    )
    decided_by = forms.CharField(label=gettext_lazy("Decided by"), max_length=120)
    decided_on = forms.DateField(label=gettext_lazy("Decision date"))
    paragraph = forms.CharField(label=gettext_lazy("Paragraph (§)"), max_length=40)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ForecastForm(forms.Form):
    month = forms.TypedChoiceField(
        label=gettext_lazy("Month of the forecast"),
        coerce=int,
        choices=[(m, f"{m:02d}") for m in range(1, 13)],
    )
    amount = SwedishDecimalField(
        label=gettext_lazy("Forecast for the year (net cost, kronor)"), validators=[_kronor]
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment on the deviation"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class MappingForm(forms.Form):
    code = forms.CharField(widget=forms.HiddenInput, max_length=20)
    dimension = forms.ChoiceField(
        widget=forms.HiddenInput, choices=[("ansvar", "ansvar"), ("verksamhet", "verksamhet")]
    )
    org_unit = forms.ModelChoiceField(
        queryset=OrgUnit.objects.none(), required=False, label=gettext_lazy("Org unit")
    )
    activity_area = forms.ModelChoiceField(
        queryset=ActivityArea.objects.none(), required=False, label=gettext_lazy("Activity area")
    )

    def __init__(self, *args: Any, units: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit_field = self.fields["org_unit"]
        area_field = self.fields["activity_area"]
        assert isinstance(unit_field, forms.ModelChoiceField)
        assert isinstance(area_field, forms.ModelChoiceField)
        unit_field.queryset = units
        area_field.queryset = areas


class SettingsForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    deviation_pct = SwedishDecimalField(
        label=gettext_lazy("deviation that needs a comment (%)"), validators=[_not_negative]
    )
    deviation_amount = SwedishDecimalField(
        label=gettext_lazy("deviation that needs a comment (kronor)"), validators=[_not_negative]
    )

    class Meta:
        model = FinanceSettings
        fields = [
            "deviation_pct",
            "deviation_amount",
            "boards_see_only_own",
            "published_year",
            "responsibility_dim",
            "activity_dim",
            "project_dim",
        ]

"""Forms of the follow-up pages. Every edit form carries the version it was opened at."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from rodtrad.followup.services import MAX_TEXT
from rodtrad.indicators.explain import status_label


class AssessmentForm(forms.Form):
    status = forms.ChoiceField(label=_("Your assessment"), required=False)
    analysis = forms.CharField(
        label=_("Analysis"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What the results show and why: the basis of your assessment."),
    )
    measures = forms.CharField(
        label=pgettext_lazy("follow-up", "Measures"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What will be done (åtgärder); required when the goal is not achieved."),
    )
    ready = forms.BooleanField(label=_("Ready"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, scale: str = "achieved", **kwargs: Any):
        super().__init__(*args, **kwargs)
        status_field: forms.ChoiceField = self.fields["status"]  # type: ignore[assignment]
        status_field.choices = [("", _("Not assessed yet"))] + [
            (status, status_label(status, scale)) for status in ("met", "partly", "not_met")
        ]


class SectionForm(forms.Form):
    text = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    ready = forms.BooleanField(label=_("Ready"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class DecisionForm(forms.Form):
    decided_by = forms.CharField(label=_("Decided by"), max_length=120)
    decided_on = forms.DateField(
        label=_("Decision date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Written as 2026-05-20."),
    )
    paragraph = forms.CharField(label=_("Paragraph (§)"), max_length=40)


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for reopening"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DeadlineForm(forms.Form):
    deadline = forms.DateField(
        label=_("Deadline"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Written as 2026-05-15."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

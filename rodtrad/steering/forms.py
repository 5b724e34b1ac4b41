"""Forms for plan items, links, plan years and model files."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rodtrad.organisations.access import Access
from rodtrad.organisations.models import OrgUnit
from rodtrad.steering.models import (
    Classification,
    ClassificationValue,
    Horizon,
    ItemStatus,
    Level,
    PlanItem,
    PlanYear,
)


class ItemForm(forms.Form):
    """Create or edit a plan item. Choices are limited to what the model and the user allow."""

    owner = forms.ModelChoiceField(
        queryset=OrgUnit.objects.none(), label=_("Owner"), empty_label=_("– Choose –")
    )
    plan_year = forms.ModelChoiceField(
        queryset=PlanYear.objects.none(),
        label=_("Year"),
        required=False,
        empty_label=_("– Choose –"),
    )
    number = forms.CharField(label=_("Number"), max_length=20, required=False)
    title = forms.CharField(label=_("Title"), max_length=300)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    responsible = forms.CharField(label=_("Responsible person"), max_length=150, required=False)
    start_date = forms.DateField(
        label=_("Start"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label=_("End"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    status = forms.ChoiceField(label=_("Status"), choices=ItemStatus.choices)
    assigned_by = forms.ModelChoiceField(
        queryset=OrgUnit.objects.none(),
        label=_("Assigned by"),
        required=False,
        empty_label=_("– Choose –"),
    )
    decision_reference = forms.CharField(label=_("Decision"), max_length=120, required=False)
    due_date = forms.DateField(
        label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    completed_on = forms.DateField(
        label=_("Completed"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    parents = forms.ModelMultipleChoiceField(
        queryset=PlanItem.objects.none(),
        label=_("Contributes to"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        level: Level,
        access: Access,
        years: list[PlanYear],
        parent_choices: Any = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.level = level
        municipality = access.municipality
        owners = OrgUnit.objects.filter(
            municipality=municipality, kind__in=level.owner_kinds.all()
        ).select_related("kind")
        if not access.is_admin:
            allowed = Q(pk__in=[])
            for path in access.edit_paths:
                allowed |= Q(path__startswith=path)
            owners = owners.filter(allowed)
        owner_field: Any = self.fields["owner"]
        owner_field.queryset = owners.order_by("path")
        owner_field.label_from_instance = lambda unit: f"{'– ' * unit.depth}{unit.name}"
        year_field: Any = self.fields["plan_year"]
        if level.horizon == Horizon.YEAR:
            year_field.queryset = PlanYear.objects.filter(pk__in=[y.pk for y in years])
            year_field.required = True
        else:
            del self.fields["plan_year"]
        if level.is_assignment:
            assigned: Any = self.fields["assigned_by"]
            assigned.queryset = OrgUnit.objects.filter(municipality=municipality).order_by("path")
        else:
            for name in ("assigned_by", "decision_reference", "due_date", "completed_on"):
                del self.fields[name]
        if parent_choices is None:
            del self.fields["parents"]
        else:
            parents: Any = self.fields["parents"]
            parents.queryset = parent_choices
            parents.label_from_instance = lambda item: f"{item.level}: {item} ({item.owner.label})"
            parents.required = level.link_required
            if level.link_required:
                parents.help_text = _("Required: choose at least one.")
        self.classifications = list(
            Classification.objects.filter(level_rules__level=level)
            .prefetch_related("values")
            .distinct()
        )
        required = {
            rule.classification_id: rule.required for rule in level.classification_rules.all()
        }
        for classification in self.classifications:
            field_name = f"class_{classification.key}"
            values = classification.values.all()
            if classification.multiple:
                self.fields[field_name] = forms.ModelMultipleChoiceField(
                    queryset=values,
                    label=str(classification),
                    required=required.get(classification.pk, False),
                    widget=forms.CheckboxSelectMultiple,
                )
            else:
                self.fields[field_name] = forms.ModelChoiceField(
                    queryset=values,
                    label=str(classification),
                    required=required.get(classification.pk, False),
                    empty_label=_("– Choose –"),
                )

    def chosen_values(self) -> list[ClassificationValue]:
        values: list[ClassificationValue] = []
        for classification in self.classifications:
            chosen = self.cleaned_data.get(f"class_{classification.key}")
            if chosen is None:
                continue
            if isinstance(chosen, ClassificationValue):
                values.append(chosen)
            else:
                values.extend(chosen)
        return values

    def item_data(self) -> dict[str, Any]:
        names = (
            "number",
            "title",
            "description",
            "responsible",
            "start_date",
            "end_date",
            "status",
            "assigned_by",
            "decision_reference",
            "due_date",
            "completed_on",
        )
        return {name: self.cleaned_data[name] for name in names if name in self.fields}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end comes before the start."))
        return data

    @staticmethod
    def initial_for(item: PlanItem) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(item, name)
            for name in (
                "number",
                "title",
                "description",
                "responsible",
                "start_date",
                "end_date",
                "status",
                "decision_reference",
                "due_date",
                "completed_on",
            )
        }
        initial.update(
            owner=item.owner_id,
            plan_year=item.plan_year_id,
            assigned_by=item.assigned_by_id,
            version=item.version,
        )
        values = list(item.classifications.all())
        for value in values:
            key = f"class_{value.classification.key}"
            initial.setdefault(key, []).append(value.pk)
        return initial


class LinkForm(forms.Form):
    to_item = forms.ModelChoiceField(
        queryset=PlanItem.objects.none(), label=_("Contributes to"), empty_label=_("– Choose –")
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, candidates: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field: Any = self.fields["to_item"]
        field.queryset = candidates
        field.label_from_instance = lambda item: f"{item.level}: {item} ({item.owner.label})"


class AdoptForm(forms.Form):
    decided_by = forms.CharField(label=_("Decided by"), max_length=120)
    decided_on = forms.DateField(
        label=_("Decision date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    paragraph = forms.CharField(label=_("Paragraph (§)"), max_length=40)


class PeriodForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    start_year = forms.IntegerField(label=_("First year"), min_value=2000, max_value=2100)
    end_year = forms.IntegerField(label=_("Last year"), min_value=2000, max_value=2100)


class ModelFileForm(forms.Form):
    file = forms.FileField(label=_("Model file (YAML)"))

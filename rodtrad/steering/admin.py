from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from rodtrad.organisations.admin import ScopedAdmin, ScopedChoicesMixin
from rodtrad.steering import rules
from rodtrad.steering.modelfile import export_model
from rodtrad.steering.models import (
    Classification,
    ClassificationValue,
    Level,
    LevelClassification,
    PlanItem,
    PlanLink,
    PlanPeriod,
    PlanYear,
    SteeringModel,
)


@admin.action(description=_("Export as a model file"))
def export_models(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[SteeringModel]
) -> HttpResponse:
    text = "\n---\n".join(export_model(model) for model in queryset)
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="styrmodell.yaml"'
    return response


class LevelInline(admin.TabularInline):
    model = Level
    extra = 0
    fields = [
        "order",
        "key",
        "name",
        "plural",
        "horizon",
        "link_required",
        "assessed",
        "has_indicators",
        "is_assignment",
    ]
    show_change_link = True


@admin.register(SteeringModel)
class SteeringModelAdmin(ScopedAdmin):
    list_display = ["name", "municipality", "version"]
    inlines = [LevelInline]
    actions = [export_models]


class LevelClassificationInline(ScopedChoicesMixin, admin.TabularInline):
    model = LevelClassification
    extra = 0


@admin.register(Level)
class LevelAdmin(ScopedAdmin):
    municipality_path = "model__municipality"
    list_display = ["name", "key", "order", "model"]
    list_filter = ["model__municipality"]
    filter_horizontal = ["owner_kinds", "parents"]
    inlines = [LevelClassificationInline]


class ValueInline(admin.TabularInline):
    model = ClassificationValue
    extra = 0


@admin.register(Classification)
class ClassificationAdmin(ScopedAdmin):
    municipality_path = "model__municipality"
    list_display = ["name", "key", "kind", "model"]
    inlines = [ValueInline]


@admin.register(ClassificationValue)
class ClassificationValueAdmin(ScopedAdmin):
    municipality_path = "classification__model__municipality"
    list_display = ["name", "key", "classification"]


@admin.register(PlanPeriod)
class PlanPeriodAdmin(ScopedAdmin):
    list_display = ["name", "start_year", "end_year", "municipality"]


@admin.register(PlanYear)
class PlanYearAdmin(ScopedAdmin):
    municipality_path = "period__municipality"
    list_display = ["year", "status", "period", "decided_on"]


class LinkInline(admin.TabularInline):
    """Links are shown, never edited here: the item pages apply the model's rules to them."""

    model = PlanLink
    fk_name = "from_item"
    extra = 0
    fields = ["to_item", "created_by", "created_at"]
    readonly_fields = ["to_item", "created_by", "created_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class PlanItemAdminForm(forms.ModelForm):
    """The same rules as the item pages: owner kind, year, classifications, links."""

    class Meta:
        model = PlanItem
        fields = "__all__"  # noqa: DJ007  (the admin shows every field of an item)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        item = self.instance
        for name in ("level", "owner", "period", "plan_year", "assigned_by"):
            if name in data:
                setattr(item, name, data[name])
        problems = rules.item_problems(item, values=list(data.get("classifications") or []))
        if item.pk:
            for link in item.links_up.select_related("to_item__level", "to_item__plan_year"):
                problems += rules.link_problems(item, link.to_item, adding=False)
            for link in item.links_down.select_related("from_item__level"):
                problems += rules.link_problems(link.from_item, item, adding=False)
        if problems:
            raise forms.ValidationError(problems)
        return data


@admin.register(PlanItem)
class PlanItemAdmin(ScopedAdmin):
    form = PlanItemAdminForm

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Not while items contribute to it: their links would go with it."""
        if isinstance(obj, PlanItem) and obj.links_down.exists():
            return False
        return super().has_delete_permission(request, obj)

    list_display = ["title", "level", "owner", "plan_year", "status"]
    list_filter = ["municipality", "level__model", "status"]
    search_fields = ["title", "number"]
    raw_id_fields = ["owner", "assigned_by", "copied_from"]
    inlines = [LinkInline]

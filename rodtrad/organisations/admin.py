"""Django admin for everything, scoped to the municipalities the user administers.

Platform staff (superusers) see every municipality. A municipality's administrator (role
admin, with staff status) sees and changes only their own municipality's rows.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from rodtrad.organisations.models import (
    AuditEvent,
    Membership,
    Municipality,
    OrgUnit,
    OrgUnitKind,
    Role,
    User,
)


def administered_municipality_ids(request: HttpRequest) -> set[int] | None:
    """The municipalities the user administers; None means all (platform staff)."""
    user = request.user
    if user.is_superuser:
        return None
    cached = getattr(request, "_administered", None)
    if cached is None:
        municipality_id = getattr(user, "municipality_id", None)
        cached = (
            set(
                Membership.objects.filter(
                    user_id=user.pk, role=Role.ADMIN, org_unit__municipality_id=municipality_id
                ).values_list("org_unit__municipality_id", flat=True)
            )
            if user.pk is not None and municipality_id is not None
            else set()
        )
        request._administered = cached  # type: ignore[attr-defined]
    return cached


class ScopedAdmin(admin.ModelAdmin):
    """Limits rows, choices and permissions to the user's municipality.

    `municipality_path` names the lookup from the model to its Municipality.
    """

    municipality_path = "municipality"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        ids = administered_municipality_ids(request)
        if ids is None:
            return qs
        return qs.filter(**{f"{self.municipality_path}__in": ids})

    def _allowed(self, request: HttpRequest) -> bool:
        ids = administered_municipality_ids(request)
        return ids is None or bool(ids)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_module_permission(request)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        ids = administered_municipality_ids(request)
        related = db_field.related_model
        if ids is not None:
            path = _path_to_municipality(related)
            if path is not None:
                kwargs["queryset"] = related._default_manager.filter(**{f"{path}__in": ids})
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        ids = administered_municipality_ids(request)
        related = db_field.related_model
        if ids is not None:
            path = _path_to_municipality(related)
            if path is not None:
                kwargs["queryset"] = related._default_manager.filter(**{f"{path}__in": ids})
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _path_to_municipality(model: type[Model]) -> str | None:
    if model is Municipality:
        return "pk"
    admin_class = admin.site._registry.get(model)
    if isinstance(admin_class, ScopedAdmin):
        return admin_class.municipality_path
    return None


@admin.register(Municipality)
class MunicipalityAdmin(ScopedAdmin):
    municipality_path = "pk"
    list_display = ["name", "code"]
    search_fields = ["name", "code"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_superuser


@admin.register(OrgUnitKind)
class OrgUnitKindAdmin(ScopedAdmin):
    list_display = ["name", "key", "builtin", "municipality"]
    list_filter = ["municipality"]


@admin.register(OrgUnit)
class OrgUnitAdmin(ScopedAdmin):
    list_display = ["name", "kind", "parent", "ledger_code", "municipality"]
    list_filter = ["municipality", "kind"]
    search_fields = ["name", "short_name", "ledger_code"]


@admin.register(User)
class UserAdmin(ScopedAdmin, BaseUserAdmin):
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Röd tråd", {"fields": ("municipality", "title")}),
    )
    list_display = ["username", "first_name", "last_name", "municipality", "is_staff"]
    list_filter = ["municipality", "is_staff"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "user_permissions", "groups"]
        return fields


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    municipality_path = "org_unit__municipality"
    list_display = ["user", "role", "org_unit"]
    list_filter = ["role", "org_unit__municipality"]


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedAdmin):
    list_display = ["at", "user", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

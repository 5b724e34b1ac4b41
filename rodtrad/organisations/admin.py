"""Django admin for everything, scoped to the municipalities the user administers.

Platform staff (superusers) see every municipality. A municipality's administrator (role
admin, with staff status) sees and changes only their own municipality's rows.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Model, QuerySet
from django.forms.models import model_to_dict
from django.http import HttpRequest

from rodtrad.organisations.audit import record
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


class ScopedChoicesMixin:
    """Limits foreign-key and many-to-many choices to the user's municipality."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        _scope_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        _scope_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


def _scope_choices(db_field: Any, request: HttpRequest, kwargs: dict[str, Any]) -> None:
    ids = administered_municipality_ids(request)
    related = db_field.related_model
    if ids is not None:
        path = _path_to_municipality(related)
        if path is not None:
            kwargs["queryset"] = related._default_manager.filter(**{f"{path}__in": ids})


def _audit_values(obj: Model) -> dict[str, Any]:
    """A model's own field values, JSON-safe, for the audit log."""
    values = model_to_dict(obj, fields=[f.name for f in obj._meta.concrete_fields])
    return {
        key: value if isinstance(value, str | int | float | bool | type(None)) else str(value)
        for key, value in values.items()
        if key != "password"
    }


def _many_to_many(obj: Model) -> dict[str, list[int]]:
    """The ids each many-to-many field of `obj` holds, for the audit log."""
    if obj.pk is None:
        return {}
    return {
        field.name: sorted(getattr(obj, field.name).values_list("pk", flat=True))
        for field in obj._meta.many_to_many
    }


def _municipality_of(obj: Model, path: str) -> Municipality | None:
    target: Any = obj
    if path == "pk":
        return obj if isinstance(obj, Municipality) else None
    for part in path.split("__"):
        target = getattr(target, part, None)
        if target is None:
            return None
    return target if isinstance(target, Municipality) else None


class ScopedAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    """Limits rows, choices, filters and permissions to the user's municipality.

    `municipality_path` names the lookup from the model to its Municipality. Every save and
    delete through the admin is written to the audit log, like every other write.
    """

    municipality_path = "municipality"

    def get_list_filter(self, request: HttpRequest) -> Any:
        """Relation filters list only values found in the user's own rows."""
        filters = list(super().get_list_filter(request))
        if administered_municipality_ids(request) is None:
            return filters
        scoped: list[Any] = []
        for entry in filters:
            if isinstance(entry, str) and _is_relation(self.model, entry):
                scoped.append((entry, admin.RelatedOnlyFieldListFilter))
            else:
                scoped.append(entry)
        return scoped

    def _audit(
        self,
        request: HttpRequest,
        obj: Any,
        action: str,
        *,
        owner: Any = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """One audit event for a write made here; `owner` is the object that ties it to a
        municipality (the row itself, or the parent of an inline row)."""
        record(
            user=request.user,  # type: ignore[arg-type]
            municipality=_municipality_of(owner or obj, self.municipality_path),
            action=action,
            obj=obj,
            before=before,
            after=after,
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = None
        if change and obj.pk:
            old = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = _audit_values(old) if old is not None else None
        if hasattr(obj, "version") and change:
            obj.version = (obj.version or 0) + 1
        super().save_model(request, obj, form, change)
        after = _audit_values(obj)
        if before is not None:
            changed = {k for k in after if before.get(k) != after.get(k)}
            before = {k: before.get(k) for k in changed}
            after = {k: after[k] for k in changed}
        self._audit(
            request, obj, "admin-change" if change else "admin-add", before=before, after=after
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Many-to-many changes (owners, links between levels, classifications) are audited."""
        obj = form.instance
        before = _many_to_many(obj) if change else {}
        super().save_related(request, form, formsets, change)
        after = _many_to_many(obj)
        changed = sorted(key for key in after if before.get(key) != after[key])
        if change and changed:
            self._audit(
                request,
                obj,
                "admin-change",
                before={key: before.get(key) for key in changed},
                after={key: after[key] for key in changed},
            )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Rows added, changed or deleted in an inline table are audited one by one."""
        super().save_formset(request, form, formset, change)
        parent = form.instance
        for obj in formset.new_objects:
            self._audit(request, obj, "admin-add", owner=parent, after=_audit_values(obj))
        for obj, fields in formset.changed_objects:
            values = _audit_values(obj)
            after = {key: values.get(key) for key in fields}
            self._audit(request, obj, "admin-change", owner=parent, after=after)
        for obj in formset.deleted_objects:
            self._audit(request, obj, "admin-delete", owner=parent, before=_audit_values(obj))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._audit(request, obj, "admin-delete", before=_audit_values(obj))
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

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


def _is_relation(model: type[Model], lookup: str) -> bool:
    field: Any = None
    for part in lookup.split("__"):
        field = model._meta.get_field(part)
        if not field.is_relation:
            return False
        model = field.related_model
    return field is not None and field.is_relation


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
    add_fieldsets = (
        *(BaseUserAdmin.add_fieldsets or ()),
        ("Röd tråd", {"fields": ("municipality", "first_name", "last_name", "title", "email")}),
    )
    list_display = ["username", "first_name", "last_name", "municipality", "is_staff"]
    list_filter = ["municipality", "is_staff"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        """Platform staff are out of reach of a municipality's administrator."""
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(is_superuser=False)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """A municipality administrator's new users belong to their municipality."""
        ids = administered_municipality_ids(request)
        if ids is not None and obj.municipality_id not in ids:
            obj.municipality_id = getattr(request.user, "municipality_id", None)
        super().save_model(request, obj, form, change)

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

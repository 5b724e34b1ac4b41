"""Municipalities (the tenants), their organisation tree, people and roles, and the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from collections.abc import Iterable


class Municipality(models.Model):
    """A municipality (kommun): the tenant that owns every other row."""

    code = models.CharField(
        _("municipality code"),
        max_length=4,
        unique=True,
        validators=[RegexValidator(r"^\d{4}$", _("The code is four digits, e.g. 0665."))],
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[0-9]{4}$"), name="municipality_code_4_digits"
            )
        ]

    def __str__(self) -> str:
        return self.name


def localized(obj: Any, field: str) -> str:
    """The English variant of a bilingual field when English is active and filled in."""
    if (get_language() or "sv").startswith("en"):
        value = getattr(obj, f"{field}_en", "")
        if value:
            return str(value)
    return str(getattr(obj, field))


BUILTIN_KINDS: list[tuple[str, str, str]] = [
    ("kommunfullmaktige", "Kommunfullmäktige", "Municipal council"),
    ("kommunstyrelse", "Kommunstyrelse", "Executive board"),
    ("namnd", "Nämnd", "Board"),
    ("utskott", "Utskott", "Committee"),
    ("presidium", "Presidium", "Presidium"),
    ("bolag", "Bolagsstyrelse", "Company board"),
    ("forvaltning", "Förvaltning", "Administration"),
    ("enhet", "Enhet", "Unit"),
]


class OrgUnitKind(models.Model):
    """A kind of org unit: the eight built-in kinds, and any a municipality adds."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="kinds")
    key = models.SlugField(_("key"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("name in English"), max_length=80, blank=True)
    builtin = models.BooleanField(_("built in"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("org unit kind")
        verbose_name_plural = _("org unit kinds")
        constraints = [
            models.UniqueConstraint(fields=["municipality", "key"], name="orgunitkind_unique_key")
        ]

    def __str__(self) -> str:
        return localized(self, "name")


class OrgUnitQuerySet(models.QuerySet["OrgUnit"]):
    def subtree(self, unit: OrgUnit) -> OrgUnitQuerySet:
        """The unit and everything below it."""
        return self.filter(municipality_id=unit.municipality_id, path__startswith=unit.path)


class OrgUnit(models.Model):
    """A council, board, committee, company, administration or unit: a node in the org tree.

    `path` is a materialised path of ids ("/1/4/17/") kept by save(), so a subtree is one
    indexed prefix query on SQLite and PostgreSQL alike.
    """

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="org_units"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    kind = models.ForeignKey(OrgUnitKind, on_delete=models.PROTECT, related_name="units")
    name = models.CharField(_("name"), max_length=150)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    ledger_code = models.CharField(
        _("ledger code"),
        max_length=20,
        blank=True,
        help_text=_("The responsibility code (ansvar) of this unit in the ledger."),
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    depth = models.PositiveSmallIntegerField(editable=False, default=0)

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "name", "parent"], name="orgunit_unique_name_in_parent"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        problem = self.parent_problem()
        if problem:
            raise ValueError(problem)
        if not self.pk:
            super().save(*args, **kwargs)
            kwargs.pop("force_insert", None)
            kwargs["force_update"] = True
        old_path = self.path
        prefix = self.parent.path if self.parent_id and self.parent is not None else "/"
        self.path = f"{prefix}{self.pk}/"
        self.depth = self.path.count("/") - 2
        if "update_fields" in kwargs and kwargs["update_fields"] is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "path", "depth"}
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            self._move_descendants(old_path)

    def clean(self) -> None:
        problem = self.parent_problem()
        if problem:
            raise ValidationError({"parent": problem})

    def parent_problem(self) -> str:
        """Why the chosen parent would break the tree; empty if it is fine."""
        if self.parent is None:
            return ""
        if self.parent.municipality_id != self.municipality_id:
            return str(_("The parent must belong to the same municipality."))
        if self.pk and (self.parent.pk == self.pk or self.parent.path.startswith(self.path)):
            return str(_("A unit cannot be placed under itself or under a unit below it."))
        return ""

    def _move_descendants(self, old_path: str) -> None:
        moved = []
        for unit in OrgUnit.objects.filter(path__startswith=old_path).exclude(pk=self.pk):
            unit.path = self.path + unit.path[len(old_path) :]
            unit.depth = unit.path.count("/") - 2
            moved.append(unit)
        OrgUnit.objects.bulk_update(moved, ["path", "depth"])

    @property
    def label(self) -> str:
        return self.short_name or self.name

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def is_within(self, other: OrgUnit) -> bool:
        """True if this unit is `other` or lies below it."""
        return self.path.startswith(other.path)


class User(AbstractUser):
    """A person who signs in. Belongs to one municipality (platform staff to none)."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("municipality"),
    )
    title = models.CharField(_("title"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    CONTROLLER = "controller", _("Controller")
    EDITOR = "editor", _("Editor")
    READER = "reader", _("Reader")


class Membership(models.Model):
    """A role a user holds over an org unit and everything below it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "org_unit", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.org_unit}"


class AuditEvent(models.Model):
    """One write: who, when, what, and the values before and after. Append-only."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="audit_events", null=True
    )
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    action = models.CharField(_("action"), max_length=60)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=40)
    object_repr = models.CharField(_("object"), max_length=255)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk:
            raise ValueError("Audit events are never changed.")
        super().save(*args, **kwargs)

    ACTIONS = {
        "create": _("created"),
        "update": _("changed"),
        "delete": _("deleted"),
        "link": _("linked"),
        "unlink": _("unlinked"),
        "import": _("imported"),
        "rollover": _("rolled over"),
        "adopt": _("adopted"),
        "admin-add": _("created in the administration"),
        "admin-change": _("changed in the administration"),
        "admin-delete": _("deleted in the administration"),
    }

    def get_action_display(self) -> str:
        return str(self.ACTIONS.get(self.action, self.action))

    def changed_fields(self) -> Iterable[tuple[str, Any, Any]]:
        before = self.before or {}
        after = self.after or {}
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                yield key, before.get(key), after.get(key)

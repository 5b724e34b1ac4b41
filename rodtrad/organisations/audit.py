"""Write the audit trail: every write records who, when, what, before and after."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from rodtrad.organisations.models import AuditEvent, Municipality

if TYPE_CHECKING:
    from rodtrad.organisations.models import User


def record(
    *,
    user: User | None,
    municipality: Municipality | None,
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        municipality=municipality,
        user=user if user is not None and user.is_authenticated else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        before=before,
        after=after,
    )


def history(obj: models.Model) -> models.QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).select_related("user")

"""What a user may do in a municipality, computed once per request from their memberships.

Rules:
- Nobody sees another municipality's data; anonymous users see no internal page.
- Every member (any role) reads the whole plan of their own municipality.
- Admins configure the municipality (steering model, organisation) and write everything,
  wherever in the tree their membership sits.
- Controllers and editors write the items owned by the org units in their subtrees.
- Readers only read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.http import Http404

from rodtrad.organisations.models import Membership, Municipality, OrgUnit, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest

    from rodtrad.organisations.models import User


@dataclass(frozen=True)
class Access:
    municipality: Municipality
    is_member: bool = False
    is_admin: bool = False
    is_controller: bool = False
    roles: frozenset[str] = frozenset()
    edit_paths: tuple[str, ...] = ()
    controller_paths: tuple[str, ...] = ()
    units: tuple[OrgUnit, ...] = field(default=())

    @property
    def can_read(self) -> bool:
        return self.is_member

    @property
    def can_configure(self) -> bool:
        return self.is_admin

    @property
    def can_edit_anything(self) -> bool:
        return bool(self.edit_paths)

    def can_edit_unit(self, unit: OrgUnit) -> bool:
        if unit.municipality_id != self.municipality.pk:
            return False
        return any(unit.path.startswith(path) for path in self.edit_paths)

    def can_edit_unit_path(self, path: str) -> bool:
        return any(path.startswith(prefix) for prefix in self.edit_paths)

    def can_plan(self) -> bool:
        """Open plan years, roll over and adopt: admins and controllers of the whole tree."""
        return self.is_admin or any(p.count("/") == 2 for p in self.controller_paths)


def compute_access(user: User | AnonymousUser, municipality: Municipality) -> Access:
    if not user.is_authenticated:
        return Access(municipality=municipality)
    if user.is_superuser:
        root_paths = tuple(
            OrgUnit.objects.filter(municipality=municipality, parent=None).values_list(
                "path", flat=True
            )
        )
        return Access(
            municipality=municipality,
            is_member=True,
            is_admin=True,
            is_controller=True,
            roles=frozenset(Role.values),
            edit_paths=root_paths,
            controller_paths=root_paths,
        )
    if getattr(user, "municipality_id", None) != municipality.pk:
        return Access(municipality=municipality)
    memberships = list(
        Membership.objects.filter(user=user, org_unit__municipality=municipality).select_related(
            "org_unit"
        )
    )
    roles = frozenset(m.role for m in memberships)
    edit_paths: list[str] = []
    controller_paths: list[str] = []
    if Role.ADMIN in roles:
        # An administrator configures the whole municipality, wherever the membership sits.
        roots = OrgUnit.objects.filter(municipality=municipality, parent=None)
        edit_paths += roots.values_list("path", flat=True)
        controller_paths += roots.values_list("path", flat=True)
    for membership in memberships:
        if membership.role in (Role.ADMIN, Role.CONTROLLER, Role.EDITOR):
            edit_paths.append(membership.org_unit.path)
        if membership.role in (Role.ADMIN, Role.CONTROLLER):
            controller_paths.append(membership.org_unit.path)
    return Access(
        municipality=municipality,
        is_member=bool(memberships),
        is_admin=Role.ADMIN in roles,
        is_controller=bool(roles & {Role.ADMIN, Role.CONTROLLER}),
        roles=roles,
        edit_paths=tuple(sorted(set(edit_paths))),
        controller_paths=tuple(sorted(set(controller_paths))),
        units=tuple(m.org_unit for m in memberships),
    )


def get_municipality_for_user(request: HttpRequest, code: str) -> tuple[Municipality, Access]:
    """The municipality with `code` and what the user may do in it; 404 if they may not read it.

    Unknown codes and codes of other municipalities answer the same 404, so the existence of
    another tenant's data is not revealed.
    """
    try:
        municipality = Municipality.objects.get(code=code)
    except Municipality.DoesNotExist:
        raise Http404 from None
    access = compute_access(request.user, municipality)
    if not access.can_read:
        raise Http404
    return municipality, access

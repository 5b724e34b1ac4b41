"""Who may see and who may change what, for every URL of the app (access.py's rules).

- Nobody sees another municipality's data: 404, the same answer as an unknown id.
- Anonymous users are sent to the sign-in page from every internal page.
- Every member reads the whole plan of their own municipality.
- Admins configure (model import) and write everything.
- Controllers and editors write the items owned by the org units in their subtrees.
- Readers only read.
- Planning (new period, roll over a year, adopt) is for admins and controllers of the whole tree.

The matrix below has one row per (url name, target, method, user) with the expected status.
Every POST row also proves its effect: a refused write leaves the database exactly as it was
(row counts, titles, versions, the link set, the audit log); an allowed one made its change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.views import redirect_to_login
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from rodtrad.organisations.models import (
    AuditEvent,
    Membership,
    OrgUnit,
    OrgUnitKind,
    User,
)
from rodtrad.steering import services
from rodtrad.steering.forms import ItemForm
from rodtrad.steering.modelfile import export_model
from rodtrad.steering.models import (
    ClassificationValue,
    Level,
    PlanItem,
    PlanLink,
    PlanPeriod,
    PlanYear,
    SteeringModel,
)
from tests.conftest import World, build_world

KRAMFORS = "2282"
NYNASHAMN = "0192"
SECRET = "Nynäshamn – hemlig vision"
SECRET_UNIT = "Nynäshamns hemliga nämnd"
SECRET_PERIOD = "Mål och budget 2023–2026"
SECRET_ASSIGNMENT = "Nynäshamn – hemligt uppdrag"
SECRET_STRINGS = (SECRET, SECRET_UNIT, SECRET_PERIOD, SECRET_ASSIGNMENT, "Agenda 2030")
NEW_TITLE = "Alla elever läser varje dag"
EDITED_TITLE = "Alla elever når målen i svenska och engelska"
LOGIN = "login"  # expected: 302 to the sign-in page with ?next=
REDIRECT = 302  # expected: 302 somewhere else (the write's own redirect)


@dataclass
class Env:
    """The conftest world plus the few rows these tests need beside it."""

    w: World
    council_goal_2: PlanItem  # a second council goal goal_a may also contribute to
    goal_a2: PlanItem  # board A goal contributing to both council goals (one link removable)
    planning_year: PlanYear  # Kramfors 2025, a planning version that may be adopted
    next_period: PlanPeriod  # Kramfors 2027–2030, so 2026 can be rolled over
    controller_a: User  # a controller of board A only (not of the whole tree)
    other_unit: OrgUnit  # a Nynäshamn board with a telling name
    other_period: PlanPeriod
    other_year: PlanYear
    other_value: ClassificationValue

    def user(self, name: str) -> User | None:
        if name == "anonymous":
            return None
        if name == "controller_a":
            return self.controller_a
        return getattr(self.w, name)

    def client(self, name: str) -> Client:
        return self.w.client(self.user(name))


@pytest.fixture
def env(db: None) -> Env:
    w = build_world()
    citizens = w.value("perspektiv", "kramforsbon")

    def create(level: str, owner: OrgUnit, title: str, parents: list[PlanItem]) -> PlanItem:
        return services.plan_item_create(
            user=None,
            level=w.level(level),
            owner=owner,
            period=w.period,
            plan_year=w.year,
            data={"title": title},
            parents=parents,
            values=[citizens],
        )

    council_goal_2 = create("kommunovergripande-mal", w.kf, "Fler unga läser", [w.direction])
    goal_a2 = create(
        "namndmal", w.board_a, "Fler elever läser böcker", [w.council_goal, council_goal_2]
    )
    planning_year = PlanYear.objects.create(period=w.period, year=2025, status="planning")
    next_period = services.plan_period_create(
        user=None,
        municipality=w.kramfors,
        name="Mandatperioden 2027–2030",
        start_year=2027,
        end_year=2030,
    )
    controller_a = User.objects.create_user(
        username="controller-board-a", password="x" * 20, municipality=w.kramfors
    )
    Membership.objects.create(user=controller_a, org_unit=w.board_a, role="controller")
    other_kf = w.other_vision.owner
    other_unit = OrgUnit.objects.create(
        municipality=w.nynashamn,
        name=SECRET_UNIT,
        parent=other_kf,
        kind=OrgUnitKind.objects.get(municipality=w.nynashamn, key="namnd"),
    )
    other_period = w.other_vision.period
    other_year = PlanYear.objects.create(period=other_period, year=2026, status="adopted")
    services.plan_item_create(
        user=None,
        level=w.level("uppdrag", w.nynashamn),
        owner=other_unit,
        period=other_period,
        plan_year=other_year,
        data={"title": SECRET_ASSIGNMENT, "assigned_by": other_kf},
        parents=[],
        values=[],
    )
    other_value = ClassificationValue.objects.filter(
        classification__model__municipality=w.nynashamn
    ).first()
    assert other_value is not None
    return Env(
        w,
        council_goal_2,
        goal_a2,
        planning_year,
        next_period,
        controller_a,
        other_unit,
        other_period,
        other_year,
        other_value,
    )


# --- What a request is, per (url name, target) ----------------------------------------------


@dataclass
class Target:
    args: Callable[[Env], list[Any]]
    data: Callable[[Env], dict[str, Any]] | None = None
    query: Callable[[Env], str] | None = None
    effect: Callable[[Env], None] | None = None  # asserts an allowed POST made its change


def _code(e: Env) -> list[Any]:
    return [KRAMFORS]


def _item(name: str) -> Callable[[Env], list[Any]]:
    def args(e: Env) -> list[Any]:
        obj = getattr(e, name, None) or getattr(e.w, name)
        return [KRAMFORS, obj.pk]

    return args


def _edit_data(item: PlanItem, **changes: Any) -> dict[str, Any]:
    item = PlanItem.objects.get(pk=item.pk)
    data: dict[str, Any] = {}
    for key, value in ItemForm.initial_for(item).items():
        if value is None:
            continue
        data[key] = value
    data.update(changes)
    return data


def _create_data(e: Env, owner: OrgUnit, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "level": "namndmal",
        "owner": owner.pk,
        "plan_year": e.w.year.pk,
        "title": NEW_TITLE,
        "status": "active",
        "parents": [e.w.council_goal.pk],
        "class_perspektiv": e.w.value("perspektiv", "kramforsbon").pk,
    }
    data.update(changes)
    return data


def _model_file(e: Env) -> dict[str, Any]:
    text = export_model(SteeringModel.objects.get(municipality=e.w.kramfors))
    text = text.replace("plural: Aktiviteter", "plural: Aktiviteterna")
    return {"file": SimpleUploadedFile("m.yaml", text.encode(), content_type="application/yaml")}


def _version(item: PlanItem) -> int:
    return PlanItem.objects.get(pk=item.pk).version


def _created(e: Env, owner: OrgUnit | None = None) -> None:
    item = PlanItem.objects.get(title=NEW_TITLE)
    assert item.municipality == e.w.kramfors
    assert item.period == e.w.period
    assert item.owner == (owner or e.w.board_a)
    assert list(item.contributes_to.all()) == [e.w.council_goal]


def _edited(e: Env) -> None:
    assert PlanItem.objects.get(pk=e.w.goal_a.pk).title == EDITED_TITLE


def _deleted(e: Env) -> None:
    _gone(e.w.activity_a)


def _gone(item: PlanItem) -> None:
    assert not PlanItem.objects.filter(pk=item.pk).exists()


def _titled(item: PlanItem, title: str) -> None:
    assert PlanItem.objects.get(pk=item.pk).title == title


def _owned(item: PlanItem, owner: OrgUnit) -> None:
    assert PlanItem.objects.get(pk=item.pk).owner == owner


def _has_link(from_item: PlanItem, to_item: PlanItem) -> None:
    assert PlanLink.objects.filter(from_item=from_item, to_item=to_item).exists()


def _linked(e: Env) -> None:
    assert PlanLink.objects.filter(from_item=e.w.goal_a, to_item=e.council_goal_2).exists()


def _unlinked(e: Env) -> None:
    assert not PlanLink.objects.filter(from_item=e.goal_a2, to_item=e.w.council_goal).exists()
    assert PlanLink.objects.filter(from_item=e.goal_a2, to_item=e.council_goal_2).exists()


def _imported(e: Env) -> None:
    assert e.w.level("aktivitet").plural == "Aktiviteterna"


def _period_created(e: Env) -> None:
    assert PlanPeriod.objects.filter(municipality=e.w.kramfors, start_year=2031).exists()


def _rolled_over(e: Env) -> None:
    assert PlanYear.objects.filter(period=e.next_period, year=2027, status="planning").exists()


def _adopted(e: Env) -> None:
    assert PlanYear.objects.get(pk=e.planning_year.pk).status == "adopted"


TARGETS: dict[tuple[str, str], Target] = {
    ("organisation", "page"): Target(_code),
    ("steering:home", "page"): Target(_code),
    ("steering:thread", "page"): Target(_code),
    ("steering:gaps", "page"): Target(_code),
    ("steering:model", "page"): Target(_code),
    ("steering:model_export", "page"): Target(_code),
    ("steering:plans", "page"): Target(_code),
    ("steering:assignments", "page"): Target(_code),
    # An item of Nynäshamn asked for under Kramfors' code: as unknown as an unknown id.
    ("steering:children", "vision"): Target(_item("vision")),
    ("steering:children", "foreign"): Target(_item("other_vision")),
    ("steering:item", "goal_a"): Target(_item("goal_a")),
    ("steering:item", "goal_b"): Target(_item("goal_b")),
    ("steering:item", "foreign"): Target(_item("other_vision")),
    ("steering:item", "unknown"): Target(lambda e: [KRAMFORS, 999_999]),
    ("steering:item_edit", "goal_a"): Target(
        _item("goal_a"), data=lambda e: _edit_data(e.w.goal_a, title=EDITED_TITLE), effect=_edited
    ),
    ("steering:item_edit", "goal_b"): Target(
        _item("goal_b"),
        data=lambda e: _edit_data(e.w.goal_b, title=EDITED_TITLE),
        effect=lambda e: _titled(e.w.goal_b, EDITED_TITLE),
    ),
    # editor_a may edit goal_a but not hand it to board B
    ("steering:item_edit", "goal_a_to_board_b"): Target(
        _item("goal_a"),
        data=lambda e: _edit_data(e.w.goal_a, owner=e.w.board_b.pk),
        effect=lambda e: _owned(e.w.goal_a, e.w.board_b),
    ),
    ("steering:item_edit", "foreign"): Target(
        _item("other_vision"), data=lambda e: _edit_data(e.w.other_vision, title=EDITED_TITLE)
    ),
    ("steering:item_delete", "activity_a"): Target(
        _item("activity_a"), data=lambda e: {}, effect=_deleted
    ),
    ("steering:item_delete", "goal_b"): Target(
        _item("goal_b"), data=lambda e: {}, effect=lambda e: _gone(e.w.goal_b)
    ),
    # goal_a still has a contributor (activity_a): refused for everyone, nothing changes
    ("steering:item_delete", "goal_a"): Target(_item("goal_a"), data=lambda e: {}),
    ("steering:item_delete", "foreign"): Target(_item("other_vision"), data=lambda e: {}),
    ("steering:link_add", "goal_a"): Target(
        _item("goal_a"),
        data=lambda e: {"to_item": e.council_goal_2.pk, "version": _version(e.w.goal_a)},
        effect=_linked,
    ),
    ("steering:link_add", "goal_b"): Target(
        _item("goal_b"),
        data=lambda e: {"to_item": e.council_goal_2.pk, "version": _version(e.w.goal_b)},
        effect=lambda e: _has_link(e.w.goal_b, e.council_goal_2),
    ),
    # a form naming another municipality's item as the target links nothing
    ("steering:link_add", "foreign_to_item"): Target(
        _item("goal_a"),
        data=lambda e: {"to_item": e.w.other_vision.pk, "version": _version(e.w.goal_a)},
    ),
    ("steering:link_add", "foreign"): Target(
        _item("other_vision"),
        data=lambda e: {"to_item": e.w.vision.pk, "version": _version(e.w.other_vision)},
    ),
    ("steering:link_remove", "goal_a2"): Target(
        lambda e: [KRAMFORS, e.goal_a2.pk, e.w.council_goal.pk],
        data=lambda e: {"version": _version(e.goal_a2)},
        effect=_unlinked,
    ),
    ("steering:link_remove", "goal_b"): Target(
        lambda e: [KRAMFORS, e.w.goal_b.pk, e.w.council_goal.pk],
        data=lambda e: {"version": _version(e.w.goal_b)},
    ),
    ("steering:link_remove", "foreign_to_item"): Target(
        lambda e: [KRAMFORS, e.goal_a2.pk, e.w.other_vision.pk],
        data=lambda e: {"version": _version(e.goal_a2)},
    ),
    ("steering:item_create", "choose_level"): Target(_code),
    ("steering:item_create", "board_a"): Target(
        _code,
        query=lambda e: "level=namndmal",
        data=lambda e: _create_data(e, e.w.board_a),
        effect=_created,
    ),
    ("steering:item_create", "board_b"): Target(
        _code,
        query=lambda e: "level=namndmal",
        data=lambda e: _create_data(e, e.w.board_b),
        effect=lambda e: _created(e, e.w.board_b),
    ),
    ("steering:item_create", "foreign_owner"): Target(
        _code, data=lambda e: _create_data(e, e.other_unit)
    ),
    ("steering:item_create", "foreign_parent"): Target(
        _code, data=lambda e: _create_data(e, e.w.board_a, parents=[e.w.other_vision.pk])
    ),
    # another municipality's period in the query string is ignored: the item lands in Kramfors'
    ("steering:item_create", "foreign_period"): Target(
        _code,
        query=lambda e: f"period={e.other_period.pk}",
        data=lambda e: _create_data(e, e.w.board_a),
        effect=_created,
    ),
    ("steering:model_import", "page"): Target(_code, data=_model_file, effect=_imported),
    ("steering:period_create", "page"): Target(
        _code,
        data=lambda e: {"name": "Mandatperioden 2031–2034", "start_year": 2031, "end_year": 2034},
        effect=_period_created,
    ),
    ("steering:year_rollover", "2026"): Target(
        lambda e: [KRAMFORS, e.w.year.pk], data=lambda e: {}, effect=_rolled_over
    ),
    ("steering:year_rollover", "foreign"): Target(
        lambda e: [KRAMFORS, e.other_year.pk], data=lambda e: {}
    ),
    ("steering:year_adopt", "2025"): Target(
        lambda e: [KRAMFORS, e.planning_year.pk],
        data=lambda e: {
            "decided_by": "Kommunfullmäktige",
            "decided_on": "2024-11-25",
            "paragraph": "§ 112",
        },
        effect=_adopted,
    ),
    ("steering:year_adopt", "foreign"): Target(
        lambda e: [KRAMFORS, e.other_year.pk],
        data=lambda e: {"decided_by": "KF", "decided_on": "2024-11-25", "paragraph": "§ 1"},
    ),
}

USERS = (
    "admin",
    "controller",
    "controller_a",
    "editor_a",
    "editor_b",
    "reader",
    "other",
    "anonymous",
)


def rows(
    url_name: str,
    target: str,
    method: str,
    default: int | str,
    **expected: int | str,
) -> list[tuple[str, str, str, str, int | str]]:
    """One row per user. Kramfors members get `default` unless named; Nynäshamn's editor 404
    and anonymous users the sign-in page unless named."""
    result = []
    for user in USERS:
        if user in expected:
            status = expected[user]
        elif user == "other":
            status = 404
        elif user == "anonymous":
            status = LOGIN
        else:
            status = default
        result.append((url_name, target, method, user, status))
    return result


def wrong_method(
    url_name: str, target: str, method: str
) -> list[tuple[str, str, str, str, int | str]]:
    """The method check comes right after the sign-in check, before the tenant check: every
    signed-in user gets 405 whatever the code, so it reveals nothing; anonymous users the
    sign-in page."""
    return rows(url_name, target, method, 405, other=405)


WRITE_A = {  # items owned under board A: everyone who writes board A's subtree
    "editor_b": 403,
    "reader": 403,
}
WRITE_B = {  # items owned under board B
    "controller_a": 403,
    "editor_a": 403,
    "reader": 403,
}
PLANNERS = {  # admins and controllers of the whole tree
    "controller_a": 403,
    "editor_a": 403,
    "editor_b": 403,
    "reader": 403,
}
READ_PAGES = (
    "organisation",
    "steering:home",
    "steering:thread",
    "steering:gaps",
    "steering:model",
    "steering:model_export",
    "steering:plans",
    "steering:assignments",
)

MATRIX: list[tuple[str, str, str, str, int | str]] = [
    # Pages every member reads.
    *[row for name in READ_PAGES for row in rows(name, "page", "GET", 200)],
    *[row for name in READ_PAGES for row in wrong_method(name, "page", "POST")],
    *rows("steering:children", "vision", "GET", 200),
    *wrong_method("steering:children", "vision", "POST"),
    *rows("steering:children", "foreign", "GET", 404),
    *rows("steering:item", "goal_a", "GET", 200),
    *rows("steering:item", "goal_b", "GET", 200),
    *wrong_method("steering:item", "goal_a", "POST"),
    *rows("steering:item", "foreign", "GET", 404),
    *rows("steering:item", "unknown", "GET", 404),
    # Editing: the owner's subtree.
    *rows("steering:item_edit", "goal_a", "GET", 200, **WRITE_A),
    *rows("steering:item_edit", "goal_a", "POST", REDIRECT, **WRITE_A),
    *rows("steering:item_edit", "goal_b", "GET", 200, **WRITE_B),
    *rows("steering:item_edit", "goal_b", "POST", REDIRECT, **WRITE_B),
    # editor_a may edit goal_a but not hand it over to board B (the form refuses the owner)
    *rows(
        "steering:item_edit",
        "goal_a_to_board_b",
        "POST",
        REDIRECT,
        controller_a=422,
        editor_a=422,
        editor_b=403,
        reader=403,
    ),
    *rows("steering:item_edit", "foreign", "GET", 404),
    *rows("steering:item_edit", "foreign", "POST", 404),
    *wrong_method("steering:item_edit", "goal_a", "PUT"),
    # Deleting.
    *rows("steering:item_delete", "activity_a", "GET", 200, **WRITE_A),
    *rows("steering:item_delete", "activity_a", "POST", REDIRECT, **WRITE_A),
    *rows("steering:item_delete", "goal_b", "GET", 200, **WRITE_B),
    *rows("steering:item_delete", "goal_b", "POST", REDIRECT, **WRITE_B),
    *rows("steering:item_delete", "goal_a", "POST", 422, **WRITE_A),  # it has a contributor
    *rows("steering:item_delete", "foreign", "GET", 404),
    *rows("steering:item_delete", "foreign", "POST", 404),
    *wrong_method("steering:item_delete", "activity_a", "PUT"),
    # Links: a POST without htmx answers with a redirect to the item, refused by the rules or
    # not; the effect check tells them apart.
    *rows("steering:link_add", "goal_a", "POST", REDIRECT, **WRITE_A),
    *wrong_method("steering:link_add", "goal_a", "GET"),
    *rows("steering:link_add", "goal_b", "POST", REDIRECT, **WRITE_B),
    *rows("steering:link_add", "foreign_to_item", "POST", REDIRECT, **WRITE_A),  # links nothing
    *rows("steering:link_add", "foreign", "POST", 404),
    *rows("steering:link_remove", "goal_a2", "POST", REDIRECT, **WRITE_A),
    *wrong_method("steering:link_remove", "goal_a2", "GET"),
    *rows("steering:link_remove", "goal_b", "POST", REDIRECT, **WRITE_B),  # its only link: kept
    *rows("steering:link_remove", "foreign_to_item", "POST", 404, **WRITE_A),
    # Creating: anyone who writes somewhere, only for owners in their own subtrees.
    *rows("steering:item_create", "choose_level", "GET", 200, reader=403),
    *rows("steering:item_create", "board_a", "GET", 200, reader=403),
    *rows("steering:item_create", "board_a", "POST", REDIRECT, editor_b=422, reader=403),
    *rows(
        "steering:item_create",
        "board_b",
        "POST",
        REDIRECT,
        controller_a=422,
        editor_a=422,
        reader=403,
    ),
    *rows("steering:item_create", "foreign_owner", "POST", 422, reader=403),
    *rows("steering:item_create", "foreign_parent", "POST", 422, reader=403),
    *rows("steering:item_create", "foreign_period", "POST", REDIRECT, editor_b=422, reader=403),
    *wrong_method("steering:item_create", "board_a", "PUT"),
    # Configuring: admins only.
    *rows("steering:model_import", "page", "GET", 403, admin=200),
    *rows("steering:model_import", "page", "POST", 403, admin=REDIRECT),
    *wrong_method("steering:model_import", "page", "PUT"),
    # Planning: admins and controllers of the whole tree.
    *rows("steering:period_create", "page", "POST", REDIRECT, **PLANNERS),
    *wrong_method("steering:period_create", "page", "GET"),
    *rows("steering:year_rollover", "2026", "POST", REDIRECT, **PLANNERS),
    *wrong_method("steering:year_rollover", "2026", "GET"),
    *rows("steering:year_rollover", "foreign", "POST", 404, **PLANNERS),
    *rows("steering:year_adopt", "2025", "POST", REDIRECT, **PLANNERS),
    *wrong_method("steering:year_adopt", "2025", "GET"),
    *rows("steering:year_adopt", "foreign", "POST", 404, **PLANNERS),
]


def snapshot() -> dict[str, Any]:
    """Everything a write could touch, in a comparable form."""
    return {
        "items": sorted(
            PlanItem.objects.values_list(
                "pk", "municipality_id", "title", "version", "owner_id", "status", "plan_year_id"
            )
        ),
        "links": sorted(PlanLink.objects.values_list("from_item_id", "to_item_id")),
        "periods": sorted(PlanPeriod.objects.values_list("pk", "name", "start_year", "end_year")),
        "years": sorted(PlanYear.objects.values_list("pk", "year", "status", "period_id")),
        "levels": sorted(Level.objects.values_list("pk", "key", "name", "plural")),
        "models": sorted(SteeringModel.objects.values_list("pk", "version")),
        "audit": AuditEvent.objects.count(),
    }


def _request(e: Env, url_name: str, target: str, method: str, user: str) -> tuple[Any, str]:
    spec = TARGETS[(url_name, target)]
    url = reverse(url_name, args=spec.args(e))
    if spec.query:
        url += "?" + spec.query(e)
    client = e.client(user)
    if method == "GET":
        return client.get(url), url
    data = spec.data(e) if spec.data else {}
    if method == "POST":
        return client.post(url, data), url
    return client.generic(method, url), url


@pytest.mark.parametrize(
    ("url_name", "target", "method", "user", "expected"),
    MATRIX,
    ids=[f"{n}-{t}-{m}-{u}" for n, t, m, u, _ in MATRIX],
)
def test_access_matrix(
    env: Env, url_name: str, target: str, method: str, user: str, expected: int | str
) -> None:
    before = snapshot()
    response, url = _request(env, url_name, target, method, user)
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"] == redirect_to_login(url).url
    else:
        assert response.status_code == expected, response.content[:300]
        if expected == REDIRECT:
            assert not response["Location"].startswith(reverse("login"))
    if expected == 200 and method == "GET" and url_name != "steering:model_export":
        assert SECRET not in response.content.decode()
    spec = TARGETS[(url_name, target)]
    writes = method not in ("GET", "HEAD") and expected == REDIRECT and spec.effect is not None
    if writes:
        assert spec.effect is not None
        spec.effect(env)
        assert AuditEvent.objects.count() > before["audit"], "every write is audited"
    else:
        assert snapshot() == before, "a refused or read-only request changed something"


def test_every_url_is_in_the_matrix() -> None:
    """A new URL must get rows here before it ships."""
    from rodtrad.organisations import urls as org_urls
    from rodtrad.steering import urls as steering_urls

    covered = {name for name, *_ in MATRIX}
    names = {f"steering:{p.name}" for p in steering_urls.urlpatterns}
    names |= {str(p.name) for p in org_urls.urlpatterns} - {"home", "login", "logout"}
    assert names <= covered, names - covered


# --- Tenancy from the other side and unknown municipalities --------------------------------


NYNASHAMN_PAGES = READ_PAGES


@pytest.mark.parametrize("url_name", NYNASHAMN_PAGES)
@pytest.mark.parametrize("user", ["admin", "controller", "editor_a", "reader"])
def test_kramfors_members_get_404_in_nynashamn(env: Env, url_name: str, user: str) -> None:
    url = reverse(url_name, args=[NYNASHAMN])
    assert env.client(user).get(url).status_code == 404
    # and the Nynäshamn editor does see them, so the 404 is about the tenant
    assert env.client("other").get(url).status_code == 200


@pytest.mark.parametrize(
    "url_name", ["steering:item", "steering:children", "steering:item_edit", "steering:item_delete"]
)
def test_kramfors_item_under_nynashamn_code_is_404(env: Env, url_name: str) -> None:
    """Both halves of the URL must agree: Nynäshamn's code with a Kramfors item is unknown."""
    url = reverse(url_name, args=[NYNASHAMN, env.w.goal_a.pk])
    for user in ("other", "admin"):
        assert env.client(user).get(url).status_code == 404
    # the Nynäshamn editor's own item answers
    own = reverse("steering:item", args=[NYNASHAMN, env.w.other_vision.pk])
    assert env.client("other").get(own).status_code == 200


@pytest.mark.parametrize(
    ("url_name", "method"),
    [
        ("steering:link_add", "POST"),
        ("steering:item_edit", "POST"),
        ("steering:item_delete", "POST"),
    ],
)
def test_nynashamn_editor_cannot_write_kramfors_items_through_own_code(
    env: Env, url_name: str, method: str
) -> None:
    before = snapshot()
    url = reverse(url_name, args=[NYNASHAMN, env.w.goal_a.pk])
    data = {"to_item": env.w.other_vision.pk, "version": 1, "title": "x"}
    assert env.client("other").post(url, data).status_code == 404
    assert snapshot() == before


def test_unknown_municipality_answers_like_a_foreign_one(env: Env) -> None:
    for code in ("9999", NYNASHAMN):
        response = env.client("admin").get(reverse("steering:thread", args=[code]))
        assert response.status_code == 404
    assert (
        env.client("anonymous").get(reverse("steering:thread", args=["9999"]))["Location"]
        == redirect_to_login(reverse("steering:thread", args=["9999"])).url
    )


# --- Start page, sign-in and sign-out ------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "location"),
    [
        ("anonymous", "/konto/logga-in/"),
        ("admin", "/k/2282/"),
        ("controller", "/k/2282/"),
        ("editor_a", "/k/2282/"),
        ("editor_b", "/k/2282/"),
        ("reader", "/k/2282/"),
        ("other", "/k/0192/"),
    ],
)
def test_home_redirects_to_own_municipality(env: Env, user: str, location: str) -> None:
    assert reverse("login") == "/konto/logga-in/"
    response = env.client(user).get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == location


def test_home_refuses_post(env: Env) -> None:
    assert env.client("admin").post(reverse("home")).status_code == 405


def test_login_page(env: Env) -> None:
    assert env.client("anonymous").get(reverse("login")).status_code == 200
    signed_in = env.client("reader").get(reverse("login"))
    assert signed_in.status_code == 302 and signed_in["Location"] == reverse("home")
    wrong = Client().post(reverse("login"), {"username": "editor-a", "password": "wrong"})
    assert wrong.status_code == 200 and "_auth_user_id" not in wrong.client.session


def test_logout_is_post_only(env: Env) -> None:
    client = env.client("reader")
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    after = client.get(reverse("steering:thread", args=[KRAMFORS]))
    assert after.status_code == 302 and after["Location"].startswith(reverse("login"))


# --- Nothing of Nynäshamn leaks into Kramfors' pages --------------------------------------


LIST_PAGES = (
    "steering:home",
    "steering:thread",
    "steering:gaps",
    "organisation",
    "steering:plans",
    "steering:model",
    "steering:assignments",
)


def _foreign_queries(e: Env) -> list[str]:
    return [
        "",
        f"unit={e.other_unit.pk}",
        f"unit={e.w.other_vision.owner_id}",
        f"period={e.other_period.pk}",
        f"period={e.other_period.pk}&year=2026&unit={e.other_unit.pk}",
        f"c={e.other_value.pk}",
        "level=effektmal",
        f"level=vision&period={e.other_period.pk}",
    ]


@pytest.mark.parametrize("url_name", LIST_PAGES)
@pytest.mark.parametrize("user", ["admin", "editor_a", "reader"])
def test_list_pages_never_show_another_municipality(env: Env, url_name: str, user: str) -> None:
    client = env.client(user)
    for query in _foreign_queries(env):
        url = reverse(url_name, args=[KRAMFORS]) + (f"?{query}" if query else "")
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for secret in SECRET_STRINGS:
            assert secret not in body, (url, secret)


@pytest.mark.parametrize("url_name", ["steering:thread", "steering:gaps", "steering:home"])
def test_foreign_ids_in_query_fall_back_to_own_scope(env: Env, url_name: str) -> None:
    """Another tenant's period or unit is not honoured: the page shows Kramfors' own plan."""
    url = reverse(url_name, args=[KRAMFORS])
    query = f"?period={env.other_period.pk}&unit={env.other_unit.pk}"
    response = env.client("reader").get(url + query)
    scope = response.context["scope"]
    assert scope.period == env.w.period
    assert scope.unit is None
    assert scope.plan_year == env.w.year


def test_thread_shows_the_whole_own_plan_to_a_reader(env: Env) -> None:
    body = env.client("reader").get(reverse("steering:thread", args=[KRAMFORS])).content.decode()
    assert env.w.vision.title in body
    children = env.client("reader").get(
        reverse("steering:children", args=[KRAMFORS, env.w.council_goal.pk])
    )
    text = children.content.decode()
    assert env.w.goal_a.title in text and env.w.goal_b.title in text


def test_children_partial_ignores_foreign_period(env: Env) -> None:
    url = reverse("steering:children", args=[KRAMFORS, env.w.council_goal.pk])
    response = env.client("editor_b").get(f"{url}?period={env.other_period.pk}")
    assert response.status_code == 200
    assert response.context["scope"].period == env.w.period
    assert env.w.goal_a.title in response.content.decode()
    assert SECRET not in response.content.decode()


def test_item_link_search_never_offers_foreign_items(env: Env) -> None:
    url = reverse("steering:item", args=[KRAMFORS, env.w.goal_a.pk])
    for search in ("Nynäshamn", "hemlig", "a"):
        response = env.client("editor_a").get(url, {"sok": search})
        assert response.status_code == 200
        form = response.context["link_form"]
        candidates = form.fields["to_item"].queryset
        assert not candidates.exclude(municipality=env.w.kramfors).exists()
        assert SECRET not in response.content.decode()


def test_item_detail_has_no_link_form_for_those_who_cannot_edit(env: Env) -> None:
    url = reverse("steering:item", args=[KRAMFORS, env.w.goal_a.pk])
    for user in ("editor_b", "reader"):
        response = env.client(user).get(url)
        assert response.context["can_edit"] is False
        assert response.context["link_form"] is None
    assert env.client("editor_a").get(url).context["can_edit"] is True


@pytest.mark.parametrize("user", ["admin", "editor_a", "controller_a"])
def test_item_create_form_offers_only_own_choices(env: Env, user: str) -> None:
    url = reverse("steering:item_create", args=[KRAMFORS])
    response = env.client(user).get(
        url,
        {
            "level": "namndmal",
            "period": str(env.other_period.pk),
            "parent": str(env.w.other_vision.pk),
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    owners = set(form.fields["owner"].queryset)
    assert owners, "the form offers at least one owner"
    assert all(unit.municipality_id == env.w.kramfors.pk for unit in owners)
    if user == "admin":
        assert {env.w.board_a, env.w.board_b} <= owners
    else:
        assert env.w.board_a in owners and env.w.board_b not in owners
        assert all(unit.is_within(env.w.board_a) for unit in owners)
    parents = form.fields["parents"].queryset
    assert not parents.exclude(municipality=env.w.kramfors).exists()
    assert set(form.fields["plan_year"].queryset) <= set(
        PlanYear.objects.filter(period=env.w.period)
    )
    body = response.content.decode()
    for secret in SECRET_STRINGS:
        assert secret not in body


def test_item_edit_form_offers_editor_only_own_subtree(env: Env) -> None:
    url = reverse("steering:item_edit", args=[KRAMFORS, env.w.activity_a.pk])
    response = env.client("editor_a").get(url)
    owners = set(response.context["form"].fields["owner"].queryset)
    assert env.w.school in owners
    assert all(unit.is_within(env.w.board_a) for unit in owners)


def test_htmx_link_writes_are_refused_the_same_way(env: Env) -> None:
    url = reverse("steering:link_add", args=[KRAMFORS, env.w.goal_a.pk])
    data = {"to_item": env.council_goal_2.pk, "version": env.w.goal_a.version}
    before = snapshot()
    for user, status in (("editor_b", 403), ("reader", 403), ("other", 404)):
        response = env.client(user).post(url, data, headers={"HX-Request": "true"})
        assert response.status_code == status
    assert snapshot() == before
    foreign = {"to_item": env.w.other_vision.pk, "version": env.w.goal_a.version}
    response = env.client("editor_a").post(url, foreign, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert snapshot() == before
    response = env.client("editor_a").post(url, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert PlanLink.objects.filter(from_item=env.w.goal_a, to_item=env.council_goal_2).exists()


def test_editor_can_not_create_for_board_b_even_with_a_forged_owner(env: Env) -> None:
    """The brief's example in full: editor_a posting owner=board B creates nothing."""
    before = snapshot()
    url = reverse("steering:item_create", args=[KRAMFORS]) + "?level=namndmal"
    response = env.client("editor_a").post(url, _create_data(env, env.w.board_b))
    assert response.status_code == 422
    assert "owner" in response.context["form"].errors
    assert snapshot() == before
    assert not PlanItem.objects.filter(title=NEW_TITLE).exists()


# --- The pages offer only what the user may do -------------------------------------------


@pytest.mark.parametrize(
    ("user", "may_edit_a", "may_plan", "may_configure", "may_create"),
    [
        ("admin", True, True, True, True),
        ("controller", True, True, False, True),
        ("controller_a", True, False, False, True),
        ("editor_a", True, False, False, True),
        ("editor_b", False, False, False, True),
        ("reader", False, False, False, False),
    ],
)
def test_pages_offer_only_permitted_actions(
    env: Env, user: str, may_edit_a: bool, may_plan: bool, may_configure: bool, may_create: bool
) -> None:
    client = env.client(user)
    goal_a = [KRAMFORS, env.w.goal_a.pk]
    item_page = client.get(reverse("steering:item", args=goal_a)).content.decode()
    for name in ("steering:item_edit", "steering:item_delete", "steering:link_add"):
        assert (reverse(name, args=goal_a) in item_page) is may_edit_a, name
    plans = client.get(reverse("steering:plans", args=[KRAMFORS])).content.decode()
    assert (reverse("steering:period_create", args=[KRAMFORS]) in plans) is may_plan
    rollover = reverse("steering:year_rollover", args=[KRAMFORS, env.w.year.pk])
    assert (rollover in plans) is may_plan
    model = client.get(reverse("steering:model", args=[KRAMFORS])).content.decode()
    assert (reverse("steering:model_import", args=[KRAMFORS]) in model) is may_configure
    thread = client.get(reverse("steering:thread", args=[KRAMFORS])).content.decode()
    assert (reverse("steering:item_create", args=[KRAMFORS]) in thread) is may_create


# --- Forms naming another municipality's rows -------------------------------------------


def test_assignment_cannot_be_assigned_by_another_municipalitys_unit(env: Env) -> None:
    """Nynäshamn's model has assignments (uppdrag); 'assigned by' offers only its own units."""
    url = reverse("steering:item_create", args=[NYNASHAMN]) + "?level=uppdrag"
    client = env.client("other")
    form = client.get(url).context["form"]
    assert not form.fields["assigned_by"].queryset.exclude(municipality=env.w.nynashamn).exists()
    before = snapshot()
    response = client.post(
        url,
        {
            "level": "uppdrag",
            "owner": env.other_unit.pk,
            "plan_year": env.other_year.pk,
            "title": "Utred något",
            "status": "active",
            "assigned_by": env.w.kf.pk,
        },
    )
    assert response.status_code == 422
    assert "assigned_by" in response.context["form"].errors
    assert snapshot() == before


def test_item_create_refuses_another_municipalitys_plan_year(env: Env) -> None:
    before = snapshot()
    url = reverse("steering:item_create", args=[KRAMFORS])
    data = _create_data(env, env.w.board_a, plan_year=env.other_year.pk)
    response = env.client("admin").post(url, data)
    assert response.status_code == 422
    assert "plan_year" in response.context["form"].errors
    assert snapshot() == before


def test_item_edit_refuses_another_municipalitys_owner_and_year(env: Env) -> None:
    before = snapshot()
    url = reverse("steering:item_edit", args=[KRAMFORS, env.w.goal_a.pk])
    for change in ({"owner": env.other_unit.pk}, {"plan_year": env.other_year.pk}):
        response = env.client("admin").post(url, _edit_data(env.w.goal_a, **change))
        assert response.status_code == 422, change
    assert snapshot() == before


# --- Admins write everything -------------------------------------------------------------


@pytest.fixture
def board_admin(env: Env) -> User:
    """An administrator whose membership is on board A rather than on the council."""
    user = User.objects.create_user(
        username="admin-board-a", password="x" * 20, municipality=env.w.kramfors
    )
    Membership.objects.create(user=user, org_unit=env.w.board_a, role="admin")
    return user


def test_board_admin_configures_and_plans_the_whole_municipality(
    env: Env, board_admin: User
) -> None:
    client = env.w.client(board_admin)
    assert client.get(reverse("steering:model_import", args=[KRAMFORS])).status_code == 200
    response = client.post(
        reverse("steering:period_create", args=[KRAMFORS]),
        {"name": "Mandatperioden 2031–2034", "start_year": 2031, "end_year": 2034},
    )
    assert response.status_code == 302
    _period_created(env)
    # and the new-item form lets them choose board B as the owner
    form = client.get(
        reverse("steering:item_create", args=[KRAMFORS]), {"level": "namndmal"}
    ).context["form"]
    assert env.w.board_b in set(form.fields["owner"].queryset)


def test_board_admin_writes_every_item(env: Env, board_admin: User) -> None:
    client = env.w.client(board_admin)
    url = reverse("steering:item_edit", args=[KRAMFORS, env.w.goal_b.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, _edit_data(env.w.goal_b, title=EDITED_TITLE))
    assert response.status_code == 302
    _titled(env.w.goal_b, EDITED_TITLE)

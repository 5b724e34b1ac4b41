"""The small world the tests run in: two municipalities and named people.

Kramfors (2282) with its preset model, two boards and a short thread; Nynäshamn (0192) with
its own model and a user who must see nothing of Kramfors.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import translation

from rodtrad.organisations.models import Membership, Municipality, OrgUnit, OrgUnitKind, User
from rodtrad.steering import services
from rodtrad.steering.demo import load_preset
from rodtrad.steering.models import ClassificationValue, Level, PlanItem, PlanPeriod, PlanYear

PASSWORD = "test-password-123"


@dataclass
class World:
    kramfors: Municipality
    nynashamn: Municipality
    kf: OrgUnit
    board_a: OrgUnit  # Barn- och utbildningsnämnden
    board_b: OrgUnit  # Omsorgsnämnden
    school: OrgUnit  # a unit under board A
    period: PlanPeriod
    year: PlanYear
    vision: PlanItem
    direction: PlanItem
    council_goal: PlanItem
    goal_a: PlanItem
    goal_b: PlanItem
    activity_a: PlanItem
    other_vision: PlanItem
    admin: User
    controller: User
    editor_a: User
    editor_b: User
    reader: User
    other: User

    def client(self, user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    def level(self, key: str, municipality: Municipality | None = None) -> Level:
        return Level.objects.get(model__municipality=municipality or self.kramfors, key=key)

    def value(self, classification: str, key: str) -> ClassificationValue:
        return ClassificationValue.objects.get(
            classification__model__municipality=self.kramfors,
            classification__key=classification,
            key=key,
        )


def _unit(municipality: Municipality, name: str, kind: str, parent: OrgUnit | None) -> OrgUnit:
    return OrgUnit.objects.create(
        municipality=municipality,
        name=name,
        parent=parent,
        kind=OrgUnitKind.objects.get(municipality=municipality, key=kind),
    )


def _user(username: str, municipality: Municipality, unit: OrgUnit, role: str) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        municipality=municipality,
        first_name=username.title(),
        is_staff=role == "admin",
    )
    Membership.objects.create(user=user, org_unit=unit, role=role)
    return user


def build_world() -> World:
    kramfors = services.municipality_create(code="2282", name="Kramfors kommun")
    load_preset("kramfors", kramfors)
    kf = _unit(kramfors, "Kommunfullmäktige", "kommunfullmaktige", None)
    ks = _unit(kramfors, "Kommunstyrelsen", "kommunstyrelse", kf)
    board_a = _unit(kramfors, "Barn- och utbildningsnämnden", "namnd", kf)
    admin_a = _unit(kramfors, "Barn- och utbildningsförvaltningen", "forvaltning", board_a)
    school = _unit(kramfors, "Gudmundråskolan", "enhet", admin_a)
    board_b = _unit(kramfors, "Omsorgsnämnden", "namnd", kf)
    _unit(kramfors, "Omsorgsförvaltningen", "forvaltning", board_b)
    period = services.plan_period_create(
        user=None,
        municipality=kramfors,
        name="Mandatperioden 2023–2026",
        start_year=2023,
        end_year=2026,
    )
    year = PlanYear.objects.create(period=period, year=2026, status="adopted")
    citizens = ClassificationValue.objects.get(
        classification__model__municipality=kramfors, key="kramforsbon"
    )

    def create(
        level: str,
        owner: OrgUnit,
        title: str,
        parents: list[PlanItem],
        plan_year: PlanYear | None = None,
        values: list | None = None,
    ) -> PlanItem:
        return services.plan_item_create(
            user=None,
            level=Level.objects.get(model__municipality=kramfors, key=level),
            owner=owner,
            period=period,
            plan_year=plan_year,
            data={"title": title},
            parents=parents,
            values=values or [],
        )

    vision = create("vision", kf, "Kramfors – en plats att växa i", [])
    direction = create("inriktningsmal", kf, "Kramforsbon är nöjd", [vision], values=[citizens])
    council_goal = create(
        "kommunovergripande-mal", kf, "Fler elever klarar skolan", [direction], year, [citizens]
    )
    goal_a = create(
        "namndmal", board_a, "Alla elever når målen i svenska", [council_goal], year, [citizens]
    )
    goal_b = create(
        "namndmal", board_b, "Äldre känner sig trygga", [council_goal], year, [citizens]
    )
    activity_a = create("aktivitet", school, "Läsombud på varje skola", [goal_a], year)
    assert ks.pk

    nynashamn = services.municipality_create(code="0192", name="Nynäshamns kommun")
    load_preset("nynashamn", nynashamn)
    other_kf = _unit(nynashamn, "Kommunfullmäktige", "kommunfullmaktige", None)
    other_period = services.plan_period_create(
        user=None,
        municipality=nynashamn,
        name="Mål och budget 2023–2026",
        start_year=2023,
        end_year=2026,
    )
    other_vision = services.plan_item_create(
        user=None,
        level=Level.objects.get(model__municipality=nynashamn, key="vision"),
        owner=other_kf,
        period=other_period,
        plan_year=None,
        data={"title": "Nynäshamn – hemlig vision"},
        parents=[],
        values=[],
    )
    return World(
        kramfors=kramfors,
        nynashamn=nynashamn,
        kf=kf,
        board_a=board_a,
        board_b=board_b,
        school=school,
        period=period,
        year=year,
        vision=vision,
        direction=direction,
        council_goal=council_goal,
        goal_a=goal_a,
        goal_b=goal_b,
        activity_a=activity_a,
        other_vision=other_vision,
        admin=_user("admin-a", kramfors, kf, "admin"),
        controller=_user("controller-a", kramfors, kf, "controller"),
        editor_a=_user("editor-a", kramfors, board_a, "editor"),
        editor_b=_user("editor-b", kramfors, board_b, "editor"),
        reader=_user("politician-a", kramfors, kf, "reader"),
        other=_user("editor-other", nynashamn, other_kf, "editor"),
    )


@pytest.fixture(autouse=True)
def english_outside_requests() -> Iterator[None]:
    """Services answer in the active language; tests of services read English.

    Pages answer in Swedish all the same: LocaleMiddleware picks each request's language.
    """
    with translation.override("en"):
        yield


@pytest.fixture
def world(db: None) -> World:
    return build_world()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run when Debian's chromium is present; CI (REQUIRE_BROWSER=1) insists."""
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if os.path.exists(chromium):
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"REQUIRE_BROWSER=1 but {chromium} is missing.")
    skip = pytest.mark.skip(reason=f"{chromium} is not installed")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)

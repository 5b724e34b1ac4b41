"""Who may see and who may change what, for every URL of the indicators app.

The same rules as tests/test_access.py (access.py), applied to indicators:

- Nobody sees another municipality's indicators: 404, the same answer as an unknown id.
- Anonymous users are sent to the sign-in page; a wrong HTTP method is 405 for anyone signed
  in (the method check comes before the tenant check, so it reveals nothing).
- Every member reads every indicator, the Kolada catalogue and the assessment rules.
- Indicators are written (edit, delete, values, targets, Kolada fetches) by those whose edit
  paths cover the indicator's owner; the measures and judgements of a plan item by those who
  write the item; creating and importing by anyone who writes somewhere, for owners and
  indicators in their own subtrees only. Assessment rules are configured by admins.

One row per (url name, target, method, user) with the expected status. Every POST proves its
effect: an allowed write made its change and was audited (by the acting user, in Kramfors),
a refused one left the database exactly as it was. Kolada is never reached over the network:
a recorded copy of it answers, and it is asked only by writes that are allowed.

The world (conftest's, plus indicators) is built once for the module inside a transaction;
each row runs in a savepoint that is rolled back, so every row starts from the same state.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse
from django.utils import translation

from rodtrad.indicators import kolada as indicator_kolada
from rodtrad.indicators import rollup, services
from rodtrad.indicators.forms import IndicatorForm
from rodtrad.indicators.models import (
    AssessmentSettings,
    Indicator,
    KoladaKpi,
    Source,
    StatusOverride,
    Target,
    Value,
    ValueImport,
)
from rodtrad.lib.kolada import DATA_DIR, KoladaClient
from rodtrad.organisations.models import AuditEvent, Membership, OrgUnit, User
from rodtrad.steering.models import PlanItem, SteeringModel
from tests.conftest import World, build_world
from tests.test_access import (
    KRAMFORS,
    LOGIN,
    NYNASHAMN,
    REDIRECT,
    SECRET,
    USERS,
    WRITE_A,
    WRITE_B,
    rows,
    wrong_method,
)

FIXTURES = Path(__file__).parent / "fixtures" / "kolada"
SECRET_INDICATOR = "Nynäshamn – hemlig indikator om trygghet"
SECRETS = (SECRET_INDICATOR, SECRET)
KPI = "N00945"
KPI_TITLE = "Tillfälliga föräldrapenningdagar (VAB) som tas ut av män, andel av antal dagar (%)"
KRAMFORS_GROUP = "G37428"  # Liknande kommuner, övergripande, Kramfors, 2025
NEW_KPI = "N00090"  # not yet followed in Kramfors
NEW_KPI_TITLE = "Sjukfrånvaro totalt bland anställda, kommun, andel (%)"
NEW_TITLE = "Andel elever som läser varje dag"
EDITED_TITLE = "Andel elever som når målen i svenska"
JUSTIFICATION = "Nämnden bedömer att målet nåtts trots att indikatorn saknar värde för 2026."

WRITE_KF = {  # items owned by the council (KF): admins and controllers of the whole tree
    "controller_a": 403,
    "editor_a": 403,
    "editor_b": 403,
    "reader": 403,
}


# --- Kolada, answered from recorded data -----------------------------------------------------


def _envelope(values: list[Any]) -> dict[str, Any]:
    return {"values": values, "count": len(values), "next_url": None}


@cache
def _bundled(name: str) -> tuple[dict[str, Any], ...]:
    path = DATA_DIR / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as file:
        return tuple(json.load(file)["values"])


@cache
def _recorded_data() -> tuple[dict[str, Any], ...]:
    path = FIXTURES / "data_N00945_0180_1280_1480.json"
    return tuple(json.loads(path.read_text(encoding="utf-8"))["values"])


@dataclass
class FakeKolada:
    """Kolada v3 over the bundled catalogue and the recorded N00945 data; fails on anything
    else, and remembers every URL it was asked."""

    urls: list[str] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        assert request.url.host == "api.kolada.se", request.url
        parts = request.url.path.removeprefix("/v3/").split("/")
        ids = parts[1].split(",") if len(parts) == 2 else []
        if parts[0] == "kpi" and ids:
            found = [k for k in _bundled("kpi_catalogue.json.gz") if k["id"] in ids]
        elif parts[0] == "municipality" and ids:
            found = [m for m in _bundled("municipalities.json") if m["id"] in ids]
        elif parts[0] == "municipality_groups" and ids:
            found = [g for g in _bundled("municipality_groups.json.gz") if g["id"] in ids]
        elif parts == ["municipality_groups"] and "title" in request.url.params:
            wanted = request.url.params["title"].lower()
            groups = _bundled("municipality_groups.json.gz")
            found = [g for g in groups if wanted in g["title"].lower()]
        elif parts[0] == "data" and len(parts) % 2 == 1:
            segments = dict(zip(parts[1::2], (p.split(",") for p in parts[2::2]), strict=True))
            found = [
                row
                for row in _recorded_data()
                if row["kpi"] in segments.get("kpi", [row["kpi"]])
                and row["municipality"] in segments.get("municipality", [row["municipality"]])
                and str(row["period"]) in segments.get("year", [str(row["period"])])
            ]
        else:
            raise AssertionError(f"unexpected request to Kolada: {request.url}")
        return httpx.Response(200, json=_envelope(found))

    def client(self) -> KoladaClient:
        http = httpx.Client(transport=httpx.MockTransport(self.handler))
        return KoladaClient(http, min_interval=0, sleep=lambda seconds: None)


@pytest.fixture(autouse=True)
def kolada_api(monkeypatch: pytest.MonkeyPatch) -> FakeKolada:
    fake = FakeKolada()
    monkeypatch.setattr(indicator_kolada, "get_client", fake.client)
    return fake


# --- The world -------------------------------------------------------------------------------


@dataclass
class Env:
    """The conftest world, a controller of board A only, and four indicators."""

    w: World
    controller_a: User
    ind_a: Indicator  # board A, target, yearly, measures the council goal; values and targets
    ind_b: Indicator  # board B, measures nothing yet
    ind_k: Indicator  # board A, from Kolada (N00945), two revisions not yet acknowledged
    foreign: Indicator  # Nynäshamn's, with a title that must never show in Kramfors
    sessions: dict[str, str]  # user name -> a signed-in session key
    clients: dict[str, Client] = field(default_factory=dict)

    @property
    def other_kf(self) -> OrgUnit:
        return self.w.other_vision.owner

    def user(self, name: str) -> User | None:
        if name == "anonymous":
            return None
        if name == "controller_a":
            return self.controller_a
        user: User = getattr(self.w, name)
        return user

    def client(self, name: str) -> Client:
        """The user's client with no cookie but their session. One client per user for the
        module: a new Client builds the middleware chain again (WhiteNoise scans every static
        file), which would cost more than the request itself."""
        client = self.clients.setdefault(name, Client())
        client.cookies = SimpleCookie()
        if name != "anonymous":
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[name]
        return client


def _number(text: str) -> Decimal:
    return Decimal(text)


def build_env() -> Env:
    w = build_world()
    controller_a = User.objects.create_user(
        username="controller-board-a", password="x" * 20, municipality=w.kramfors
    )
    Membership.objects.create(user=controller_a, org_unit=w.board_a, role="controller")

    ind_a = services.indicator_create(
        user=w.editor_a,
        municipality=w.kramfors,
        data={
            "title": "Andel elever som når kunskapskraven i svenska",
            "kind": "target",
            "frequency": "year",
            "unit": "%",
            "owner": w.board_a,
            "responsible": "Skolchef",
        },
        items=[w.council_goal],
    )
    services.values_write(
        user=w.editor_a,
        municipality=w.kramfors,
        rows=[
            (ind_a, services.ValueInput(year, "year", None, _number(value)))
            for year, value in ((2022, "74.0"), (2023, "76.5"), (2024, "78.0"))
        ],
        source=Source.FILE,
        name="kunskapskrav.csv",
    )
    services.value_set(
        user=w.editor_a,
        indicator=ind_a,
        row=services.ValueInput(2025, "year", None, _number("79.2"), comment="Preliminärt"),
        expected_version=None,
    )
    services.targets_set(
        user=w.editor_a,
        indicator=ind_a,
        rows=[
            services.TargetInput(w.period, 2025, _number("80"), _number("78")),
            services.TargetInput(w.period, 2026, _number("82"), _number("79")),
            services.TargetInput(w.period, None, _number("85")),
        ],
        baseline=(_number("72.5"), 2022),
    )
    ind_b = services.indicator_create(
        user=w.editor_b,
        municipality=w.kramfors,
        data={
            "title": "Andel brukare som känner sig trygga i hemtjänsten",
            "kind": "target",
            "frequency": "year",
            "unit": "%",
            "owner": w.board_b,
        },
    )
    services.value_set(
        user=w.editor_b,
        indicator=ind_b,
        row=services.ValueInput(2025, "year", None, _number("88")),
        expected_version=None,
    )
    ind_k = services.indicator_create(
        user=w.editor_a,
        municipality=w.kramfors,
        data={
            "title": KPI_TITLE,
            "kind": "key_figure",
            "unit": "%",
            "source": Source.KOLADA,
            "kolada_kpi": KPI,
            "kolada_title": KPI_TITLE,
            "kolada_publ_period": "2026",
            "kolada_revisions": 2,
            "owner": w.board_a,
        },
    )
    foreign = services.indicator_create(
        user=w.other,
        municipality=w.nynashamn,
        data={"title": SECRET_INDICATOR, "kind": "target", "owner": w.other_vision.owner},
    )
    services.value_set(
        user=w.other,
        indicator=foreign,
        row=services.ValueInput(2025, "year", None, _number("61")),
        expected_version=None,
    )
    services.targets_set(
        user=w.other,
        indicator=foreign,
        rows=[services.TargetInput(w.other_vision.period, 2026, _number("70"))],
    )
    # What the first page view would do anyway, done once: the bundled Kolada catalogue and
    # fresh roll-ups for both municipalities.
    indicator_kolada.ensure_catalogue()
    assert KoladaKpi.objects.get(pk=KPI).title == KPI_TITLE
    rollup.ensure_fresh(w.kramfors)
    rollup.ensure_fresh(w.nynashamn)
    env = Env(w, controller_a, ind_a, ind_b, ind_k, foreign, sessions={})
    for name in USERS:
        user = env.user(name)
        if user is not None:
            client = Client()
            client.force_login(user)
            env.sessions[name] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return env


@pytest.fixture(scope="module")
def shared_env(django_db_setup: None, django_db_blocker: Any) -> Iterator[Env]:
    """Built once; the module's transaction is rolled back at the end."""
    atomic = transaction.atomic()
    with django_db_blocker.unblock(), translation.override("en"):
        atomic.__enter__()
        try:
            built = build_env()
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def env(shared_env: Env, db: None) -> Env:
    """The shared world; `db` wraps each test in a savepoint that is rolled back."""
    return shared_env


# --- What a request is, per (url name, target) -----------------------------------------------


@dataclass
class Spec:
    args: Callable[[Env], list[Any]]
    data: Callable[[Env], dict[str, Any]] | None = None
    query: str = ""
    effect: Callable[[Env], None] | None = None  # asserts an allowed POST made its change
    audited: bool = True


def _code(e: Env) -> list[Any]:
    return [KRAMFORS]


def _ind(name: str) -> Callable[[Env], list[Any]]:
    def args(e: Env) -> list[Any]:
        indicator: Indicator = getattr(e, name)
        return [KRAMFORS, indicator.pk]

    return args


def _item(name: str) -> Callable[[Env], list[Any]]:
    def args(e: Env) -> list[Any]:
        item: PlanItem = getattr(e.w, name)
        return [KRAMFORS, item.pk]

    return args


def _fresh(indicator: Indicator) -> Indicator:
    return Indicator.objects.select_related("owner").get(pk=indicator.pk)


def _indicator_data(owner: OrgUnit) -> dict[str, Any]:
    return {
        "title": NEW_TITLE,
        "description": "Elever i årskurs 1–9 som läser minst 20 minuter om dagen.",
        "kind": "target",
        "unit": "%",
        "decimals": "1",
        "direction": "higher",
        "frequency": "year",
        "owner": owner.pk,
        "responsible": "Rektor",
        "tolerance_pct": "",
        "weight": "1",
    }


def _edit_data(indicator: Indicator, **changes: Any) -> dict[str, Any]:
    current = _fresh(indicator)
    fields = list(IndicatorForm.Meta.fields)
    data = {
        key: value
        for key, value in model_to_dict(current, fields=fields).items()
        if value is not None and value is not False
    }
    data["version"] = current.version
    data.update(changes)
    return data


def _value_data(e: Env) -> dict[str, Any]:
    return {"period": "2026", "value": "81,5", "comment": "", "version": ""}


def _targets_data(e: Env) -> dict[str, Any]:
    p = e.w.period.pk
    return {
        "version": _fresh(e.ind_a).version,
        "baseline_value": "71,25",
        "baseline_year": "2021",
        f"target_{p}_2025": "80",
        f"accepted_{p}_2025": "78",
        f"target_{p}_2026": "83,5",
        f"accepted_{p}_2026": "80,25",
        f"target_{p}_end": "1 000,5",  # a thousands separator, as Swedish Excel writes it
    }


def _csv(text: str) -> dict[str, Any]:
    upload = SimpleUploadedFile("varden.csv", text.encode(), content_type="text/csv")
    return {"file": upload}


def _settings_data(e: Env) -> dict[str, Any]:
    model = SteeringModel.objects.get(municipality=e.w.kramfors)
    return {
        "version": rollup.settings_for(model).version,
        "scale": "traffic",
        "tolerance_pct": "5",
        "rollup_rule": "majority",
        "include_contributors": "on",
    }


def _override_data(e: Env) -> dict[str, Any]:
    return {"status": "met", "justification": JUSTIFICATION}


# effects


def _created(owner: Callable[[Env], OrgUnit]) -> Callable[[Env], None]:
    def effect(e: Env) -> None:
        indicator = Indicator.objects.get(title=NEW_TITLE)
        assert indicator.municipality == e.w.kramfors
        assert indicator.owner == owner(e)
        assert indicator.source == Source.MANUAL

    return effect


def _titled(name: str) -> Callable[[Env], None]:
    def effect(e: Env) -> None:
        indicator = _fresh(getattr(e, name))
        assert indicator.title == EDITED_TITLE
        assert indicator.version == getattr(e, name).version + 1

    return effect


def _moved_to_board_b(e: Env) -> None:
    assert _fresh(e.ind_a).owner == e.w.board_b


def _deleted(e: Env) -> None:
    assert not Indicator.objects.filter(pk=e.ind_b.pk).exists()
    assert not Value.objects.filter(indicator_id=e.ind_b.pk).exists()


def _value_entered(name: str) -> Callable[[Env], None]:
    def effect(e: Env) -> None:
        value = Value.objects.get(indicator=getattr(e, name), area=KRAMFORS, year=2026)
        assert (value.value, value.source, value.gender) == (Decimal("81.5"), "manual", "T")
        assert value.entered_by is not None

    return effect


def _targets_changed(e: Env) -> None:
    targets = {
        t.year: (t.value, t.accepted_value) for t in Target.objects.filter(indicator=e.ind_a)
    }
    assert targets == {
        2025: (Decimal("80"), Decimal("78")),
        2026: (Decimal("83.5"), Decimal("80.25")),
        None: (Decimal("1000.5"), None),
    }
    indicator = _fresh(e.ind_a)
    assert (indicator.baseline_value, indicator.baseline_year) == (Decimal("71.25"), 2021)
    assert indicator.version == e.ind_a.version + 1


def _kolada_created(e: Env) -> None:
    created = Indicator.objects.get(kolada_kpi=NEW_KPI)
    assert created.municipality == e.w.kramfors
    assert created.owner == e.w.board_a
    assert created.source == Source.KOLADA
    assert (created.title, created.kolada_title) == (NEW_KPI_TITLE, NEW_KPI_TITLE)
    assert created.compare_group == KRAMFORS_GROUP
    assert created.kolada_checked_at is not None
    # The recording has no rows for Kramfors, its group or Riket: no values.
    assert not created.values.exists()


def _refreshed(e: Env) -> None:
    indicator = _fresh(e.ind_k)
    assert indicator.kolada_checked_at is not None
    assert not (indicator.kolada_renamed or indicator.kolada_discontinued)
    assert not indicator.kolada_missing
    assert indicator.kolada_revisions == 2  # a refresh does not acknowledge


def _acknowledged(e: Env) -> None:
    indicator = _fresh(e.ind_k)
    assert (indicator.kolada_revisions, indicator.kolada_renamed) == (0, False)
    assert indicator.version == e.ind_k.version + 1


def _imported(e: Env) -> None:
    value = Value.objects.get(indicator=e.ind_a, area=KRAMFORS, year=2024)
    assert (value.value, value.source) == (Decimal("12.5"), Source.FILE)
    assert value.imported is not None and value.imported.name == "varden.csv"
    assert value.imported.municipality == e.w.kramfors


def _settings_saved(e: Env) -> None:
    saved = AssessmentSettings.objects.get(model__municipality=e.w.kramfors)
    assert (saved.scale, saved.tolerance_pct, saved.rollup_rule) == (
        "traffic",
        Decimal("5"),
        "majority",
    )


def _linked(e: Env) -> None:
    assert e.ind_b.plan_items.filter(pk=e.w.council_goal.pk).exists()


def _unlinked(e: Env) -> None:
    assert not e.ind_a.plan_items.filter(pk=e.w.council_goal.pk).exists()


def _overridden(name: str) -> Callable[[Env], None]:
    def effect(e: Env) -> None:
        override = StatusOverride.objects.filter(item=getattr(e.w, name)).latest()
        assert (override.status, override.justification) == ("met", JUSTIFICATION)
        assert override.created_by is not None

    return effect


def _csv_for(name: str) -> Callable[[Env], dict[str, Any]]:
    def data(e: Env) -> dict[str, Any]:
        indicator: Indicator = getattr(e, name)
        return _csv(f"Indikator;Period;Värde\n{indicator.pk};2024;12,5\n")

    return data


TARGETS: dict[tuple[str, str], Spec] = {
    ("indicators:list", "page"): Spec(_code),
    ("indicators:detail", "ind_a"): Spec(_ind("ind_a")),
    ("indicators:detail", "ind_b"): Spec(_ind("ind_b")),
    ("indicators:detail", "ind_k"): Spec(_ind("ind_k")),
    # Nynäshamn's indicator asked for under Kramfors' code: as unknown as an unknown id.
    ("indicators:detail", "foreign"): Spec(_ind("foreign")),
    ("indicators:detail", "unknown"): Spec(lambda e: [KRAMFORS, 999_999]),
    ("indicators:create", "page"): Spec(_code),
    ("indicators:create", "board_a"): Spec(
        _code,
        data=lambda e: _indicator_data(e.w.board_a),
        effect=_created(lambda e: e.w.board_a),
    ),
    ("indicators:create", "board_b"): Spec(
        _code,
        data=lambda e: _indicator_data(e.w.board_b),
        effect=_created(lambda e: e.w.board_b),
    ),
    ("indicators:create", "foreign_owner"): Spec(_code, data=lambda e: _indicator_data(e.other_kf)),
    ("indicators:edit", "ind_a"): Spec(
        _ind("ind_a"),
        data=lambda e: _edit_data(e.ind_a, title=EDITED_TITLE),
        effect=_titled("ind_a"),
    ),
    ("indicators:edit", "ind_b"): Spec(
        _ind("ind_b"),
        data=lambda e: _edit_data(e.ind_b, title=EDITED_TITLE),
        effect=_titled("ind_b"),
    ),
    # board A's writers may edit ind_a but not hand it to board B
    ("indicators:edit", "ind_a_to_board_b"): Spec(
        _ind("ind_a"),
        data=lambda e: _edit_data(e.ind_a, owner=e.w.board_b.pk),
        effect=_moved_to_board_b,
    ),
    ("indicators:edit", "ind_a_to_foreign_owner"): Spec(
        _ind("ind_a"), data=lambda e: _edit_data(e.ind_a, owner=e.other_kf.pk)
    ),
    ("indicators:edit", "foreign"): Spec(
        _ind("foreign"), data=lambda e: _edit_data(e.foreign, title=EDITED_TITLE)
    ),
    ("indicators:delete", "ind_b"): Spec(_ind("ind_b"), data=lambda e: {}, effect=_deleted),
    ("indicators:delete", "foreign"): Spec(_ind("foreign"), data=lambda e: {}),
    ("indicators:values", "ind_a"): Spec(
        _ind("ind_a"), data=_value_data, effect=_value_entered("ind_a")
    ),
    ("indicators:values", "ind_b"): Spec(
        _ind("ind_b"), data=_value_data, effect=_value_entered("ind_b")
    ),
    ("indicators:values", "foreign"): Spec(_ind("foreign"), data=_value_data),
    ("indicators:targets", "ind_a"): Spec(
        _ind("ind_a"), data=_targets_data, effect=_targets_changed
    ),
    ("indicators:targets", "foreign"): Spec(
        _ind("foreign"), data=lambda e: {"version": _fresh(e.foreign).version}
    ),
    ("indicators:kolada", "search"): Spec(_code, query=f"sok={KPI}"),
    ("indicators:kolada", "board_a"): Spec(
        _code,
        data=lambda e: {"kpi": NEW_KPI, "owner": e.w.board_a.pk},
        effect=_kolada_created,
    ),
    # N00945 is followed already (ind_k): refused, nothing asked, nothing saved
    ("indicators:kolada", "duplicate"): Spec(
        _code, data=lambda e: {"kpi": KPI, "owner": e.w.board_a.pk}
    ),
    ("indicators:kolada", "foreign_owner"): Spec(
        _code, data=lambda e: {"kpi": NEW_KPI, "owner": e.other_kf.pk}
    ),
    # Kolada knows no N99999: asked, and nothing is saved
    ("indicators:kolada", "unknown_kpi"): Spec(
        _code, data=lambda e: {"kpi": "N99999", "owner": e.w.board_a.pk}
    ),
    # Every fetch is audited, also one that brings nothing new.
    ("indicators:kolada_refresh", "ind_k"): Spec(
        _ind("ind_k"), data=lambda e: {}, effect=_refreshed
    ),
    # not from Kolada: refused with a message, Kolada is not asked, nothing changes
    ("indicators:kolada_refresh", "ind_a"): Spec(_ind("ind_a"), data=lambda e: {}),
    ("indicators:kolada_refresh", "foreign"): Spec(_ind("foreign"), data=lambda e: {}),
    ("indicators:kolada_acknowledge", "ind_k"): Spec(
        _ind("ind_k"), data=lambda e: {}, effect=_acknowledged
    ),
    ("indicators:kolada_acknowledge", "ind_a"): Spec(_ind("ind_a"), data=lambda e: {}),
    ("indicators:kolada_acknowledge", "foreign"): Spec(_ind("foreign"), data=lambda e: {}),
    ("indicators:import", "page"): Spec(_code),
    ("indicators:import", "ind_a"): Spec(_code, data=_csv_for("ind_a"), effect=_imported),
    # a row naming Nynäshamn's indicator: "no such indicator", nothing imported
    ("indicators:import", "foreign"): Spec(_code, data=_csv_for("foreign")),
    ("indicators:settings", "page"): Spec(_code, data=_settings_data, effect=_settings_saved),
    ("indicators:item_link", "council_goal"): Spec(
        _item("council_goal"), data=lambda e: {"indicator": e.ind_b.pk}, effect=_linked
    ),
    # the form offers only Kramfors' indicators: Nynäshamn's links nothing
    ("indicators:item_link", "foreign_indicator"): Spec(
        _item("council_goal"), data=lambda e: {"indicator": e.foreign.pk}
    ),
    # board goals carry no indicators in Kramfors' model: refused with a message
    ("indicators:item_link", "goal_a"): Spec(
        _item("goal_a"), data=lambda e: {"indicator": e.ind_a.pk}
    ),
    ("indicators:item_link", "foreign"): Spec(
        _item("other_vision"), data=lambda e: {"indicator": e.foreign.pk}
    ),
    ("indicators:item_unlink", "council_goal"): Spec(
        lambda e: [KRAMFORS, e.w.council_goal.pk, e.ind_a.pk], data=lambda e: {}, effect=_unlinked
    ),
    ("indicators:item_unlink", "foreign_indicator"): Spec(
        lambda e: [KRAMFORS, e.w.council_goal.pk, e.foreign.pk], data=lambda e: {}
    ),
    ("indicators:item_unlink", "foreign"): Spec(
        lambda e: [KRAMFORS, e.w.other_vision.pk, e.foreign.pk], data=lambda e: {}
    ),
    ("indicators:item_override", "goal_a"): Spec(
        _item("goal_a"), data=_override_data, effect=_overridden("goal_a")
    ),
    ("indicators:item_override", "goal_b"): Spec(
        _item("goal_b"), data=_override_data, effect=_overridden("goal_b")
    ),
    # without a justification: refused with a message, nothing saved
    ("indicators:item_override", "goal_a_no_justification"): Spec(
        _item("goal_a"), data=lambda e: {"status": "not_met", "justification": "  "}
    ),
    # the vision is not assessed
    ("indicators:item_override", "vision"): Spec(_item("vision"), data=_override_data),
    ("indicators:item_override", "foreign"): Spec(_item("other_vision"), data=_override_data),
}

Row = tuple[str, str, str, str, int | str]

MATRIX: list[Row] = [
    # Reading: every member.
    *rows("indicators:list", "page", "GET", 200),
    *wrong_method("indicators:list", "page", "POST"),
    *rows("indicators:detail", "ind_a", "GET", 200),
    *rows("indicators:detail", "ind_b", "GET", 200),
    *rows("indicators:detail", "ind_k", "GET", 200),
    *rows("indicators:detail", "foreign", "GET", 404),
    *rows("indicators:detail", "unknown", "GET", 404),
    *wrong_method("indicators:detail", "ind_a", "POST"),
    # Creating: anyone who writes somewhere, only for owners in their own subtrees.
    *rows("indicators:create", "page", "GET", 200, reader=403),
    *rows("indicators:create", "board_a", "POST", REDIRECT, editor_b=422, reader=403),
    *rows(
        "indicators:create",
        "board_b",
        "POST",
        REDIRECT,
        controller_a=422,
        editor_a=422,
        reader=403,
    ),
    *rows("indicators:create", "foreign_owner", "POST", 422, reader=403),
    *wrong_method("indicators:create", "page", "PUT"),
    # Editing: the owner's subtree.
    *rows("indicators:edit", "ind_a", "GET", 200, **WRITE_A),
    *rows("indicators:edit", "ind_a", "POST", REDIRECT, **WRITE_A),
    *rows("indicators:edit", "ind_b", "GET", 200, **WRITE_B),
    *rows("indicators:edit", "ind_b", "POST", REDIRECT, **WRITE_B),
    *rows(
        "indicators:edit",
        "ind_a_to_board_b",
        "POST",
        REDIRECT,
        controller_a=422,
        editor_a=422,
        **WRITE_A,
    ),
    *rows("indicators:edit", "ind_a_to_foreign_owner", "POST", 422, **WRITE_A),
    *rows("indicators:edit", "foreign", "GET", 404),
    *rows("indicators:edit", "foreign", "POST", 404),
    *wrong_method("indicators:edit", "ind_a", "PUT"),
    # Deleting.
    *rows("indicators:delete", "ind_b", "GET", 200, **WRITE_B),
    *rows("indicators:delete", "ind_b", "POST", REDIRECT, **WRITE_B),
    *rows("indicators:delete", "foreign", "GET", 404),
    *rows("indicators:delete", "foreign", "POST", 404),
    *wrong_method("indicators:delete", "ind_b", "PUT"),
    # Values and targets.
    *rows("indicators:values", "ind_a", "GET", 200, **WRITE_A),
    *rows("indicators:values", "ind_a", "POST", REDIRECT, **WRITE_A),
    *rows("indicators:values", "ind_b", "POST", REDIRECT, **WRITE_B),
    *rows("indicators:values", "foreign", "GET", 404),
    *rows("indicators:values", "foreign", "POST", 404),
    *wrong_method("indicators:values", "ind_a", "PUT"),
    *rows("indicators:targets", "ind_a", "GET", 200, **WRITE_A),
    *rows("indicators:targets", "ind_a", "POST", REDIRECT, **WRITE_A),
    *rows("indicators:targets", "foreign", "GET", 404),
    *rows("indicators:targets", "foreign", "POST", 404),
    *wrong_method("indicators:targets", "ind_a", "PUT"),
    # Kolada: everyone searches; creating as for any indicator; fetching and acknowledging
    # as for editing.
    *rows("indicators:kolada", "search", "GET", 200),
    *rows("indicators:kolada", "board_a", "POST", REDIRECT, editor_b=422, reader=403),
    *rows("indicators:kolada", "duplicate", "POST", 422, reader=403),
    *rows("indicators:kolada", "foreign_owner", "POST", 422, reader=403),
    *rows("indicators:kolada", "unknown_kpi", "POST", 422, reader=403),
    *wrong_method("indicators:kolada", "search", "PUT"),
    *rows("indicators:kolada_refresh", "ind_k", "POST", REDIRECT, **WRITE_A),
    *rows("indicators:kolada_refresh", "ind_a", "POST", REDIRECT, **WRITE_A),
    *rows("indicators:kolada_refresh", "foreign", "POST", 404),
    *wrong_method("indicators:kolada_refresh", "ind_k", "GET"),
    *rows("indicators:kolada_acknowledge", "ind_k", "POST", REDIRECT, **WRITE_A),
    *rows("indicators:kolada_acknowledge", "ind_a", "POST", 403),  # not from Kolada
    *rows("indicators:kolada_acknowledge", "foreign", "POST", 404),
    *wrong_method("indicators:kolada_acknowledge", "ind_k", "GET"),
    # File import: the summary is shown on the same page (200); a row for an indicator the
    # user may not change refuses the whole file (422).
    *rows("indicators:import", "page", "GET", 200, reader=403),
    *rows("indicators:import", "ind_a", "POST", 200, editor_b=422, reader=403),
    *rows("indicators:import", "foreign", "POST", 422, reader=403),
    *wrong_method("indicators:import", "page", "PUT"),
    # Assessment rules: every member reads them, admins change them.
    *rows("indicators:settings", "page", "GET", 200),
    *rows("indicators:settings", "page", "POST", 403, admin=REDIRECT),
    *wrong_method("indicators:settings", "page", "PUT"),
    # On the item page: who writes the item. A POST answers with a redirect to the item
    # whether the service accepted it or not; the effect check tells them apart.
    *rows("indicators:item_link", "council_goal", "POST", REDIRECT, **WRITE_KF),
    *rows("indicators:item_link", "foreign_indicator", "POST", REDIRECT, **WRITE_KF),
    *rows("indicators:item_link", "goal_a", "POST", REDIRECT, **WRITE_A),
    *rows("indicators:item_link", "foreign", "POST", 404),
    *wrong_method("indicators:item_link", "council_goal", "GET"),
    *rows("indicators:item_unlink", "council_goal", "POST", REDIRECT, **WRITE_KF),
    *rows("indicators:item_unlink", "foreign_indicator", "POST", 404, **WRITE_KF),
    *rows("indicators:item_unlink", "foreign", "POST", 404),
    *wrong_method("indicators:item_unlink", "council_goal", "GET"),
    *rows("indicators:item_override", "goal_a", "POST", REDIRECT, **WRITE_A),
    *rows("indicators:item_override", "goal_b", "POST", REDIRECT, **WRITE_B),
    *rows("indicators:item_override", "goal_a_no_justification", "POST", REDIRECT, **WRITE_A),
    *rows("indicators:item_override", "vision", "POST", 403),
    *rows("indicators:item_override", "foreign", "POST", 404),
    *wrong_method("indicators:item_override", "goal_a", "GET"),
]


def snapshot() -> dict[str, Any]:
    """Everything an indicator write could touch, in a comparable form."""
    links = Indicator.plan_items.through.objects.values_list("indicator_id", "planitem_id")
    return {
        "indicators": sorted(
            Indicator.objects.values_list(
                "pk",
                "municipality_id",
                "title",
                "version",
                "owner_id",
                "source",
                "kolada_kpi",
                "kolada_title",
                "kolada_renamed",
                "kolada_discontinued",
                "kolada_missing",
                "kolada_revisions",
                "kolada_checked_at",
                "baseline_value",
                "baseline_year",
            ),
            key=repr,
        ),
        "values": sorted(
            Value.objects.values_list("pk", "indicator_id", "year", "value", "version", "comment"),
            key=repr,
        ),
        "targets": sorted(
            Target.objects.values_list("pk", "indicator_id", "year", "value", "accepted_value"),
            key=repr,
        ),
        "overrides": StatusOverride.objects.count(),
        "settings": sorted(
            AssessmentSettings.objects.values_list(
                "pk", "model_id", "scale", "tolerance_pct", "rollup_rule", "version"
            ),
            key=repr,
        ),
        "links": sorted(links),
        "imports": ValueImport.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def _last_audit_pk() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _request(e: Env, url_name: str, target: str, method: str, user: str) -> tuple[Any, str]:
    spec = TARGETS[(url_name, target)]
    url = reverse(url_name, args=spec.args(e))
    if spec.query:
        url += "?" + spec.query
    client = e.client(user)
    if method == "GET":
        return client.get(url), url
    if method == "POST":
        return client.post(url, spec.data(e) if spec.data else {}), url
    return client.generic(method, url), url


REFUSED = (403, 404, 405, LOGIN)


@pytest.mark.parametrize(
    ("url_name", "target", "method", "user", "expected"),
    MATRIX,
    ids=[f"{n}-{t}-{m}-{u}" for n, t, m, u, _ in MATRIX],
)
def test_indicator_access_matrix(
    env: Env,
    kolada_api: FakeKolada,
    url_name: str,
    target: str,
    method: str,
    user: str,
    expected: int | str,
) -> None:
    spec = TARGETS[(url_name, target)]
    writes = method == "POST" and expected in (REDIRECT, 200) and spec.effect is not None
    before = None if writes else snapshot()
    last_audit = _last_audit_pk()
    response, url = _request(env, url_name, target, method, user)
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"] == redirect_to_login(url).url
    else:
        assert response.status_code == expected, response.content[:300]
        if expected == REDIRECT:
            assert not response["Location"].startswith(reverse("login"))
    body = response.content.decode()
    for secret in SECRETS:
        assert secret not in body, secret
    if writes:
        assert spec.effect is not None
        spec.effect(env)
        new_events = AuditEvent.objects.filter(pk__gt=last_audit)
        if spec.audited:
            assert new_events.exists(), "every write is audited"
        acting = env.user(user)
        assert acting is not None
        for event in new_events:
            assert (event.user_id, event.municipality_id) == (acting.pk, env.w.kramfors.pk)
    else:
        assert snapshot() == before, "a refused or read-only request changed something"
    if expected in REFUSED:
        assert kolada_api.urls == [], "a refused request asked Kolada"


def test_every_url_is_in_the_matrix() -> None:
    """A new URL must get rows here before it ships: every user, a wrong method, and (for an
    URL naming a row) another municipality's row."""
    from rodtrad.indicators import urls as indicator_urls

    names = {f"indicators:{p.name}" for p in indicator_urls.urlpatterns}
    covered = {name for name, *_ in MATRIX}
    assert names <= covered, names - covered
    for pattern in indicator_urls.urlpatterns:
        name = f"indicators:{pattern.name}"
        statuses = {(t, u): s for n, t, _m, u, s in MATRIX if n == name}
        assert {u for _t, u in statuses} == set(USERS), name
        assert 405 in statuses.values(), f"{name} has no wrong-method row"
        if "<int:pk>" in str(pattern.pattern):
            foreign = {u: s for (t, u), s in statuses.items() if t == "foreign"}
            assert foreign, f"{name} has no row for another municipality's {pattern.name}"
            assert all(s == 404 for u, s in foreign.items() if u != "anonymous"), name
    assert set(TARGETS) == {(n, t) for n, t, *_ in MATRIX}


@pytest.mark.parametrize(
    ("user", "url_name", "target"),
    [
        ("editor_b", "indicators:create", "board_a"),
        ("editor_a", "indicators:create", "board_b"),
        ("controller_a", "indicators:create", "board_b"),
        ("admin", "indicators:create", "foreign_owner"),
        ("editor_a", "indicators:edit", "ind_a_to_board_b"),
        ("admin", "indicators:edit", "ind_a_to_foreign_owner"),
        ("editor_b", "indicators:kolada", "board_a"),
        ("admin", "indicators:kolada", "foreign_owner"),
    ],
)
def test_forged_owner_is_refused_by_the_owner_field(
    env: Env, kolada_api: FakeKolada, user: str, url_name: str, target: str
) -> None:
    """The 422s of the matrix are about the owner, not some other mistake in the form."""
    before = snapshot()
    response, _url = _request(env, url_name, target, "POST", user)
    assert response.status_code == 422
    form = response.context["form"] if url_name != "indicators:kolada" else None
    if form is not None:
        assert list(form.errors) == ["owner"], form.errors
    else:
        assert response.context["errors"], "the Kolada page names the problem"
    assert snapshot() == before
    assert kolada_api.urls == []


def test_import_refuses_another_boards_indicator_by_name(env: Env) -> None:
    response, _url = _request(env, "indicators:import", "ind_a", "POST", "editor_b")
    assert response.status_code == 422
    (problem,) = response.context["result"].problems
    assert env.ind_a.title in problem and env.w.board_a.name in problem


def test_recorded_kolada_is_what_the_fixtures_say(kolada_api: FakeKolada) -> None:
    client = kolada_api.client()
    (kpi,) = client.kpis([KPI])
    assert kpi.title == KPI_TITLE and not kpi.discontinued
    group = client.similar_group(KRAMFORS)
    assert group is not None and group.id == KRAMFORS_GROUP
    assert client.values([KPI], [KRAMFORS, "0000", KRAMFORS_GROUP]) == []
    stockholm = client.values([KPI], ["0180"])
    assert len(stockholm) == 21 and {p.municipality for p in stockholm} == {"0180"}


# --- Tenancy from the other side -------------------------------------------------------------


NYNASHAMN_PAGES = (
    "indicators:list",
    "indicators:kolada",
    "indicators:import",
    "indicators:settings",
)


@pytest.mark.parametrize("url_name", NYNASHAMN_PAGES)
def test_kramfors_members_get_404_in_nynashamn(env: Env, url_name: str) -> None:
    url = reverse(url_name, args=[NYNASHAMN])
    for user in ("admin", "controller", "controller_a", "editor_a", "editor_b", "reader"):
        assert env.client(user).get(url).status_code == 404, user
    # and Nynäshamn's editor does see them, so the 404 is about the tenant
    response = env.client("other").get(url)
    assert response.status_code == 200
    if url_name == "indicators:list":
        assert SECRET_INDICATOR in response.content.decode()


@pytest.mark.parametrize(
    "url_name",
    [
        "indicators:detail",
        "indicators:edit",
        "indicators:delete",
        "indicators:values",
        "indicators:targets",
    ],
)
def test_kramfors_indicator_under_nynashamn_code_is_404(env: Env, url_name: str) -> None:
    """Both halves of the URL must agree: Nynäshamn's code with a Kramfors indicator is
    unknown, to Nynäshamn's editor and to Kramfors' admin alike."""
    url = reverse(url_name, args=[NYNASHAMN, env.ind_a.pk])
    for user in ("other", "admin"):
        assert env.client(user).get(url).status_code == 404, user
    own = reverse(url_name, args=[NYNASHAMN, env.foreign.pk])
    assert env.client("other").get(own).status_code == 200


@pytest.mark.parametrize(
    ("url_name", "args", "data"),
    [
        ("indicators:edit", ["ind_a"], {"title": "x", "owner": "other_kf"}),
        ("indicators:delete", ["ind_a"], {}),
        ("indicators:values", ["ind_a"], {"period": "2026", "value": "1"}),
        ("indicators:targets", ["ind_a"], {"version": 1}),
        ("indicators:kolada_refresh", ["ind_k"], {}),
        ("indicators:kolada_acknowledge", ["ind_k"], {}),
        ("indicators:item_link", ["council_goal"], {"indicator": "foreign"}),
        ("indicators:item_unlink", ["council_goal", "ind_a"], {}),
        ("indicators:item_override", ["goal_a"], {"status": "met", "justification": "x"}),
    ],
)
def test_nynashamn_editor_cannot_write_kramfors_through_own_code(
    env: Env, kolada_api: FakeKolada, url_name: str, args: list[str], data: dict[str, Any]
) -> None:
    names = {
        "ind_a": env.ind_a.pk,
        "ind_k": env.ind_k.pk,
        "foreign": env.foreign.pk,
        "other_kf": env.other_kf.pk,
        "council_goal": env.w.council_goal.pk,
        "goal_a": env.w.goal_a.pk,
    }
    before = snapshot()
    url = reverse(url_name, args=[NYNASHAMN, *(names[a] for a in args)])
    posted = {k: names.get(v, v) if isinstance(v, str) else v for k, v in data.items()}
    assert env.client("other").post(url, posted).status_code == 404
    assert snapshot() == before
    assert kolada_api.urls == []


def test_nynashamn_import_cannot_name_kramfors_indicators(env: Env) -> None:
    before = snapshot()
    url = reverse("indicators:import", args=[NYNASHAMN])
    response = env.client("other").post(
        url, _csv(f"Indikator;Period;Värde\n{env.ind_a.pk};2024;1\n")
    )
    assert response.status_code == 422
    assert env.ind_a.title not in response.content.decode()
    assert snapshot() == before
    # and a title of Kramfors' is as unknown as its number
    response = env.client("other").post(
        url, _csv(f"Indikator;Period;Värde\n{env.ind_a.title};2024;1\n")
    )
    assert response.status_code == 422
    assert snapshot() == before


# --- Nothing of Nynäshamn leaks into Kramfors' pages ----------------------------------------


@pytest.mark.parametrize("user", ["admin", "editor_a", "reader"])
def test_indicator_pages_never_show_another_municipality(env: Env, user: str) -> None:
    client = env.client(user)
    foreign_owner = env.other_kf.pk
    urls = [
        reverse("indicators:list", args=[KRAMFORS]) + query
        for query in (
            "",
            "?sok=hemlig",
            "?sok=Nynäshamn",
            f"?sok={env.foreign.pk}",
            "?typ=target&kalla=manual",
            "?flaggade=1",
            "?sida=2",
        )
    ]
    urls += [
        reverse("indicators:kolada", args=[KRAMFORS]) + f"?sok={KPI}",
        reverse("indicators:kolada", args=[KRAMFORS]) + "?sok=trygghet",
        reverse("indicators:settings", args=[KRAMFORS]),
        reverse("indicators:detail", args=[KRAMFORS, env.ind_a.pk]),
        reverse("steering:item", args=[KRAMFORS, env.w.council_goal.pk]),
        reverse("steering:item", args=[KRAMFORS, env.w.goal_a.pk]),
        reverse("steering:thread", args=[KRAMFORS]),
    ]
    if user != "reader":
        urls += [
            reverse("indicators:import", args=[KRAMFORS]),
            reverse("indicators:create", args=[KRAMFORS]) + f"?owner={foreign_owner}",
            reverse("indicators:values", args=[KRAMFORS, env.ind_a.pk]) + "?period=2025",
            reverse("indicators:targets", args=[KRAMFORS, env.ind_a.pk]),
        ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for secret in SECRETS:
            assert secret not in body, (url, secret)


@pytest.mark.parametrize("user", ["admin", "controller_a", "editor_a", "editor_b"])
def test_owner_choices_are_own_subtree_only(env: Env, user: str) -> None:
    """The new-indicator form and Kolada's create form offer only the user's own units."""
    client = env.client(user)
    response = client.get(reverse("indicators:create", args=[KRAMFORS]))
    owners = set(response.context["form"].fields["owner"].queryset)
    assert owners and all(unit.municipality_id == env.w.kramfors.pk for unit in owners)
    kolada_page = client.get(reverse("indicators:kolada", args=[KRAMFORS]), {"sok": KPI})
    offered = set(kolada_page.context["owners"])
    assert offered == owners
    if user == "admin":
        assert {env.w.kf, env.w.board_a, env.w.board_b} <= owners
    else:
        board = env.w.board_b if user == "editor_b" else env.w.board_a
        assert board in owners and all(unit.is_within(board) for unit in owners)
    edit = client.get(reverse("indicators:edit", args=[KRAMFORS, env.ind_b.pk]))
    if user in ("admin", "editor_b"):
        assert env.other_kf not in set(edit.context["form"].fields["owner"].queryset)


def test_import_page_lists_only_indicators_the_user_may_change(env: Env) -> None:
    url = reverse("indicators:import", args=[KRAMFORS])
    expected = {
        "admin": {env.ind_a, env.ind_b, env.ind_k},
        "controller_a": {env.ind_a, env.ind_k},
        "editor_a": {env.ind_a, env.ind_k},
        "editor_b": {env.ind_b},
    }
    for user, indicators in expected.items():
        assert set(env.client(user).get(url).context["editable"]) == indicators, user


# --- The pages offer only what the user may do -----------------------------------------------


@pytest.mark.parametrize(
    ("user", "writes_a", "writes_kf", "creates", "configures"),
    [
        ("admin", True, True, True, True),
        ("controller", True, True, True, False),
        ("controller_a", True, False, True, False),
        ("editor_a", True, False, True, False),
        ("editor_b", False, False, True, False),
        ("reader", False, False, False, False),
    ],
)
def test_pages_offer_only_permitted_actions(
    env: Env, user: str, writes_a: bool, writes_kf: bool, creates: bool, configures: bool
) -> None:
    client = env.client(user)
    ind_a = [KRAMFORS, env.ind_a.pk]
    detail = client.get(reverse("indicators:detail", args=ind_a)).content.decode()
    for name in ("indicators:edit", "indicators:delete", "indicators:values", "indicators:targets"):
        assert (reverse(name, args=ind_a) in detail) is writes_a, name
    ind_k = [KRAMFORS, env.ind_k.pk]
    kolada_detail = client.get(reverse("indicators:detail", args=ind_k)).content.decode()
    for name in ("indicators:kolada_refresh", "indicators:kolada_acknowledge"):
        assert (reverse(name, args=ind_k) in kolada_detail) is writes_a, name
    listing = client.get(reverse("indicators:list", args=[KRAMFORS])).content.decode()
    assert (reverse("indicators:create", args=[KRAMFORS]) in listing) is creates
    assert (reverse("indicators:import", args=[KRAMFORS]) in listing) is creates
    rules = client.get(reverse("indicators:settings", args=[KRAMFORS]))
    assert all(f.disabled for f in rules.context["form"].fields.values()) is not configures
    # The council goal's page: its indicators may be linked and unlinked by those who write it.
    goal = [KRAMFORS, env.w.council_goal.pk]
    item_page = client.get(reverse("steering:item", args=goal)).content.decode()
    assert env.ind_a.title in item_page
    unlink = reverse("indicators:item_unlink", args=[*goal, env.ind_a.pk])
    assert (unlink in item_page) is writes_kf
    assert (reverse("indicators:item_link", args=goal) in item_page) is writes_kf
    assert (reverse("indicators:item_override", args=goal) in item_page) is writes_kf
    goal_a = [KRAMFORS, env.w.goal_a.pk]
    goal_a_page = client.get(reverse("steering:item", args=goal_a)).content.decode()
    assert (reverse("indicators:item_override", args=goal_a) in goal_a_page) is writes_a


# --- Kolada: asked only by allowed writes, and audited when it changes something ------------


def test_kolada_refresh_audits_changed_flags(env: Env, kolada_api: FakeKolada) -> None:
    """An earlier fetch did not find the KPI; now Kolada has it again: the flag is cleared and
    the change is in the log."""
    Indicator.objects.filter(pk=env.ind_k.pk).update(kolada_missing=True)
    last = _last_audit_pk()
    url = reverse("indicators:kolada_refresh", args=[KRAMFORS, env.ind_k.pk])
    response = env.client("editor_a").post(url)
    assert response.status_code == 302
    assert not _fresh(env.ind_k).kolada_missing
    (event,) = AuditEvent.objects.filter(pk__gt=last)
    assert (event.user, event.object_id) == (env.w.editor_a, str(env.ind_k.pk))
    assert event.before == {"renamed": False, "discontinued": False, "missing": True}
    assert f"/kpi/{KPI}?" in kolada_api.urls[0]
    assert any(
        f"/data/kpi/{KPI}/municipality/{KRAMFORS},0000,{KRAMFORS_GROUP}" in u
        for u in kolada_api.urls
    )


def test_kolada_create_asks_kolada_for_the_kpi_group_and_values(
    env: Env, kolada_api: FakeKolada
) -> None:
    url = reverse("indicators:kolada", args=[KRAMFORS])
    response = env.client("controller_a").post(url, {"kpi": NEW_KPI, "owner": env.w.school.pk})
    assert response.status_code == 302
    created = Indicator.objects.get(kolada_kpi=NEW_KPI)
    assert response["Location"] == reverse("indicators:detail", args=[KRAMFORS, created.pk])
    assert created.owner == env.w.school
    paths = [httpx.URL(u).path for u in kolada_api.urls]
    assert paths == [
        f"/v3/kpi/{NEW_KPI}",
        f"/v3/municipality/{KRAMFORS}",
        "/v3/municipality_groups",
        f"/v3/data/kpi/{NEW_KPI}/municipality/{KRAMFORS},0000,{KRAMFORS_GROUP}",
    ]


def test_a_kpi_already_followed_is_refused_before_kolada_is_asked(
    env: Env, kolada_api: FakeKolada
) -> None:
    before = snapshot()
    url = reverse("indicators:kolada", args=[KRAMFORS])
    response = env.client("editor_a").post(url, {"kpi": KPI, "owner": env.w.board_a.pk})
    assert response.status_code == 422
    assert env.ind_k.title in response.content.decode()
    assert kolada_api.urls == []
    assert snapshot() == before


def test_override_without_justification_keeps_the_proposal(env: Env) -> None:
    before = snapshot()
    url = reverse("indicators:item_override", args=[KRAMFORS, env.w.goal_a.pk])
    response = env.client("editor_a").post(url, {"status": "not_met"}, follow=True)
    assert response.status_code == 200
    assert snapshot() == before
    assert response.redirect_chain[-1][0] == reverse(
        "steering:item", args=[KRAMFORS, env.w.goal_a.pk]
    )

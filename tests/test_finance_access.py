"""Who may see and who may change what, for every URL of the economy (rodtrad/finance).

The rules (access.py, applied to the economy):

- Nobody sees another municipality's economy: 404, the same answer as an unknown id. Only the
  public page is public: anyone, signed in or not, from any municipality, reads it.
- Anonymous users are sent to the sign-in page from every internal page; a wrong HTTP method
  is 405 for anyone signed in (the method check comes before the tenant check).
- Every member reads the overview, the unit pages, the budgets and the settings, unless the
  municipality shows each board only its own economy (`boards_see_only_own`): then those whose
  roles cover one board only get 404 for the other boards' units, as for an unknown unit.
- Imports, the mapping and the budgets (frames, programme, investments) are written by admins
  and controllers of the whole tree; a unit's forecast by those who write the unit; the
  settings by admins.

One row per (url name, target, method, user) with the expected status. Every POST proves its
effect: an allowed write made its change and was audited (by the acting user, in Kramfors);
a refused one left the database exactly as it was. No page of Kramfors shows anything of
Nynäshamn's, whose board has the same ledger code as Kramfors' board A and its own ledger.

The world is built once for the module inside a transaction (test_finance's, with a ledger of
three months, a budget, frames, a forecast and an unmapped code); each row runs in a savepoint
that is rolled back.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

from rodtrad.finance import services
from rodtrad.finance.models import (
    ActivityArea,
    BudgetFrame,
    FinanceSettings,
    Forecast,
    InvestmentBudget,
    LedgerImport,
    LedgerMapping,
    LedgerRow,
    ProgrammeBudget,
)
from rodtrad.organisations.models import AuditEvent, OrgUnit, OrgUnitKind
from tests.test_access import LOGIN, REDIRECT, rows, wrong_method
from tests.test_finance import (
    ALL_BOARDS,
    BOARD_A_BUDGET,
    BUDGET,
    KRAMFORS,
    USERS,
    YEAR,
    Env,
    base_ledger,
    build_env,
    built_once,
    d,
    economy,
    month_rows,
    outcome,
    sie_file,
    snapshot,
    subtree,
    upload,
)

SECRET_BOARD = "Nynäshamns hemliga nämnd"
SECRET_PROJECT = "Nynäshamns hemliga investering"
SECRET_AMOUNT = d("4321987")  # Nynäshamn's outcome under ansvar 2000, and its frame
SECRETS = (SECRET_BOARD, SECRET_PROJECT, "4,321,987", "4 321 987", "Nynäshamn – hemlig vision")
FORECAST_COMMENT = "Vikarier under våren, fler elever i årskurs 7."

PLANNERS = {  # admins and controllers of the whole tree
    "controller_a": 403,
    "editor_a": 403,
    "editor_b": 403,
    "reader": 403,
}
WRITE_A = {"editor_b": 403, "reader": 403}  # everyone who writes board A's subtree
WRITE_B = {"controller_a": 403, "editor_a": 403, "reader": 403}
ONE_BOARD_A = {"controller_a": 404, "editor_a": 404}  # roles covering board A only


# --- The world -------------------------------------------------------------------------------


# Nynäshamn's board (ledger code 2000, like Kramfors' board A), set when the world is built.
FOREIGN: dict[str, OrgUnit] = {}


def build_access_env() -> Env:
    env = build_env()
    w = env.w
    ledger = base_ledger()
    for month in ledger:
        ledger[month].append(("4410", "9999", "", d(25_000)))  # a code no unit has
    services.ledger_import_sie4(
        user=w.controller,
        municipality=w.kramfors,
        stream=io.BytesIO(sie_file(ledger, BUDGET)),
        filename="huvudbok-mars.se",
        with_budget=True,
    )
    for name, amount in (("board_a", "7800000"), ("board_b", "4920000")):
        services.frame_set(
            user=w.controller,
            municipality=w.kramfors,
            org_unit=env.unit(name),
            year=YEAR,
            amount=d(amount),
            decided_by="Kommunfullmäktige",
            decided_on=None,
            paragraph="§ 112",
            expected_version=None,
        )
    services.forecast_set(
        user=w.editor_a,
        municipality=w.kramfors,
        org_unit=env.unit("board_a"),
        year=YEAR,
        month=3,
        amount=d(7_900_000),
        comment="",
        budget=BOARD_A_BUDGET,
        expected_version=None,
    )
    FinanceSettings.objects.create(municipality=w.kramfors)
    # Nynäshamn: a board with Kramfors' board A's ledger code, its own outcome and frame.
    other_kf = w.other_vision.owner
    board = OrgUnit.objects.create(
        municipality=w.nynashamn,
        name=SECRET_BOARD,
        parent=other_kf,
        kind=OrgUnitKind.objects.get(municipality=w.nynashamn, key="namnd"),
        ledger_code="2000",
    )
    FOREIGN["board"] = board
    services.ledger_import_csv(
        user=w.other,
        municipality=w.nynashamn,
        data=(
            "Period;Konto;Ansvar;Projekt;Belopp\n"
            f"2026-03;4410;2000;;{SECRET_AMOUNT}\n"
            "2026-03;4410;9999;;17\n"
            f"2026-03;1110;2000;PX;{SECRET_AMOUNT}\n"
        ).encode(),
        filename="nynashamn.csv",
    )
    services.frame_set(
        user=w.other,
        municipality=w.nynashamn,
        org_unit=board,
        year=YEAR,
        amount=SECRET_AMOUNT,
        decided_by="KF",
        decided_on=None,
        paragraph="§ 1",
        expected_version=None,
    )
    services.investment_budget_set(
        user=w.other,
        municipality=w.nynashamn,
        code="PX",
        name=SECRET_PROJECT,
        board=board,
        year=YEAR,
        amount=SECRET_AMOUNT,
    )
    return env


@pytest.fixture(scope="module")
def shared_env(django_db_setup: None, django_db_blocker: Any) -> Iterator[Env]:
    with built_once(django_db_blocker, build_access_env) as built:
        yield built


@pytest.fixture
def env(shared_env: Env, db: None) -> Env:
    """The shared world; `db` wraps each test in a savepoint that is rolled back."""
    return shared_env


def test_the_world_is_what_the_rows_assume(env: Env) -> None:
    board_a = economy(env, "board_a")
    assert board_a.budget == BOARD_A_BUDGET
    assert board_a.outcome_to_date == sum(outcome(base_ledger(), *subtree("board_a")).values())
    assert board_a.forecast is not None and board_a.forecast.version == 1
    assert BudgetFrame.objects.get(org_unit=env.units["board_a"]).version == 1
    assert not LedgerMapping.objects.exists()
    assert LedgerRow.objects.filter(municipality=env.kramfors, responsibility="9999").count() == 3
    # Nynäshamn's 2000 is Nynäshamn's: Kramfors' board A has none of it.
    assert SECRET_AMOUNT not in board_a.outcome_by_month
    foreign = LedgerRow.objects.get(
        municipality=env.w.nynashamn, account="4410", month=3, responsibility="2000"
    )
    assert foreign.amount == SECRET_AMOUNT


# --- What a request is, per (url name, target) -----------------------------------------------


@dataclass
class Spec:
    args: Callable[[Env], list[Any]]
    data: Callable[[Env], dict[str, Any]] | None = None
    query: str = ""
    setup: Callable[[Env], None] | None = None  # before the request (rolled back after)
    effect: Callable[[Env, str], None] | None = None  # an allowed POST made its change
    check: Callable[[Env, str, Any], None] | None = None  # what a 200 shows this user


def _code(e: Env) -> list[Any]:
    return [KRAMFORS]


def _unit(name: str) -> Callable[[Env], list[Any]]:
    def args(e: Env) -> list[Any]:
        return [KRAMFORS, e.units[name].pk]

    return args


def _own_only(e: Env) -> None:
    FinanceSettings.objects.filter(municipality=e.kramfors).update(boards_see_only_own=True)


def _published(e: Env) -> None:
    FinanceSettings.objects.filter(municipality=e.kramfors).update(published_year=YEAR)


def _forecast(amount: str, comment: str, version: int | str) -> Callable[[Env], dict[str, Any]]:
    def data(e: Env) -> dict[str, Any]:
        return {"month": 3, "amount": amount, "comment": comment, "version": version}

    return data


def _forecast_saved(name: str, amount: str, version: int) -> Callable[[Env, str], None]:
    def effect(e: Env, user: str) -> None:
        saved = Forecast.objects.get(org_unit=e.units[name], year=YEAR, month=3)
        assert (saved.amount, saved.version) == (d(amount.replace(" ", "")), version)
        assert saved.created_by == e.user(user)

    return effect


@cache
def _march_again() -> bytes:
    ledger = {3: month_rows(3, school_wages=700_000)}
    return sie_file(ledger, BUDGET)


@cache
def _unbalanced() -> bytes:
    return sie_file(base_ledger(), BUDGET).replace(b"602000.00", b"602001.00")


def _sie4_imported(e: Env, user: str) -> None:
    batch = LedgerImport.objects.filter(municipality=e.kramfors).latest("pk")
    assert (batch.months, batch.created_by, batch.budget_lines) == ([3], e.user(user), 60)
    expected = {1: d(601_000), 2: d(602_000), 3: d(700_000)}
    school = economy(e, "school")
    assert {m + 1: v for m, v in enumerate(school.outcome_by_month) if v} == expected
    # Unmapped 9999 was only in the old March: it is gone with it.
    assert LedgerRow.objects.filter(municipality=e.kramfors, responsibility="9999").count() == 2


CSV = "Period;Konto;Ansvar;Verksamhet;Belopp\n2026-04;5111;2110;407;1 234,50\n"
BAD_CSV = "Period;Konto;Ansvar;Verksamhet;Belopp\n2026-04;5111;2110;407;ett tusen\n"


def _csv_imported(e: Env, user: str) -> None:
    batch = LedgerImport.objects.filter(municipality=e.kramfors).latest("pk")
    assert (batch.source, batch.months, batch.created_by) == ("csv", [4], e.user(user))
    assert economy(e, "school").outcome_by_month[3] == d("1234.50")


def _mapped(e: Env, user: str) -> None:
    mapping = LedgerMapping.objects.get(municipality=e.kramfors, code="9999")
    assert (mapping.dimension, mapping.org_unit_id) == ("ansvar", e.units["school"].pk)
    before = sum(outcome(base_ledger(), *subtree("board_a")).values())
    assert economy(e, "board_a").outcome_to_date == before + d(75_000)


def _frame_data(version: int | str) -> Callable[[Env], dict[str, Any]]:
    def data(e: Env) -> dict[str, Any]:
        return {
            "board": e.units["board_a"].pk,
            "amount": "12 500 000",
            "decided_by": "Kommunfullmäktige",
            "decided_on": "2025-11-24",
            "paragraph": "§ 112",
            "version": version,
        }

    return data


def _frame_saved(e: Env, user: str) -> None:
    saved = BudgetFrame.objects.get(org_unit=e.units["board_a"], year=YEAR)
    assert (saved.amount, saved.decided_by, str(saved.decided_on), saved.version) == (
        d(12_500_000),
        "Kommunfullmäktige",
        "2025-11-24",
        2,
    )


def _foreign_frame_data(e: Env) -> dict[str, Any]:
    return {**_frame_data(1)(e), "board": FOREIGN["board"].pk}


def _programme_data(e: Env) -> dict[str, Any]:
    area = ActivityArea.objects.get(municipality=e.kramfors, code="510")
    return {"kind": "programme", "area": area.pk, "amount": "5 000 000"}


def _programme_saved(e: Env, user: str) -> None:
    saved = ProgrammeBudget.objects.get(activity_area__municipality=e.kramfors, year=YEAR)
    assert (saved.activity_area.code, saved.amount) == ("510", d(5_000_000))


def _investment_data(e: Env) -> dict[str, Any]:
    return {
        "kind": "investment",
        "code": "P100",
        "name": "Ny förskola i Gudmundrå",
        "board": e.units["board_a"].pk,
        "amount": "2 500 000",
    }


def _investment_saved(e: Env, user: str) -> None:
    saved = InvestmentBudget.objects.get(project__municipality=e.kramfors, project__code="P100")
    assert (saved.project.org_unit_id, saved.year, saved.amount) == (
        e.units["board_a"].pk,
        YEAR,
        d(2_500_000),
    )


def _settings_data(version: int) -> Callable[[Env], dict[str, Any]]:
    def data(e: Env) -> dict[str, Any]:
        return {
            "version": version,
            "deviation_pct": "3,5",
            "deviation_amount": "0",
            "boards_see_only_own": "on",
            "published_year": "2025",
            "responsibility_dim": "1",
            "activity_dim": "20",
            "project_dim": "6",
        }

    return data


def _settings_saved(e: Env, user: str) -> None:
    saved = FinanceSettings.objects.get(municipality=e.kramfors)
    assert (saved.deviation_pct, saved.boards_see_only_own, saved.published_year) == (
        d("3.5"),
        True,
        2025,
    )
    assert saved.version == 1


# checks of what a page shows


def _all_boards(e: Env, user: str, response: Any) -> None:
    assert [r.unit.name for r in response.context["rows"]] == ALL_BOARDS


def _own_boards(e: Env, user: str, response: Any) -> None:
    names = [r.unit.name for r in response.context["rows"]]
    if user in ("editor_a", "controller_a"):
        assert names == ["Barn- och utbildningsnämnden"]
        assert "Omsorgsnämnden" not in response.content.decode()
    elif user == "editor_b":
        assert names == ["Omsorgsnämnden"]
    else:
        assert names == ALL_BOARDS


def _unpublished(e: Env, user: str, response: Any) -> None:
    assert (response.context["year"], response.context["rows"]) == (None, [])
    assert "7,800,000" not in response.content.decode()


def _published_rows(e: Env, user: str, response: Any) -> None:
    assert response.context["year"] == YEAR
    assert [r.unit.name for r in response.context["rows"]] == ALL_BOARDS
    assert "7,800,000" in response.content.decode()


TARGETS: dict[tuple[str, str], Spec] = {
    ("finance:overview", "page"): Spec(_code, check=_all_boards),
    ("finance:overview", "own_only"): Spec(_code, setup=_own_only, check=_own_boards),
    ("finance:unit", "board_a"): Spec(
        _unit("board_a"),
        data=_forecast("8 000 000", FORECAST_COMMENT, 1),
        effect=_forecast_saved("board_a", "8 000 000", 2),
    ),
    ("finance:unit", "board_b"): Spec(
        _unit("board_b"),
        data=_forecast("4 920 000", "", ""),
        effect=_forecast_saved("board_b", "4 920 000", 1),
    ),
    ("finance:unit", "board_b_own_only"): Spec(
        _unit("board_b"),
        setup=_own_only,
        data=_forecast("4 920 000", "", ""),
        effect=_forecast_saved("board_b", "4 920 000", 1),
    ),
    # A page opened before board A's March forecast was saved: refused, nothing lost.
    ("finance:unit", "board_a_stale"): Spec(
        _unit("board_a"), data=_forecast("8 000 000", FORECAST_COMMENT, "")
    ),
    # 9 000 000 against 7 800 000 needs a comment.
    ("finance:unit", "board_a_no_comment"): Spec(
        _unit("board_a"), data=_forecast("9 000 000", " ", 1)
    ),
    ("finance:unit", "foreign"): Spec(
        lambda e: [KRAMFORS, FOREIGN["board"].pk], data=_forecast("1", "x", "")
    ),
    ("finance:unit", "unknown"): Spec(lambda e: [KRAMFORS, 999_999]),
    ("finance:import", "page"): Spec(_code),
    ("finance:import", "sie4"): Spec(
        _code,
        data=lambda e: {"file": upload(_march_again()), "with_budget": "on"},
        effect=_sie4_imported,
    ),
    ("finance:import", "bad_sie4"): Spec(
        _code, data=lambda e: {"file": upload(_unbalanced()), "with_budget": "on"}
    ),
    ("finance:import", "csv"): Spec(
        _code, data=lambda e: {"file": upload(CSV.encode(), "utfall.csv")}, effect=_csv_imported
    ),
    ("finance:import", "bad_csv"): Spec(
        _code, data=lambda e: {"file": upload(BAD_CSV.encode(), "utfall.csv")}
    ),
    ("finance:mapping", "page"): Spec(_code),
    ("finance:mapping", "code"): Spec(
        _code,
        data=lambda e: {"code": "9999", "dimension": "ansvar", "org_unit": e.units["school"].pk},
        effect=_mapped,
    ),
    ("finance:mapping", "foreign_unit"): Spec(
        _code,
        data=lambda e: {"code": "9999", "dimension": "ansvar", "org_unit": FOREIGN["board"].pk},
    ),
    ("finance:budgets", "page"): Spec(_code),
    ("finance:budgets", "frame"): Spec(_code, data=_frame_data(1), effect=_frame_saved),
    ("finance:budgets", "stale_frame"): Spec(_code, data=_frame_data("")),
    ("finance:budgets", "foreign_board"): Spec(_code, data=_foreign_frame_data),
    ("finance:budgets", "programme"): Spec(_code, data=_programme_data, effect=_programme_saved),
    ("finance:budgets", "investment"): Spec(_code, data=_investment_data, effect=_investment_saved),
    ("finance:settings", "page"): Spec(_code, data=_settings_data(0), effect=_settings_saved),
    ("finance:settings", "stale"): Spec(_code, data=_settings_data(7)),
    ("finance:public", "unpublished"): Spec(_code, check=_unpublished),
    ("finance:public", "published"): Spec(_code, setup=_published, check=_published_rows),
}

Row = tuple[str, str, str, str, int | str]
EVERYONE = {"other": 200, "anonymous": 200}  # the public page

MATRIX: list[Row] = [
    # The overview: every member; with only-own, each board's officials see their board.
    *rows("finance:overview", "page", "GET", 200),
    *rows("finance:overview", "own_only", "GET", 200),
    *wrong_method("finance:overview", "page", "POST"),
    # A unit's page: every member reads it (unless only-own hides it); the forecast is
    # written by those who write the unit.
    *rows("finance:unit", "board_a", "GET", 200),
    *rows("finance:unit", "board_a", "POST", REDIRECT, **WRITE_A),
    *rows("finance:unit", "board_b", "GET", 200),
    *rows("finance:unit", "board_b", "POST", REDIRECT, **WRITE_B),
    *rows("finance:unit", "board_b_own_only", "GET", 200, **ONE_BOARD_A),
    *rows("finance:unit", "board_b_own_only", "POST", REDIRECT, reader=403, **ONE_BOARD_A),
    *rows("finance:unit", "board_a_stale", "POST", 409, **WRITE_A),
    *rows("finance:unit", "board_a_no_comment", "POST", 422, **WRITE_A),
    *rows("finance:unit", "foreign", "GET", 404),
    *rows("finance:unit", "foreign", "POST", 404),
    *rows("finance:unit", "unknown", "GET", 404),
    *wrong_method("finance:unit", "board_a", "PUT"),
    # Imports: admins and controllers of the whole tree. The summary is on the page (200); a
    # file with an error is 422 and writes nothing.
    *rows("finance:import", "page", "GET", 200, **PLANNERS),
    *rows("finance:import", "sie4", "POST", 200, **PLANNERS),
    *rows("finance:import", "bad_sie4", "POST", 422, **PLANNERS),
    *rows("finance:import", "csv", "POST", 200, **PLANNERS),
    *rows("finance:import", "bad_csv", "POST", 422, **PLANNERS),
    *wrong_method("finance:import", "page", "PUT"),
    # The mapping: as imports.
    *rows("finance:mapping", "page", "GET", 200, **PLANNERS),
    *rows("finance:mapping", "code", "POST", REDIRECT, **PLANNERS),
    *rows("finance:mapping", "foreign_unit", "POST", 422, **PLANNERS),
    *wrong_method("finance:mapping", "page", "PUT"),
    # Budgets: every member reads them; frames, programme and investments as imports.
    *rows("finance:budgets", "page", "GET", 200),
    *rows("finance:budgets", "frame", "POST", REDIRECT, **PLANNERS),
    *rows("finance:budgets", "stale_frame", "POST", 409, **PLANNERS),
    *rows("finance:budgets", "foreign_board", "POST", 422, **PLANNERS),
    *rows("finance:budgets", "programme", "POST", REDIRECT, **PLANNERS),
    *rows("finance:budgets", "investment", "POST", REDIRECT, **PLANNERS),
    *wrong_method("finance:budgets", "page", "PUT"),
    # Settings: every member reads them (a disabled form), admins change them.
    *rows("finance:settings", "page", "GET", 200),
    *rows("finance:settings", "page", "POST", 403, admin=REDIRECT),
    *rows("finance:settings", "stale", "POST", 403, admin=409),
    *wrong_method("finance:settings", "page", "PUT"),
    # The public page: anyone, also signed out and from another municipality.
    *rows("finance:public", "unpublished", "GET", 200, **EVERYONE),
    *rows("finance:public", "published", "GET", 200, **EVERYONE),
    *rows("finance:public", "unpublished", "POST", 405, other=405, anonymous=405),
]


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


@pytest.mark.parametrize(
    ("url_name", "target", "method", "user", "expected"),
    MATRIX,
    ids=[f"{n}-{t}-{m}-{u}" for n, t, m, u, _ in MATRIX],
)
def test_finance_access_matrix(
    env: Env, url_name: str, target: str, method: str, user: str, expected: int | str
) -> None:
    spec = TARGETS[(url_name, target)]
    if spec.setup is not None:
        spec.setup(env)
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
    text = response.content.decode()
    for secret in SECRETS:
        assert secret not in text, secret
    if expected == 200 and method == "GET" and spec.check is not None:
        spec.check(env, user, response)
    if writes:
        assert spec.effect is not None
        spec.effect(env, user)
        new_events = AuditEvent.objects.filter(pk__gt=last_audit)
        assert new_events.exists(), "every write is audited"
        acting = env.user(user)
        assert acting is not None
        for event in new_events:
            assert (event.user_id, event.municipality_id) == (acting.pk, env.kramfors.pk)
    else:
        assert snapshot() == before, "a refused or read-only request changed something"


def test_every_url_is_in_the_matrix() -> None:
    """A new URL must get rows here before it ships: every user, GET and POST, a wrong
    method, and (for an URL naming a unit) another municipality's unit."""
    from rodtrad.finance import urls as finance_urls

    names = {f"finance:{p.name}" for p in finance_urls.urlpatterns}
    covered = {name for name, *_ in MATRIX}
    assert names == covered, names ^ covered
    for pattern in finance_urls.urlpatterns:
        name = f"finance:{pattern.name}"
        mine = [(t, m, u, s) for n, t, m, u, s in MATRIX if n == name]
        for method in ("GET", "POST"):
            assert {u for _t, m, u, _s in mine if m == method} == set(USERS), (name, method)
        assert any(s == 405 for *_rest, s in mine), f"{name} has no wrong-method row"
        if "<int:pk>" in str(pattern.pattern):
            foreign = {u: s for t, _m, u, s in mine if t == "foreign"}
            assert foreign, f"{name} has no row for another municipality's unit"
            assert all(s == 404 for u, s in foreign.items() if u != "anonymous"), name
        if name != "finance:public":
            # Nynäshamn's user gets 404 from every Kramfors page, whatever the method
            # (but a wrong one); anonymous users the sign-in page.
            for _t, method, user, status in mine:
                if user == "other" and status != 405:
                    assert status == 404, (name, method)
                if user == "anonymous":
                    assert status == LOGIN, (name, method)
    assert set(TARGETS) == {(n, t) for n, t, *_ in MATRIX}
    posts = {(n, t) for n, t, m, *_ in MATRIX if m == "POST"}
    for key in posts:
        statuses = {s for n, t, m, _u, s in MATRIX if (n, t) == key and m == "POST"}
        if statuses & {REDIRECT, 200}:
            assert TARGETS[key].effect is not None, f"{key} writes but checks no effect"


# --- Tenancy from the other side -------------------------------------------------------------


INTERNAL = ("overview", "import", "mapping", "budgets", "settings")


@pytest.mark.parametrize("name", INTERNAL)
def test_kramfors_members_get_404_in_nynashamn(env: Env, name: str) -> None:
    url = reverse(f"finance:{name}", args=["0192"])
    before = snapshot()
    for user in ("admin", "controller", "controller_a", "editor_a", "editor_b", "reader"):
        assert env.client(user).get(url).status_code == 404, user
        if name != "overview":  # GET only: a POST is 405 before the tenant is looked at
            assert env.client(user).post(url, {}).status_code == 404, user
    assert snapshot() == before


def test_nynashamn_unit_page_is_nynashamns(env: Env) -> None:
    """The 404s are about the tenant: Nynäshamn's own user reads its board, with its own
    outcome for ansvar 2000 and nothing of Kramfors'."""
    url = reverse("finance:unit", args=["0192", FOREIGN["board"].pk]) + f"?ar={YEAR}"
    response = env.client("other").get(url)
    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures.outcome_to_date == SECRET_AMOUNT
    assert figures.frame is not None and figures.frame.amount == SECRET_AMOUNT
    assert "Gudmundråskolan" not in response.content.decode()
    # Kramfors' unit under Nynäshamn's code is unknown to both.
    url = reverse("finance:unit", args=["0192", env.units["board_a"].pk])
    for user in ("other", "admin"):
        assert env.client(user).get(url).status_code == 404


def test_kramfors_mapping_lists_only_kramfors_codes(env: Env) -> None:
    response = env.client("admin").get(reverse("finance:mapping", args=[KRAMFORS]))
    assert [(r["responsibility"], r["total"]) for r in response.context["unmapped"]] == [
        ("9999", d(75_000))
    ]
    assert FOREIGN["board"] not in list(response.context["units"])


def test_public_page_of_an_unknown_municipality_is_404(env: Env) -> None:
    assert env.client("anonymous").get(reverse("finance:public", args=["9999"])).status_code == 404


# --- The pages offer only what the user may do -----------------------------------------------


@pytest.mark.parametrize(
    ("user", "plans", "forecasts_a", "forecasts_b", "configures"),
    [
        ("admin", True, True, True, True),
        ("controller", True, True, True, False),
        ("controller_a", False, True, False, False),
        ("editor_a", False, True, False, False),
        ("editor_b", False, False, True, False),
        ("reader", False, False, False, False),
    ],
)
def test_pages_offer_only_permitted_actions(
    env: Env, user: str, plans: bool, forecasts_a: bool, forecasts_b: bool, configures: bool
) -> None:
    client = env.client(user)
    overview = client.get(reverse("finance:overview", args=[KRAMFORS])).content.decode()
    assert (reverse("finance:import", args=[KRAMFORS]) in overview) is plans
    assert (reverse("finance:mapping", args=[KRAMFORS]) in overview) is plans
    budgets = client.get(reverse("finance:budgets", args=[KRAMFORS]))
    assert budgets.context["can_write"] is plans
    assert ('name="kind" value="investment"' in budgets.content.decode()) is plans
    for name, allowed in (("board_a", forecasts_a), ("board_b", forecasts_b)):
        page = client.get(reverse("finance:unit", args=[KRAMFORS, env.units[name].pk]))
        assert (page.context["form"] is not None) is allowed, name
    settings_page = client.get(reverse("finance:settings", args=[KRAMFORS]))
    form = settings_page.context["form"]
    assert all(f.disabled for f in form.fields.values()) is not configures


def test_a_refused_forecast_keeps_what_was_typed_and_what_was_saved(env: Env) -> None:
    response, _url = _request(env, "finance:unit", "board_a_stale", "POST", "controller_a")
    assert response.status_code == 409
    text = response.content.decode()
    assert FORECAST_COMMENT in text and "8 000 000" in text  # the typed forecast
    assert "7,900,000" in text  # and the saved one, in the forecasts of the year
    assert Forecast.objects.get(org_unit=env.units["board_a"], month=3).amount == Decimal(7_900_000)

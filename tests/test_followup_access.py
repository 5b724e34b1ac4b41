"""Who may see and who may do what, for every URL of the follow-up (rodtrad/followup).

The rules (selectors.py):

- Nobody sees another municipality's follow-up: 404, the same answer as an unknown id.
  Anonymous users are sent to the sign-in page; a wrong HTTP method is 405 for anyone signed in
  (the method check comes before the tenant check).
- Every member reads the periods, every report and every approved version.
- The cycle overview is for controllers (of their subtree) and administrators; generating and
  opening periods, moving deadlines, reminding and closing for the whole tree's controllers
  and administrators.
- A report is written and submitted by those who write its org unit, while it is a draft in an
  open period: nobody writes a submitted or approved (frozen) report.
- A controller over the unit records the approval; a unit's report is approved from above it,
  so the unit's own people may not. The council's approval is recorded by the whole tree's
  controllers and administrators, only where the model sends the report to the council.

The world is built once for the module inside a transaction: Kramfors' Delårsrapport 2026 is
open with the units reporting too (the school's report submitted, the council's approved, the
boards' and the executive board's drafts), the Årsredovisning planned, and Nynäshamn has an
approved report of its own. Each row runs in a savepoint that is rolled back. Every allowed
POST proves its effect and (but for reminders) its audit event by the acting user; every other
request leaves the follow-up tables and the audit trail exactly as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rodtrad.finance.models import Forecast
from rodtrad.followup import services
from rodtrad.followup.models import (
    Assessment,
    EventAction,
    FollowUpPeriod,
    PeriodStatus,
    Reminder,
    Report,
    ReportEvent,
    ReportSection,
    ReportStatus,
    Snapshot,
)
from rodtrad.organisations.models import AuditEvent, OrgUnit, OrgUnitKind, User
from rodtrad.steering.models import PlanYear
from tests.conftest import World, build_world
from tests.test_followup import (
    ANNUAL,
    INTERIM,
    KF_TEXT,
    built_once,
    decision,
    fill,
    forecast,
    person,
    report_of,
    units_report,
    with_emails,
)

KRAMFORS = "2282"
NYNASHAMN = "0192"
LOGIN = "login"  # expected: 302 to the sign-in page with ?next=
REDIRECT = 302  # expected: 302 somewhere else (the view's own redirect)
SECRET_BOARD = "Nynäshamns hemliga nämnd"
SECRET_TEXT = "Hemlig text från Nynäshamn"
SECRETS = (SECRET_BOARD, SECRET_TEXT, "Nynäshamn – hemlig vision")
POSTED = "Analys skriven i matrisen."

USERS = (
    "anonymous",
    "other",  # Nynäshamn's editor
    "reader",
    "editor_a",
    "editor_b",
    "unit_editor",  # an editor of the school, under board A
    "controller_a",  # a controller of board A
    "controller",  # a controller of the whole tree
    "admin",
)

# Who is refused (403) what the default allows; "other" and "anonymous" as in rows().
MANAGERS = {
    "reader": 403,
    "editor_a": 403,
    "editor_b": 403,
    "unit_editor": 403,
    "controller_a": 403,
}
OVERSEERS = {"reader": 403, "editor_a": 403, "editor_b": 403, "unit_editor": 403}
WRITE_A = {"reader": 403, "editor_b": 403, "unit_editor": 403}
WRITE_B = {"reader": 403, "editor_a": 403, "controller_a": 403, "unit_editor": 403}
WRITE_SCHOOL = {"reader": 403, "editor_b": 403}
APPROVE_A = {"reader": 403, "editor_a": 403, "editor_b": 403, "unit_editor": 403}
NOBODY = 403


# --- The world -------------------------------------------------------------------------------


FOLLOWUP_TABLES = (
    FollowUpPeriod,
    Report,
    Assessment,
    ReportSection,
    ReportEvent,
    Snapshot,
    Reminder,
)


def followup_state() -> dict[str, Any]:
    """Every row of every follow-up table, and how many audit events there are (raw SQL: the
    matrix asks for it twice per row)."""
    state: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for model in FOLLOWUP_TABLES:
            table = model._meta.db_table
            cursor.execute(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608 - model names
            state[table] = cursor.fetchall()
        cursor.execute(f"SELECT COUNT(*) FROM {AuditEvent._meta.db_table}")  # noqa: S608
        state["audit"] = cursor.fetchone()
    return state


@dataclass
class Env:
    w: World
    users: dict[str, User | None]
    sessions: dict[str, str]
    interim: FollowUpPeriod
    annual: FollowUpPeriod
    reports: dict[str, Report]
    last_year: PlanYear
    foreign: dict[str, Any]
    clients: dict[str, Client] = field(default_factory=dict)

    @property
    def kramfors(self) -> Any:
        return self.w.kramfors

    def user(self, name: str) -> User | None:
        return self.users[name]

    def client(self, name: str) -> Client:
        """One client per user for the module, with only that user's session cookie."""
        client = self.clients.setdefault(name, Client())
        client.cookies = SimpleCookie()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        if name != "anonymous":
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[name]
        return client

    def report(self, name: str) -> Report:
        return Report.objects.get(pk=self.reports[name].pk)

    def assessment(self, name: str) -> Assessment:
        return Assessment.objects.get(report_id=self.reports[name].pk)

    def section(self, name: str, key: str) -> ReportSection:
        return ReportSection.objects.get(report_id=self.reports[name].pk, key=key)


def build_env() -> Env:
    w = build_world()
    units_report(w)
    with_emails(w)
    users: dict[str, User | None] = {
        "anonymous": None,
        "other": w.other,
        "reader": w.reader,
        "editor_a": w.editor_a,
        "editor_b": w.editor_b,
        "unit_editor": person(w, "rektor-editor", w.school, "editor"),
        "controller_a": person(w, "controller-board-a", w.board_a, "controller"),
        "controller": w.controller,
        "admin": w.admin,
    }
    forecast(w, w.board_a)  # board A may mark its economy ready; board B may not
    last_year = PlanYear.objects.create(period=w.period, year=2025, status="adopted")
    periods = {p.kind.key: p for p in services.periods_generate(plan_year=w.year, user=w.admin)}
    services.period_open(period=periods[INTERIM], user=w.admin)
    interim = FollowUpPeriod.objects.get(pk=periods[INTERIM].pk)
    ks = OrgUnit.objects.get(municipality=w.kramfors, name="Kommunstyrelsen")
    reports = {
        name: report_of(interim, unit)
        for name, unit in (
            ("kf", w.kf),
            ("ks", ks),
            ("board_a", w.board_a),
            ("board_b", w.board_b),
            ("school", w.school),
        )
    }
    fill(w, reports["school"], users["unit_editor"], analysis="Läsombud på alla skolor.")
    services.report_submit(report=reports["school"], user=users["unit_editor"])
    fill(w, reports["kf"], w.controller, analysis=KF_TEXT)
    services.report_submit(report=reports["kf"], user=w.controller)
    services.reports_approve(
        reports=[reports["kf"]], user=w.controller, **decision("Kommunstyrelsen")
    )

    # Nynäshamn: a board with an approved report of its own, in its own Delårsrapport 2026.
    board = OrgUnit.objects.create(
        municipality=w.nynashamn,
        name=SECRET_BOARD,
        parent=w.other_vision.owner,
        kind=OrgUnitKind.objects.get(municipality=w.nynashamn, key="namnd"),
    )
    other_year = PlanYear.objects.create(period=w.other_vision.period, year=2026)
    foreign_periods = {
        p.kind.key: p for p in services.periods_generate(plan_year=other_year, user=w.other)
    }
    foreign_period = foreign_periods[INTERIM]
    services.period_open(period=foreign_period, user=w.other)
    foreign_report = Report.objects.get(period=foreign_period, org_unit=board)
    foreign_assessment = Assessment.objects.create(report=foreign_report, item=w.other_vision)
    Report.objects.filter(pk=foreign_report.pk).update(parts_total=F("parts_total") + 1)
    Forecast.objects.create(
        municipality=w.nynashamn, org_unit=board, year=2026, month=6, amount=Decimal(1)
    )
    fill(w, Report.objects.get(pk=foreign_report.pk), w.other, analysis=SECRET_TEXT)
    services.report_submit(report=foreign_report, user=w.other)
    services.reports_approve(reports=[foreign_report], user=w.other, **decision("Nämnden"))

    sessions = {}
    for name, user in users.items():
        if user is not None:
            client = Client()
            client.force_login(user)
            sessions[name] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return Env(
        w=w,
        users=users,
        sessions=sessions,
        interim=interim,
        annual=periods[ANNUAL],
        reports=reports,
        last_year=last_year,
        foreign={
            "plan_year": other_year,
            "period": foreign_period,
            "report": foreign_report,
            "assessment": foreign_assessment,
            "section": foreign_report.sections.get(key="viktiga-handelser"),
        },
    )


@pytest.fixture(scope="module")
def shared_env(django_db_setup: None, django_db_blocker: Any) -> Iterator[Env]:
    with built_once(django_db_blocker, build_env) as built:
        yield built


@pytest.fixture
def env(shared_env: Env, db: None) -> Env:
    """The shared world; `db` wraps each test in a savepoint that is rolled back."""
    return shared_env


def test_the_world_is_what_the_rows_assume(env: Env) -> None:
    statuses = {name: env.report(name).status for name in env.reports}
    assert statuses == {
        "kf": ReportStatus.APPROVED,
        "ks": ReportStatus.DRAFT,
        "board_a": ReportStatus.DRAFT,
        "board_b": ReportStatus.DRAFT,
        "school": ReportStatus.SUBMITTED,
    }
    assert env.report("kf").needs_council and env.report("kf").frozen
    assert (env.interim.status, env.interim.version) == (PeriodStatus.OPEN, 2)
    assert FollowUpPeriod.objects.get(pk=env.annual.pk).status == PeriodStatus.PLANNED
    assert not FollowUpPeriod.objects.filter(year=2025).exists()
    assert Snapshot.objects.filter(report=env.foreign["report"]).count() == 1
    assert Report.objects.get(pk=env.foreign["report"].pk).status == ReportStatus.APPROVED
    assert not Reminder.objects.exists()


# --- What a request is, per (url name, target) -----------------------------------------------


@dataclass
class Spec:
    args: Callable[[Env], list[Any]]
    data: Callable[[Env], dict[str, Any]] | None = None
    setup: Callable[[Env], None] | None = None  # before the request (rolled back after)
    effect: Callable[[Env, str], None] | None = None  # an allowed POST made its change
    check: Callable[[Env, str, Any], None] | None = None  # what a 200 shows this user
    audited: bool = True


def _code(e: Env) -> list[Any]:
    return [KRAMFORS]


def _period(name: str) -> Callable[[Env], list[Any]]:
    def args(e: Env) -> list[Any]:
        period = {"interim": e.interim, "annual": e.annual, "foreign": e.foreign["period"]}[name]
        return [KRAMFORS, period.pk]

    return args


def _report(name: str, *more: Callable[[Env], Any]) -> Callable[[Env], list[Any]]:
    def args(e: Env) -> list[Any]:
        pk = e.foreign["report"].pk if name == "foreign" else e.reports[name].pk
        return [KRAMFORS, pk, *(extra(e) for extra in more)]

    return args


def _unknown(*parts: int) -> Callable[[Env], list[Any]]:
    return lambda e: [KRAMFORS, *parts]


def _decision(e: Env, **changes: str) -> dict[str, Any]:
    return {
        "decided_by": "Barn- och utbildningsnämnden",
        "decided_on": timezone.localdate().isoformat(),
        "paragraph": "§ 12",
        **changes,
    }


def _assessment_data(report: str, **fields: Any) -> Callable[[Env], dict[str, Any]]:
    def data(e: Env) -> dict[str, Any]:
        a = e.assessment(report)
        values = {"status": "partly", "analysis": POSTED, "measures": "", "version": a.version}
        values.update(fields)
        out = {f"a{a.pk}-{k}": v for k, v in values.items() if k != "ready"}
        if fields.get("ready"):
            out[f"a{a.pk}-ready"] = "on"
        return out

    return data


def _assessment_saved(report: str) -> Callable[[Env, str], None]:
    def effect(e: Env, user: str) -> None:
        a = e.assessment(report)
        assert (a.status, a.analysis, a.updated_by) == ("partly", POSTED, e.user(user))

    return effect


def _section_data(
    report: str, key: str = "viktiga-handelser", text: str = POSTED
) -> Callable[[Env], dict[str, Any]]:
    def data(e: Env) -> dict[str, Any]:
        s = e.section(report, key)
        return {f"s{s.pk}-text": text, f"s{s.pk}-ready": "on", f"s{s.pk}-version": s.version}

    return data


def _section_saved(report: str) -> Callable[[Env, str], None]:
    def effect(e: Env, user: str) -> None:
        s = e.section(report, "viktiga-handelser")
        assert (s.text, s.ready, s.updated_by) == (POSTED, True, e.user(user))
        assert e.report(report).parts_ready == 1

    return effect


def _status(report: str, status: str) -> Callable[[Env], None]:
    def setup(e: Env) -> None:
        Report.objects.filter(pk=e.reports[report].pk).update(status=status)

    return setup


def _all_ready(report: str) -> Callable[[Env], None]:
    def setup(e: Env) -> None:
        r = e.reports[report]
        Assessment.objects.filter(report=r).update(status="met", analysis="Klart.", ready=True)
        ReportSection.objects.filter(report=r).update(text="Klart.", ready=True)
        Report.objects.filter(pk=r.pk).update(parts_ready=F("parts_total"))

    return setup


def _all_approved(e: Env) -> None:
    reports = Report.objects.filter(period=e.interim)
    reports.filter(needs_council=True).update(status=ReportStatus.COUNCIL_APPROVED)
    reports.filter(needs_council=False).update(status=ReportStatus.APPROVED)


def _stale_setup(e: Env) -> None:
    a = e.assessment("board_a")
    services.assessment_save(
        assessment=a,
        user=e.w.editor_a,
        expected_version=a.version,
        status="met",
        analysis="Sparad av någon annan.",
        measures="",
        ready=False,
    )


def _stale_data(e: Env) -> dict[str, Any]:
    return {**_assessment_data("board_a")(e), f"a{e.assessment('board_a').pk}-version": 1}


def _stepped(report: str, status: str, action: str, snapshots: int) -> Callable[[Env, str], None]:
    def effect(e: Env, user: str) -> None:
        r = e.report(report)
        assert r.status == status
        event = r.events.latest("pk")
        assert (event.action, event.by) == (action, e.user(user))
        assert r.snapshots.count() == snapshots
        if action in (EventAction.APPROVE, EventAction.COUNCIL_APPROVE):
            snapshot = r.snapshots.get(event=event)
            assert snapshot.content["decision"]["by"]
            assert snapshot.content["decision"]["paragraph"] == event.paragraph

    return effect


def _generated(e: Env, user: str) -> None:
    created = FollowUpPeriod.objects.filter(municipality=e.kramfors, year=2025)
    assert sorted(created.values_list("kind__key", "deadline")) == [
        (ANNUAL, dt.date(2026, 2, 14)),
        (INTERIM, dt.date(2025, 9, 21)),
    ]


def _deadline_moved(e: Env, user: str) -> None:
    period = FollowUpPeriod.objects.get(pk=e.interim.pk)
    assert (period.deadline, period.version) == (dt.date(2026, 9, 30), 3)


def _opened(e: Env, user: str) -> None:
    period = FollowUpPeriod.objects.get(pk=e.annual.pk)
    assert (period.status, period.opened_by) == (PeriodStatus.OPEN, e.user(user))
    assert period.reports.count() == 4  # the units' activities are not in the annual report


def _closed(e: Env, user: str) -> None:
    assert FollowUpPeriod.objects.get(pk=e.interim.pk).status == PeriodStatus.CLOSED


def _reminded(e: Env, user: str) -> None:
    reminded = Reminder.objects.filter(report__period=e.interim)
    assert sorted(reminded.values_list("report__org_unit__name", flat=True)) == [
        "Barn- och utbildningsnämnden",
        "Kommunstyrelsen",
        "Omsorgsnämnden",
    ]
    assert {key.split("-")[0] for key in reminded.values_list("key", flat=True)} == {"late"}


def _approved_school(e: Env, user: str) -> None:
    _stepped("school", ReportStatus.APPROVED, EventAction.APPROVE, 1)(e, user)


# checks of what a page shows


def _mine(e: Env, user: str, response: Any) -> None:
    mine = sorted(r.org_unit.name for r in response.context["mine"])
    expected = {
        "editor_a": ["Barn- och utbildningsnämnden"],
        "controller_a": ["Barn- och utbildningsnämnden"],
        "editor_b": ["Omsorgsnämnden"],
        "controller": ["Barn- och utbildningsnämnden", "Kommunstyrelsen", "Omsorgsnämnden"],
        "admin": ["Barn- och utbildningsnämnden", "Kommunstyrelsen", "Omsorgsnämnden"],
    }.get(user, [])
    assert mine == expected
    assert response.context["can_manage"] is (user in ("controller", "admin"))


def _overview(e: Env, user: str, response: Any) -> None:
    units = sorted(r.unit for r in response.context["data"].rows)
    if user == "controller_a":
        assert units == ["Barn- och utbildningsnämnden", "Gudmundråskolan"]
        assert "Omsorgsnämnden" not in response.content.decode()
    else:
        assert len(units) == 5
    assert response.context["can_manage"] is (user in ("controller", "admin"))


def _editable_for(*users: str) -> Callable[[Env, str, Any], None]:
    def check(e: Env, user: str, response: Any) -> None:
        context = response.context
        assert context["can_edit"] is (user in users)
        forms = [item.get("form") for item in context["content"]["items"]]
        assert all(forms) if user in users else not any(forms)

    return check


def _frozen_page(e: Env, user: str, response: Any) -> None:
    assert not response.context["can_edit"]
    assert response.context["can_council_approve"] is (user in ("controller", "admin"))
    assert response.context["can_reopen"] is (user in ("controller", "admin"))
    assert "Read the report as approved" in response.content.decode()


def _form_shown(e: Env, user: str, response: Any) -> None:
    assert response.context["content"]["items"][0]["form"] is not None


def _approved_text(e: Env, user: str, response: Any) -> None:
    assert response.context["content"]["items"][0]["analysis"] == KF_TEXT
    assert response.context["snapshot"].number == 1


TARGETS: dict[tuple[str, str], Spec] = {
    ("followup:home", "page"): Spec(_code, check=_mine),
    ("followup:generate", "last_year"): Spec(
        lambda e: [KRAMFORS, e.last_year.pk], effect=_generated
    ),
    ("followup:generate", "again"): Spec(lambda e: [KRAMFORS, e.w.year.pk]),
    ("followup:generate", "foreign"): Spec(lambda e: [KRAMFORS, e.foreign["plan_year"].pk]),
    ("followup:period", "interim"): Spec(
        _period("interim"),
        data=lambda e: {"deadline": "2026-09-30", "version": 2},
        effect=_deadline_moved,
        check=_overview,
    ),
    ("followup:period", "stale"): Spec(
        _period("interim"), data=lambda e: {"deadline": "2026-09-30", "version": 1}
    ),
    ("followup:period", "before_end"): Spec(
        _period("interim"), data=lambda e: {"deadline": "2026-08-01", "version": 2}
    ),
    ("followup:period", "foreign"): Spec(_period("foreign")),
    ("followup:open", "annual"): Spec(_period("annual"), effect=_opened),
    ("followup:open", "interim"): Spec(_period("interim")),  # open already: nothing happens
    ("followup:open", "foreign"): Spec(_period("foreign")),
    ("followup:close", "interim"): Spec(_period("interim")),  # not every report approved
    ("followup:close", "ready"): Spec(_period("interim"), setup=_all_approved, effect=_closed),
    ("followup:close", "foreign"): Spec(_period("foreign")),
    ("followup:remind", "interim"): Spec(_period("interim"), effect=_reminded, audited=False),
    ("followup:remind", "foreign"): Spec(_period("foreign")),
    ("followup:approve_many", "school"): Spec(
        _period("interim"),
        data=lambda e: {"rapport": [e.reports["school"].pk], **_decision(e)},
        effect=_approved_school,
    ),
    ("followup:approve_many", "draft"): Spec(
        _period("interim"), data=lambda e: {"rapport": [e.reports["board_b"].pk], **_decision(e)}
    ),
    ("followup:approve_many", "foreign_report"): Spec(
        _period("interim"),
        data=lambda e: {"rapport": [e.foreign["report"].pk], **_decision(e)},
    ),
    ("followup:approve_many", "future"): Spec(
        _period("interim"),
        data=lambda e: {
            "rapport": [e.reports["school"].pk],
            **_decision(e, decided_on=(timezone.localdate() + dt.timedelta(days=2)).isoformat()),
        },
    ),
    ("followup:approve_many", "foreign"): Spec(
        _period("foreign"), data=lambda e: {"rapport": [e.foreign["report"].pk], **_decision(e)}
    ),
    ("followup:report", "board_b"): Spec(
        _report("board_b"), check=_editable_for("editor_b", "controller", "admin")
    ),
    ("followup:report", "frozen"): Spec(_report("kf"), check=_frozen_page),
    ("followup:report", "foreign"): Spec(_report("foreign")),
    ("followup:report", "unknown"): Spec(_unknown(999_999)),
    ("followup:assessment", "board_a"): Spec(
        _report("board_a", lambda e: e.assessment("board_a").pk),
        data=_assessment_data("board_a"),
        effect=_assessment_saved("board_a"),
        check=_form_shown,
    ),
    ("followup:assessment", "board_b"): Spec(
        _report("board_b", lambda e: e.assessment("board_b").pk),
        data=_assessment_data("board_b"),
        effect=_assessment_saved("board_b"),
    ),
    ("followup:assessment", "school_draft"): Spec(
        _report("school", lambda e: e.assessment("school").pk),
        setup=_status("school", ReportStatus.DRAFT),
        data=_assessment_data("school"),
        effect=_assessment_saved("school"),
    ),
    ("followup:assessment", "school_submitted"): Spec(
        _report("school", lambda e: e.assessment("school").pk), data=_assessment_data("school")
    ),
    ("followup:assessment", "frozen"): Spec(
        _report("kf", lambda e: e.assessment("kf").pk), data=_assessment_data("kf")
    ),
    ("followup:assessment", "stale"): Spec(
        _report("board_a", lambda e: e.assessment("board_a").pk),
        setup=_stale_setup,
        data=_stale_data,
    ),
    ("followup:assessment", "not_ready"): Spec(
        _report("board_a", lambda e: e.assessment("board_a").pk),
        data=_assessment_data("board_a", analysis="", ready=True),
    ),
    # Board B's assessment under board A's report: not the report's.
    ("followup:assessment", "other_report"): Spec(
        _report("board_a", lambda e: e.assessment("board_b").pk),
        data=_assessment_data("board_b"),
    ),
    ("followup:assessment", "foreign"): Spec(
        _report("foreign", lambda e: e.foreign["assessment"].pk),
        data=lambda e: {f"a{e.foreign['assessment'].pk}-analysis": "x"},
    ),
    ("followup:assessment", "unknown"): Spec(
        _report("board_a", lambda e: 999_999), data=lambda e: {}
    ),
    ("followup:section", "board_a"): Spec(
        _report("board_a", lambda e: e.section("board_a", "viktiga-handelser").pk),
        data=_section_data("board_a"),
        effect=_section_saved("board_a"),
    ),
    ("followup:section", "board_b"): Spec(
        _report("board_b", lambda e: e.section("board_b", "viktiga-handelser").pk),
        data=_section_data("board_b"),
        effect=_section_saved("board_b"),
    ),
    # Board B has made no forecast: its economy cannot be marked ready.
    ("followup:section", "no_forecast"): Spec(
        _report("board_b", lambda e: e.section("board_b", "ekonomi").pk),
        data=_section_data("board_b", "ekonomi"),
    ),
    ("followup:section", "frozen"): Spec(
        _report("kf", lambda e: e.section("kf", "viktiga-handelser").pk),
        data=_section_data("kf"),
    ),
    ("followup:section", "other_report"): Spec(
        _report("board_a", lambda e: e.section("board_b", "viktiga-handelser").pk),
        data=_section_data("board_b"),
    ),
    ("followup:section", "foreign"): Spec(
        _report("foreign", lambda e: e.foreign["section"].pk), data=lambda e: {}
    ),
    ("followup:submit", "ready"): Spec(
        _report("board_a"),
        setup=_all_ready("board_a"),
        effect=_stepped("board_a", ReportStatus.SUBMITTED, EventAction.SUBMIT, 0),
    ),
    ("followup:submit", "not_ready"): Spec(_report("board_a")),
    ("followup:submit", "frozen"): Spec(_report("kf")),
    ("followup:submit", "foreign"): Spec(_report("foreign")),
    ("followup:approve", "school"): Spec(
        _report("school"), data=_decision, effect=_approved_school
    ),
    ("followup:approve", "board_a"): Spec(
        _report("board_a"),
        setup=_status("board_a", ReportStatus.SUBMITTED),
        data=_decision,
        effect=_stepped("board_a", ReportStatus.APPROVED, EventAction.APPROVE, 1),
    ),
    ("followup:approve", "approved"): Spec(_report("kf"), data=_decision),
    ("followup:approve", "no_paragraph"): Spec(
        _report("school"), data=lambda e: _decision(e, paragraph="")
    ),
    ("followup:approve", "foreign"): Spec(_report("foreign"), data=_decision),
    ("followup:council_approve", "kf"): Spec(
        _report("kf"),
        data=lambda e: _decision(e, decided_by="Kommunfullmäktige"),
        effect=_stepped("kf", ReportStatus.COUNCIL_APPROVED, EventAction.COUNCIL_APPROVE, 2),
    ),
    ("followup:council_approve", "board"): Spec(
        _report("board_a"), setup=_status("board_a", ReportStatus.APPROVED), data=_decision
    ),
    ("followup:council_approve", "no_date"): Spec(
        _report("kf"), data=lambda e: _decision(e, decided_on="")
    ),
    ("followup:council_approve", "foreign"): Spec(_report("foreign"), data=_decision),
    ("followup:reopen", "kf"): Spec(
        _report("kf"),
        data=lambda e: {"reason": "Fel i underlaget."},
        effect=_stepped("kf", ReportStatus.DRAFT, EventAction.REOPEN, 1),
    ),
    ("followup:reopen", "no_reason"): Spec(_report("kf"), data=lambda e: {"reason": " "}),
    ("followup:reopen", "school"): Spec(
        _report("school"),
        data=lambda e: {"reason": "Komplettera."},
        effect=_stepped("school", ReportStatus.DRAFT, EventAction.REOPEN, 0),
    ),
    ("followup:reopen", "draft"): Spec(_report("board_b"), data=lambda e: {"reason": "x"}),
    ("followup:reopen", "foreign"): Spec(_report("foreign"), data=lambda e: {"reason": "x"}),
    ("followup:snapshot", "kf"): Spec(_report("kf", lambda e: 1), check=_approved_text),
    ("followup:snapshot", "no_such_version"): Spec(_report("kf", lambda e: 9)),
    ("followup:snapshot", "never_approved"): Spec(_report("board_b", lambda e: 1)),
    ("followup:snapshot", "foreign"): Spec(_report("foreign", lambda e: 1)),
}

Row = tuple[str, str, str, str, int | str]


def rows(
    url_name: str, target: str, method: str, default: int | str, **expected: int | str
) -> list[Row]:
    """One row per user: Kramfors members get `default` unless named; Nynäshamn's editor 404
    and anonymous users the sign-in page unless named."""
    out = []
    for user in USERS:
        if user in expected:
            status = expected[user]
        elif user == "other":
            status = 404
        elif user == "anonymous":
            status = LOGIN
        else:
            status = default
        out.append((f"followup:{url_name}", target, method, user, status))
    return out


def wrong_method(url_name: str, target: str, method: str) -> list[Row]:
    """405 for everyone signed in, whatever the municipality: it comes before the tenant."""
    return rows(url_name, target, method, 405, other=405)


MATRIX: list[Row] = [
    # The periods and my assignments: every member.
    *rows("home", "page", "GET", 200),
    *wrong_method("home", "page", "POST"),
    # Generating periods: the whole tree. Again for a year that has them: nothing new.
    *rows("generate", "last_year", "POST", REDIRECT, **MANAGERS),
    *rows("generate", "again", "POST", REDIRECT, **MANAGERS),
    *rows("generate", "foreign", "POST", 404),
    *wrong_method("generate", "last_year", "GET"),
    # The cycle overview: controllers (their subtree) and admins; the deadline: the whole tree.
    *rows("period", "interim", "GET", 200, **OVERSEERS),
    *rows("period", "interim", "POST", REDIRECT, **MANAGERS),
    *rows("period", "stale", "POST", 409, **MANAGERS),
    *rows("period", "before_end", "POST", 422, **MANAGERS),
    *rows("period", "foreign", "GET", 404),
    *wrong_method("period", "interim", "PUT"),
    # Opening, closing and reminding: the whole tree.
    *rows("open", "annual", "POST", REDIRECT, **MANAGERS),
    *rows("open", "interim", "POST", REDIRECT, **MANAGERS),
    *rows("open", "foreign", "POST", 404),
    *wrong_method("open", "annual", "GET"),
    *rows("close", "interim", "POST", REDIRECT, **MANAGERS),
    *rows("close", "ready", "POST", REDIRECT, **MANAGERS),
    *rows("close", "foreign", "POST", 404),
    *wrong_method("close", "interim", "GET"),
    *rows("remind", "interim", "POST", REDIRECT, **MANAGERS),
    *rows("remind", "foreign", "POST", 404),
    *wrong_method("remind", "interim", "GET"),
    # One decision for many: those who oversee and may approve each report chosen.
    *rows("approve_many", "school", "POST", REDIRECT, **OVERSEERS),
    *rows("approve_many", "draft", "POST", NOBODY),
    *rows("approve_many", "foreign_report", "POST", 404, **OVERSEERS),
    *rows("approve_many", "future", "POST", REDIRECT, **OVERSEERS),  # refused, with a message
    *rows("approve_many", "foreign", "POST", 404),
    *wrong_method("approve_many", "school", "GET"),
    # A report: every member reads it, also when approved.
    *rows("report", "board_b", "GET", 200),
    *rows("report", "frozen", "GET", 200),
    *rows("report", "foreign", "GET", 404),
    *rows("report", "unknown", "GET", 404),
    *wrong_method("report", "board_b", "POST"),
    # Writing: those who write the unit, in a draft. Submitted or approved: nobody.
    *rows("assessment", "board_a", "GET", 200, **WRITE_A),
    *rows("assessment", "board_a", "POST", REDIRECT, **WRITE_A),
    *rows("assessment", "board_b", "POST", REDIRECT, **WRITE_B),
    *rows("assessment", "school_draft", "POST", REDIRECT, **WRITE_SCHOOL),
    *rows("assessment", "school_submitted", "POST", NOBODY),
    *rows("assessment", "frozen", "GET", NOBODY),
    *rows("assessment", "frozen", "POST", NOBODY),
    *rows("assessment", "stale", "POST", 409, **WRITE_A),
    *rows("assessment", "not_ready", "POST", 422, **WRITE_A),
    *rows("assessment", "other_report", "POST", 404),
    *rows("assessment", "foreign", "POST", 404),
    *rows("assessment", "unknown", "GET", 404),
    *wrong_method("assessment", "board_a", "PUT"),
    *rows("section", "board_a", "POST", REDIRECT, **WRITE_A),
    *rows("section", "board_b", "POST", REDIRECT, **WRITE_B),
    *rows("section", "no_forecast", "POST", 422, **WRITE_B),
    *rows("section", "frozen", "POST", NOBODY),
    *rows("section", "other_report", "POST", 404),
    *rows("section", "foreign", "POST", 404),
    *wrong_method("section", "board_a", "GET"),
    *rows("submit", "ready", "POST", REDIRECT, **WRITE_A),
    *rows("submit", "not_ready", "POST", 422, **WRITE_A),
    *rows("submit", "frozen", "POST", NOBODY),
    *rows("submit", "foreign", "POST", 404),
    *wrong_method("submit", "ready", "GET"),
    # Approving: a controller over the unit; the school's own editor may not.
    *rows("approve", "school", "POST", REDIRECT, **APPROVE_A),
    *rows("approve", "board_a", "POST", REDIRECT, **APPROVE_A),
    *rows("approve", "approved", "POST", NOBODY),
    *rows("approve", "no_paragraph", "POST", 422, **APPROVE_A),
    *rows("approve", "foreign", "POST", 404),
    *wrong_method("approve", "school", "GET"),
    # The council's approval: the whole tree, where the model sends the report to the council.
    *rows("council_approve", "kf", "POST", REDIRECT, **MANAGERS),
    *rows("council_approve", "board", "POST", NOBODY),
    *rows("council_approve", "no_date", "POST", 422, **MANAGERS),
    *rows("council_approve", "foreign", "POST", 404),
    *wrong_method("council_approve", "kf", "GET"),
    # Reopening, with a reason: a controller over the unit (the council's: the whole tree).
    *rows("reopen", "kf", "POST", REDIRECT, **MANAGERS),
    *rows("reopen", "no_reason", "POST", 422, **MANAGERS),
    *rows("reopen", "school", "POST", REDIRECT, **APPROVE_A),
    *rows("reopen", "draft", "POST", NOBODY),
    *rows("reopen", "foreign", "POST", 404),
    *wrong_method("reopen", "kf", "GET"),
    # The report as approved: every member.
    *rows("snapshot", "kf", "GET", 200),
    *rows("snapshot", "no_such_version", "GET", 404),
    *rows("snapshot", "never_approved", "GET", 404),
    *rows("snapshot", "foreign", "GET", 404),
    *wrong_method("snapshot", "kf", "POST"),
]


def _last_audit_pk() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _request(e: Env, url_name: str, target: str, method: str, user: str) -> tuple[Any, str]:
    spec = TARGETS[(url_name, target)]
    url = reverse(url_name, args=spec.args(e))
    client = e.client(user)
    if method == "GET":
        return client.get(url), url
    if method == "POST":
        return client.post(url, spec.data(e) if spec.data else {}), url
    return client.generic(method, url), url


@pytest.mark.parametrize(
    ("url_name", "target", "method", "user", "expected"),
    MATRIX,
    ids=[f"{n.split(':')[1]}-{t}-{m}-{u}" for n, t, m, u, _ in MATRIX],
)
def test_followup_access_matrix(
    env: Env, url_name: str, target: str, method: str, user: str, expected: int | str
) -> None:
    spec = TARGETS[(url_name, target)]
    if spec.setup is not None:
        spec.setup(env)
    writes = method == "POST" and expected == REDIRECT and spec.effect is not None
    before = None if writes else followup_state()
    last_audit = _last_audit_pk()
    response, url = _request(env, url_name, target, method, user)
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"] == redirect_to_login(url).url
    else:
        assert response.status_code == expected, response.content[:300]
        if expected == REDIRECT:
            assert not response["Location"].startswith(reverse("login"))
    page = response.content.decode()
    for secret in SECRETS:
        assert secret not in page, secret
    if expected == 200 and method == "GET" and spec.check is not None:
        spec.check(env, user, response)
    if writes:
        assert spec.effect is not None
        spec.effect(env, user)
        new_events = AuditEvent.objects.filter(pk__gt=last_audit)
        if spec.audited:
            assert new_events.exists(), "every write is audited"
        acting = env.user(user)
        assert acting is not None
        for event in new_events:
            assert (event.user_id, event.municipality_id) == (acting.pk, env.kramfors.pk)
    else:
        assert followup_state() == before, "a refused or read-only request changed something"


def test_every_url_is_in_the_matrix() -> None:
    """A new URL gets rows here before it ships: every user, GET and POST, a wrong method, and
    another municipality's object (or plan year)."""
    from rodtrad.followup import urls as followup_urls

    names = {f"followup:{p.name}" for p in followup_urls.urlpatterns}
    covered = {name for name, *_ in MATRIX}
    assert names == covered, names ^ covered
    for pattern in followup_urls.urlpatterns:
        name = f"followup:{pattern.name}"
        mine = [(t, m, u, s) for n, t, m, u, s in MATRIX if n == name]
        for method in ("GET", "POST"):
            assert {u for _t, m, u, _s in mine if m == method} == set(USERS), (name, method)
        assert any(s == 405 for *_rest, s in mine), f"{name} has no wrong-method row"
        if "<int:pk>" in str(pattern.pattern):
            foreign = {u: s for t, _m, u, s in mine if t in ("foreign", "foreign_report")}
            assert foreign, f"{name} has no row for another municipality's object"
        for _t, method, user, status in mine:
            if user == "other" and status != 405:
                assert status == 404, (name, method)
            if user == "anonymous":
                assert status == LOGIN, (name, method)
    assert set(TARGETS) == {(n, t) for n, t, *_ in MATRIX}
    for key in {(n, t) for n, t, m, *_ in MATRIX if m == "POST"}:
        statuses = {s for n, t, m, _u, s in MATRIX if (n, t) == key and m == "POST"}
        if REDIRECT in statuses and TARGETS[key].effect is None:
            # A redirect without an effect must be one of the refusals with a message.
            assert key in {
                ("followup:generate", "again"),
                ("followup:open", "interim"),
                ("followup:close", "interim"),
                ("followup:approve_many", "future"),
            }, key


# --- Tenancy from the other side, and what the pages offer -----------------------------------


def test_kramfors_members_get_404_in_nynashamn(env: Env) -> None:
    """Under Nynäshamn's code, Kramfors' people see nothing, also of Nynäshamn's own report."""
    before = followup_state()
    foreign = env.foreign
    urls = [
        reverse("followup:home", args=[NYNASHAMN]),
        reverse("followup:period", args=[NYNASHAMN, foreign["period"].pk]),
        reverse("followup:report", args=[NYNASHAMN, foreign["report"].pk]),
        reverse("followup:snapshot", args=[NYNASHAMN, foreign["report"].pk, 1]),
    ]
    posts = [
        reverse("followup:open", args=[NYNASHAMN, foreign["period"].pk]),
        reverse("followup:reopen", args=[NYNASHAMN, foreign["report"].pk]),
        reverse("followup:section", args=[NYNASHAMN, foreign["report"].pk, foreign["section"].pk]),
        # Kramfors' own report under Nynäshamn's code is unknown too.
        reverse("followup:submit", args=[NYNASHAMN, env.reports["board_a"].pk]),
    ]
    for user in ("admin", "controller", "controller_a", "editor_a", "reader"):
        for url in urls:
            assert env.client(user).get(url).status_code == 404, (user, url)
        for url in posts:
            assert env.client(user).post(url, {"reason": "x"}).status_code == 404, (user, url)
    assert followup_state() == before
    # Nynäshamn's own editor reads its own report and its approved version.
    page = env.client("other").get(urls[3])
    assert page.status_code == 200 and SECRET_TEXT in page.content.decode()
    # ... but not Kramfors' report under Nynäshamn's code.
    url = reverse("followup:report", args=[NYNASHAMN, env.reports["board_a"].pk])
    assert env.client("other").get(url).status_code == 404


@pytest.mark.parametrize(
    ("user", "submit", "approve", "reopen"),
    [
        ("unit_editor", False, False, False),
        ("editor_a", False, False, False),
        ("controller_a", False, True, False),
        ("controller", False, True, False),
        ("reader", False, False, False),
    ],
)
def test_the_school_report_offers_only_what_the_user_may_do(
    env: Env, user: str, submit: bool, approve: bool, reopen: bool
) -> None:
    """The school's submitted report: the unit's editor can no longer write it nor approve it;
    the controllers above it can approve it (and reopen it)."""
    page = env.client(user).get(
        reverse("followup:report", args=[KRAMFORS, env.reports["school"].pk])
    )
    context = page.context
    assert (context["can_edit"], context["can_submit"]) == (False, submit)
    assert context["can_approve"] is approve
    assert context["can_reopen"] is (approve or reopen)
    shown = page.content.decode()
    assert ("Record the approval and freeze the report" in shown) is approve


def test_a_board_editor_cannot_write_the_other_boards_report(env: Env) -> None:
    """Board A's editor is refused board B's assessment, section and submission, and board B's
    text stays as it was."""
    report = env.report("board_b")
    a = env.assessment("board_b")
    s = env.section("board_b", "framtid")
    before = followup_state()
    client = env.client("editor_a")
    for url, data in (
        (
            reverse("followup:assessment", args=[KRAMFORS, report.pk, a.pk]),
            {f"a{a.pk}-analysis": "Intrång", f"a{a.pk}-status": "met", f"a{a.pk}-version": 1},
        ),
        (
            reverse("followup:section", args=[KRAMFORS, report.pk, s.pk]),
            {f"s{s.pk}-text": "Intrång", f"s{s.pk}-version": 1},
        ),
        (reverse("followup:submit", args=[KRAMFORS, report.pk]), {}),
    ):
        assert client.post(url, data).status_code == 403, url
    assert followup_state() == before
    assert not Assessment.objects.filter(analysis="Intrång").exists()

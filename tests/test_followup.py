"""The follow-up cycle (rodtrad/followup): periods, reports, assessments, approval and freezing.

The world is conftest's Kramfors with its preset model, whose follow-up kinds are the
Delårsrapport (August, deadline 21 days later, reminders 7 and 1 days before, economy, approved
by the council) and the Årsredovisning (December, 45 days). Reporting org unit kinds are the
council, the executive board and the boards; some tests let the units (enhet) report too, with
their activities, so the cycle is bottom-up: the school, then board A, then the council level.

Services are called in English (conftest); pages are asked for in English (the language
cookie), and their text is read unescaped. The world is built once for the module inside a
transaction; every test runs in a savepoint that is rolled back and gets the world's objects
read afresh, so nothing a test changes reaches the next.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import html
import io
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from rodtrad.finance.models import Forecast
from rodtrad.finance.services import settings_for
from rodtrad.followup import selectors, services
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
    Tier,
)
from rodtrad.followup.snapshots import build_snapshots
from rodtrad.indicators import services as indicator_services
from rodtrad.indicators.models import Indicator, ItemRollup
from rodtrad.organisations.models import (
    AuditEvent,
    Membership,
    OrgUnit,
    OrgUnitKind,
    Role,
    User,
)
from rodtrad.steering import services as steering_services
from rodtrad.steering.models import FollowUpKind, ItemStatus, PlanItem, PlanYear
from rodtrad.steering.services import StaleEdit
from tests.conftest import World, build_world

KRAMFORS = "2282"
INTERIM = "delarsrapport"
ANNUAL = "arsredovisning"
# The Delårsrapport 2026: January–August, due 21 days after 31 August.
INTERIM_END = dt.date(2026, 8, 31)
INTERIM_DEADLINE = dt.date(2026, 9, 21)
ANNUAL_DEADLINE = dt.date(2027, 2, 14)

A_TEXT = "Läsresultaten i årskurs 3 har förbättrats men inte nått målet."
B_TEXT = "Tryggheten har minskat på två av fem boenden."
KF_TEXT = "Andelen elever som klarar skolan ökar i båda nämnderna."
UNIT_TEXT = "Läsombud finns nu på alla skolor utom en."


# --- The world ------------------------------------------------------------------------------


@contextlib.contextmanager
def built_once[T](blocker: Any, build: Callable[[], T]) -> Iterator[T]:
    """`build()` inside a transaction that is rolled back when the module is done (as in
    test_finance, without importing that module)."""
    atomic = transaction.atomic()
    with blocker.unblock(), translation.override("en"):
        atomic.__enter__()
        try:
            built = build()
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    try:
        yield built
    finally:
        with blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module")
def shared_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    with built_once(django_db_blocker, build_world) as built:
        yield built


@pytest.fixture
def world(shared_world: World, db: None) -> World:
    """Conftest's world, built once; its objects read again from the database for each test."""
    fresh = {}
    for f in dataclasses.fields(shared_world):
        obj = getattr(shared_world, f.name)
        fresh[f.name] = type(obj)._default_manager.get(pk=obj.pk)
    return World(**fresh)


# --- Helpers --------------------------------------------------------------------------------


def today() -> dt.date:
    return timezone.localdate()


def kind(w: World, key: str = INTERIM) -> FollowUpKind:
    return FollowUpKind.objects.get(model__municipality=w.kramfors, key=key)


def units_report(w: World, key: str = INTERIM) -> FollowUpKind:
    """Let the units (enhet) report too, assessing their activities."""
    k = kind(w, key)
    k.reporters.add(OrgUnitKind.objects.get(municipality=w.kramfors, key="enhet"))
    k.levels.add(w.level("aktivitet"))
    return k


def generate(w: World) -> dict[str, FollowUpPeriod]:
    services.periods_generate(plan_year=w.year, user=w.admin)
    return {p.kind.key: p for p in FollowUpPeriod.objects.filter(municipality=w.kramfors)}


def open_period(w: World, key: str = INTERIM) -> FollowUpPeriod:
    period = generate(w)[key]
    services.period_open(period=period, user=w.admin)
    return FollowUpPeriod.objects.get(pk=period.pk)


def report_of(period: FollowUpPeriod, unit: OrgUnit) -> Report:
    return Report.objects.select_related("period__kind", "org_unit").get(
        period=period, org_unit=unit
    )


def assessment_of(report: Report, item: PlanItem) -> Assessment:
    return Assessment.objects.get(report=report, item=item)


def section_of(report: Report, key: str) -> ReportSection:
    return ReportSection.objects.get(report=report, key=key)


def unit_of(w: World, name: str) -> OrgUnit:
    return OrgUnit.objects.get(municipality=w.kramfors, name=name)


def person(w: World, username: str, unit: OrgUnit, role: str, email: str = "") -> User:
    user = User.objects.create_user(
        username=username,
        password="x" * 20,
        municipality=w.kramfors,
        first_name=username.split("-")[0].title(),
        last_name=username.split("-")[-1].title(),
        email=email or f"{username}@kramfors.se",
    )
    Membership.objects.create(user=user, org_unit=unit, role=role)
    return user


def with_emails(w: World) -> None:
    for user in (w.admin, w.controller, w.editor_a, w.editor_b, w.reader):
        user.email = f"{user.username}@kramfors.se"
        user.save()


def forecast(w: World, unit: OrgUnit, month: int = 6, year: int = 2026) -> Forecast:
    return Forecast.objects.create(
        municipality=w.kramfors,
        org_unit=unit,
        year=year,
        month=month,
        amount=Decimal("7900000"),
        comment="Vikarier under våren.",
    )


def save_assessment(
    a: Assessment,
    user: User | None,
    *,
    status: str = "met",
    analysis: str = "Målet är nått.",
    measures: str = "",
    ready: bool = True,
) -> Assessment:
    a = Assessment.objects.get(pk=a.pk)
    return services.assessment_save(
        assessment=a,
        user=user,
        expected_version=a.version,
        status=status,
        analysis=analysis,
        measures=measures,
        ready=ready,
    )


def save_section(s: ReportSection, user: User | None, text: str, ready: bool = True) -> None:
    s = ReportSection.objects.get(pk=s.pk)
    services.section_save(section=s, user=user, expected_version=s.version, text=text, ready=ready)


def fill(w: World, report: Report, user: User | None, analysis: str = "Målet är nått.") -> Report:
    """Every part of the report written and marked ready (with a forecast for the economy)."""
    for a in report.assessments.all():
        save_assessment(a, user, analysis=analysis)
    for s in report.sections.all():
        if s.key == ReportSection.ECONOMY and not services.forecast_made(report):
            forecast(w, report.org_unit)
        save_section(s, user, f"Text om {s.key}.")
    return Report.objects.get(pk=report.pk)


def decision(body: str = "Barn- och utbildningsnämnden", **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"decided_by": body, "decided_on": today(), "paragraph": "§ 42"}
    values.update(changes)
    return values


def submit(w: World, report: Report, user: User | None) -> Report:
    fill(w, report, user)
    return services.report_submit(report=Report.objects.get(pk=report.pk), user=user)


def approve(report: Report, user: User | None, body: str = "Nämnden") -> Report:
    services.reports_approve(reports=[report], user=user, **decision(body))
    return Report.objects.get(pk=report.pk)


def client(user: User | None) -> Client:
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        c.force_login(user)
    return c


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def url(name: str, *args: Any) -> str:
    return reverse(f"followup:{name}", args=[KRAMFORS, *args])


def assessment_post(a: Assessment, **fields: Any) -> dict[str, Any]:
    data = {
        "status": "met",
        "analysis": "",
        "measures": "",
        "version": Assessment.objects.get(pk=a.pk).version,
    }
    data.update(fields)
    if data.pop("ready", False):
        data["ready"] = "on"
    return {f"a{a.pk}-{k}": v for k, v in data.items()}


def section_post(
    s: ReportSection, text_: str, ready: bool = True, version: int | None = None
) -> dict:
    data: dict[str, Any] = {
        f"s{s.pk}-text": text_,
        f"s{s.pk}-version": version or ReportSection.objects.get(pk=s.pk).version,
    }
    if ready:
        data[f"s{s.pk}-ready"] = "on"
    return data


def decision_post(body: str, paragraph: str = "§ 42", on: dt.date | None = None) -> dict:
    return {
        "decided_by": body,
        "decided_on": (on or today()).isoformat(),
        "paragraph": paragraph,
    }


def tertial_indicator(w: World, value: str = "72.5") -> Indicator:
    indicator = indicator_services.indicator_create(
        user=w.admin,
        municipality=w.kramfors,
        data={
            "title": "Andel elever med godkänt i svenska",
            "unit": "%",
            "owner": w.kf,
            "frequency": "tertial",
        },
        items=[w.council_goal],
    )
    indicator_services.value_set(
        user=w.admin,
        indicator=indicator,
        expected_version=None,
        row=indicator_services.ValueInput(2026, "tertial", 2, Decimal(value)),
    )
    return indicator


def followup_state() -> dict[str, Any]:
    """Every follow-up row, comparable."""
    return {
        "periods": sorted(
            FollowUpPeriod.objects.values_list("pk", "status", "deadline", "version"), key=repr
        ),
        "reports": sorted(
            Report.objects.values_list("pk", "status", "parts_ready", "version"), key=repr
        ),
        "assessments": sorted(
            Assessment.objects.values_list(
                "pk", "status", "analysis", "measures", "ready", "version"
            ),
            key=repr,
        ),
        "sections": sorted(
            ReportSection.objects.values_list("pk", "text", "ready", "version"), key=repr
        ),
        "events": sorted(ReportEvent.objects.values_list("pk", "action"), key=repr),
        "snapshots": sorted(Snapshot.objects.values_list("pk", "sha256"), key=repr),
        "reminders": sorted(Reminder.objects.values_list("pk", "key"), key=repr),
        "audit": AuditEvent.objects.count(),
    }


def digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


# --- The whole cycle, through the pages -------------------------------------------------------


def test_a_whole_cycle_through_the_pages(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """Kramfors' Delårsrapport 2026 from the periods to the council's approval, and proof that
    later changes to the plan, the texts and the values leave what was approved as it was."""
    w = world
    units_report(w)
    with_emails(w)
    school_editor = person(w, "rektor-gudmundra", w.school, "editor")
    board_controller = person(w, "controller-board-a", w.board_a, "controller")
    ks = unit_of(w, "Kommunstyrelsen")
    indicator = tertial_indicator(w, "72.5")
    for unit in (ks, w.board_a, w.board_b):
        forecast(w, unit)
    admin, controller = client(w.admin), client(w.controller)

    # 1. The periods of 2026, generated from the model's two kinds.
    response = admin.post(url("generate", w.year.pk), follow=True)
    assert response.redirect_chain[0][0] == url("home") + "?ar=2026"
    assert "2 follow-up periods were created." in messages_of(response)
    periods = {p.kind.key: p for p in FollowUpPeriod.objects.filter(municipality=w.kramfors)}
    assert {k: (p.end, p.deadline, p.status) for k, p in periods.items()} == {
        INTERIM: (INTERIM_END, INTERIM_DEADLINE, PeriodStatus.PLANNED),
        ANNUAL: (dt.date(2026, 12, 31), ANNUAL_DEADLINE, PeriodStatus.PLANNED),
    }
    period = periods[INTERIM]

    # 2. Opened: the school, both boards, the executive board and the council report.
    response = admin.post(url("open", period.pk), follow=True)
    assert "The period is open: 5 org units report." in messages_of(response)
    reports = {r.org_unit.name: r for r in Report.objects.filter(period=period)}
    assert {n: (r.tier, r.parts_total) for n, r in reports.items()} == {
        "Kommunfullmäktige": (Tier.COUNCIL, 2),
        "Kommunstyrelsen": (Tier.BOARD, 3),
        "Barn- och utbildningsnämnden": (Tier.BOARD, 4),
        "Omsorgsnämnden": (Tier.BOARD, 4),
        "Gudmundråskolan": (Tier.UNIT, 2),
    }
    school = reports["Gudmundråskolan"]
    board_a = reports["Barn- och utbildningsnämnden"]
    board_b = reports["Omsorgsnämnden"]
    council = reports["Kommunfullmäktige"]
    ks_report = reports["Kommunstyrelsen"]

    # 3. A week before the deadline the command reminds each unit's editors once.
    out = io.StringIO()
    week_before = (INTERIM_DEADLINE - dt.timedelta(days=7)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", "--datum", week_before, "--kommun", KRAMFORS, stdout=out)
    assert "5 reminders sent." in out.getvalue()
    sent = {tuple(m.to) for m in mail.outbox}
    assert sent == {
        ("controller-a@kramfors.se",),  # the council's report and the executive board's
        ("controller-board-a@kramfors.se", "editor-a@kramfors.se"),
        ("editor-b@kramfors.se",),
        ("rektor-gudmundra@kramfors.se",),
    }
    assert len(mail.outbox) == 5
    to_school = next(m for m in mail.outbox if m.to == ["rektor-gudmundra@kramfors.se"])
    assert "Gudmundråskolan" in to_school.subject
    assert "Delårsrapport 2026" in to_school.subject
    assert f"{settings.SITE_URL}{url('report', school.pk)}" in to_school.body
    assert set(Reminder.objects.values_list("key", flat=True)) == {"before-7"}
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", "--datum", week_before, stdout=io.StringIO())
    assert len(mail.outbox) == 5, "each reminder is sent once"

    # 4. The school reports first.
    school_client = client(school_editor)
    page = school_client.get(url("report", school.pk))
    assert page.status_code == 200 and page.context["can_edit"]
    activity = assessment_of(school, w.activity_a)
    response = school_client.post(
        url("assessment", school.pk, activity.pk),
        assessment_post(activity, status="met", analysis=UNIT_TEXT, ready=True),
    )
    assert response.status_code == 302
    events = section_of(school, "viktiga-handelser")
    response = school_client.post(
        url("section", school.pk, events.pk), section_post(events, "Ny rektor i augusti.")
    )
    assert response.status_code == 302
    assert school_client.post(url("submit", school.pk)).status_code == 302
    assert Report.objects.get(pk=school.pk).status == ReportStatus.SUBMITTED

    # 5. Board A sees the school's input beside its own goal, and reports.
    editor_a = client(w.editor_a)
    page = editor_a.get(url("report", board_a.pk))
    (goal_a_item,) = page.context["content"]["items"]
    assert [(c["owner"], c["status"], c["analysis"]) for c in goal_a_item["contributors"]] == [
        ("Gudmundråskolan", "met", UNIT_TEXT)
    ]
    assert UNIT_TEXT in text(page)
    goal_a = assessment_of(board_a, w.goal_a)
    response = editor_a.post(
        url("assessment", board_a.pk, goal_a.pk),
        assessment_post(
            goal_a, status="partly", analysis=A_TEXT, measures="Mer läsning.", ready=True
        ),
    )
    assert response.status_code == 302
    for s in board_a.sections.all():
        response = editor_a.post(url("section", board_a.pk, s.pk), section_post(s, f"A: {s.key}"))
        assert response.status_code == 302, text(response)
    assert editor_a.post(url("submit", board_a.pk)).status_code == 302

    # Board B: a goal not achieved needs measures before it is ready.
    editor_b = client(w.editor_b)
    goal_b = assessment_of(board_b, w.goal_b)
    response = editor_b.post(
        url("assessment", board_b.pk, goal_b.pk),
        assessment_post(goal_b, status="not_met", analysis=B_TEXT, ready=True),
    )
    assert response.status_code == 422
    assert "Measures: say what will be done when the goal is not achieved." in text(response)
    assert B_TEXT in text(response)  # what was typed is still in the form
    response = editor_b.post(
        url("assessment", board_b.pk, goal_b.pk),
        assessment_post(
            goal_b, status="not_met", analysis=B_TEXT, measures="Nattpersonal.", ready=True
        ),
    )
    assert response.status_code == 302
    for s in board_b.sections.all():
        assert editor_b.post(url("section", board_b.pk, s.pk), section_post(s, "B")).status_code
    assert editor_b.post(url("submit", board_b.pk)).status_code == 302
    for s in ks_report.sections.all():
        controller.post(url("section", ks_report.pk, s.pk), section_post(s, "KS"))
    assert controller.post(url("submit", ks_report.pk)).status_code == 302
    assert set(Report.objects.filter(period=period).values_list("status", flat=True)) == {
        ReportStatus.DRAFT,  # only the council's
        ReportStatus.SUBMITTED,
    }

    # 6. Board A's controller approves the school's and the board's reports with one decision.
    overview = client(board_controller).get(url("period", period.pk))
    assert overview.context["approvable"] == {school.pk, board_a.pk}
    response = client(board_controller).post(
        url("approve_many", period.pk),
        {"rapport": [school.pk, board_a.pk], **decision_post("Barn- och utbildningsnämnden")},
        follow=True,
    )
    assert "2 reports were approved and frozen." in messages_of(response)
    for body, report in (("Omsorgsnämnden", board_b), ("Kommunstyrelsen", ks_report)):
        response = controller.post(url("approve", report.pk), decision_post(body, "§ 7"))
        assert response.status_code == 302

    # 7. The council level sees each contributing board's status and analysis.
    page = controller.get(url("report", council.pk))
    (goal,) = page.context["content"]["items"]
    assert goal["title"] == w.council_goal.title
    assert sorted((c["owner"], c["status"], c["analysis"]) for c in goal["contributors"]) == [
        ("Barn- och utbildningsnämnden", "partly", A_TEXT),
        ("Omsorgsnämnden", "not_met", B_TEXT),
    ]
    assert [(i["title"], i["value"]) for i in goal["indicators"]] == [(indicator.title, "72.5")]
    shown = text(page)
    for expected in (A_TEXT, B_TEXT, "Partly achieved", "Not achieved", "Omsorgsnämnden"):
        assert expected in shown, expected
    kf_goal = assessment_of(council, w.council_goal)
    response = controller.post(
        url("assessment", council.pk, kf_goal.pk),
        assessment_post(kf_goal, status="partly", analysis=KF_TEXT, ready=True),
    )
    assert response.status_code == 302
    kf_events = section_of(council, "viktiga-handelser")
    controller.post(url("section", council.pk, kf_events.pk), section_post(kf_events, "KF"))
    assert controller.post(url("submit", council.pk)).status_code == 302
    response = controller.post(url("approve", council.pk), decision_post("Kommunstyrelsen"))
    assert response.status_code == 302
    response = controller.post(
        url("council_approve", council.pk), decision_post("Kommunfullmäktige", "§ 88")
    )
    assert response.status_code == 302
    council.refresh_from_db()
    assert council.status == ReportStatus.COUNCIL_APPROVED
    assert list(council.snapshots.values_list("number", "event__action")) == [
        (1, EventAction.APPROVE),
        (2, EventAction.COUNCIL_APPROVE),
    ]
    frozen = Snapshot.objects.get(report=council, number=2)
    frozen_content, frozen_sha = frozen.content, frozen.sha256
    assert frozen_sha == digest(frozen_content)
    assert frozen_content["decision"] | {"at": ""} == {
        "action": "council_approve",
        "decided_by": "Kommunfullmäktige",
        "decided_on": today().isoformat(),
        "paragraph": "§ 88",
        "at": "",
        "by": "Controller-A",
    }
    board_a_frozen = Snapshot.objects.get(report=board_a, number=1)
    board_a_content = board_a_frozen.content

    # 8. Later: the plan item is renamed, board A and the council reopen and rewrite their
    # assessments (not approved again), and the indicator's value is revised.
    old_title = w.council_goal.title
    steering_services.plan_item_update(
        user=w.admin,
        item=w.council_goal,
        expected_version=PlanItem.objects.get(pk=w.council_goal.pk).version,
        data={"title": "Ett nytt namn på målet"},
    )
    response = client(board_controller).post(
        url("reopen", board_a.pk), {"reason": "Fel siffror i analysen."}
    )
    assert response.status_code == 302
    response = editor_a.post(
        url("assessment", board_a.pk, goal_a.pk),
        assessment_post(goal_a, status="not_met", analysis="OMSKRIVEN ANALYS", measures="X"),
    )
    assert response.status_code == 302
    response = controller.post(url("reopen", council.pk), {"reason": "Nya uppgifter."})
    assert response.status_code == 302
    response = controller.post(
        url("assessment", council.pk, kf_goal.pk),
        assessment_post(kf_goal, status="met", analysis="KF OMSKRIVEN"),
    )
    assert response.status_code == 302
    indicator_services.value_set(
        user=w.admin,
        indicator=indicator,
        expected_version=1,
        row=indicator_services.ValueInput(2026, "tertial", 2, Decimal("91.3")),
    )
    live = text(controller.get(url("report", council.pk)))
    assert "Ett nytt namn på målet" in live and "KF OMSKRIVEN" in live and "91.3" in live

    # The report as approved is unchanged, on its page and in the database.
    page = controller.get(url("snapshot", council.pk, 2))
    assert page.status_code == 200
    shown = text(page)
    for expected in (old_title, KF_TEXT, A_TEXT, B_TEXT, "72.5", "Kommunfullmäktige", "§ 88"):
        assert expected in shown, expected
    for changed in ("Ett nytt namn på målet", "KF OMSKRIVEN", "OMSKRIVEN ANALYS", "91.3"):
        assert changed not in shown, changed
    (goal,) = page.context["content"]["items"]
    assert (goal["title"], goal["status"], goal["analysis"]) == (old_title, "partly", KF_TEXT)
    frozen.refresh_from_db()
    assert (frozen.content, frozen.sha256) == (frozen_content, frozen_sha)
    assert digest(frozen.content) == frozen_sha
    board_a_frozen.refresh_from_db()
    assert board_a_frozen.content == board_a_content
    assert board_a_frozen.content["items"][0]["analysis"] == A_TEXT
    assert A_TEXT in text(editor_a.get(url("snapshot", board_a.pk, 1)))

    # 9. Every step is attributed.
    steps = list(
        AuditEvent.objects.filter(
            object_type="followup.report", action__in=[a.value for a in EventAction]
        )
        .order_by("pk")
        .values_list("object_id", "action", "user__username")
    )
    assert steps == [
        (str(school.pk), "submit", "rektor-gudmundra"),
        (str(board_a.pk), "submit", "editor-a"),
        (str(board_b.pk), "submit", "editor-b"),
        (str(ks_report.pk), "submit", "controller-a"),
        # one decision for both, in the order the reports were made (the board's first)
        (str(board_a.pk), "approve", "controller-board-a"),
        (str(school.pk), "approve", "controller-board-a"),
        (str(board_b.pk), "approve", "controller-a"),
        (str(ks_report.pk), "approve", "controller-a"),
        (str(council.pk), "submit", "controller-a"),
        (str(council.pk), "approve", "controller-a"),
        (str(council.pk), "council_approve", "controller-a"),
        (str(board_a.pk), "reopen", "controller-board-a"),
        (str(council.pk), "reopen", "controller-a"),
    ]
    reopen = AuditEvent.objects.get(object_id=str(board_a.pk), action="reopen")
    assert (reopen.after or {})["reason"] == "Fel siffror i analysen."
    assert (reopen.before or {})["status"] == ReportStatus.APPROVED
    # The period cannot be closed while two reports are drafts again.
    response = admin.post(url("close", period.pk), follow=True)
    assert (
        "2 reports are not approved yet; the period can be closed when every report is."
        in messages_of(response)
    )
    assert FollowUpPeriod.objects.get(pk=period.pk).status == PeriodStatus.OPEN


# --- Periods ---------------------------------------------------------------------------------


def test_periods_are_generated_from_the_kinds_with_their_deadlines(world: World) -> None:
    w = world
    created = services.periods_generate(plan_year=w.year, user=w.controller)
    assert [(p.kind.key, p.number, p.start, p.end, p.deadline) for p in created] == [
        (INTERIM, 1, dt.date(2026, 1, 1), INTERIM_END, INTERIM_DEADLINE),
        (ANNUAL, 1, dt.date(2026, 1, 1), dt.date(2026, 12, 31), ANNUAL_DEADLINE),
    ]
    assert {p.status for p in created} == {PeriodStatus.PLANNED}
    assert [p.label for p in created] == ["Interim report 2026", "Annual report 2026"]
    audit = AuditEvent.objects.filter(object_type="followup.followupperiod", action="create")
    assert sorted((e.user_id, (e.after or {})["deadline"]) for e in audit) == [
        (w.controller.pk, "2026-09-21"),
        (w.controller.pk, "2027-02-14"),
    ]


def test_generating_again_adds_nothing_and_keeps_a_moved_deadline(world: World) -> None:
    w = world
    period = generate(w)[INTERIM]
    services.period_update(
        period=period, user=w.admin, deadline=dt.date(2026, 9, 30), expected_version=1
    )
    audit = AuditEvent.objects.count()
    assert services.periods_generate(plan_year=w.year, user=w.admin) == []
    assert FollowUpPeriod.objects.filter(municipality=w.kramfors).count() == 2
    assert FollowUpPeriod.objects.get(pk=period.pk).deadline == dt.date(2026, 9, 30)
    assert AuditEvent.objects.count() == audit
    response = client(w.admin).post(url("generate", w.year.pk), follow=True)
    assert "Every period of the year exists already." in messages_of(response)


def test_tertials_and_months_are_numbered_and_named(world: World) -> None:
    w = world
    plan_year = PlanYear.objects.create(period=w.other_vision.period, year=2026)
    created = services.periods_generate(plan_year=plan_year, user=None)
    by_kind: dict[str, list[FollowUpPeriod]] = {}
    for p in created:
        by_kind.setdefault(p.kind.key, []).append(p)
    assert {k: len(v) for k, v in by_kind.items()} == {
        "tertialrapport": 1,
        "delarsrapport": 1,
        "arsredovisning": 1,
        "manadsuppfoljning": 8,
    }
    monthly = by_kind["manadsuppfoljning"]
    assert [(p.number, p.end.month, p.deadline) for p in monthly[:3]] == [
        (1, 1, dt.date(2026, 2, 10)),
        (2, 2, dt.date(2026, 3, 10)),
        (3, 3, dt.date(2026, 4, 10)),
    ]
    assert monthly[0].start == dt.date(2026, 1, 1) and monthly[1].start == dt.date(2026, 2, 1)
    assert monthly[0].label == "Monthly follow-up january 2026"
    assert {p.municipality_id for p in created} == {w.nynashamn.pk}
    # Kramfors has none of them.
    assert not FollowUpPeriod.objects.filter(municipality=w.kramfors).exists()


def test_a_model_without_follow_up_kinds_is_told_so(world: World) -> None:
    w = world
    FollowUpKind.objects.filter(model__municipality=w.kramfors).delete()
    with pytest.raises(services.FollowUpError) as info:
        services.periods_generate(plan_year=w.year, user=w.admin)
    assert info.value.messages == [
        "The steering model has no follow-up kinds; add them to the model file first."
    ]
    response = client(w.admin).post(url("generate", w.year.pk), follow=True)
    assert response.status_code == 200
    assert messages_of(response) == [
        "The steering model has no follow-up kinds; add them to the model file first."
    ]
    assert not FollowUpPeriod.objects.exists()


def test_a_month_added_to_the_model_adds_its_period(world: World) -> None:
    w = world
    generate(w)
    k = kind(w)
    k.months = [4, 8]
    k.save()
    created = services.periods_generate(plan_year=w.year, user=w.admin)
    assert [p.end for p in created] == [dt.date(2026, 4, 30)]
    ends = sorted(FollowUpPeriod.objects.filter(kind=k).values_list("end", flat=True))
    assert ends == [dt.date(2026, 4, 30), INTERIM_END]


def test_a_deadline_moves_but_not_before_the_end_and_not_when_stale(world: World) -> None:
    w = world
    period = generate(w)[INTERIM]
    with pytest.raises(services.FollowUpError) as info:
        services.period_update(
            period=period, user=w.admin, deadline=dt.date(2026, 8, 30), expected_version=1
        )
    assert info.value.messages == ["The deadline cannot be before the period ends (2026-08-31)."]
    services.period_update(
        period=period, user=w.admin, deadline=dt.date(2026, 9, 25), expected_version=1
    )
    with pytest.raises(StaleEdit):
        services.period_update(
            period=period, user=w.admin, deadline=dt.date(2026, 9, 28), expected_version=1
        )
    assert FollowUpPeriod.objects.get(pk=period.pk).deadline == dt.date(2026, 9, 25)
    # Through the page: a stale form is 409, a good one saves.
    admin = client(w.admin)
    response = admin.post(url("period", period.pk), {"deadline": "2026-09-28", "version": 1})
    assert response.status_code == 409
    assert "was changed by someone else after you opened it" in text(response)
    response = admin.post(url("period", period.pk), {"deadline": "2026-09-28", "version": 2})
    assert response.status_code == 302
    assert FollowUpPeriod.objects.get(pk=period.pk).deadline == dt.date(2026, 9, 28)


# --- Opening a period ------------------------------------------------------------------------


def _shape(period: FollowUpPeriod) -> dict[str, tuple]:
    return {
        r.org_unit.name: (
            r.tier,
            r.economy,
            r.needs_council,
            r.parts_total,
            sorted(r.assessments.values_list("item__title", flat=True)),
            list(r.sections.order_by("order").values_list("key", flat=True)),
        )
        for r in Report.objects.filter(period=period).select_related("org_unit")
    }


def test_opening_gives_every_reporting_unit_what_it_owes(world: World) -> None:
    w = world
    period = open_period(w)
    assert _shape(period) == {
        "Kommunfullmäktige": (
            Tier.COUNCIL,
            False,
            True,
            2,
            [w.council_goal.title],
            ["viktiga-handelser"],  # "framtid" is for the executive board and the boards
        ),
        "Kommunstyrelsen": (
            Tier.BOARD,
            True,
            False,
            3,
            [],
            ["ekonomi", "viktiga-handelser", "framtid"],
        ),
        "Barn- och utbildningsnämnden": (
            Tier.BOARD,
            True,
            False,
            4,
            [w.goal_a.title],
            ["ekonomi", "viktiga-handelser", "framtid"],
        ),
        "Omsorgsnämnden": (
            Tier.BOARD,
            True,
            False,
            4,
            [w.goal_b.title],
            ["ekonomi", "viktiga-handelser", "framtid"],
        ),
    }
    assert (period.status, period.opened_by, period.version) == (PeriodStatus.OPEN, w.admin, 2)
    assert set(Report.objects.values_list("status", "parts_ready")) == {(ReportStatus.DRAFT, 0)}
    event = AuditEvent.objects.filter(object_type="followup.followupperiod").latest("pk")
    assert (event.user, event.before, event.after) == (
        w.admin,
        {"status": "planned"},
        {"status": "open", "reports": 4, "assessments": 3},
    )
    with pytest.raises(services.FollowUpError) as info:
        services.period_open(period=period, user=w.admin)
    assert info.value.messages == ["The period is open already."]
    assert Report.objects.count() == 4


def test_units_report_below_their_board_when_the_model_says_so(world: World) -> None:
    w = world
    units_report(w)
    period = open_period(w)
    shape = _shape(period)
    assert shape["Gudmundråskolan"] == (
        Tier.UNIT,
        False,  # the economy is the boards'
        False,
        2,
        [w.activity_a.title],
        ["viktiga-handelser"],
    )
    # The administrations do not report: their kind is not among the reporters.
    assert "Barn- och utbildningsförvaltningen" not in shape
    assert len(shape) == 5


def test_without_economy_no_report_has_the_economy_part(world: World) -> None:
    w = world
    FollowUpKind.objects.filter(pk=kind(w).pk).update(economy=False, council_approval=False)
    period = open_period(w)
    shape = _shape(period)
    assert not ReportSection.objects.filter(key=ReportSection.ECONOMY).exists()
    assert {name: s[3] for name, s in shape.items()} == {
        "Kommunfullmäktige": 2,
        "Kommunstyrelsen": 2,
        "Barn- och utbildningsnämnden": 3,
        "Omsorgsnämnden": 3,
    }
    assert not Report.objects.filter(needs_council=True).exists()


def test_only_items_in_force_are_assessed_and_a_unit_with_nothing_owes_nothing(
    world: World,
) -> None:
    w = world
    PlanItem.objects.filter(pk=w.goal_b.pk).update(status=ItemStatus.CANCELLED)
    # Sections only for the boards: the council then owes its goal alone.
    k = kind(w)
    k.sections = [s | {"reporters": ["namnd"]} for s in k.sections]
    k.save()
    period = open_period(w)
    shape = _shape(period)
    assert shape["Omsorgsnämnden"][3:] == (3, [], ["ekonomi", "viktiga-handelser", "framtid"])
    assert shape["Kommunfullmäktige"][3:] == (1, [w.council_goal.title], [])
    assert shape["Kommunstyrelsen"][3:] == (1, [], ["ekonomi"])
    # Without the council goal the council would owe nothing and gets no report.
    PlanItem.objects.filter(pk=w.council_goal.pk).update(status=ItemStatus.DRAFT)
    annual = generate(w)[ANNUAL]
    k2 = kind(w, ANNUAL)
    k2.sections = [s | {"reporters": ["namnd"]} for s in k2.sections]
    k2.save()
    services.period_open(period=annual, user=w.admin)
    assert "Kommunfullmäktige" not in _shape(annual)


def test_the_proposal_is_copied_beside_the_empty_assessment(world: World) -> None:
    w = world
    indicator = indicator_services.indicator_create(
        user=w.admin,
        municipality=w.kramfors,
        data={"title": "Andel behöriga", "unit": "%", "owner": w.kf},
        items=[w.council_goal],
    )
    indicator_services.values_write(
        user=w.admin,
        municipality=w.kramfors,
        source="manual",
        name="test",
        rows=[(indicator, indicator_services.ValueInput(2025, "year", None, Decimal("79")))],
    )
    indicator_services.targets_set(
        user=w.admin,
        indicator=indicator,
        rows=[indicator_services.TargetInput(w.period, 2025, Decimal(85), Decimal(80))],
    )
    period = open_period(w)  # opening computes the roll-up first
    proposal = ItemRollup.objects.get(item=w.council_goal)
    assert proposal.proposed == "not_met"
    a = assessment_of(report_of(period, w.kf), w.council_goal)
    # The status is copied; the reasons are read live while the report is a draft.
    assert (a.status, a.proposed, a.proposed_reasons) == ("", "not_met", {})
    content = build_snapshots([a.report])[a.report_id]
    (shown,) = [i for i in content["items"] if i["item_id"] == w.council_goal.pk]
    assert shown["proposed"] == "not_met"
    assert shown["proposed_reasons"] == proposal.reasons
    assert shown["proposed_reasons"]["indicators"]["not_met"] == 1
    page = client(w.reader).get(url("report", a.report_id))
    assert page.context["content"]["items"][0]["proposed"] == "not_met"
    assert "Not achieved" in text(page)


# --- Writing a report ------------------------------------------------------------------------


def test_an_assessment_is_saved_counted_and_audited(world: World) -> None:
    w = world
    report = report_of(open_period(w), w.board_a)
    a = assessment_of(report, w.goal_a)
    saved = save_assessment(
        a, w.editor_a, status="partly", analysis=" A\r\nB ", measures="M", ready=True
    )
    assert (saved.status, saved.analysis, saved.measures, saved.ready) == (
        "partly",
        "A\nB",
        "M",
        True,
    )
    assert (saved.version, saved.updated_by) == (2, w.editor_a)
    assert Report.objects.get(pk=report.pk).parts_ready == 1
    event = AuditEvent.objects.filter(object_type="followup.assessment").get()
    assert (event.user, event.action, event.object_id) == (w.editor_a, "update", str(a.pk))
    assert event.before == {"status": "", "analysis": "", "measures": "", "ready": False}
    assert event.after == {"status": "partly", "analysis": "A\nB", "measures": "M", "ready": True}
    # Unmarking counts down again.
    save_assessment(a, w.editor_a, status="partly", analysis="A", ready=False)
    assert Report.objects.get(pk=report.pk).parts_ready == 0


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"status": "", "analysis": ""},
            [
                "Status: choose a status before you mark the assessment ready.",
                "Analysis: write an analysis before you mark it ready.",
            ],
        ),
        (
            {"status": "met", "analysis": "  "},
            ["Analysis: write an analysis before you mark it ready."],
        ),
        (
            {"status": "", "analysis": "Text"},
            ["Status: choose a status before you mark the assessment ready."],
        ),
        (
            {"status": "not_met", "analysis": "Text", "measures": " "},
            ["Measures: say what will be done when the goal is not achieved."],
        ),
        ({"status": "green", "analysis": "Text"}, ["Status: choose one of the statuses offered."]),
        (
            {"status": "met", "analysis": "x" * 20_001},
            ["Analysis: at most 20000 characters, not 20001."],
        ),
        (
            {"status": "met", "analysis": "Text", "measures": "y" * 20_005},
            ["Measures: at most 20000 characters, not 20005."],
        ),
    ],
)
def test_an_assessment_marked_ready_must_be_complete(
    world: World, fields: dict[str, str], expected: list[str]
) -> None:
    w = world
    report = report_of(open_period(w), w.board_a)
    a = assessment_of(report, w.goal_a)
    before = followup_state()
    with pytest.raises(services.FollowUpError) as info:
        services.assessment_save(
            assessment=a,
            user=w.editor_a,
            expected_version=a.version,
            status=fields["status"],
            analysis=fields["analysis"],
            measures=fields.get("measures", ""),
            ready=True,
        )
    assert info.value.messages == expected
    assert followup_state() == before


def test_not_ready_a_draft_may_be_incomplete_but_not_too_long(world: World) -> None:
    w = world
    report = report_of(open_period(w), w.board_a)
    a = assessment_of(report, w.goal_a)
    save_assessment(a, w.editor_a, status="not_met", analysis="", ready=False)
    assert Assessment.objects.get(pk=a.pk).status == "not_met"
    with pytest.raises(services.FollowUpError):
        save_assessment(a, w.editor_a, status="met", analysis="z" * 20_001, ready=False)
    # The page refuses an over-long text before the service sees it.
    data = assessment_post(a, status="met", analysis="z" * 20_001)
    response = client(w.editor_a).post(url("assessment", report.pk, a.pk), data)
    assert response.status_code == 422
    assert "Analysis: Ensure this value has at most 20000 characters (it has 20001)." in text(
        response
    )
    assert Assessment.objects.get(pk=a.pk).version == 2


def test_a_section_ready_needs_its_text_and_the_economy_a_forecast_in_the_period(
    world: World,
) -> None:
    w = world
    report = report_of(open_period(w), w.board_a)
    events = section_of(report, "viktiga-handelser")
    with pytest.raises(services.FollowUpError) as info:
        save_section(events, w.editor_a, "  ")
    assert info.value.messages == ["Important events: write the text before you mark it ready."]
    with pytest.raises(services.FollowUpError) as info:
        save_section(events, w.editor_a, "x" * 20_001)
    assert info.value.messages == ["Important events: at most 20000 characters, not 20001."]
    save_section(events, w.editor_a, "Ny förskola öppnad.")
    assert Report.objects.get(pk=report.pk).parts_ready == 1

    economy = section_of(report, ReportSection.ECONOMY)
    message = ["Economy: enter the forecast for 2026-08 before you mark the economy ready."]
    forecast(w, w.board_a, month=9)  # after the period
    forecast(w, w.board_a, month=6, year=2025)  # another year
    forecast(w, w.board_b, month=6)  # another board
    with pytest.raises(services.FollowUpError) as info:
        save_section(economy, w.editor_a, "Underskott väntas.")
    assert info.value.messages == message
    save_section(economy, w.editor_a, "Underskott väntas.", ready=False)  # a draft is fine
    forecast(w, w.board_a, month=8)
    save_section(economy, w.editor_a, "Underskott väntas.")
    assert ReportSection.objects.get(pk=economy.pk).ready
    assert Report.objects.get(pk=report.pk).parts_ready == 2


def test_a_stale_assessment_is_refused_and_names_who_saved(world: World) -> None:
    w = world
    report = report_of(open_period(w), w.board_a)
    a = assessment_of(report, w.goal_a)
    controller_a = person(w, "anna-controller", w.board_a, "controller")
    save_assessment(a, controller_a, status="met", analysis="Först.", ready=False)
    before = followup_state()
    with pytest.raises(StaleEdit) as info:
        services.assessment_save(
            assessment=a,
            user=w.editor_a,
            expected_version=1,
            status="partly",
            analysis="Sen.",
            measures="",
            ready=False,
        )
    (message,) = info.value.messages
    assert message.startswith(f"The assessment of “{w.goal_a}” was saved by Anna Controller at ")
    assert "Your text was not saved: it is kept in the form below" in message
    assert followup_state() == before


def test_two_people_editing_one_assessment_lose_nothing(world: World) -> None:
    """Both open the form; the first saves; the second's save is refused (409) with their text
    still in the form beside the saved one, and a save after merging goes through."""
    w = world
    report = report_of(open_period(w), w.board_a)
    a = assessment_of(report, w.goal_a)
    first, second = client(w.editor_a), client(w.controller)
    form = first.get(url("assessment", report.pk, a.pk))
    assert form.status_code == 200
    assert second.get(url("assessment", report.pk, a.pk)).status_code == 200
    first_text = "Första personens analys: målet är delvis nått."
    second_text = "Andra personens analys: eleverna läser mer."
    response = first.post(
        url("assessment", report.pk, a.pk),
        assessment_post(a, status="partly", analysis=first_text, version=1),
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"#bedomning-{a.pk}")
    response = second.post(
        url("assessment", report.pk, a.pk),
        assessment_post(a, status="met", analysis=second_text, measures="Läsa", version=1),
    )
    assert response.status_code == 409
    shown = text(response)
    assert "was saved by Editor-A at" in shown
    assert "it is kept in the form below, beside the version now saved" in shown
    assert second_text in shown and first_text in shown
    bound = response.context["content"]["items"][0]["form"]
    assert bound.data[f"a{a.pk}-analysis"] == second_text
    assert bound.data[f"a{a.pk}-version"] == "2"  # the merge saves over what is saved now
    saved = Assessment.objects.get(pk=a.pk)
    assert (saved.status, saved.analysis, saved.version) == ("partly", first_text, 2)
    merged = f"{first_text}\n{second_text}"
    response = second.post(
        url("assessment", report.pk, a.pk),
        assessment_post(a, status="partly", analysis=merged, version=2),
    )
    assert response.status_code == 302
    assert Assessment.objects.get(pk=a.pk).analysis == merged


def test_two_people_editing_one_section_lose_nothing(world: World) -> None:
    w = world
    report = report_of(open_period(w), w.board_a)
    s = section_of(report, "framtid")
    first, second = client(w.editor_a), client(w.admin)
    assert (
        first.post(url("section", report.pk, s.pk), section_post(s, "Först", version=1)).status_code
        == 302
    )
    response = second.post(
        url("section", report.pk, s.pk), section_post(s, "Andras framtidstext", version=1)
    )
    assert response.status_code == 409
    shown = text(response)
    assert "The section “Looking ahead” was saved by Editor-A at" in shown
    assert "Andras framtidstext" in shown and "Först" in shown
    saved = ReportSection.objects.get(pk=s.pk)
    assert (saved.text, saved.version, saved.updated_by) == ("Först", 2, w.editor_a)


def test_only_a_draft_in_an_open_period_is_written(world: World) -> None:
    w = world
    period = open_period(w)
    report = submit(w, report_of(period, w.board_a), w.editor_a)
    a = assessment_of(report, w.goal_a)
    before = followup_state()
    with pytest.raises(services.FollowUpError) as info:
        save_assessment(a, w.editor_a, analysis="Ändrat efteråt.")
    assert info.value.messages == [
        "The report is submitted and can no longer be edited. A controller can reopen it, "
        "giving a reason."
    ]
    with pytest.raises(services.FollowUpError):
        save_section(section_of(report, "framtid"), w.editor_a, "Ändrat efteråt.")
    with pytest.raises(services.FollowUpError):
        services.report_submit(report=report, user=w.editor_a)
    assert followup_state() == before


# --- Submitting ------------------------------------------------------------------------------


def test_submitting_is_refused_until_every_part_is_ready(world: World) -> None:
    w = world
    report = report_of(open_period(w), w.board_a)
    before = followup_state()
    with pytest.raises(services.FollowUpError) as info:
        services.report_submit(report=report, user=w.editor_a)
    assert info.value.messages == [
        f"4 parts are not marked ready: “{w.goal_a}”, “Economy”, “Important events”, "
        "“Looking ahead”."
    ]
    assert followup_state() == before
    save_assessment(assessment_of(report, w.goal_a), w.editor_a)
    save_section(section_of(report, "framtid"), w.editor_a, "Framtid.")
    response = client(w.editor_a).post(url("submit", report.pk))
    assert response.status_code == 422
    assert "2 parts are not marked ready: “Economy”, “Important events”." in text(response)
    page = client(w.editor_a).get(url("report", report.pk))
    assert page.context["missing"] == ["Economy", "Important events"]
    fill(w, report, w.editor_a)
    response = client(w.editor_a).post(url("submit", report.pk))
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.parts_ready, report.version) == (ReportStatus.SUBMITTED, 4, 2)
    assert report.submitted_at is not None
    (event,) = report.events.all()
    assert (event.action, event.by, event.reason) == (EventAction.SUBMIT, w.editor_a, "")
    audit = AuditEvent.objects.get(object_type="followup.report", action="submit")
    assert (audit.user, (audit.before or {})["status"], (audit.after or {})["status"]) == (
        w.editor_a,
        "draft",
        "submitted",
    )


def test_many_missing_parts_are_summed_up(world: World) -> None:
    w = world
    goals = [
        steering_services.plan_item_create(
            user=None,
            level=w.level("namndmal"),
            owner=w.board_a,
            period=w.period,
            plan_year=w.year,
            data={"title": f"Mål {n:02d}"},
            parents=[w.council_goal],
            values=[w.value("perspektiv", "kramforsbon")],
        )
        for n in range(12)
    ]
    report = report_of(open_period(w), w.board_a)
    assert report.parts_total == 16
    with pytest.raises(services.FollowUpError) as info:
        services.report_submit(report=report, user=w.editor_a)
    (message,) = info.value.messages
    assert message.startswith(f"16 parts are not marked ready: “{w.goal_a}”, “{goals[0]}”")
    assert message.endswith(" and 6 more.")


# --- Approving -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"decided_by": " ", "decided_on": None, "paragraph": ""},
            [
                "Decided by: name the body that decided (e.g. the board).",
                "Decision date: give the date of the decision.",
                "Paragraph (§): give the paragraph of the minutes.",
            ],
        ),
        ({"decided_on": "tomorrow"}, ["Decision date: a decision cannot be dated in the future."]),
        ({"paragraph": "  "}, ["Paragraph (§): give the paragraph of the minutes."]),
    ],
)
def test_an_approval_needs_a_whole_decision(
    world: World, changes: dict[str, Any], expected: list[str]
) -> None:
    w = world
    report = submit(w, report_of(open_period(w), w.board_a), w.editor_a)
    if changes.get("decided_on") == "tomorrow":
        changes["decided_on"] = today() + dt.timedelta(days=1)
    before = followup_state()
    with pytest.raises(services.FollowUpError) as info:
        services.reports_approve(reports=[report], user=w.controller, **decision(**changes))
    assert info.value.messages == expected
    assert followup_state() == before


def test_the_decision_form_refuses_a_future_date(world: World) -> None:
    w = world
    report = submit(w, report_of(open_period(w), w.board_a), w.editor_a)
    before = followup_state()
    tomorrow = today() + dt.timedelta(days=1)
    response = client(w.controller).post(
        url("approve", report.pk), decision_post("Nämnden", on=tomorrow)
    )
    assert response.status_code == 422
    assert "Decision date: a decision cannot be dated in the future." in text(response)
    response = client(w.controller).post(url("approve", report.pk), {"decided_by": "Nämnden"})
    assert response.status_code == 422
    assert followup_state() == before


def test_approval_freezes_the_report_with_its_decision(world: World) -> None:
    w = world
    report = submit(w, report_of(open_period(w), w.board_a), w.editor_a)
    approved = approve(report, w.controller, "Barn- och utbildningsnämnden")
    assert approved.status == ReportStatus.APPROVED and approved.approved_at is not None
    assert approved.frozen and not approved.editable
    event = approved.events.get(action=EventAction.APPROVE)
    assert (event.by, event.decided_by, event.decided_on, event.paragraph) == (
        w.controller,
        "Barn- och utbildningsnämnden",
        today(),
        "§ 42",
    )
    snapshot = Snapshot.objects.get(report=report)
    assert (snapshot.number, snapshot.event, snapshot.created_at) == (1, event, event.at)
    content = snapshot.content
    assert snapshot.sha256 == digest(content)
    assert content["report"] | {"id": 0, "org_unit_id": 0} == {
        "id": 0,
        "period": "Interim report 2026",
        "kind": INTERIM,
        "kind_name": "Delårsrapport",
        "kind_name_en": "Interim report",
        "year": 2026,
        "start": "2026-01-01",
        "end": "2026-08-31",
        "deadline": "2026-09-21",
        "org_unit": "Barn- och utbildningsnämnden",
        "org_unit_id": 0,
        "tier": Tier.BOARD,
        "scale": "achieved",
    }
    (item,) = content["items"]
    assert (item["title"], item["level"], item["status"], item["analysis"], item["ready"]) == (
        w.goal_a.title,
        "Nämndmål",
        "met",
        "Målet är nått.",
        True,
    )
    assert [(s["key"], s["name"], s["text"]) for s in content["sections"]] == [
        ("ekonomi", "Ekonomi", "Text om ekonomi."),
        ("viktiga-handelser", "Viktiga händelser", "Text om viktiga-handelser."),
        ("framtid", "Framtid", "Text om framtid."),
    ]
    assert content["economy"]["forecast"] == "7900000"
    assert content["economy"]["forecast_month"] == 6
    assert content["decision"]["decided_by"] == "Barn- och utbildningsnämnden"
    assert content["decision"]["by"] == "Controller-A"
    audit = AuditEvent.objects.get(object_type="followup.report", action="approve")
    assert (audit.user, (audit.after or {})["decided_by"], (audit.after or {})["paragraph"]) == (
        w.controller,
        "Barn- och utbildningsnämnden",
        "§ 42",
    )
    assert (audit.after or {})["decided_on"] == today().isoformat()


def test_a_snapshot_and_a_report_event_are_never_changed(world: World) -> None:
    w = world
    report = approve(submit(w, report_of(open_period(w), w.board_a), w.editor_a), w.controller)
    snapshot = Snapshot.objects.get(report=report)
    snapshot.content = {"forged": True}
    with pytest.raises(ValueError, match="never changed"):
        snapshot.save()
    event = ReportEvent.objects.filter(report=report).first()
    assert event is not None
    event.reason = "forged"
    with pytest.raises(ValueError, match="never changed"):
        event.save()
    stored = Snapshot.objects.get(pk=snapshot.pk)
    assert "forged" not in stored.content and stored.sha256 == digest(stored.content)
    assert not ReportEvent.objects.filter(reason="forged").exists()


def test_only_submitted_reports_are_approved_all_or_nothing(world: World) -> None:
    w = world
    period = open_period(w)
    submitted = submit(w, report_of(period, w.board_a), w.editor_a)
    draft = report_of(period, w.board_b)
    before = followup_state()
    with pytest.raises(services.FollowUpError) as info:
        services.reports_approve(reports=[submitted, draft], user=w.controller, **decision())
    assert info.value.messages == [
        "“Omsorgsnämnden – Interim report 2026” is draft; only a submitted report can be approved."
    ]
    with pytest.raises(services.FollowUpError) as info:
        services.reports_approve(reports=[], user=w.controller, **decision())
    assert info.value.messages == ["Choose at least one report to approve."]
    assert followup_state() == before


def test_many_reports_are_approved_by_one_decision_on_the_period_page(world: World) -> None:
    w = world
    units_report(w)
    period = open_period(w)
    school = submit(w, report_of(period, w.school), w.editor_a)
    board_a = submit(w, report_of(period, w.board_a), w.editor_a)
    board_b = submit(w, report_of(period, w.board_b), w.editor_b)
    controller = client(w.controller)
    page = controller.get(url("period", period.pk))
    assert page.context["approvable"] == {school.pk, board_a.pk, board_b.pk}
    shown = text(page)
    assert f'name="rapport" value="{school.pk}"' in shown
    assert f'name="rapport" value="{report_of(period, w.kf).pk}"' not in shown  # a draft
    before = followup_state()
    response = controller.post(
        url("approve_many", period.pk),
        {"rapport": [school.pk, board_a.pk], **decision_post("BUN", paragraph="")},
        follow=True,
    )
    assert "Paragraph (§): This field is required." in messages_of(response)
    response = controller.post(url("approve_many", period.pk), decision_post("BUN"), follow=True)
    assert "Choose at least one report to approve." in messages_of(response)
    assert followup_state() == before
    response = controller.post(
        url("approve_many", period.pk),
        {"rapport": [school.pk, board_a.pk], **decision_post("Barn- och utbildningsnämnden")},
        follow=True,
    )
    assert "2 reports were approved and frozen." in messages_of(response)
    events = ReportEvent.objects.filter(action=EventAction.APPROVE)
    assert sorted(e.report_id for e in events) == sorted([school.pk, board_a.pk])
    assert {(e.decided_by, e.paragraph, e.by_id) for e in events} == {
        ("Barn- och utbildningsnämnden", "§ 42", w.controller.pk)
    }
    assert Snapshot.objects.filter(report__in=[school, board_a]).count() == 2
    assert Report.objects.get(pk=board_b.pk).status == ReportStatus.SUBMITTED


def test_the_council_approves_only_where_the_model_says_so(world: World) -> None:
    w = world
    period = open_period(w)
    council = submit(w, report_of(period, w.kf), w.controller)
    board = approve(submit(w, report_of(period, w.board_a), w.editor_a), w.controller)
    with pytest.raises(services.FollowUpError) as info:
        services.report_council_approve(
            report=board, user=w.controller, **decision("Kommunfullmäktige")
        )
    assert info.value.messages == ["The model does not send this report to the council."]
    with pytest.raises(services.FollowUpError) as info:
        services.report_council_approve(
            report=council, user=w.controller, **decision("Kommunfullmäktige")
        )
    assert info.value.messages == ["The council approves a report after the board has approved it."]
    council = approve(council, w.controller, "Kommunstyrelsen")
    first = Snapshot.objects.get(report=council, number=1)
    first_content = first.content
    # A controller of board A only may not record the council's decision; the whole tree may.
    board_controller = person(w, "controller-board-a", w.board_a, "controller")
    page = client(board_controller).get(url("report", council.pk))
    assert not page.context["can_council_approve"]
    response = client(board_controller).post(
        url("council_approve", council.pk), decision_post("Kommunfullmäktige")
    )
    assert response.status_code == 403
    assert Report.objects.get(pk=council.pk).status == ReportStatus.APPROVED
    page = client(w.controller).get(url("report", council.pk))
    assert page.context["can_council_approve"]
    response = client(w.controller).post(
        url("council_approve", council.pk), decision_post("Kommunfullmäktige", "§ 101")
    )
    assert response.status_code == 302
    council.refresh_from_db()
    assert council.status == ReportStatus.COUNCIL_APPROVED
    second = Snapshot.objects.get(report=council, number=2)
    assert second.content["decision"]["action"] == "council_approve"
    assert second.content["decision"]["paragraph"] == "§ 101"
    assert Snapshot.objects.get(pk=first.pk).content == first_content
    assert first_content["decision"]["decided_by"] == "Kommunstyrelsen"
    page = client(w.reader).get(url("snapshot", council.pk, 1))
    assert "The report was reopened and approved again later" in text(page)
    assert "(the council's decision)" in text(client(w.reader).get(url("snapshot", council.pk, 2)))


def test_without_council_approval_the_council_level_is_done_when_approved(world: World) -> None:
    w = world
    FollowUpKind.objects.filter(pk=kind(w).pk).update(council_approval=False)
    period = open_period(w)
    council = approve(submit(w, report_of(period, w.kf), w.controller), w.controller)
    assert not council.needs_council
    with pytest.raises(services.FollowUpError):
        services.report_council_approve(report=council, user=w.controller, **decision())
    page = client(w.controller).get(url("report", council.pk))
    assert not page.context["can_council_approve"]


def test_a_unit_controller_cannot_approve_the_units_own_report(world: World) -> None:
    w = world
    units_report(w)
    period = open_period(w)
    school = submit(w, report_of(period, w.school), w.editor_a)
    head = person(w, "rektor-controller", w.school, "controller")
    unit_editor = person(w, "larare-editor", w.school, "editor")
    board_controller = person(w, "controller-board-a", w.board_a, "controller")
    for user in (head, unit_editor):
        response = client(user).post(url("approve", school.pk), decision_post("BUN"))
        assert response.status_code == 403, user
        assert not client(user).get(url("report", school.pk)).context["can_approve"]
    assert Report.objects.get(pk=school.pk).status == ReportStatus.SUBMITTED
    assert client(board_controller).get(url("report", school.pk)).context["can_approve"]
    response = client(board_controller).post(url("approve", school.pk), decision_post("BUN"))
    assert response.status_code == 302
    assert Report.objects.get(pk=school.pk).status == ReportStatus.APPROVED


# --- Reopening and closing -------------------------------------------------------------------


def test_reopening_needs_a_reason_and_keeps_the_snapshot(world: World) -> None:
    w = world
    report = approve(submit(w, report_of(open_period(w), w.board_a), w.editor_a), w.controller)
    snapshot = Snapshot.objects.get(report=report)
    before = followup_state()
    for reason in ("", "   "):
        with pytest.raises(services.FollowUpError) as info:
            services.report_reopen(report=report, user=w.controller, reason=reason)
        assert info.value.messages == ["Reason: say why the report is reopened."]
    response = client(w.controller).post(url("reopen", report.pk), {"reason": ""})
    assert response.status_code == 422
    assert followup_state() == before
    services.report_reopen(report=report, user=w.controller, reason=" Fel i analysen. ")
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT and report.editable
    event = report.events.get(action=EventAction.REOPEN)
    assert (event.by, event.reason) == (w.controller, "Fel i analysen.")
    assert Snapshot.objects.get(pk=snapshot.pk).content == snapshot.content
    with pytest.raises(services.FollowUpError) as info:
        services.report_reopen(report=report, user=w.controller, reason="Igen.")
    assert info.value.messages == ["The report is a draft already."]
    # Written again and approved again: a second snapshot beside the first.
    save_assessment(assessment_of(report, w.goal_a), w.editor_a, analysis="Rättad analys.")
    services.report_submit(report=report, user=w.editor_a)
    approve(report, w.controller)
    assert list(Snapshot.objects.filter(report=report).values_list("number", flat=True)) == [1, 2]
    assert Snapshot.objects.get(report=report, number=2).content["items"][0]["analysis"] == (
        "Rättad analys."
    )
    assert Snapshot.objects.get(report=report, number=1).content["items"][0]["analysis"] == (
        "Målet är nått."
    )


def test_a_period_closes_when_every_report_is_approved(world: World) -> None:
    w = world
    period = open_period(w)
    reports = {r.org_unit_id: r for r in Report.objects.filter(period=period)}
    for report in reports.values():
        submit(w, report, w.controller)
        approve(report, w.controller)
    with pytest.raises(services.FollowUpError) as info:
        services.period_close(period=period, user=w.admin)
    assert info.value.messages == [
        "1 report is not approved yet; the period can be closed when every report is."
    ]  # the council's awaits the council
    council = reports[w.kf.pk]
    services.report_council_approve(report=council, user=w.controller, **decision("KF"))
    services.period_close(period=period, user=w.admin)
    period.refresh_from_db()
    assert period.status == PeriodStatus.CLOSED
    audit = AuditEvent.objects.filter(object_type="followup.followupperiod").latest("pk")
    assert (audit.user, audit.after) == (w.admin, {"status": "closed"})
    with pytest.raises(services.FollowUpError) as info:
        services.period_close(period=period, user=w.admin)
    assert info.value.messages == ["Only an open period can be closed."]
    with pytest.raises(services.FollowUpError) as info:
        services.report_reopen(report=council, user=w.controller, reason="Sent påkommet.")
    assert info.value.messages == ["The period is closed; its reports can no longer be reopened."]
    with pytest.raises(services.FollowUpError) as info:
        services.period_update(
            period=period, user=w.admin, deadline=dt.date(2026, 12, 1), expected_version=3
        )
    assert info.value.messages == ["The period is closed; its deadline can no longer change."]
    # Nothing can be done to a report of a closed period, by anyone.
    page = client(w.admin).get(url("report", council.pk))
    context = page.context
    assert not any(context[k] for k in ("can_edit", "can_submit", "can_approve", "can_reopen"))
    planned = generate(w)[ANNUAL]
    with pytest.raises(services.FollowUpError):
        services.period_close(period=planned, user=w.admin)


# --- Reminders -------------------------------------------------------------------------------


def _remind(day: dt.date, capture: Any, **options: Any) -> list[tuple[str, str, list[str]]]:
    with capture(execute=True):
        sent = services.reminders_send(today=day, **options)
    return sorted((r.org_unit.name, key, addresses) for r, key, addresses in sent)


def test_reminders_before_the_deadline_and_weekly_when_late_each_once(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    with_emails(w)
    period = open_period(w)
    submit(w, report_of(period, w.board_b), w.editor_b)  # submitted: never reminded
    deadline = period.deadline
    boards = ["Barn- och utbildningsnämnden", "Kommunfullmäktige", "Kommunstyrelsen"]

    def remind(days: int) -> list[tuple[str, str]]:
        day = deadline + dt.timedelta(days=days)
        return [(name, key) for name, key, _to in _remind(day, django_capture_on_commit_callbacks)]

    assert remind(-8) == []
    assert remind(-7) == [(name, "before-7") for name in boards]
    assert len(mail.outbox) == 3
    assert remind(-7) == [] and remind(-2) == []
    assert remind(-1) == [(name, "before-1") for name in boards]
    assert remind(0) == []
    assert remind(1) == [(name, "late-0") for name in boards]
    assert remind(7) == []
    assert remind(8) == [(name, "late-1") for name in boards]
    assert remind(9) == [] and remind(14) == []
    assert remind(15) == [(name, "late-2") for name in boards]
    assert len(mail.outbox) == 15
    assert Reminder.objects.count() == 15
    assert not Reminder.objects.filter(report__org_unit=w.board_b).exists()
    late = [m for m in mail.outbox if m.to == ["editor-a@kramfors.se"]][-1]  # the third week's
    assert "Barn- och utbildningsnämnden" in late.subject
    assert f"{settings.SITE_URL}{url('report', report_of(period, w.board_a).pk)}" in late.body
    assert late.from_email == settings.DEFAULT_FROM_EMAIL
    # Written in Swedish; English until the catalogue has the follow-up's messages.
    assert "0 of 4 parts" in late.body or "0 av 4 delar" in late.body


def test_a_reminder_goes_to_the_units_editors_or_the_nearest_above(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    units_report(w)
    period = open_period(w)
    day = period.deadline - dt.timedelta(days=7)
    # Nobody has an e-mail address yet: due, but nobody to send to, so nothing is recorded.
    sent = _remind(day, django_capture_on_commit_callbacks)
    assert [to for _n, _k, to in sent] == [[]] * 5
    assert len(sent) == 5 and mail.outbox == [] and not Reminder.objects.exists()
    w.controller.email = "controller@kramfors.se"
    w.controller.save()
    w.reader.email = "reader@kramfors.se"  # a reader is not reminded
    w.reader.save()
    w.admin.email = "admin@kramfors.se"  # nor the administrator
    w.admin.save()
    sent = _remind(day, django_capture_on_commit_callbacks)
    # With no address below, everything goes to the whole tree's controller.
    assert {n: to for n, _k, to in sent} == {
        "Barn- och utbildningsnämnden": ["controller@kramfors.se"],
        "Gudmundråskolan": ["controller@kramfors.se"],
        "Kommunfullmäktige": ["controller@kramfors.se"],
        "Kommunstyrelsen": ["controller@kramfors.se"],
        "Omsorgsnämnden": ["controller@kramfors.se"],
    }
    Reminder.objects.all().delete()
    w.editor_a.email = "editor-a@kramfors.se"
    w.editor_a.save()
    inactive = person(w, "gone-editor", w.school, "editor")
    inactive.is_active = False
    inactive.save()
    person(w, "rektor-reader", w.school, "reader")
    sent = _remind(day, django_capture_on_commit_callbacks)
    by_unit = {n: to for n, _k, to in sent}
    assert by_unit["Gudmundråskolan"] == ["editor-a@kramfors.se"]  # nearest above: board A
    assert by_unit["Barn- och utbildningsnämnden"] == ["editor-a@kramfors.se"]
    Reminder.objects.all().delete()
    person(w, "rektor-editor", w.school, "editor")
    person(w, "rektor-controller", w.school, "controller")
    sent = _remind(day, django_capture_on_commit_callbacks)
    assert {n: to for n, _k, to in sent}["Gudmundråskolan"] == [
        "rektor-controller@kramfors.se",
        "rektor-editor@kramfors.se",
    ]
    school_mail = next(m for m in mail.outbox if "rektor-editor@kramfors.se" in m.to)
    assert school_mail.to == ["rektor-controller@kramfors.se", "rektor-editor@kramfors.se"]


def test_the_reminder_command(world: World, django_capture_on_commit_callbacks: Any) -> None:
    w = world
    with_emails(w)
    period = open_period(w)
    day = (period.deadline - dt.timedelta(days=1)).isoformat()
    out = io.StringIO()
    call_command("send_reminders", "--datum", day, "--dry-run", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[-1] == "4 reminders would be sent."
    assert (
        "2282 Barn- och utbildningsnämnden – Interim report 2026 [before-1] -> editor-a@kramfors.se"
        in lines
    )
    assert mail.outbox == [] and not Reminder.objects.exists()
    # Another municipality: nothing of Kramfors'.
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", "--datum", day, "--kommun", "0192", stdout=out)
    assert out.getvalue().splitlines() == ["0 reminders sent."]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", "--datum", day, "--kommun", KRAMFORS, stdout=io.StringIO())
    assert len(mail.outbox) == 4
    assert Reminder.objects.filter(key="before-1").count() == 4
    with pytest.raises(CommandError, match="--datum '2026-13-01' is not a date"):
        call_command("send_reminders", "--datum", "2026-13-01")
    with pytest.raises(CommandError, match="No municipality has the code '9999'"):
        call_command("send_reminders", "--kommun", "9999")
    assert len(mail.outbox) == 4


def test_reminders_from_the_period_page(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    with_emails(w)
    period = open_period(w)
    # Today is the deadline's eve: the one-day reminder is due.
    FollowUpPeriod.objects.filter(pk=period.pk).update(deadline=today() + dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        response = client(w.admin).post(url("remind", period.pk), follow=True)
    assert messages_of(response) == ["Reminders for 4 reports were sent to 4 addresses."]
    assert len(mail.outbox) == 4
    with django_capture_on_commit_callbacks(execute=True):
        response = client(w.admin).post(url("remind", period.pk), follow=True)
    assert messages_of(response) == ["No reminder is due today; each is sent once."]
    assert len(mail.outbox) == 4
    page = client(w.admin).get(url("period", period.pk))
    assert {r.reminders for r in page.context["data"].rows} == {1}


# --- Indicator values due --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "end", "due"),
    [
        ("tertial", dt.date(2026, 8, 31), ("tertial", 2)),
        ("tertial", dt.date(2026, 4, 30), ("tertial", 1)),
        ("tertial", dt.date(2026, 6, 30), None),
        ("half", dt.date(2026, 6, 30), ("half", 1)),
        ("half", dt.date(2026, 8, 31), None),
        ("year", dt.date(2026, 8, 31), None),
        ("year", dt.date(2026, 12, 31), ("year", 0)),
        ("month", dt.date(2026, 8, 31), ("month", 8)),
    ],
)
def test_the_indicator_period_due_with_a_follow_up_period(
    frequency: str, end: dt.date, due: tuple[str, int] | None
) -> None:
    assert selectors.due_period(frequency, end) == due


def test_the_values_a_report_owes(world: World) -> None:
    w = world
    tertial = indicator_services.indicator_create(
        user=w.admin,
        municipality=w.kramfors,
        data={"title": "Tertialvärde", "owner": w.kf, "frequency": "tertial"},
        items=[w.council_goal],
    )
    for title, data in (
        ("Årsvärde", {"frequency": "year"}),
        ("Från Kolada", {"frequency": "tertial", "source": "kolada"}),
    ):
        indicator_services.indicator_create(
            user=w.admin,
            municipality=w.kramfors,
            data={"title": title, "owner": w.kf, **data},
            items=[w.council_goal],
        )
    period = open_period(w)
    council = report_of(period, w.kf)
    due = selectors.values_due(council)
    assert [(d.indicator.title, d.label, d.value) for d in due] == [
        ("Tertialvärde", due[0].label, None)
    ]
    assert (due[0].year, due[0].kind, due[0].number) == (2026, "tertial", 2)
    page = client(w.controller).get(url("report", council.pk))
    assert "Indicator values due" in text(page) and "missing" in text(page)
    value = indicator_services.value_set(
        user=w.admin,
        indicator=tertial,
        expected_version=None,
        row=indicator_services.ValueInput(2026, "tertial", 2, Decimal("64")),
    )
    assert [d.value for d in selectors.values_due(council)] == [value]
    assert "entered" in text(client(w.controller).get(url("report", council.pk)))
    # A board's report owes none of the council's indicators; a kind without indicators none.
    assert selectors.values_due(report_of(period, w.board_a)) == []
    FollowUpKind.objects.filter(pk=kind(w).pk).update(indicators=False)
    assert selectors.values_due(report_of(period, w.kf)) == []


# --- What changed since the last period -------------------------------------------------------


def test_the_item_page_and_the_report_show_what_changed_since_the_last_period(
    world: World,
) -> None:
    w = world
    interim = open_period(w)
    board = report_of(interim, w.board_a)
    save_assessment(
        assessment_of(board, w.goal_a), w.editor_a, status="partly", analysis="Halvvägs i augusti."
    )
    annual = FollowUpPeriod.objects.get(kind__key=ANNUAL)
    services.period_open(period=annual, user=w.admin)
    annual_board = report_of(annual, w.board_a)
    # The annual report shows the interim's assessment in its "last period" box.
    page = client(w.editor_a).get(url("report", annual_board.pk))
    (item,) = page.context["content"]["items"]
    assert item["previous"]["status"] == "partly"
    assert item["previous"]["analysis"] == "Halvvägs i augusti."
    assert item["previous"]["approved"] is False
    shown = text(page)
    assert "Last period (Interim report 2026)" in shown
    assert "Halvvägs i augusti." in shown
    save_assessment(
        assessment_of(annual_board, w.goal_a), w.editor_a, status="met", analysis="Nått i december."
    )
    page = client(w.editor_a).get(url("report", annual_board.pk))
    assert page.context["content"]["items"][0]["changed"] == ["status", "analysis"]
    assert "Status changed" in text(page)
    # The item page: every period, newest first, with what changed since the one before.
    page = client(w.reader).get(reverse("steering:item", args=[KRAMFORS, w.goal_a.pk]))
    assert page.status_code == 200
    shown = text(page)
    assert "Follow-up" in shown
    assert shown.index("Annual report 2026") < shown.index("Interim report 2026")
    assert "Nått i december." in shown and "Halvvägs i augusti." in shown
    assert "Status changed; Analysis rewritten" in shown and "First period" in shown
    history = selectors.item_history(w.goal_a)
    assert [(h["assessment"].report.period.kind.key, h["changes"]) for h in history] == [
        (ANNUAL, ["status", "analysis"]),
        (INTERIM, []),
    ]
    # An item never followed up has no panel.
    page = client(w.reader).get(reverse("steering:item", args=[KRAMFORS, w.vision.pk]))
    assert "The item's assessments per period" not in text(page)


# --- Audit -----------------------------------------------------------------------------------


def test_each_step_is_attributed(world: World) -> None:
    w = world
    period = open_period(w)
    report = report_of(period, w.board_a)
    start = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
    submit(w, report, w.editor_a)
    approve(report, w.controller)
    services.report_reopen(report=report, user=w.admin, reason="Fel.")
    rows = list(
        AuditEvent.objects.filter(pk__gt=start)
        .order_by("pk")
        .values_list("object_type", "action", "user__username", "municipality__code")
    )
    assert rows == [
        ("followup.assessment", "update", "editor-a", KRAMFORS),
        ("followup.reportsection", "update", "editor-a", KRAMFORS),
        ("followup.reportsection", "update", "editor-a", KRAMFORS),
        ("followup.reportsection", "update", "editor-a", KRAMFORS),
        ("followup.report", "submit", "editor-a", KRAMFORS),
        ("followup.report", "approve", "controller-a", KRAMFORS),
        ("followup.report", "reopen", "admin-a", KRAMFORS),
    ]
    assert list(report.events.values_list("action", "by__username")) == [
        ("submit", "editor-a"),
        ("approve", "controller-a"),
        ("reopen", "admin-a"),
    ]


def test_reminders_from_a_period_page_are_that_periods(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    with_emails(w)
    interim = open_period(w)
    # Last year's interim report is open too, and late like this year's.
    last_year = PlanYear.objects.create(period=w.period, year=2025, status="adopted")
    earlier = next(
        p
        for p in services.periods_generate(plan_year=last_year, user=w.admin)
        if p.kind.key == INTERIM
    )
    services.period_open(period=earlier, user=w.admin)
    assert today() > interim.deadline > earlier.deadline
    with django_capture_on_commit_callbacks(execute=True):
        response = client(w.admin).post(url("remind", interim.pk), follow=True)
    assert messages_of(response) == ["Reminders for 4 reports were sent to 4 addresses."]
    assert set(Reminder.objects.values_list("report__period_id", flat=True)) == {interim.pk}
    assert len(mail.outbox) == 4


def test_an_item_with_assessments_cannot_be_deleted(world: World) -> None:
    w = world
    report = report_of(open_period(w), w.board_b)
    save_assessment(assessment_of(report, w.goal_b), w.editor_b)
    assert (report.parts_total, Report.objects.get(pk=report.pk).parts_ready) == (4, 1)
    # What was reported is history: the item can be cancelled, not deleted.
    with pytest.raises(steering_services.PlanError, match="cancelled"):
        steering_services.plan_item_delete(user=w.admin, item=w.goal_b)
    assert PlanItem.objects.filter(pk=w.goal_b.pk).exists()
    report.refresh_from_db()
    parts = report.assessments.count() + report.sections.count()
    ready = (
        report.assessments.filter(ready=True).count() + report.sections.filter(ready=True).count()
    )
    assert (report.parts_total, report.parts_ready) == (parts, ready)
    assert report.progress_pct == round(ready * 100 / parts)


ON_POSTGRESQL = connection.vendor == "postgresql"


# Regression: the saves once locked with select_for_update() over select_related("updated_by"),
# a nullable foreign key, and PostgreSQL refuses FOR UPDATE on the nullable side of an outer
# join ("FOR UPDATE cannot be applied to the nullable side of an outer join"). SQLite takes no
# row locks, so only PostgreSQL shows it.
@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite takes no row locks")
def test_an_assessment_and_a_section_save_on_postgresql(world: World) -> None:
    w = world
    report = report_of(open_period(w), w.board_a)
    a = save_assessment(assessment_of(report, w.goal_a), w.editor_a)
    save_assessment(a, w.controller, analysis="Igen.")  # updated_by is set: the join is non-empty
    s = section_of(report, "framtid")
    save_section(s, w.editor_a, "Framtiden.")
    save_section(s, w.controller, "Framtiden igen.")
    assert Assessment.objects.get(pk=a.pk).version == 3
    assert ReportSection.objects.get(pk=s.pk).version == 3


def test_a_board_snapshot_refers_to_its_units_frozen_texts(world: World) -> None:
    """A unit approved before its board: the board's snapshot points at the unit's snapshot
    instead of copying its analysis, and the frozen page still shows the unit's text as
    approved, also after the unit's report is reopened and rewritten."""
    w = world
    units_report(w)
    period = open_period(w)
    school = report_of(period, w.school)
    fill(w, school, w.controller)
    save_assessment(
        assessment_of(school, w.activity_a), w.controller, analysis="Läsombuden är på plats."
    )
    school = services.report_submit(report=Report.objects.get(pk=school.pk), user=w.controller)
    school = approve(school, w.controller, "Barn- och utbildningsnämnden")
    unit_snapshot = school.snapshots.get()
    board = submit(w, report_of(period, w.board_a), w.editor_a)
    board = approve(board, w.controller, "Barn- och utbildningsnämnden")
    frozen = board.snapshots.get()
    (goal,) = [i for i in frozen.content["items"] if i["item_id"] == w.goal_a.pk]
    (contributor,) = goal["contributors"]
    assert contributor["snapshot"] == unit_snapshot.pk
    assert "analysis" not in contributor
    services.report_reopen(report=school, user=w.controller, reason="Rättelse")
    save_assessment(
        assessment_of(school, w.activity_a), w.controller, analysis="Omskriven efteråt."
    )
    page = text(client(w.reader).get(url("snapshot", board.pk, 1)))
    assert "Läsombuden är på plats." in page
    assert "Omskriven efteråt." not in page


def test_other_boards_economy_text_is_hidden_where_boards_see_only_their_own(
    world: World,
) -> None:
    w = world
    period = open_period(w)
    board_b = fill(w, report_of(period, w.board_b), w.editor_b)
    save_section(section_of(board_b, ReportSection.ECONOMY), w.editor_b, "Underskott 12 mnkr.")
    rules = settings_for(w.kramfors)
    rules.boards_see_only_own = True
    rules.save()
    page = text(client(w.editor_a).get(url("report", board_b.pk)))
    assert "Underskott 12 mnkr." not in page
    assert "Underskott 12 mnkr." in text(client(w.editor_b).get(url("report", board_b.pk)))
    board_b = services.report_submit(report=Report.objects.get(pk=board_b.pk), user=w.editor_b)
    approve(board_b, w.admin, "Omsorgsnämnden")
    frozen = url("snapshot", board_b.pk, 1)
    assert "Underskott 12 mnkr." not in text(client(w.editor_a).get(frozen))
    assert "Underskott 12 mnkr." in text(client(w.editor_b).get(frozen))


def test_the_overview_offers_only_reports_the_person_may_approve(world: World) -> None:
    w = world
    units_report(w)
    period = open_period(w)
    school = submit(w, report_of(period, w.school), w.controller)
    on_the_unit = person(w, "skol-controller", w.school, Role.CONTROLLER)
    assert client(on_the_unit).get(url("period", period.pk)).context["approvable"] == set()
    over_it = person(w, "bun-controller", w.board_a, Role.CONTROLLER)
    assert client(over_it).get(url("period", period.pk)).context["approvable"] == {school.pk}

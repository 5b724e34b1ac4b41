"""axe-core on the follow-up pages and their states, at 320 px and in English, and the keyboard.

The data is made here through the follow-up services on Kramfors's demo (whatever follow-up
the demo itself loads is removed first), so the tests do not depend on the demo's content:

- Årsredovisning 2025 is planned;
- Delårsrapport 2026 is open and past its deadline: Barn- och utbildningsnämnden has submitted
  (so the bulk approve form shows), Kommunstyrelsen's report is approved (a snapshot),
  Kommunfullmäktige's council-level report is approved by the board and waits for the council,
  Omsorgsnämnden has written part of its report and Miljö-, bygg- och hälsoskyddsnämnden
  nothing (both late);
- Årsredovisning 2026 is open, its reports empty drafts, with Delårsrapport 2026 as the last
  period beside each item.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from rodtrad.followup import services
from rodtrad.followup.models import (
    Assessment,
    FollowUpPeriod,
    Report,
    ReportEvent,
    ReportStatus,
    Snapshot,
)
from rodtrad.organisations.models import User
from rodtrad.steering.models import PlanYear
from tests.browser.conftest import Demo, PageAs
from tests.browser.support import AxeAudit, no_horizontal_scroll, sign_in, tab_to
from tests.browser.test_accessibility import duplicate_ids, submit, visit
from tests.conftest import World

pytestmark = pytest.mark.browser

STATUSES = ("met", "partly", "not_met")
DECIDED_ON = datetime.date(2026, 10, 15)


@dataclass
class FollowUp:
    demo: Demo
    planned: FollowUpPeriod  # Årsredovisning 2025
    interim: FollowUpPeriod  # Delårsrapport 2026: open, past its deadline
    annual: FollowUpPeriod  # Årsredovisning 2026: open
    draft: Report  # BUN's Årsredovisning 2026: nothing ready, the last period beside
    submitted: Report  # BUN's Delårsrapport 2026
    approved: Report  # KS's Delårsrapport 2026: approved, reopened, approved again
    council: Report  # KF's Delårsrapport 2026, approved by the board, snapshot 1

    def home(self) -> str:
        return f"/k/{self.demo.code}/uppfoljning/"

    def period(self, period: FollowUpPeriod) -> str:
        return f"/k/{self.demo.code}/uppfoljning/period/{period.pk}/"

    def report(self, report: Report) -> str:
        return f"/k/{self.demo.code}/uppfoljning/rapport/{report.pk}/"

    def snapshot(self, report: Report, number: int = 1) -> str:
        return f"{self.report(report)}version/{number}/"

    def item(self) -> str:
        return f"/k/{self.demo.code}/mal/{self.demo.item.pk}/"


def _write(report: Report, user: User, *, ready: bool = True, parts: int | None = None) -> None:
    """Assess the report's items (statuses in turn) and write its sections."""
    assessments = list(report.assessments.select_related("item").order_by("pk"))
    for index, assessment in enumerate(assessments[:parts]):
        status = STATUSES[index % len(STATUSES)]
        services.assessment_save(
            assessment=assessment,
            user=user,
            expected_version=assessment.version,
            status=status,
            analysis=f"Resultaten för {assessment.item.number} följer planen i stort.\n"
            "Enkäten visar en liten förbättring sedan förra året.",
            measures="Fler läsombud och uppföljning varje månad." if status == "not_met" else "",
            ready=ready,
        )
    if parts is None:
        for section in report.sections.all():
            services.section_save(
                section=section,
                user=user,
                expected_version=section.version,
                text="Nämnden har arbetat enligt plan under perioden.",
                ready=ready,
            )


def _approve(report: Report, user: User, body: str) -> None:
    services.reports_approve(
        reports=[report], user=user, decided_by=body, decided_on=DECIDED_ON, paragraph="§ 112"
    )


def build_follow_up(demo: Demo) -> FollowUp:
    municipality = demo.municipality
    # Whatever the demo's own follow-up is, start from none.
    Snapshot.objects.filter(report__municipality=municipality).delete()
    ReportEvent.objects.filter(report__municipality=municipality).delete()
    FollowUpPeriod.objects.filter(municipality=municipality).delete()
    for plan_year in PlanYear.objects.filter(period__municipality=municipality):
        services.periods_generate(plan_year=plan_year, user=demo.admin)
    periods = FollowUpPeriod.objects.filter(municipality=municipality)
    planned = periods.get(year=2025, kind__key="arsredovisning")
    interim = periods.get(year=2026, kind__key="delarsrapport")
    annual = periods.get(year=2026, kind__key="arsredovisning")
    controller = demo.controller
    services.period_open(period=interim, user=controller)
    # By name: Omsorgsnämnden's short name ON is read as a YAML boolean (True) by the demo.
    reports = {r.org_unit.name: r for r in interim.reports.select_related("org_unit")}
    bun, ks, on, kf = (
        reports["Barn- och utbildningsnämnden"],
        reports["Kommunstyrelsen"],
        reports["Omsorgsnämnden"],
        reports["Kommunfullmäktige"],
    )
    for report in (bun, ks):
        _write(report, demo.editor)
        services.report_submit(report=report, user=demo.editor)
    _write(on, demo.editor, parts=2)
    # Approved, reopened with a reason and approved again: two snapshots.
    _approve(ks, controller, "Kommunstyrelsen")
    services.report_reopen(report=ks, user=controller, reason="Fel siffror i ekonomiavsnittet.")
    services.report_submit(report=ks, user=demo.editor)
    _approve(ks, controller, "Kommunstyrelsen")
    _write(kf, controller)
    services.report_submit(report=kf, user=controller)
    _approve(kf, controller, "Kommunstyrelsen")
    services.period_open(period=annual, user=controller)
    draft = annual.reports.get(org_unit=bun.org_unit)
    _write(draft, demo.editor, ready=False, parts=1)
    return FollowUp(
        demo=demo,
        planned=planned,
        interim=interim,
        annual=annual,
        draft=draft,
        submitted=bun,
        approved=ks,
        council=kf,
    )


@pytest.fixture
def follow_up(demo: Demo) -> FollowUp:
    return build_follow_up(demo)


def _pages(f: FollowUp) -> list[tuple[str, User, str]]:
    demo = f.demo
    return [
        ("follow-up home with my assignments", demo.editor, f.home()),
        ("follow-up home for a controller", demo.controller, f.home()),
        ("follow-up home without assignments", demo.reader, f.home()),
        ("follow-up home, a year of planned periods", demo.admin, f.home() + "?ar=2025"),
        ("planned period", demo.controller, f.period(f.planned)),
        ("open period with late reports and bulk approval", demo.controller, f.period(f.interim)),
        ("open period, only the late", demo.controller, f.period(f.interim) + "?status=late"),
        ("editable report with missing parts", demo.controller, f.report(f.draft)),
        ("submitted report with the approve form", demo.controller, f.report(f.submitted)),
        ("read-only report for a reader", demo.reader, f.report(f.draft)),
        ("approved report with history", demo.controller, f.report(f.approved)),
        ("report as first approved, with the later", demo.controller, f.snapshot(f.approved)),
        ("report as approved again", demo.controller, f.snapshot(f.approved, 2)),
        ("council-level report with contributors", demo.admin, f.report(f.council)),
        ("council-level report as approved", demo.admin, f.snapshot(f.council)),
        ("item page with the follow-up panel", demo.editor, f.item()),
    ]


NARROW = {
    "follow-up home with my assignments",
    "follow-up home, a year of planned periods",
    "open period with late reports and bulk approval",
    "editable report with missing parts",
    "approved report with history",
    "report as first approved, with the later",
    "council-level report with contributors",
    "item page with the follow-up panel",
}


def test_followup_pages(follow_up: FollowUp, page_as: PageAs) -> None:
    f = follow_up
    audit = AxeAudit()
    pages = _pages(f)
    user = pages[0][1]
    page = page_as(user)
    for label, who, path in pages:
        if who != user:
            page, user = page_as(who), who
        visit(page, path)
        assert not duplicate_ids(page), f"{label}: duplicate ids {duplicate_ids(page)}"
        audit.check(page, label)
        if label == "follow-up home with my assignments":
            expect(page.locator("#mine-caption")).to_be_visible()
        elif label == "follow-up home without assignments":
            expect(page.locator("#mine-caption")).to_have_count(0)
        elif label == "open period with late reports and bulk approval":
            expect(page.locator("#approve-many input[name=rapport]")).to_have_count(1)
            expect(page.locator("#reports-caption ~ tbody .badge.flag").first).to_be_visible()
        elif label == "editable report with missing parts":
            expect(page.locator("#missing-heading")).to_be_visible()
            # Every "Ready" and "Save the assessment" is in a form named by its item.
            item = f.draft.assessments.order_by("pk")[0].item
            expect(
                page.get_by_role("form", name=re.compile(re.escape(item.number)))
            ).to_be_visible()
            expect(page.locator(".assessment-item .proposal h4").nth(1)).to_be_visible()
        elif label == "read-only report for a reader":
            expect(page.locator("main form[method=post]")).to_have_count(0)
        elif label == "follow-up home, a year of planned periods":
            expect(page.locator("form[action$='/oppna/'] button")).to_have_count(2)
        elif label == "approved report with history":
            expect(page.locator("ol.history li")).to_have_count(5)
            for number in (1, 2):
                link = page.locator(f"ol.history a[href='{f.snapshot(f.approved, number)}']")
                expect(link).to_be_visible()
            notice = page.locator(f".notice a[href='{f.snapshot(f.approved, 2)}']")
            expect(notice).to_be_visible()
        elif label == "report as first approved, with the later":
            expect(page.locator(f"main a[href='{f.snapshot(f.approved, 2)}']")).to_be_visible()
        elif label == "council-level report with contributors":
            expect(page.locator("table caption[id^=contrib-]").first).to_be_visible()
            expect(page.locator("#council_decided_on")).to_be_visible()
        elif label == "item page with the follow-up panel":
            expect(page.locator("#followup-caption ~ tbody tr")).to_have_count(2)

    # In English: the language switch, then the pages with most words on them.
    page = page_as(f.demo.controller)
    visit(page, f.home())
    page.locator(".account button[name=language]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    audit.check(page, "follow-up home in English")
    for label, path in [
        ("open period", f.period(f.interim)),
        ("editable report", f.report(f.draft)),
        ("approved report", f.report(f.approved)),
        ("report as approved", f.snapshot(f.approved, 2)),
    ]:
        visit(page, path)
        audit.check(page, f"{label} in English")
    expect(page.locator("h2", has_text="Looking ahead")).to_be_visible()

    # At 320 px nothing makes the page scroll sideways: each template in its fullest state.
    problems = []
    user = pages[0][1]
    page = page_as(user, width=320, height=640)
    for label, who, path in pages:
        if label not in NARROW:
            continue
        if who != user:
            page, user = page_as(who, width=320, height=640), who
        visit(page, path)
        fits, detail = no_horizontal_scroll(page)
        if not fits:
            problems.append(f"{label}: {detail}")
        audit.check(page, f"{label} at 320 px")
    assert not problems, "pages scroll sideways at 320 px:\n" + "\n".join(problems)
    audit.assert_clean()


def _form(assessment: Assessment) -> str:
    return f"form[action$='/bedomning/{assessment.pk}/']"


def test_followup_form_states(follow_up: FollowUp, page_as: PageAs) -> None:
    f = follow_up
    audit = AxeAudit()
    page = page_as(f.demo.controller)
    first, second = f.draft.assessments.order_by("pk")[1:3]

    # Ready without a status or an analysis: refused, 422, the error summary first.
    visit(page, f.report(f.draft))
    page.locator(f"#id_a{first.pk}-ready").check()
    submit(page, f"{_form(first)} button[type=submit]", 422)
    expect(page.locator("#errors")).to_be_focused()
    expect(page.locator("#errors li")).to_have_count(2)
    audit.check(page, "report after a refused assessment (422)")

    # Someone else saves the same assessment after the page was opened: 409, the version now
    # saved beside the form, and the person's own text kept in it.
    visit(page, f.report(f.draft))
    services.assessment_save(
        assessment=second,
        user=f.demo.editor,
        expected_version=second.version,
        status="partly",
        analysis="Kollegans analys: resultaten har förbättrats något.",
        measures="",
        ready=False,
    )
    mine = "Min analys: skolorna når målen i högre grad än i fjol."
    page.locator(f"#id_a{second.pk}-status").select_option("met")
    page.fill(f"#id_a{second.pk}-analysis", mine)
    submit(page, f"{_form(second)} button[type=submit]", 409)
    expect(page.locator("#errors")).to_be_focused()
    saved = page.locator(f"{_form(second)} .saved-version")
    expect(saved).to_be_visible()
    expect(saved).to_contain_text("Kollegans analys")
    expect(page.locator(f"#id_a{second.pk}-analysis")).to_have_value(mine)
    expect(page.locator(f"#id_a{second.pk}-status")).to_have_value("met")
    audit.check(page, "report after a stale save (409) with the saved version")
    # Saving again now goes through: the form carries the version now saved.
    submit(page, f"{_form(second)} button[type=submit]", 302)
    expect(page.locator(".messages")).to_be_visible()

    # A section saved by someone else meanwhile: 409 with its saved version too.
    section = f.draft.sections.order_by("order").last()
    assert section is not None
    services.section_save(
        section=section,
        user=f.demo.editor,
        expected_version=section.version,
        text="Kollegans framtidstext.",
        ready=False,
    )
    page.fill(f"#id_s{section.pk}-text", "Min framtidstext.")
    submit(page, f"#avsnitt-{section.pk} button[type=submit]", 409)
    expect(page.locator(f"#avsnitt-{section.pk} .saved-version")).to_contain_text("Kollegans")
    expect(page.locator(f"#id_s{section.pk}-text")).to_have_value("Min framtidstext.")
    audit.check(page, "report after a stale section save (409)")

    # Submitting an incomplete report is refused with what is missing.
    submit(page, "section[aria-labelledby=submit-heading] button[type=submit]", 422)
    expect(page.locator("#errors")).to_be_focused()
    audit.check(page, "report after a refused submission (422)")

    page.set_viewport_size({"width": 320, "height": 640})
    fits, detail = no_horizontal_scroll(page)
    assert fits, f"the refused report scrolls sideways at 320 px: {detail}"
    audit.check(page, "report after a refused submission at 320 px")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Reopening without a reason (spaces pass the browser's own check): 422, and the error
    # summary leads to the field.
    visit(page, f.report(f.approved))
    page.fill("#reopen_reason", "   ")
    submit(page, "section[aria-labelledby=reopen-heading] button[type=submit]", 422)
    expect(page.locator("#errors")).to_be_focused()
    expect(page.locator("#errors a[href='#reopen_reason']")).to_have_count(1)
    audit.check(page, "approved report after a refused reopening (422)")

    # The period: a deadline before the period ends is refused, 422, with a summary whose
    # link leads to the field.
    visit(page, f.period(f.interim))
    page.fill("#deadline_deadline", "2026-08-01")
    submit(page, "section[aria-labelledby=manage-heading] form.inline-form button", 422)
    expect(page.locator("#errors")).to_be_focused()
    for href in page.locator("#errors a").evaluate_all("(links) => links.map((a) => a.hash)"):
        assert page.locator(href).count() == 1, f"the error summary links to a missing {href}"
    audit.check(page, "period after a refused deadline (422)")
    # One decision for the chosen submitted reports: dated in the future it is refused
    # (the message says why), then it goes through.
    approve = "#approve-many button[type=submit]"
    page.locator(f"#approve-{f.submitted.pk}").check()
    page.fill("#decision_decided_by", "Barn- och utbildningsnämnden")
    page.fill("#decision_decided_on", "2099-01-01")
    page.fill("#decision_paragraph", "§ 45")
    submit(page, approve, 302)
    expect(page.locator(".messages .message-error")).to_be_visible()
    audit.check(page, "period after a refused bulk approval")
    page.locator(f"#approve-{f.submitted.pk}").check()
    page.fill("#decision_decided_by", "Barn- och utbildningsnämnden")
    page.fill("#decision_decided_on", "2026-10-20")
    page.fill("#decision_paragraph", "§ 45")
    submit(page, approve, 302)
    expect(page.locator(".messages .message-success")).to_be_visible()
    expect(page.locator("#approve-many")).to_have_count(0)
    audit.check(page, "period after a bulk approval")
    f.submitted.refresh_from_db()
    assert f.submitted.status == ReportStatus.APPROVED
    audit.assert_clean()


def test_no_saved_version_box_after_a_plain_refusal(world: World) -> None:
    """No browser needed: the small test world, the page's HTML."""
    period = services.periods_generate(plan_year=world.year, user=None)[0]
    services.period_open(period=period, user=None)
    assessment = Assessment.objects.get(report__period=period, item=world.goal_a)
    client = world.client(world.controller)
    prefix = f"a{assessment.pk}"
    code = world.kramfors.code
    answer = client.post(
        f"/k/{code}/uppfoljning/rapport/{assessment.report_id}/bedomning/{assessment.pk}/",
        {
            f"{prefix}-status": "",
            f"{prefix}-analysis": "Utan status.",
            f"{prefix}-measures": "",
            f"{prefix}-ready": "on",
            f"{prefix}-version": str(assessment.version),
        },
    )
    assert answer.status_code == 422
    assert b"saved-version" not in answer.content


def test_assess_with_the_keyboard(follow_up: FollowUp, strict_page: Page) -> None:
    """Tab to an item's status, choose one, write the analysis, tick ready and submit."""
    f = follow_up
    page = strict_page
    keys = page.keyboard
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page.context, f.demo.base_url, f.demo.controller)
    assessment = f.draft.assessments.order_by("pk")[1]
    form = page.locator(_form(assessment))
    visit(page, f.report(f.draft))
    expect(form.locator(".badge")).to_have_count(0)

    tab_to(page, f"#id_a{assessment.pk}-status")
    keys.press("ArrowDown")
    expect(page.locator(f"#id_a{assessment.pk}-status")).to_have_value("met")
    tab_to(page, f"#id_a{assessment.pk}-analysis")
    keys.type("Fler elever når målen; enkäten visar samma sak.")
    tab_to(page, f"#id_a{assessment.pk}-ready")
    keys.press("Space")
    expect(page.locator(f"#id_a{assessment.pk}-ready")).to_be_checked()
    tab_to(page, f"{_form(assessment)} button[type=submit]")
    with page.expect_navigation():
        keys.press("Enter")
    expect(page).to_have_url(re.compile(rf"/rapport/{f.draft.pk}/#bedomning-{assessment.pk}$"))
    expect(page.locator(".messages")).to_contain_text(str(assessment.item))
    heading = page.locator(f"#item-{assessment.pk}-heading")
    with translation.override("sv"):
        expect(heading.locator(".badge")).to_have_text(translation.gettext("Ready"))
    expect(page.locator(f"#id_a{assessment.pk}-ready")).to_be_checked()
    assessment.refresh_from_db()
    assert assessment.ready and assessment.status == "met"
    assert f.draft.__class__.objects.get(pk=f.draft.pk).status == ReportStatus.DRAFT
    assert not problems, problems

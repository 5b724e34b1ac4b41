"""The demo follow-up: for each seed municipality an approved earlier period and a current one
in progress, in the municipality's own kinds of period (rodtrad/followup/demo.py)."""

from __future__ import annotations

import datetime
import itertools
from collections import Counter

import pytest
from django.utils import timezone

from rodtrad.finance.models import Forecast
from rodtrad.followup import selectors, services
from rodtrad.followup.demo import SCENARIOS, load_demo_follow_up
from rodtrad.followup.models import (
    Assessment,
    EventAction,
    FollowUpPeriod,
    PeriodStatus,
    Report,
    ReportEvent,
    ReportSection,
    ReportStatus,
    Snapshot,
    Tier,
)
from rodtrad.organisations.access import compute_access
from rodtrad.organisations.models import AuditEvent, Municipality, User
from rodtrad.steering.demo import DEMOS, load_demo_file

APPROVED = (ReportStatus.APPROVED, ReportStatus.COUNCIL_APPROVED)


def _load(name: str) -> Municipality:
    municipality = load_demo_file(DEMOS / f"{name}.yaml")
    assert municipality is not None
    return municipality


def _period(municipality: Municipality, kind: str, year: int, number: int = 1) -> FollowUpPeriod:
    return FollowUpPeriod.objects.select_related("kind").get(
        municipality=municipality, kind__key=kind, year=year, number=number
    )


def _check_completed(period: FollowUpPeriod, today: datetime.date) -> None:
    """Closed; every report approved (by the council where the model says so) and frozen,
    bottom-up; every decision after the period and never in the future."""
    assert period.status == PeriodStatus.CLOSED
    reports = list(Report.objects.filter(period=period))
    assert reports
    for report in reports:
        assert report.parts_ready == report.parts_total, report
        if report.needs_council:
            assert report.status == ReportStatus.COUNCIL_APPROVED, report
        else:
            assert report.status == ReportStatus.APPROVED, report
    snapshots = Counter(Snapshot.objects.filter(report__period=period).values_list("report_id"))
    for report in reports:
        assert snapshots[(report.pk,)] == (2 if report.needs_council else 1), report
    events = list(ReportEvent.objects.filter(report__period=period).select_related("report", "by"))
    for event in events:
        assert event.by is not None and event.by.municipality_id == period.municipality_id
        if event.action in (EventAction.APPROVE, EventAction.COUNCIL_APPROVE):
            assert event.decided_on is not None
            assert period.end < event.decided_on <= today
            assert event.decided_by and event.paragraph.startswith("§ ")
    # Units submit before their board, boards before the council level.
    submitted = {e.report_id: e.at for e in events if e.action == EventAction.SUBMIT}
    by_tier: dict[int, list[datetime.datetime]] = {}
    for report in reports:
        by_tier.setdefault(report.tier, []).append(submitted[report.pk])
    tiers = sorted(by_tier)
    for lower, upper in itertools.pairwise(tiers):
        assert min(by_tier[upper]) >= min(by_tier[lower])
    council = [e for e in events if e.action == EventAction.COUNCIL_APPROVE]
    assert {e.decided_by for e in council} <= {"Kommunfullmäktige"}
    assert len(council) == sum(1 for r in reports if r.needs_council)


def _check_in_progress(period: FollowUpPeriod, today: datetime.date) -> Counter[str]:
    assert period.status == PeriodStatus.OPEN
    assert period.deadline > today
    assert period.deadline >= period.end
    statuses = Counter(Report.objects.filter(period=period).values_list("status", flat=True))
    assert statuses[ReportStatus.DRAFT] and statuses[ReportStatus.SUBMITTED], statuses
    drafts = Report.objects.filter(period=period, status=ReportStatus.DRAFT)
    # Some drafts are partly written with some parts ready, a few are untouched.
    assert any(0 < r.parts_ready < r.parts_total for r in drafts)
    assert any(r.parts_ready == 0 for r in drafts)
    return statuses


def _check_texts(municipality: Municipality) -> None:
    written = Assessment.objects.filter(report__municipality=municipality).exclude(analysis="")
    assert written.exists()
    for assessment in written:
        assert assessment.status in ("met", "partly", "not_met")
        text = assessment.analysis + assessment.measures
        assert "lorem" not in text.lower() and "todo" not in text.lower()
        assert "{" not in text and "}" not in text
        if assessment.status == "not_met" and assessment.ready:
            assert assessment.measures
    assert len({a.analysis for a in written}) > 10  # varied, not one text
    assert set(written.values_list("status", flat=True)) == {"met", "partly", "not_met"}
    for section in ReportSection.objects.filter(report__municipality=municipality).exclude(text=""):
        assert "{" not in section.text and "lorem" not in section.text.lower()
    users = set(User.objects.filter(municipality=municipality).values_list("pk", flat=True))
    assert set(written.values_list("updated_by", flat=True)) <= users


@pytest.mark.django_db
def test_nynashamn_has_an_approved_tertial_a_current_interim_and_a_late_month() -> None:
    today = timezone.localdate()
    municipality = _load("nynashamn")
    assert set(SCENARIOS) == {"vaggeryd", "heby", "botkyrka", "kramfors", "nynashamn"}

    # Every plan year has its periods, in the model's own kinds.
    kinds = set(
        FollowUpPeriod.objects.filter(municipality=municipality).values_list("kind__key", "year")
    )
    for year in (2025, 2026):
        assert {(k, year) for k in ("tertialrapport", "delarsrapport", "arsredovisning")} <= kinds
        assert ("manadsuppfoljning", year) in kinds

    tertial = _period(municipality, "tertialrapport", 2026)
    _check_completed(tertial, today)
    council = Report.objects.get(period=tertial, tier=Tier.COUNCIL)
    assert council.needs_council and council.status == ReportStatus.COUNCIL_APPROVED
    # The board reports' economy was frozen with a forecast made within the period.
    boards = Report.objects.filter(period=tertial, tier=Tier.BOARD)
    assert boards.exists()
    for board in boards:
        economy = board.snapshots.get().content["economy"]
        assert economy["forecast"] is not None and economy["forecast_month"] <= 4
        assert board.sections.get(key=ReportSection.ECONOMY).text

    interim = _period(municipality, "delarsrapport", 2026)
    statuses = _check_in_progress(interim, today)
    assert statuses[ReportStatus.APPROVED]
    # At least one board report is submitted with its units' reports approved.
    done = [
        board
        for board in Report.objects.filter(
            period=interim, tier=Tier.BOARD, status=ReportStatus.SUBMITTED
        ).select_related("org_unit")
        if all(
            unit.status == ReportStatus.APPROVED
            for unit in Report.objects.filter(
                period=interim,
                tier=Tier.UNIT,
                org_unit__path__startswith=board.org_unit.path,
            )
        )
    ]
    assert done
    # Unit reports in every state: approved by their board, submitted, drafts.
    units = Counter(
        Report.objects.filter(period=interim, tier=Tier.UNIT).values_list("status", flat=True)
    )
    assert units[ReportStatus.APPROVED] and units[ReportStatus.SUBMITTED]
    assert units[ReportStatus.DRAFT]

    # The monthly follow-up of October is open past its deadline: its drafts show as late.
    month = _period(municipality, "manadsuppfoljning", 2026, 7)
    assert month.status == PeriodStatus.OPEN and month.deadline < today
    admin = User.objects.get(username="nynashamn-admin")
    overview = selectors.overview(month, compute_access(admin, municipality), today)
    assert overview.late >= 1
    assert overview.counts[ReportStatus.SUBMITTED] or overview.counts[ReportStatus.APPROVED]

    # Nothing else was opened: the rest is planned.
    opened = FollowUpPeriod.objects.filter(municipality=municipality).exclude(
        status=PeriodStatus.PLANNED
    )
    assert set(opened) == {tertial, interim, month}
    _check_texts(municipality)

    # The steps are in the audit trail, attributed to the demo users.
    assert AuditEvent.objects.filter(
        municipality=municipality, object_type="followup.assessment", user__isnull=False
    ).exists()

    # Loading again changes nothing: the demo loader skips a loaded municipality, and the
    # follow-up demo skips a municipality that has periods already.
    counts = (FollowUpPeriod.objects.count(), Report.objects.count(), Snapshot.objects.count())
    assert load_demo_file(DEMOS / "nynashamn.yaml") is None
    load_demo_follow_up(municipality, "nynashamn")
    assert counts == (
        FollowUpPeriod.objects.count(),
        Report.objects.count(),
        Snapshot.objects.count(),
    )


@pytest.mark.django_db
def test_kramfors_annual_report_2025_is_approved_by_the_council() -> None:
    today = timezone.localdate()
    municipality = _load("kramfors")

    annual = _period(municipality, "arsredovisning", 2025)
    _check_completed(annual, today)
    council = Report.objects.get(period=annual, tier=Tier.COUNCIL)
    assert council.status == ReportStatus.COUNCIL_APPROVED
    last = council.snapshots.order_by("-number").first()
    assert last is not None and last.content["decision"]["decided_by"] == "Kommunfullmäktige"
    # 2025 is before the finance demo's year: the boards' year-end forecasts were entered so
    # the economy could be marked ready, against frames for 2025.
    for board in Report.objects.filter(period=annual, tier=Tier.BOARD):
        assert Forecast.objects.filter(org_unit=board.org_unit, year=2025).exists()
        economy = board.snapshots.get().content["economy"]
        assert economy["budget"] not in (None, "0") and economy["forecast"] is not None

    interim = _period(municipality, "delarsrapport", 2026)
    statuses = _check_in_progress(interim, today)
    assert statuses[ReportStatus.APPROVED]
    _check_texts(municipality)


@pytest.mark.django_db
def test_a_decision_is_never_dated_in_the_future() -> None:
    """The demo is loaded on any day; the services refuse a decision dated after today."""
    municipality = _load("vaggeryd")
    today = timezone.localdate()
    assert not ReportEvent.objects.filter(
        report__municipality=municipality, decided_on__gt=today
    ).exists()
    year_in_review = _period(municipality, "aret-som-gatt", 2025)
    _check_completed(year_in_review, today)
    current = _period(municipality, "tertialprognos", 2026)
    _check_in_progress(current, today)
    # The period in progress still accepts work: a draft can be written and submitted.
    draft = (
        Report.objects.filter(period=current, status=ReportStatus.DRAFT)
        .order_by("-parts_ready")
        .first()
    )
    assert draft is not None
    editor = User.objects.get(username="vaggeryd-controller")
    for assessment in draft.assessments.filter(ready=False):
        services.assessment_save(
            assessment=assessment,
            user=editor,
            expected_version=assessment.version,
            status="met",
            analysis="Målet bedöms bli uppfyllt.",
            measures="",
            ready=True,
        )
    for section in draft.sections.filter(ready=False):
        services.section_save(
            section=section,
            user=editor,
            expected_version=section.version,
            text="Prognosen visar en ekonomi i balans.",
            ready=True,
        )
    services.report_submit(report=draft, user=editor)

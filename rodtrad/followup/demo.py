"""Demo follow-up for the seed municipalities: an approved earlier period and one in progress.

Loaded after the demo plan, indicators and economy (the `demo_loaded` signal), through the same
services as the interface and attributed to the municipality's demo users: the administrator
generates the periods, the controller opens them and records the decisions, the editors write
their boards' reports and the controller the rest. Each municipality gets its own kinds of period:

- Vaggeryd: "Året som gått" 2025 approved (the January report on the year before), the
  Tertialprognos 2026 in progress;
- Heby and Kramfors: Årsredovisning 2025 approved (and by the council where the model says
  so), Delårsrapport 2026 in progress;
- Botkyrka: Årsredovisning 2025 approved by the council, the Delårsrapport after April 2026 in
  progress (the one after August still planned);
- Nynäshamn: Tertialrapport 2026 approved, Delårsrapport 2026 in progress and the monthly
  follow-up of October open past its deadline.

The period in progress gets a deadline twelve days after the day the demo is loaded (never
before the period ends), and every decision is dated after the deadline but never after today,
so the demo makes sense whatever day it is loaded. The texts are Swedish, chosen from a few
templates per status by a hash of the item and period, so the same demo loads the same texts.

An economy part can only be marked ready once the board has made a forecast within the period;
where the finance demo has none (2025, the companies) one is entered through the finance
services, and for 2025 the council's frames too, a little below the 2026 frames.
"""

from __future__ import annotations

import datetime
import math
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from rodtrad.finance import selectors as finance_selectors
from rodtrad.finance import services as finance_services
from rodtrad.finance.models import BudgetFrame, Forecast
from rodtrad.followup import services
from rodtrad.followup.models import (
    Assessment,
    FollowUpPeriod,
    Report,
    ReportSection,
    Tier,
)
from rodtrad.organisations.models import Membership, Municipality, OrgUnit, Role, User
from rodtrad.steering.models import ItemStatus, PlanYear

if TYPE_CHECKING:
    from rodtrad.finance.selectors import UnitEconomy

PeriodKey = tuple[str, int, int]  # the kind's key, the year and the period's number
MILLION = Decimal(1_000_000)
DEADLINE_AHEAD = 12  # days from the day of loading to the deadline of the period in progress


@dataclass(frozen=True)
class Scenario:
    completed: tuple[PeriodKey, ...]  # approved and closed, in this order
    current: PeriodKey  # open, a mix of drafts, submitted and approved reports
    late: PeriodKey | None = None  # open with its deadline passed


SCENARIOS = {
    "vaggeryd": Scenario(
        completed=(("aret-som-gatt", 2025, 1),), current=("tertialprognos", 2026, 1)
    ),
    "heby": Scenario(completed=(("arsredovisning", 2025, 1),), current=("delarsrapport", 2026, 1)),
    "botkyrka": Scenario(
        completed=(("arsredovisning", 2025, 1),), current=("delarsrapport", 2026, 1)
    ),
    "kramfors": Scenario(
        completed=(("arsredovisning", 2025, 1),), current=("delarsrapport", 2026, 1)
    ),
    "nynashamn": Scenario(
        completed=(("tertialrapport", 2026, 1),),
        current=("delarsrapport", 2026, 1),
        late=("manadsuppfoljning", 2026, 7),
    ),
}

MONTHS = [
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
]


def load_demo_follow_up(municipality: Municipality, name: str) -> None:
    """Periods, an approved earlier period and one in progress, in the model's own kinds."""
    scenario = SCENARIOS.get(name)
    if scenario is None or FollowUpPeriod.objects.filter(municipality=municipality).exists():
        return
    with transaction.atomic():
        _Demo(municipality, scenario).load()


# --- Who does what --------------------------------------------------------------------------


@dataclass
class _People:
    admin: User | None
    controller: User | None
    editors: list[tuple[str, User]]  # (the path of the unit they edit, the editor)

    @classmethod
    def of(cls, municipality: Municipality) -> _People:
        memberships = list(
            Membership.objects.filter(user__municipality=municipality)
            .select_related("user", "org_unit")
            .order_by("user__username")
        )

        def first(role: str) -> User | None:
            return next((m.user for m in memberships if m.role == role), None)

        admin = first(Role.ADMIN)
        return cls(
            admin=admin,
            controller=first(Role.CONTROLLER) or admin,
            editors=[(m.org_unit.path, m.user) for m in memberships if m.role == Role.EDITOR],
        )

    def writer(self, unit: OrgUnit) -> User | None:
        """Who writes the unit's report: the editor of its board, else the controller."""
        for path, user in self.editors:
            if unit.path.startswith(path):
                return user
        return self.controller

    def edits(self, unit: OrgUnit) -> bool:
        return any(unit.path.startswith(path) for path, _user in self.editors)


# --- The loader ------------------------------------------------------------------------------


@dataclass
class _Period:
    """One opened period's reports, grouped the way a cycle runs: units under their boards."""

    period: FollowUpPeriod
    reports: list[Report]
    assessments: dict[int, list[Assessment]]
    sections: dict[int, list[ReportSection]]
    boards: list[Report] = field(default_factory=list)
    units_of: dict[int, list[Report]] = field(default_factory=dict)  # board report id -> units
    council: list[Report] = field(default_factory=list)
    economy: dict[int, UnitEconomy] = field(default_factory=dict)  # by org unit id


class _Demo:
    def __init__(self, municipality: Municipality, scenario: Scenario) -> None:
        self.municipality = municipality
        self.scenario = scenario
        self.people = _People.of(municipality)
        self.today = timezone.localdate()
        units = {
            pk: (parent, order, name)
            for pk, parent, order, name in OrgUnit.objects.filter(
                municipality=municipality
            ).values_list("pk", "parent_id", "order", "name")
        }

        def place(pk: int | None) -> tuple[tuple[int, str], ...]:
            if pk is None:
                return ()
            parent, order, name = units[pk]
            return (*place(parent), (order, name))

        self.tree_order = {pk: place(pk) for pk in units}

    def load(self) -> None:
        years = list(PlanYear.objects.filter(period__municipality=self.municipality))
        for plan_year in sorted(years, key=lambda y: y.year):
            services.periods_generate(plan_year=plan_year, user=self.people.admin)
        periods = {
            (p.kind.key, p.year, p.number): p
            for p in FollowUpPeriod.objects.filter(municipality=self.municipality).select_related(
                "kind", "plan_year", "municipality"
            )
        }
        for key in self.scenario.completed:
            if key in periods:
                self.complete(periods[key])
        if self.scenario.late and self.scenario.late in periods:
            self.in_progress(periods[self.scenario.late], late=True)
        if self.scenario.current in periods:
            self.in_progress(periods[self.scenario.current], late=False)

    # --- Opening and reading a period ---------------------------------------------------------

    def open(self, period: FollowUpPeriod) -> _Period:
        services.period_open(period=period, user=self.people.controller)
        period.refresh_from_db()
        # In the order of the organisation file (the paths hold database ids, whose order
        # depends on what was loaded before).
        reports = sorted(
            Report.objects.filter(period=period).select_related(
                "period__kind", "period__municipality", "org_unit__kind"
            ),
            key=lambda r: self.tree_order[r.org_unit_id],
        )
        by_id = {r.pk: r for r in reports}
        assessments: dict[int, list[Assessment]] = defaultdict(list)
        for assessment in (
            Assessment.objects.filter(report__period=period)
            .select_related("item__level", "item__owner")
            .order_by("report_id", "item__level__order", "item__number", "item__title", "pk")
        ):
            assessment.report = by_id[assessment.report_id]
            assessments[assessment.report_id].append(assessment)
        sections: dict[int, list[ReportSection]] = defaultdict(list)
        for section in ReportSection.objects.filter(report__period=period).order_by(
            "report_id", "order"
        ):
            section.report = by_id[section.report_id]
            sections[section.report_id].append(section)
        opened = _Period(period, reports, assessments, sections)
        opened.boards = [r for r in reports if r.tier == Tier.BOARD]
        opened.council = [r for r in reports if r.tier == Tier.COUNCIL]
        opened.units_of = {board.pk: [] for board in opened.boards}
        for report in reports:
            if report.tier != Tier.UNIT:
                continue
            above = max(
                (b for b in opened.boards if report.org_unit.path.startswith(b.org_unit.path)),
                key=lambda b: len(b.org_unit.path),
                default=None,
            )
            if above is not None:
                opened.units_of[above.pk].append(report)
            else:  # a unit outside every reporting board: treated as a board of its own
                opened.boards.append(report)
                opened.units_of[report.pk] = []
        economy_reports = [r for r in opened.boards if r.economy]
        if economy_reports:
            self.ensure_forecasts(period, economy_reports)
            figures = finance_selectors.economy(
                self.municipality, period.year, [r.org_unit for r in economy_reports]
            )
            opened.economy = {f.unit.pk: f for f in figures}
        return opened

    # --- The economy a board's report needs ---------------------------------------------------

    def ensure_forecasts(self, period: FollowUpPeriod, reports: list[Report]) -> None:
        """A forecast within the period for every board that reports its economy."""
        year, first, last = period.year, period.start.month, period.end.month
        made: dict[int, list[Forecast]] = defaultdict(list)
        for forecast in Forecast.objects.filter(
            org_unit__in=[r.org_unit_id for r in reports], year=year
        ).order_by("month"):
            made[forecast.org_unit_id].append(forecast)
        missing = [
            r
            for r in reports
            if not any(f.year == year and first <= f.month <= last for f in made[r.org_unit_id])
        ]
        if not missing:
            return
        self.ensure_frames(year, missing)
        figures = {
            f.unit.pk: f
            for f in finance_selectors.economy(
                self.municipality, year, [r.org_unit for r in missing]
            )
        }
        for report in missing:
            unit = report.org_unit
            budget = figures[unit.pk].budget
            deviation, comment = self.deviation_for(unit, year, last, budget, made[unit.pk])
            amount = _round(budget + deviation)
            finance_services.forecast_set(
                user=self.people.controller,
                municipality=self.municipality,
                org_unit=unit,
                year=year,
                month=last,
                amount=amount,
                comment=comment,
                budget=budget,
                expected_version=None,
            )

    def ensure_frames(self, year: int, reports: list[Report]) -> None:
        """A year without frames (before the finance demo's year): the council's frames, a
        little below the next year's, decided with the plan year."""
        units = [r.org_unit for r in reports]
        if BudgetFrame.objects.filter(org_unit__in=units, year=year).exists():
            return
        following = {
            f.org_unit_id: f for f in BudgetFrame.objects.filter(org_unit__in=units, year=year + 1)
        }
        if not following:
            return
        plan_year = PlanYear.objects.filter(
            period__municipality=self.municipality, year=year
        ).first()
        for unit in units:
            later = following.get(unit.pk)
            if later is None:
                continue
            finance_services.frame_set(
                user=self.people.controller,
                municipality=self.municipality,
                org_unit=unit,
                year=year,
                amount=_round(later.amount * Decimal("0.96")),
                decided_by=plan_year.decided_by if plan_year else "Kommunfullmäktige",
                decided_on=plan_year.decided_on if plan_year else None,
                paragraph=plan_year.decision_paragraph if plan_year else "",
                expected_version=None,
            )

    def deviation_for(
        self,
        unit: OrgUnit,
        year: int,
        month: int,
        budget: Decimal,
        made: list[Forecast],
    ) -> tuple[Decimal, str]:
        """The deviation of a forecast the finance demo did not make: on the way to the
        board's next forecast that year, else a small one of the kind the board usually has."""
        later = [f for f in made if f.year == year and f.month > month]
        if later and budget:
            nearest = later[0]
            share = Decimal(month) / Decimal(nearest.month)
            return (nearest.amount - budget) * share, nearest.comment
        if not budget:
            return Decimal(0), COMPANY_FORECAST
        pct, comment = YEAR_END.get(_area(unit), (Decimal("-0.3"), YEAR_END_OTHER))
        return budget * pct / 100, comment

    # --- A completed period -------------------------------------------------------------------

    def complete(self, period: FollowUpPeriod) -> None:
        """Write every part, submit and approve bottom-up, send to the council, close."""
        opened = self.open(period)
        for report in opened.reports:
            self.write(opened, report, share=1.0, ready=1.0)
        meeting = period.deadline + datetime.timedelta(days=7)
        for index, board in enumerate(opened.boards):
            on = _clamp(_weekday(meeting + datetime.timedelta(days=index)), self.today)
            # The units first, then the board; the board approves its own report and its
            # units' in one decision.
            units = opened.units_of[board.pk]
            for report in [*units, board]:
                self.submit(report)
            self.approve([*units, board], board, on)
        for report in opened.council:
            executive = _clamp(_weekday(period.deadline + datetime.timedelta(days=21)), self.today)
            services.report_submit(report=report, user=self.people.controller)
            services.reports_approve(
                reports=[report],
                user=self.people.controller,
                decided_by="Kommunstyrelsen",
                decided_on=executive,
                paragraph=f"§ {_paragraph('Kommunstyrelsen', executive)}",
            )
            if report.needs_council:
                council = _clamp(
                    max(executive, _weekday(period.deadline + datetime.timedelta(days=38))),
                    self.today,
                )
                services.report_council_approve(
                    report=report,
                    user=self.people.controller,
                    decided_by="Kommunfullmäktige",
                    decided_on=council,
                    paragraph=f"§ {_paragraph('Kommunfullmäktige', council)}",
                )
        services.period_close(period=period, user=self.people.controller)

    def approve(self, reports: list[Report], board: Report, on: datetime.date) -> None:
        body = _body(board.org_unit)
        services.reports_approve(
            reports=reports,
            user=self.people.controller,
            decided_by=body,
            decided_on=on,
            paragraph=f"§ {_paragraph(body, on)}",
        )

    # --- A period in progress -----------------------------------------------------------------

    def in_progress(self, period: FollowUpPeriod, *, late: bool) -> None:
        """Open; a deadline after today unless the period is to show as late; then each board
        at its own stage: approved, done (units approved, board submitted), submitted, being
        written, started or untouched. The editors' boards are the ones with work to do."""
        opened = self.open(period)
        if not late:
            deadline = max(self.today + datetime.timedelta(days=DEADLINE_AHEAD), period.end)
            if deadline != period.deadline:
                period = services.period_update(
                    period=period,
                    user=self.people.controller,
                    deadline=deadline,
                    expected_version=period.version,
                )
                opened.period = period
                for report in opened.reports:
                    report.period = period
        stages = self.stages(opened, late=late)
        decided = _clamp(max(self.today - datetime.timedelta(days=3), period.end), self.today)
        for board in opened.boards:
            self.progress(opened, board, stages[board.pk], decided)
        # The council-level report is compiled from the boards' once they are approved: it is
        # not started yet.

    def stages(self, opened: _Period, *, late: bool) -> dict[int, str]:
        """Each board's stage. The last editor's board has its units done and its own report
        submitted; the other editors' boards are being written; the rest vary."""
        if late:
            order = ["approved", "submitted", "writing", "untouched", "untouched"]
        elif any(opened.units_of.values()):
            order = ["submitted", "started", "untouched"]
        else:  # boards without units reporting to them
            order = ["approved", "submitted", "started", "untouched"]
        editors = [path for path, _user in self.people.editors]
        out: dict[int, str] = {}
        others = []
        for board in opened.boards:
            path = board.org_unit.path
            if late or not any(path.startswith(p) for p in editors):
                others.append(board)
            else:
                out[board.pk] = "done" if path.startswith(editors[-1]) else "writing"
        for index, board in enumerate(others):
            out[board.pk] = order[index % len(order)]
        return out

    def progress(self, opened: _Period, board: Report, stage: str, decided: datetime.date) -> None:
        """Bring a board and its units to the stage. Only the "done" board has every unit
        written; elsewhere the first units show the steps (approved, submitted, written,
        half written) and the rest are untouched."""
        units = opened.units_of[board.pk]
        if stage in ("approved", "done"):
            for report in [*units, board]:
                self.write(opened, report, share=1.0, ready=1.0)
                self.submit(report)
            if stage == "approved":
                self.approve([*units, board], board, decided)
            elif units:
                self.approve(units, board, decided)
            return
        steps = {
            "submitted": ["approved", "submitted", "half"],
            "writing": ["submitted", "written", "half"],
            "started": ["half"],
        }.get(stage, [])
        for unit, step in zip(units, steps, strict=False):
            self.write(opened, unit, share=1.0 if step != "half" else 0.5, ready=1.0)
            if step in ("approved", "submitted"):
                self.submit(unit)
            if step == "approved":
                self.approve([unit], board, decided)
        if stage == "submitted" and not units:
            self.write(opened, board, share=1.0, ready=1.0)
            self.submit(board)
        elif stage in ("submitted", "writing") or (stage == "started" and not units):
            self.write(opened, board, share=0.4, ready=0.5)

    def submit(self, report: Report) -> None:
        services.report_submit(report=report, user=self.people.writer(report.org_unit))

    # --- Writing a report ---------------------------------------------------------------------

    def write(self, opened: _Period, report: Report, *, share: float, ready: float) -> None:
        """Write the first `share` of the report's parts (economy first, then the sections,
        then the assessments), the first `ready` of those written marked ready."""
        user = self.people.writer(report.org_unit)
        parts: list[ReportSection | Assessment] = [
            *opened.sections.get(report.pk, []),
            *opened.assessments.get(report.pk, []),
        ]
        written = math.ceil(len(parts) * share)
        marked = math.floor(written * ready)
        for index, part in enumerate(parts[:written]):
            is_ready = index < marked
            if isinstance(part, ReportSection):
                services.section_save(
                    section=part,
                    user=user,
                    expected_version=part.version,
                    text=self.section_text(opened, report, part.key),
                    ready=is_ready,
                )
            else:
                status, analysis, measures = self.assessment_text(opened.period, part)
                services.assessment_save(
                    assessment=part,
                    user=user,
                    expected_version=part.version,
                    status=status,
                    analysis=analysis,
                    measures=measures,
                    ready=is_ready,
                )

    def section_text(self, opened: _Period, report: Report, key: str) -> str:
        period, unit = opened.period, report.org_unit
        if key == ReportSection.ECONOMY:
            return self.economy_text(opened, report)
        area = _area(unit)
        texts = SECTIONS.get(key, {})
        options = texts.get(area) or texts.get("other") or GENERIC_SECTION
        return _fill(_pick(options, unit.name, _key(period), key), period, unit)

    def economy_text(self, opened: _Period, report: Report) -> str:
        period, unit = opened.period, report.org_unit
        figures = opened.economy.get(unit.pk)
        subject = _subject(unit)
        forecast = (
            Forecast.objects.filter(org_unit=unit, year=period.year, month__lte=period.end.month)
            .order_by("-month")
            .first()
        )
        if figures is None or forecast is None:
            return f"{subject} redovisar ingen prognos för perioden."
        budget = figures.budget
        when = (
            "Helårsprognosen i december"
            if period.end.month == 12
            else f"Prognosen efter {MONTHS[forecast.month - 1]}"
        )
        if not budget:
            return (
                f"{when} visar ett resultat i nivå med bolagets budget. {COMPANY_FORECAST} "
                "Bolagets ekonomi redovisas i sin helhet i bolagets egen rapport till styrelsen."
            )
        deviation = forecast.amount - budget
        pct = abs(deviation) * 100 / abs(budget)
        if abs(deviation) < MILLION / 20:
            result = "en ekonomi i balans mot budget för helåret"
        else:
            kind = "ett underskott" if deviation > 0 else "ett överskott"
            result = (
                f"{kind} på {_mnkr(abs(deviation))} miljoner kronor mot budget för helåret, "
                f"{_pct(pct)} procent av budgeten på {_mnkr(budget)} miljoner kronor"
            )
        text = [f"{when} visar {result}."]
        if forecast.comment:
            text.append(forecast.comment)
        months = min(figures.months_with_outcome, period.end.month)
        if months:
            outcome = sum(figures.outcome_by_month[:months], Decimal(0))
            if figures.has_internal_budget:
                to_date = sum(figures.budget_by_month[:months], Decimal(0))
            else:
                to_date = budget * months / 12
            text.append(
                f"Nettokostnaden till och med {MONTHS[months - 1]} är {_mnkr(outcome)} "
                f"miljoner kronor mot en periodiserad budget på {_mnkr(to_date)} miljoner kronor."
            )
        if forecast.comment:
            pass  # the board's own explanation says it
        elif deviation > MILLION / 20:
            text.append(_pick(OVERSPEND, unit.name, _key(period)))
        elif deviation < -MILLION / 20:
            text.append(_pick(UNDERSPEND, unit.name, _key(period)))
        return " ".join(text)

    def assessment_text(
        self, period: FollowUpPeriod, assessment: Assessment
    ) -> tuple[str, str, str]:
        """The status (mostly the roll-up's proposal where there is one), the analysis and,
        where the item is not achieved, the measures."""
        item = assessment.item
        key = (item.title, _key(period))
        roll = _hash(*key, "status") % 100
        kind = _item_kind(item.level.key)
        proposed = assessment.proposed
        if proposed:
            status = proposed if roll < 80 else _step_away(proposed, roll)
        elif item.status == ItemStatus.DONE:
            status = "met"
        elif kind == "goal":
            status = "met" if roll < 45 else "partly" if roll < 85 else "not_met"
        elif period.end.month == 12:
            status = "met" if roll < 55 else "partly" if roll < 85 else "not_met"
        else:
            status = "met" if roll < 35 else "partly" if roll < 85 else "not_met"
        interim = period.end.month != 12
        if kind == "goal":
            texts = GOAL_FORECASTS[status] if interim else GOAL_TEXTS[status]
        elif status == "met" and interim and item.status != ItemStatus.DONE:
            texts = WORK_ON_TRACK
        else:
            texts = WORK_TEXTS[status]
        analysis = _fill(
            _pick(texts, *key, "analysis"),
            period,
            assessment.report.org_unit,
            evidence=_evidence(assessment.proposed_reasons) if kind == "goal" else "",
            noun=kind,
        )
        if proposed and status != proposed:
            better = RANK[status] < RANK[proposed]
            analysis += " " + _pick(
                ABOVE_PROPOSAL if better else BELOW_PROPOSAL, *key, "deviation"
            ).format(proposed=LABELS[proposed], status=LABELS[status])
        measures = ""
        if status == "not_met" or (status == "partly" and _hash(*key, "measures") % 10 < 6):
            measures = _fill(
                _pick(MEASURES[status], *key, "measures"), period, assessment.report.org_unit
            )
        return status, analysis, measures


# --- Small helpers ---------------------------------------------------------------------------


def _key(period: FollowUpPeriod) -> str:
    """The period in words that do not depend on the language active while loading."""
    return f"{period.kind.key}-{period.year}-{period.number}"


def _hash(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode())


def _pick(options: Sequence[str], *key: str) -> str:
    return options[_hash(*key) % len(options)]


def _round(amount: Decimal) -> Decimal:
    """To a tenth of a million, as budgets and forecasts are written."""
    step = MILLION / 10
    return (amount / step).quantize(Decimal(1)) * step


def _mnkr(amount: Decimal) -> str:
    text = f"{amount / MILLION:,.1f}"
    return text.replace(",", "\u00a0").replace(".", ",")


def _pct(value: Decimal) -> str:
    return f"{value:.1f}".replace(".", ",")


def _weekday(day: datetime.date) -> datetime.date:
    """Meetings are on weekdays: a Saturday or Sunday moves to the Monday after."""
    return day + datetime.timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)


def _clamp(day: datetime.date, today: datetime.date) -> datetime.date:
    """A decision is never dated in the future."""
    return min(day, today)


def _paragraph(body: str, on: datetime.date) -> int:
    """A plausible paragraph number: the minutes count up through the year."""
    per_year = 200 if body in ("Kommunstyrelsen", "Kommunfullmäktige") else 120
    return 1 + (on.timetuple().tm_yday * per_year) // 366 + _hash(body) % 5


def _body(unit: OrgUnit) -> str:
    """Who decides on the unit's report: the board itself (a company's board of directors)."""
    if unit.kind.key == "bolag":
        return f"Styrelsen för {unit.name}"
    return unit.name


def _subject(unit: OrgUnit) -> str:
    key = unit.kind.key
    if key == "kommunstyrelse":
        return "Kommunstyrelsen"
    if key == "bolag":
        return "Bolaget"
    return "Nämnden"


def _area(unit: OrgUnit) -> str:
    """Which kind of activity the unit runs, from its kind and name, for the texts."""
    key, name = unit.kind.key, unit.name.lower()
    if key == "kommunfullmaktige":
        return "council"
    if key == "kommunstyrelse":
        return "ks"
    if key == "bolag":
        if "energi" in name:
            return "energy"
        return "housing" if any(w in name for w in ("bostäder", "fastighet", "gårdar")) else "other"
    for area, words in (
        ("edu", ("utbildning", "skol")),
        ("care", ("social", "omsorg", "vård")),
        ("tech", ("teknik", "samhällsbygg", "fastighet")),
        ("env", ("miljö", "bygg")),
        ("culture", ("kultur", "fritid")),
    ):
        if any(word in name for word in words):
            return area
    return "other"


def _item_kind(level_key: str) -> str:
    if "atagande" in level_key:
        return "commitment"
    if "aktivitet" in level_key:
        return "activity"
    if "uppdrag" in level_key:
        return "assignment"
    return "goal"


def _during(period: FollowUpPeriod) -> str:
    if period.end.month == 12:
        return f"under {period.year}"
    if period.start.month == period.end.month:
        return f"i {MONTHS[period.end.month - 1]}"
    return f"under januari–{MONTHS[period.end.month - 1]} {period.year}"


def _rest(period: FollowUpPeriod) -> str:
    return f"under {period.year + 1}" if period.end.month == 12 else "under resten av året"


def _fill(template: str, period: FollowUpPeriod, unit: OrgUnit, **extra: str) -> str:
    during = _during(period)
    noun, common = NOUNS.get(extra.get("noun", ""), ("arbetet", False))
    values = {
        "during": during,
        "During": during[0].upper() + during[1:],
        "rest": _rest(period),
        "later": f"under {period.year + 1}" if period.end.month == 12 else "mot slutet av året",
        "next": MONTHS[period.deadline.month % 12],
        "owner": unit.name,
        "subject": _subject(unit),
        "noun": noun,
        "Noun": noun[0].upper() + noun[1:],
        "done": "genomförd" if common else "genomfört",
        "started": "påbörjad" if common else "påbörjat",
        "delayed": "försenad" if common else "försenat",
        "finished": "klar" if common else "klart",
        "evidence": extra.get("evidence", ""),
        "year": str(period.year),
        "next_year": str(period.year + 1),
    }
    return " ".join(template.format(**values).split())


NUMBERS = ["inga", "en", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio", "tio"]


def _number(n: int, neuter: bool = False) -> str:
    if n == 1 and neuter:
        return "ett"
    return NUMBERS[n] if n < len(NUMBERS) else str(n)


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " och " + parts[-1]


def _evidence(reasons: dict[str, object]) -> str:
    """A sentence on what the roll-up's proposal rests on: the indicators or the contributing
    items' statuses."""
    indicators = reasons.get("indicators") if isinstance(reasons, dict) else None
    if isinstance(indicators, dict):
        met, partly, not_met = (
            int(indicators.get(k, 0) or 0) for k in ("met", "partly", "not_met")
        )
        total = met + partly + not_met
        if total == 0:
            return (
                "Indikatorerna saknar ännu utfall för perioden, så bedömningen bygger på "
                "verksamhetens egen uppföljning."
            )
        if total == 1:
            return {
                "met": "Målets indikator når sitt målvärde.",
                "partly": "Målets indikator ligger nära men under sitt målvärde.",
                "not_met": "Målets indikator når inte sitt målvärde.",
            }["met" if met else "partly" if partly else "not_met"]
        # "Av målets tre indikatorer når två målvärdet och en ligger nära."
        clauses = [
            (n, verb, rest)
            for n, verb, rest in (
                (met, "når", "målvärdet"),
                (partly, "ligger", "nära"),
                (not_met, "når", "inte upp"),
            )
            if n
        ]
        parts = [
            f"{verb} {_number(n)} {rest}" if index == 0 else f"{_number(n)} {verb} {rest}"
            for index, (n, verb, rest) in enumerate(clauses)
        ]
        return f"Av målets {_number(total)} indikatorer {_and(parts)}."
    contributors = reasons.get("contributors") if isinstance(reasons, dict) else None
    if isinstance(contributors, dict):
        met, partly, not_met = (
            int(contributors.get(k, 0) or 0) for k in ("met", "partly", "not_met")
        )
        total = met + partly + not_met
        if not total:
            return ""
        parts = []
        for n, one, many in (
            (met, "uppfyllt", "uppfyllda"),
            (partly, "delvis uppfyllt", "delvis uppfyllda"),
            (not_met, "inte uppfyllt", "inte uppfyllda"),
        ):
            if n:
                parts.append(f"{_number(n, neuter=True)} som {one if n == 1 else many}")
        return (
            f"Av de {_number(total, neuter=True)} mål och åtaganden som bidrar bedöms "
            f"{_and(parts)}."
        )
    return ""


def _step_away(proposed: str, roll: int) -> str:
    """A reporter who judges differently from the roll-up: one step up or down."""
    if proposed == "met":
        return "partly"
    if proposed == "not_met":
        return "partly"
    return "met" if roll < 90 else "not_met"


RANK = {"met": 0, "partly": 1, "not_met": 2}
LABELS = {"met": "uppfyllt", "partly": "delvis uppfyllt", "not_met": "inte uppfyllt"}
NOUNS = {  # the item in the definite form, and whether it is of common gender
    "commitment": ("åtagandet", False),
    "activity": ("aktiviteten", True),
    "assignment": ("uppdraget", False),
}

# --- The texts -------------------------------------------------------------------------------

GOAL_TEXTS = {
    "met": [
        "Målet bedöms som uppfyllt {during}. {evidence} Resultaten ligger i nivå med eller över "
        "målvärdena och utvecklingen har varit stabil jämfört med föregående mätning. De insatser "
        "som planerades har genomförts och bedöms ha bidragit till resultatet.",
        "{owner} bedömer att målet är uppfyllt. {evidence} Det systematiska kvalitetsarbetet har "
        "gett effekt, och uppföljningen med verksamheterna visar att de nya arbetssätten nu är "
        "etablerade. Resultatet behöver hållas kvar, vilket följs upp i nästa rapport.",
        "Uppfyllt. {evidence} Utvecklingen {during} har gått åt rätt håll i alla delar som målet "
        "omfattar. Samarbetet mellan verksamheterna har fungerat väl, och synpunkterna från "
        "invånare och brukare bekräftar bilden.",
    ],
    "partly": [
        "Målet bedöms som delvis uppfyllt. {evidence} Flera delar utvecklas positivt, men "
        "resultaten når ännu inte hela vägen fram till målvärdena. Skillnaderna mellan "
        "verksamheterna är fortfarande stora och behöver analyseras vidare.",
        "{During} har arbetet gått framåt, men målet är ännu inte uppfyllt fullt ut. {evidence} "
        "Vakanser och personalomsättning under delar av perioden har gjort att vissa insatser "
        "har skjutits fram.",
        "Delvis uppfyllt. {evidence} Resultaten är bättre än vid förra uppföljningen men ligger "
        "fortfarande under den nivå som har beslutats. Effekten av de insatser som har startats "
        "väntas synas först i nästa mätning.",
    ],
    "not_met": [
        "Målet bedöms inte vara uppfyllt. {evidence} Resultaten har försämrats jämfört med "
        "föregående år, och analysen visar att ökade behov och svårigheter att rekrytera har "
        "påverkat mer än väntat.",
        "Inte uppfyllt {during}. {evidence} De planerade insatserna har inte fått avsedd effekt, "
        "och utvecklingen går åt fel håll. Området behöver prioriteras i nästa verksamhetsplan.",
        "Målet är inte uppfyllt. {evidence} Förändringarna i omvärlden, bland annat ett svagare "
        "arbetsmarknadsläge och högre kostnader, har gjort målvärdet svårare att nå än när det "
        "beslutades.",
    ],
}

# Goals in an interim report: a forecast of the year.
GOAL_FORECASTS = {
    "met": [
        "Målet bedöms bli uppfyllt {year}. {evidence} Utvecklingen {during} går åt rätt håll, och "
        "de insatser som planerades för perioden är genomförda eller pågår enligt plan.",
        "{owner} bedömer att målet kommer att nås. {evidence} Resultaten hittills i år ligger i "
        "nivå med målvärdena, och de arbetssätt som infördes förra året har fått fäste.",
        "Prognosen är att målet uppfylls. {evidence} Uppföljningen med verksamheterna visar en "
        "stabil utveckling, och inga större avvikelser har rapporterats {during}.",
    ],
    "partly": [
        "Målet bedöms bli delvis uppfyllt {year}. {evidence} Flera delar utvecklas positivt, men "
        "resultaten når ännu inte hela vägen fram till målvärdena. Skillnaderna mellan "
        "verksamheterna är fortfarande stora.",
        "{During} har arbetet gått framåt, men målet bedöms inte nås fullt ut i år. {evidence} "
        "Vakanser och personalomsättning har gjort att vissa insatser har skjutits fram.",
        "Delvis uppfyllt i nuläget. {evidence} Resultaten är bättre än vid samma tid förra året men ligger under den "
        "nivå som har beslutats. Effekten av de insatser som har startats väntas synas under "
        "hösten.",
    ],
    "not_met": [
        "Målet bedöms inte bli uppfyllt {year}. {evidence} Resultaten har försämrats jämfört med "
        "samma period förra året, och ökade behov och svårigheter att rekrytera påverkar mer än "
        "väntat.",
        "Prognosen är att målet inte nås. {evidence} De planerade insatserna har ännu inte fått "
        "avsedd effekt, och utvecklingen {during} går åt fel håll.",
    ],
}

# Work under way in an interim report that follows its plan.
WORK_ON_TRACK = [
    "Arbetet följer planen. {During} har de delar som planerades för perioden genomförts, och "
    "{noun} beräknas vara {finished} inom tidsramen.",
    "Pågår enligt plan. En arbetsgrupp med representanter från berörda verksamheter leder "
    "arbetet, och nästa delmoment startar som planerat.",
    "{Noun} genomförs enligt tidplanen och inom budget. De första resultaten följs upp "
    "tillsammans med medarbetarna och redovisas i nästa uppföljning.",
]

WORK_TEXTS = {
    "met": [
        "Genomfört. {owner} har genomfört {noun} enligt plan {during}. Arbetet har dokumenterats "
        "och ingår nu i den ordinarie verksamheten.",
        "{Noun} är {done} inom tidsramen och budgeten. Erfarenheterna har samlats in från "
        "medarbetarna och används i planeringen av kommande års arbete.",
        "{Noun} är {done}. Uppföljningen visar att målgruppen har nåtts i den omfattning som "
        "planerades, och arbetet har tagits emot väl av både medarbetare och invånare.",
    ],
    "partly": [
        "Arbetet pågår och följer i huvudsak tidplanen. Ungefär hälften av de planerade delarna "
        "är klara {during}; resten genomförs {rest}.",
        "{Noun} är {started} men {delayed}. Upphandlingen tog längre tid än beräknat, vilket har "
        "skjutit fram starten med ett par månader.",
        "Delvis genomfört. De första stegen är tagna och en arbetsgrupp med representanter från "
        "berörda verksamheter är tillsatt, men full effekt väntas först {later}.",
    ],
    "not_met": [
        "{Noun} har inte kunnat genomföras {during}. Resurserna har behövt prioriteras om till "
        "den ordinarie verksamheten på grund av hög sjukfrånvaro och vakanta tjänster.",
        "Inte genomfört. Förutsättningarna har ändrats sedan planen beslutades, och "
        "{noun} behöver formuleras om för att gå att genomföra.",
        "Arbetet har inte kommit igång som planerat. Den externa finansiering som {noun} byggde "
        "på har uteblivit, och verksamheten har inte kunnat frigöra egna medel.",
    ],
}

MEASURES = {
    "partly": [
        "Arbetet fortsätter. Förvaltningen följer upp resultaten per verksamhet varje månad och "
        "redovisar utvecklingen i nästa uppföljning.",
        "Erfarenheterna från de verksamheter som har kommit längst sprids genom nätverksträffar "
        "för chefer och medarbetare.",
        "Tidplanen ses över och de delar som återstår prioriteras {rest}.",
    ],
    "not_met": [
        "En handlingsplan tas fram och redovisas för nämnden i {next}. Planen ska innehålla "
        "konkreta insatser, ansvariga och tidpunkter för uppföljning.",
        "Förvaltningen gör en fördjupad analys av orsakerna tillsammans med berörda enheter. "
        "Analysen och förslag till åtgärder redovisas vid sammanträdet i {next}.",
        "Resurser omfördelas inom förvaltningen för att prioritera området, och insatserna "
        "följs upp månadsvis i ledningsgruppen {rest}.",
    ],
}

ABOVE_PROPOSAL = [
    "Förslaget utifrån indikatorerna är {proposed}, men bedömningen blir {status} eftersom de "
    "senaste mätningarna efter periodens slut visar en tydlig förbättring.",
    "Indikatorerna pekar på {proposed}. Bedömningen är ändå {status}: flera av indikatorerna "
    "mäts årsvis och speglar ännu inte de insatser som har gjorts under året.",
]
BELOW_PROPOSAL = [
    "Förslaget utifrån indikatorerna är {proposed}, men bedömningen blir {status} eftersom "
    "flera av de aktiviteter som ska bära målet ännu inte har kommit igång.",
    "Indikatorerna pekar på {proposed}. Bedömningen är försiktigare, {status}, eftersom "
    "underlaget bygger på få svar och resultaten varierar mycket mellan verksamheterna.",
]

OVERSPEND = [
    "Åtgärder för att minska underskottet har beslutats, bland annat återhållsamhet med "
    "vikarier och inköp samt en översyn av köpta platser.",
    "Förvaltningen har fått i uppdrag att ta fram förslag till åtgärder som redovisas vid "
    "nästa sammanträde.",
]
UNDERSPEND = [
    "Överskottet beror främst på vakanta tjänster och lägre kostnader än beräknat för köpt "
    "verksamhet.",
    "Överskottet förklaras av försenade projekt och lägre kapitalkostnader när investeringar "
    "har skjutits fram.",
]

COMPANY_FORECAST = (
    "Bolagets resultat följs upp mot bolagets egen budget; ägaren har inget nettokostnadsanslag "
    "till bolaget."
)

# The year-end deviation (per cent of the budget, above zero an overspend) and its comment,
# for boards whose year the finance demo does not have.
YEAR_END = {
    "ks": (Decimal("-0.8"), "Vakanta tjänster och lägre kostnader för konsulter än budgeterat."),
    "edu": (
        Decimal("0.6"),
        "Fler barn i förskolan under hösten och ökade kostnader för skolskjuts.",
    ),
    "care": (
        Decimal("1.4"),
        "Fler placeringar av barn och unga och ökade volymer inom hemtjänsten.",
    ),
    "tech": (
        Decimal("-0.5"),
        "Lägre kapitalkostnader när investeringar har skjutits fram till nästa år.",
    ),
    "env": (Decimal("-0.4"), "Högre intäkter för bygglov och tillsyn än budgeterat."),
    "culture": (Decimal("0.2"), "Högre kostnader för lokaler och energi."),
}
YEAR_END_OTHER = "Lägre kostnader än budgeterat för köpta tjänster."

GENERIC_SECTION = [
    "{During} har {owner} arbetat enligt verksamhetsplanen. Arbetet har i huvudsak följt "
    "tidplanen och de avvikelser som har uppstått redovisas under respektive mål.",
]

SECTIONS: dict[str, dict[str, list[str]]] = {
    "viktiga-handelser": {
        "council": [
            "Kommunen har {during} arbetat vidare med de kommunövergripande målen i alla "
            "nämnder och bolag. Befolkningen har minskat något, medan antalet förvärvsarbetande "
            "har ökat. Flera större investeringar har påbörjats, bland annat i skolor och "
            "särskilda boenden, och arbetet med en ny översiktsplan har startat.",
        ],
        "ks": [
            "Kommunstyrelsen har {during} antagit en ny näringslivsstrategi och en plan för "
            "kompetensförsörjning. Arbetet med digitalisering har fortsatt med fler e-tjänster, "
            "och kontaktcenter har utökat sina öppettider. Rekryteringsläget är fortsatt "
            "ansträngt inom flera yrkesgrupper.",
            "{During} har kommunstyrelsen genomfört medborgardialoger i alla kommundelar och "
            "beslutat om en ny organisation för kommunledningsförvaltningen. Upphandlingen av ett "
            "nytt ekonomisystem har slutförts, och införandet har startat.",
        ],
        "edu": [
            "Förvaltningen har startat ett gemensamt arbete med läsförståelse i årskurs 1–3. "
            "Antalet barn i förskolan har minskat något, medan elevantalet i grundskolans högre "
            "årskurser ökar. Två nya förskoleavdelningar har öppnats, och rekryteringen av "
            "behöriga lärare har gått bättre än föregående år.",
            "{During} har närvaroteamet kommit i gång och arbetar nu med elever med hög "
            "frånvaro på alla skolor. Skolinspektionens tillsyn har avslutats utan allvarliga "
            "brister. Lokalbristen i centralorten har lösts tillfälligt med moduler.",
        ],
        "care": [
            "Efterfrågan på hemtjänst har fortsatt att öka, särskilt i de mindre orterna. "
            "Socialförvaltningen har infört ett nytt arbetssätt för förhandsbedömningar inom "
            "barn och unga, vilket har kortat utredningstiderna. Kostnaderna för externa "
            "placeringar ligger fortsatt högt.",
            "{During} har nämnden öppnat en ny gruppbostad enligt LSS och infört fasta team i "
            "hemtjänsten. Inspektionen för vård och omsorg har följt upp tidigare kritik mot "
            "utredningstiderna och avslutat ärendet.",
        ],
        "tech": [
            "Flera större investeringsprojekt har genomförts, bland annat förnyelse av "
            "VA-ledningar och nya gång- och cykelvägar. Energiförbrukningen i kommunens "
            "fastigheter har minskat efter installationen av solceller och ny styrning av "
            "ventilationen.",
            "{During} har nämnden slutfört upphandlingen av vinterväghållning och påbörjat "
            "byggnationen av den nya förskolan. Kostnaderna för material och entreprenader "
            "har fortsatt att öka.",
        ],
        "env": [
            "Antalet bygglovsansökningar har minskat jämfört med föregående år, medan tillsynen "
            "av enskilda avlopp och livsmedelsverksamheter har ökat. Handläggningstiderna för "
            "bygglov ligger inom den lagstadgade tiden i alla ärenden.",
        ],
        "culture": [
            "Lovaktiviteterna har nått fler barn och unga än tidigare år. Biblioteken har infört "
            "meröppet på två orter, och besöken har ökat med drygt tio procent.",
        ],
        "energy": [
            "Bolaget har genomfört planerade investeringar i elnätet och fortsatt "
            "utbyggnaden av fjärrvärmen. Inga större driftstörningar har inträffat, och "
            "kundnöjdheten ligger kvar på en hög nivå.",
        ],
        "housing": [
            "Bolaget har färdigställt 24 nya lägenheter och påbörjat renoveringen av ett "
            "område från miljonprogrammet. Uthyrningsgraden är nära 100 procent och kön till "
            "bolagets lägenheter har vuxit.",
        ],
    },
    "framtid": {
        "council": [
            "Den demografiska utvecklingen med fler äldre och färre i arbetsför ålder ställer "
            "krav på nya arbetssätt i alla verksamheter. Inför {next_year} prioriteras "
            "kompetensförsörjning, digitalisering och en långsiktigt hållbar ekonomi.",
        ],
        "ks": [
            "Kommunstyrelsen kommer att prioritera kompetensförsörjning, digitalisering och "
            "en ekonomi i balans i arbetet med budgeten för {next_year}. Osäkerheten i "
            "skatteunderlagets utveckling gör att planeringen behöver ha marginaler.",
        ],
        "edu": [
            "Elevantalet väntas fortsätta öka i grundskolans högre årskurser de kommande åren, "
            "samtidigt som barnkullarna i förskolan minskar. Lokalförsörjningsplanen ses över "
            "inför {next_year}.",
        ],
        "care": [
            "Antalet invånare över 80 år ökar snabbt de kommande åren. Nämnden förbereder fler "
            "platser i särskilt boende och satsar på förebyggande insatser och välfärdsteknik "
            "för att möta behoven.",
        ],
        "tech": [
            "Underhållsbehovet i fastigheter och VA-nät är fortsatt stort. En långsiktig "
            "underhållsplan tas fram under {next_year} och blir underlag för investeringsbudgeten.",
        ],
        "env": [
            "Nya regler för tillsyn och ökade krav på digital handläggning väntas påverka "
            "verksamheten. Nämnden fortsätter att utveckla e-tjänster och samarbeta med "
            "grannkommunerna om specialistkompetens.",
        ],
        "culture": [
            "Nämnden planerar att samla kultur- och fritidsverksamheten i nya lokaler i "
            "centrum och att utöka lovverksamheten till fler orter.",
        ],
    },
    "slutsatser": {
        "ks": [
            "Slutsatser: arbetet med tillväxt och etableringar ger resultat, men sjukfrånvaron "
            "är fortsatt för hög. Förbättringar: ett gemensamt arbete med hälsofrämjande "
            "arbetsplatser startar, och uppföljningen av sjukfrånvaron görs varje månad.",
        ],
        "edu": [
            "Slutsatser: kunskapsresultaten har förbättrats i årskurs 6 men inte i årskurs 9, och "
            "skillnaderna mellan skolorna är stora. Förbättringar: en gemensam modell för "
            "resultatanalys införs och det kollegiala lärandet i matematik utökas till alla "
            "skolor.",
        ],
        "care": [
            "Slutsatser: det nya arbetssättet för förhandsbedömningar har kortat "
            "utredningstiderna, medan kontinuiteten i hemtjänsten inte har förbättrats. "
            "Förbättringar: hemtjänsten organiseras i mindre team per område, och "
            "planeringen görs i ett nytt verktyg.",
        ],
        "env": [
            "Slutsatser: handläggningstiderna för bygglov har kortats, men tillsynsplanen har "
            "inte hunnits med fullt ut. Förbättringar: tillsynen av enskilda avlopp samordnas med "
            "grannkommunerna och e-tjänsten för bygglov utvecklas vidare.",
        ],
        "other": [
            "Slutsatser: de flesta aktiviteterna har genomförts enligt plan, men effekten på "
            "målen syns ännu bara delvis. Förbättringar: uppföljningen görs oftare och med "
            "tydligare koppling mellan aktiviteter och mål.",
        ],
    },
    "malgrupper": {
        "ks": [
            "Företagare: nöjdheten med kommunens service har ökat och fler företag har "
            "etablerat sig. Medarbetare: sjukfrånvaron har minskat något, men personal"
            "omsättningen är fortsatt hög i vissa yrken. Invånare: fler ärenden kan nu skötas "
            "digitalt.",
        ],
        "edu": [
            "Barn och unga: nästan alla barn har fått plats i förskolan på önskat datum. "
            "Elever och studerande: andelen behöriga till gymnasiet har ökat, men flickor och "
            "pojkar når fortfarande olika resultat. Nyanlända: studiehandledningen på modersmål "
            "har byggts ut.",
        ],
        "care": [
            "Äldre: de flesta är nöjda med hemtjänsten, men många möter för många olika "
            "medarbetare. Personer med funktionsnedsättning: fler har fått praktik eller arbete "
            "via daglig verksamhet. Personer i behov av stöd: utredningstiderna har kortats.",
        ],
        "tech": [
            "Invånare: nöjdheten med gator, parker och vatten är fortsatt hög, men snöröjningen "
            "får sämre betyg än tidigare. Företagare: tillgången på verksamhetsmark har "
            "förbättrats.",
        ],
        "env": [
            "Företagare: handläggningstiderna har kortats och fler ansökningar kommer in "
            "digitalt. Invånare: tillsynen av enskilda avlopp har ökat, och informationen inför "
            "tillsynsbesöken får goda omdömen.",
        ],
        "other": [
            "Invånare: verksamheten har nått fler i målgruppen än tidigare år, och synpunkterna "
            "är i huvudsak positiva.",
        ],
    },
}

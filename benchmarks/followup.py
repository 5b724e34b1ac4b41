"""The follow-up cycle at Stockholm scale: a tertial that 1,500 org units report.

`run()` is called by the benchmark child (benchmarks/run.py) once the Stockholm-scale
municipality exists, after the ledger import (so the boards' economy has an outcome and a
budget, as in a real tertial). Its steering model has the tertial kind of
`benchmarks.stockholm.model_spec()`: months 4, 8, 12; every kind of org unit reports
(council, executive board, boards, companies, administrations, departments and units); the
assessed levels are effektmål, nämndmål, åtagande and aktivitet; economy, one free section,
council approval. Steps:

1. **Generate and open** (timed: `tertial_generate_s`): `services.periods_generate` for the
   plan year (every kind's periods: three tertials and eight months), then
   `services.period_open` of Tertial 1: a report per org unit (~1,500), an assessment per
   assessed item (~29,600) with the roll-up's proposal, the free section and the boards'
   economy section.
2. **Part-way** (untimed, bulk updates): the deadline has passed (see `_late_today`); about
   half of the reports are written and submitted, a third part-written, the rest untouched;
   reminders were sent to the drafts; the boards have made their forecast.
3. **The controller's pages**: the cycle overview (`followup:period`) as the controller of the
   whole tree, 50 requests after 3 warm-ups (`cycle_overview_p95_ms`), and the report page of
   the board report that owes the most (`followup_report_page_p95_ms`), a draft part-written,
   so with its forms. One request each under `CaptureQueriesContext` gives the query counts.
4. **Everyone submits** (untimed): every assessment and section filled and ready, every
   report submitted (bulk updates, with the submit events).
5. **Approve and freeze** (timed: `tertial_freeze_s`), bottom up, one decision per meeting:
   each board and company approves its units' reports (`services.reports_approve` of all the
   reports in its line: administration, departments, units), then its own report; the
   executive board approves the council-level report; the council approves it
   (`services.report_council_approve`). Every approval writes a snapshot. The benchmark
   checks that every report is approved and has its snapshot.

`tertial_generate_freeze_s` = `tertial_generate_s` + `tertial_freeze_s` (steps 2 and 4 are
not in it: there people write for weeks).

On its own (`python -m benchmarks.followup --db sqlite|postgres`) it runs on a benchmark
database kept with `python -m benchmarks.run --keep` (it first deletes the municipality's
follow-up periods, untimed), or on a new one with `--fresh` (migrate and generate Stockholm
only: no indicators and no ledger, so lighter than in `make bench`). `--profile` prints the
top functions of the timed steps (cProfile) and the queries of one overview request.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from unittest import mock

if TYPE_CHECKING:
    from django.db.models import Model
    from django.test import Client

    from rodtrad.followup.models import FollowUpPeriod, Report
    from rodtrad.organisations.models import Municipality, User
    from rodtrad.steering.models import PlanYear

TARGET_GENERATE_FREEZE_S = 10
TARGET_OVERVIEW_MS = 100
SEED = 2026
CHUNK = 900  # ids per `pk__in` in the untimed bulk updates

ANALYSIS = (
    "Arbetet har gått enligt plan under tertialen. Indikatorerna visar en positiv utveckling "
    "jämfört med samma period föregående år, och de aktiviteter som planerades har i huvudsak "
    "genomförts. Samverkan med andra förvaltningar och civilsamhället har fördjupats."
)
MEASURES = (
    "Förvaltningen tar fram en handlingsplan med tydliga ansvariga och tidpunkter, och "
    "nämnden följer upp den vid varje sammanträde under resten av året."
)
SECTION = (
    "Under tertialen har verksamheten påverkats av rekryteringsläget och av en ökad efterfrågan. "
    "Nya arbetssätt har införts och lokalfrågorna har fått en långsiktig lösning."
)


@dataclass
class Cycle:
    """The period that is timed and what it holds."""

    period: FollowUpPeriod
    generate_s: float
    periods_generate_s: float
    period_open_s: float
    periods_created: int
    counts: dict[str, int] = field(default_factory=dict)


# --- Steps ---------------------------------------------------------------------------------


def reset(municipality: Municipality) -> int:
    """Delete the municipality's follow-up (a standalone rerun starts from nothing)."""
    from rodtrad.finance.models import Forecast
    from rodtrad.followup.models import FollowUpPeriod, Report, ReportEvent, Snapshot

    periods = FollowUpPeriod.objects.filter(municipality=municipality)
    Snapshot.objects.filter(report__period__in=periods).delete()
    ReportEvent.objects.filter(report__period__in=periods).delete()
    Report.objects.filter(period__in=periods).delete()
    Forecast.objects.filter(municipality=municipality, comment__startswith="Bench:").delete()
    deleted, _ = periods.delete()
    return deleted


def generate_and_open(plan_year: PlanYear, user: User, profiler: Any | None = None) -> Cycle:
    """Timed: create the year's periods and open Tertial 1."""
    from benchmarks.stockholm import TERTIAL
    from rodtrad.followup import services
    from rodtrad.followup.models import Assessment, ReportSection

    with _profiled(profiler):
        started = time.perf_counter()
        created = services.periods_generate(plan_year=plan_year, user=user)
        generated = time.perf_counter()
        period = next(p for p in created if p.kind.key == TERTIAL and p.number == 1)
        reports = services.period_open(period=period, user=user)
        opened = time.perf_counter()
    period.refresh_from_db()
    counts = {
        "reports": reports,
        "assessments": Assessment.objects.filter(report__period=period).count(),
        "sections": ReportSection.objects.filter(report__period=period).count(),
    }
    return Cycle(
        period=period,
        generate_s=opened - started,
        periods_generate_s=generated - started,
        period_open_s=opened - generated,
        periods_created=len(created),
        counts=counts,
    )


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _update(model: type[Model], ids: Sequence[int], **values: Any) -> None:
    for chunk in _chunks(ids):
        model._default_manager.filter(pk__in=chunk).update(**values)


def _write(period: FollowUpPeriod, report_ids: Sequence[int], share: float) -> None:
    """Fill the given reports' assessments (the first `share` of each report's) and sections
    as a writer would, marked ready; statuses mixed, measures where the goal is not met."""
    from rodtrad.followup.models import Assessment, ReportSection

    now = datetime.datetime.now(datetime.UTC)
    wanted = set(report_ids)
    per_report: dict[int, list[int]] = defaultdict(list)
    for pk, report_id in (
        Assessment.objects.filter(report__period=period, ready=False)
        .order_by("report_id", "pk")
        .values_list("pk", "report_id")
    ):
        if report_id in wanted:
            per_report[report_id].append(pk)
    by_status: dict[str, list[int]] = defaultdict(list)
    for ids in per_report.values():
        for pk in ids[: max(1, round(len(ids) * share)) if share < 1 else len(ids)]:
            by_status[("met", "met", "met", "partly", "not_met")[pk % 5]].append(pk)
    for status, ids in by_status.items():
        _update(
            Assessment,
            ids,
            status=status,
            analysis=ANALYSIS,
            measures=MEASURES if status == "not_met" else "",
            ready=True,
            updated_at=now,
            version=2,
        )
    if share >= 1:
        section_ids = [
            pk
            for pk, report_id in ReportSection.objects.filter(report__period=period).values_list(
                "pk", "report_id"
            )
            if report_id in wanted
        ]
        _update(ReportSection, section_ids, text=SECTION, ready=True, updated_at=now, version=2)


def _recount(period: FollowUpPeriod, submit: Sequence[int]) -> None:
    """parts_ready of every report from its ready parts (as services._recount keeps it);
    the reports in `submit` submitted, with their events."""
    from rodtrad.followup.models import (
        Assessment,
        EventAction,
        Report,
        ReportEvent,
        ReportSection,
        ReportStatus,
    )

    ready: Counter[int] = Counter(
        Assessment.objects.filter(report__period=period, ready=True).values_list(
            "report_id", flat=True
        )
    )
    ready.update(
        ReportSection.objects.filter(report__period=period, ready=True).values_list(
            "report_id", flat=True
        )
    )
    now = datetime.datetime.now(datetime.UTC)
    to_submit = set(submit)
    reports = list(
        Report.objects.filter(period=period).only(
            "pk", "parts_total", "parts_ready", "status", "submitted_at", "version"
        )
    )
    events = []
    for report in reports:
        report.parts_ready = ready[report.pk]
        if report.pk in to_submit and report.status == ReportStatus.DRAFT:
            if report.parts_ready != report.parts_total:
                raise SystemExit(f"report #{report.pk}: not every part is ready to submit")
            report.status = ReportStatus.SUBMITTED
            report.submitted_at = now
            report.version += 1
            events.append(ReportEvent(report=report, action=EventAction.SUBMIT, at=now))
    Report.objects.bulk_update(
        reports, ["parts_ready", "status", "submitted_at", "version"], batch_size=500
    )
    ReportEvent.objects.bulk_create(events, batch_size=1000)


def _forecasts(period: FollowUpPeriod, user: User) -> None:
    """The boards' forecast in the period's last month (the economy part shows it)."""
    from rodtrad.finance.models import Forecast
    from rodtrad.followup.models import Report

    rng = random.Random(SEED)
    Forecast.objects.bulk_create(
        [
            Forecast(
                municipality_id=period.municipality_id,
                org_unit_id=unit_id,
                year=period.year,
                month=period.end.month,
                amount=Decimal(rng.randint(50_000, 5_000_000) * 1000),
                comment="Bench: prognosen följer budget med mindre avvikelser.",
                created_by=user,
            )
            for unit_id in Report.objects.filter(period=period, economy=True).values_list(
                "org_unit_id", flat=True
            )
        ],
        ignore_conflicts=True,
    )


def part_way(period: FollowUpPeriod, user: User, keep_draft: int) -> dict[str, int]:
    """Untimed: about half the reports submitted, a third part-written, the rest untouched;
    `keep_draft` (the report page's report) is part-written. Reminders for the drafts."""
    from rodtrad.followup.models import Reminder, Report, ReportStatus, Tier

    rng = random.Random(SEED)
    submitted: list[int] = []
    partly: list[int] = [keep_draft]
    for pk, tier in Report.objects.filter(period=period).order_by("pk").values_list("pk", "tier"):
        if pk == keep_draft or tier == Tier.COUNCIL:
            continue
        draw = rng.random()
        if draw < (0.55 if tier == Tier.UNIT else 0.4):
            submitted.append(pk)
        elif draw < 0.85:
            partly.append(pk)
    _forecasts(period, user)
    _write(period, submitted, 1.0)
    _write(period, partly, 0.5)
    _recount(period, submitted)
    drafts = list(
        Report.objects.filter(period=period, status=ReportStatus.DRAFT).values_list("pk", flat=True)
    )
    now = datetime.datetime.now(datetime.UTC)
    Reminder.objects.bulk_create(
        [
            Reminder(report_id=pk, key=key, sent_at=now, recipients="enhetschef@example.se")
            for pk in drafts
            for key in ("before-7", "before-1", "late-0")
        ],
        batch_size=1000,
    )
    return {"submitted": len(submitted), "part_written": len(partly), "drafts": len(drafts)}


def submit_all(period: FollowUpPeriod) -> None:
    """Untimed: everything written, ready and submitted."""
    from rodtrad.followup.models import Report

    ids = list(Report.objects.filter(period=period).values_list("pk", flat=True))
    _write(period, ids, 1.0)
    _recount(period, ids)


def approve_all(period: FollowUpPeriod, user: User, profiler: Any | None = None) -> dict[str, Any]:
    """Timed: bottom up, one decision per meeting: each board its units' reports, then its
    own; the executive board the council-level report; the council approves it."""
    from django.db.models import Sum, TextField
    from django.db.models.functions import Cast, Length
    from django.utils import timezone

    from rodtrad.followup import services
    from rodtrad.followup.models import Report, ReportStatus, Snapshot, Tier
    from rodtrad.followup.selectors import BOARDISH
    from rodtrad.organisations.models import OrgUnit

    today = timezone.localdate()
    boards = {
        unit.pk: unit
        for unit in OrgUnit.objects.filter(
            municipality_id=period.municipality_id, kind__key__in=BOARDISH
        )
        .select_related("kind")
        .order_by("path")
    }
    reports = list(
        Report.objects.filter(period=period).select_related("org_unit").order_by("org_unit__path")
    )
    below: dict[int, list[Report]] = defaultdict(list)
    own: dict[int, Report] = {}
    council: list[Report] = []
    for report in reports:
        if report.tier == Tier.COUNCIL:
            council.append(report)
            continue
        ids = [int(p) for p in report.org_unit.path.strip("/").split("/")]
        board_id = next(i for i in ids if i in boards)
        if report.tier == Tier.BOARD:
            own[board_id] = report
        else:
            below[board_id].append(report)
    executive = next(
        (u.name for u in boards.values() if u.kind.key == "kommunstyrelse"), "Kommunstyrelsen"
    )
    decisions = 0
    units_s = boards_s = council_s = 0.0
    with _profiled(profiler):
        for n, (board_id, board) in enumerate(boards.items(), start=1):
            started = time.perf_counter()
            if below[board_id]:
                services.reports_approve(
                    reports=below[board_id],
                    user=user,
                    decided_by=board.name,
                    decided_on=today,
                    paragraph=f"§ {n}",
                )
                decisions += 1
            middle = time.perf_counter()
            if board_id in own:
                services.reports_approve(
                    reports=[own[board_id]],
                    user=user,
                    decided_by=board.name,
                    decided_on=today,
                    paragraph=f"§ {n + 100}",
                )
                decisions += 1
            units_s += middle - started
            boards_s += time.perf_counter() - middle
        started = time.perf_counter()
        for report in council:
            services.reports_approve(
                reports=[report], user=user, decided_by=executive, decided_on=today, paragraph="§ 7"
            )
            if report.needs_council:
                services.report_council_approve(
                    report=report,
                    user=user,
                    decided_by="Kommunfullmäktige",
                    decided_on=today,
                    paragraph="§ 12",
                )
                decisions += 1
            decisions += 1
        council_s = time.perf_counter() - started
    frozen = Report.objects.filter(
        period=period, status__in=[ReportStatus.APPROVED, ReportStatus.COUNCIL_APPROVED]
    ).count()
    snapshots = Snapshot.objects.filter(report__period=period).count()
    expected = len(reports) + sum(1 for r in council if r.needs_council)
    if frozen != len(reports) or snapshots != expected:
        raise SystemExit(
            f"{frozen} of {len(reports)} reports approved, {snapshots} snapshots (expected "
            f"{expected}): the freeze did not do its work."
        )
    size = Snapshot.objects.filter(report__period=period).aggregate(
        n=Sum(Length(Cast("content", TextField())))
    )["n"]
    return {
        "snapshots_mb": round((size or 0) / 2**20, 1),
        "seconds": units_s + boards_s + council_s,
        "units_s": units_s,
        "boards_s": boards_s,
        "council_s": council_s,
        "decisions": decisions,
        "snapshots": snapshots,
    }


# --- Pages ---------------------------------------------------------------------------------


def _late_today(period: FollowUpPeriod) -> datetime.date | None:
    """The day the pages are asked on: today if Tertial 1's deadline has passed (from late May
    on), else a week after the deadline (the views' `_today` is patched): the drafts are late."""
    from django.utils import timezone

    today = timezone.localdate()
    return None if today > period.deadline else period.deadline + datetime.timedelta(days=7)


def _get(client: Client, url: str) -> Callable[[], None]:
    def request() -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}, not 200.")

    return request


def time_pages(
    client: Client, urls: dict[str, str], n: int, warmup: int, log: Callable[[str], None]
) -> tuple[dict[str, list[float]], dict[str, int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    samples: dict[str, list[float]] = {}
    queries: dict[str, int] = {}
    for name, url in urls.items():
        call = _get(client, url)
        for _ in range(warmup):
            call()
        with CaptureQueriesContext(connection) as ctx:
            call()
        queries[name] = len(ctx.captured_queries)
        times = []
        for _ in range(n):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        samples[name] = times
        log(f"{name}: {queries[name]} queries, {len(times)} requests")
    return samples, queries


def board_report(period: FollowUpPeriod) -> Report:
    """The board report that owes the most parts (a district board)."""
    from rodtrad.followup.models import Report, Tier

    report = (
        Report.objects.filter(period=period, tier=Tier.BOARD)
        .select_related("org_unit")
        .order_by("-parts_total", "pk")
        .first()
    )
    if report is None:
        raise SystemExit("The tertial has no board report.")
    return report


# --- The benchmark ------------------------------------------------------------------------


@contextmanager
def _profiled(profiler: Any | None) -> Iterator[None]:
    """cProfile the block, and print its queries' time grouped by statement (slowest first)."""
    if profiler is None:
        yield
        return
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        profiler.enable()
        try:
            yield
        finally:
            profiler.disable()
    groups: dict[str, list[float]] = defaultdict(list)
    for query in ctx.captured_queries:
        shape = re.sub(r"\b\d+\b|'[^']*'", "?", query["sql"])
        shape = re.sub(r"(\?, )+\?", "?...", shape)
        groups[shape].append(float(query["time"]))
    total = sum(sum(times) for times in groups.values())
    print(
        f"--- {len(ctx.captured_queries)} queries, {total:.2f} s in the database, by statement",
        file=sys.stderr,
    )
    for shape, times in sorted(groups.items(), key=lambda kv: -sum(kv[1]))[:12]:
        where = shape.find(" WHERE ")
        shown = shape[:300] + (f" …{shape[where : where + 400]}" if where > 300 else "")
        print(f"{sum(times):8.2f} s {len(times):6} x  {shown}", file=sys.stderr)


def run(
    municipality: Municipality,
    controller: User,
    plan_year: PlanYear,
    *,
    requests: int,
    warmup: int,
    log: Callable[[str], None],
    profile: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Generate, open, time the pages part-way, submit everything, approve and freeze;
    return (figures, meta)."""
    from django.utils import timezone

    from benchmarks.run import _load, client_for, figure, ms
    from rodtrad.followup import views
    from rodtrad.followup.models import Tier

    profilers: dict[str, Any] = {}
    if profile:
        import cProfile

        profilers = {"generate": cProfile.Profile(), "freeze": cProfile.Profile()}
    load_before = _load()
    cycle = generate_and_open(plan_year, controller, profilers.get("generate"))
    period = cycle.period
    log(
        f"{period}: {cycle.periods_created} periods generated in {cycle.periods_generate_s:.2f} s, "
        f"opened in {cycle.period_open_s:.2f} s: "
        + ", ".join(f"{k} {v}" for k, v in cycle.counts.items())
    )
    tiers = Counter(period.reports.values_list("tier", flat=True))

    target = board_report(period)
    state = part_way(period, controller, target.pk)
    late_day = _late_today(period)
    code = municipality.code
    urls = {
        "cycle_overview": f"/k/{code}/uppfoljning/period/{period.pk}/",
        "followup_report_page": f"/k/{code}/uppfoljning/rapport/{target.pk}/",
    }
    client = client_for(controller)
    patch = (
        mock.patch.object(views, "_today", lambda request: late_day)
        if late_day is not None
        else nullcontext()
    )
    pages_before = _load()
    with patch:
        samples, queries = time_pages(client, urls, requests, warmup, log)
        if profile:
            for name, url in urls.items():
                _profile_page(name, client, url)
    pages_after = _load()

    submit_all(period)
    freeze = approve_all(period, controller, profilers.get("freeze"))
    load_after = _load()
    total_s = cycle.generate_s + freeze["seconds"]
    log(
        f"generate+open {cycle.generate_s:.2f} s, approve and freeze {freeze['seconds']:.2f} s "
        f"(units {freeze['units_s']:.2f}, boards {freeze['boards_s']:.2f}, council "
        f"{freeze['council_s']:.2f}; {freeze['decisions']} decisions, {freeze['snapshots']} "
        f"snapshots): {total_s:.2f} s; overview p95 {ms(samples['cycle_overview'], 95)} ms, "
        f"report page p95 {ms(samples['followup_report_page'], 95)} ms"
    )
    for name, profiler in profilers.items():
        _print_profile(name, profiler)

    figures = {
        "tertial_generate_freeze_s": figure(round(total_s, 2), "s", TARGET_GENERATE_FREEZE_S),
        "tertial_generate_s": figure(round(cycle.generate_s, 2), "s", "informational"),
        "tertial_freeze_s": figure(round(freeze["seconds"], 2), "s", "informational"),
        "cycle_overview_p50_ms": figure(ms(samples["cycle_overview"], 50), "ms", "informational"),
        "cycle_overview_p95_ms": figure(
            ms(samples["cycle_overview"], 95), "ms", TARGET_OVERVIEW_MS
        ),
        "cycle_overview_queries": figure(queries["cycle_overview"], "queries", "informational"),
        "followup_report_page_p50_ms": figure(
            ms(samples["followup_report_page"], 50), "ms", "informational"
        ),
        "followup_report_page_p95_ms": figure(
            ms(samples["followup_report_page"], 95), "ms", "informational"
        ),
        "followup_report_page_queries": figure(
            queries["followup_report_page"], "queries", "informational"
        ),
    }
    meta = {
        "period": str(period),
        "periods_generated": cycle.periods_created,
        "reports": cycle.counts["reports"],
        "reports_by_tier": {Tier(t).name.lower(): n for t, n in sorted(tiers.items())},
        "assessments": cycle.counts["assessments"],
        "sections": cycle.counts["sections"],
        "periods_generate_s": round(cycle.periods_generate_s, 2),
        "period_open_s": round(cycle.period_open_s, 2),
        "approve_units_s": round(freeze["units_s"], 2),
        "approve_boards_s": round(freeze["boards_s"], 2),
        "approve_council_s": round(freeze["council_s"], 2),
        "decisions": freeze["decisions"],
        "snapshots": freeze["snapshots"],
        "snapshots_mb": freeze["snapshots_mb"],
        "part_way": state,
        "pages_asked_on": (late_day or timezone.localdate()).isoformat(),
        "report_page": f"{target.org_unit.name} (#{target.pk}, {target.parts_total} parts)",
        "samples_per_figure": requests,
        "load_average_before_pages_after": [load_before, pages_before, pages_after, load_after],
    }
    return figures, meta


def _profile_page(name: str, client: Client, url: str) -> None:
    """The queries of one request (slowest first) and a cProfile of five."""
    import cProfile

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call = _get(client, url)
    with CaptureQueriesContext(connection) as ctx:
        call()
    print(f"--- {len(ctx.captured_queries)} queries of GET {url}, slowest first", file=sys.stderr)
    for query in sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:15]:
        print(f"{query['time']:>7} s  {query['sql'][:400]}", file=sys.stderr)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5):
        call()
    profiler.disable()
    _print_profile(f"{name} (5 requests)", profiler)


def _print_profile(name: str, profiler: Any) -> None:
    import io
    import pstats

    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(25)
        print(f"--- cProfile of {name}, by {order}", file=sys.stderr)
        print(out.getvalue(), file=sys.stderr)


# --- On its own -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.followup",
        description="Time the tertial follow-up cycle in the benchmark database's Stockholm.",
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--fresh", action="store_true", help="new database: migrate, generate")
    parser.add_argument("--scale", type=float, default=1.0, help="with --fresh: shrink it")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first")
    parser.add_argument("--profile", action="store_true", help="cProfile of the timed steps")
    args = parser.parse_args(argv)
    os.environ["BENCH_DB"] = args.db
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    import django

    from benchmarks import run as bench_run

    if args.fresh:
        if args.db == "postgres":
            bench_run._pg_recreate()
        else:
            bench_run._sqlite_remove()
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from benchmarks import stockholm
    from rodtrad.organisations.models import Membership, Municipality, Role
    from rodtrad.steering.models import PlanYear

    log = lambda msg: print(f"[{args.db}] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    if args.fresh:
        call_command("migrate", verbosity=0, interactive=False)
        generated = stockholm.generate(scale=args.scale)
        log(f"generated {generated.municipality} in {generated.seconds:.1f} s")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    municipality = Municipality.objects.get(code=stockholm.CODE)
    deleted = reset(municipality)
    if deleted:
        log(f"deleted the earlier follow-up ({deleted} rows)")
    controller = (
        Membership.objects.filter(org_unit__municipality=municipality, role=Role.CONTROLLER)
        .select_related("user")
        .order_by("org_unit__depth", "pk")
        .first()
    )
    assert controller is not None
    plan_year = PlanYear.objects.filter(period__municipality=municipality).latest("year")
    figures, meta = run(
        municipality,
        controller.user,
        plan_year,
        requests=args.requests,
        warmup=args.warmup,
        log=log,
        profile=args.profile,
    )
    print(json.dumps({"figures": figures, "meta": meta}, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

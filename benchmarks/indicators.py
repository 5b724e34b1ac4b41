"""Indicator benchmarks on the Stockholm-scale municipality (issue 3's figures).

- `kolada_catalogue_import_s`: parse the bundled catalogue (6,099 KPIs) and upsert it into an
  empty table, as `manage.py kolada_catalogue` does.
- `values_import_100k_s`: a 100,000-row CSV of monthly values for the 2,000 indicators
  (Swedish number format) through the same import the page uses: read, validate every row,
  write in bulk, audit.
- `rollup_stockholm_ms`: recompute every status after one value changed: load the 30,000
  items, their links, 2,000 indicators with their values and targets, judge and roll up,
  store what changed. p50 over repeated runs; the first full computation (which writes every
  row) is reported beside it.

The Nynäshamn preset measures only the council's goals; here board goals carry indicators
too (a bench-only setting), so the 2,000 indicators spread over 16 council and 315 board
goals as in a large city.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rodtrad.indicators import imports, kolada, rollup, services
from rodtrad.indicators.models import Indicator, KoladaKpi, Target, Value
from rodtrad.lib import kolada as kolada_lib
from rodtrad.organisations.access import compute_access
from rodtrad.organisations.models import Municipality, OrgUnit, User
from rodtrad.steering.models import Level, PlanItem, PlanPeriod

N_INDICATORS = 2_000
N_VALUES = 100_000


@dataclass
class Setup:
    indicators: list[Indicator]
    seconds: float


def setup(municipality: Municipality, *, seed: int = 3) -> Setup:
    started = time.perf_counter()
    rng = random.Random(seed)
    Level.objects.filter(model__municipality=municipality, key="namndmal").update(
        has_indicators=True
    )
    goals = list(
        PlanItem.objects.filter(
            municipality=municipality, level__key__in=("effektmal", "namndmal")
        ).select_related("owner")
    )
    period = PlanPeriod.objects.filter(municipality=municipality).latest("start_year")
    kf = OrgUnit.objects.get(municipality=municipality, parent=None)
    indicators = Indicator.objects.bulk_create(
        Indicator(
            municipality=municipality,
            title=f"Indikator {i + 1}",
            unit="%",
            frequency="month",
            direction="lower" if i % 5 == 0 else "higher",
            owner=goals[i % len(goals)].owner if i % len(goals) else kf,
        )
        for i in range(N_INDICATORS)
    )
    through = Indicator.plan_items.through
    through.objects.bulk_create(
        through(indicator_id=indicator.pk, planitem_id=goals[i % len(goals)].pk)
        for i, indicator in enumerate(indicators)
    )
    values = []
    targets = []
    for indicator in indicators:
        level = rng.uniform(40, 90)
        trend = rng.uniform(-1.5, 2.0)
        for year in range(period.start_year - 4, period.end_year):
            values.append(
                Value(
                    indicator=indicator,
                    area=municipality.code,
                    year=year,
                    period_kind="year",
                    period_end=f"{year}-12-31",
                    value=Decimal(f"{level + trend * (year - period.start_year):.1f}"),
                    updated_at="2026-01-01T00:00:00Z",
                )
            )
        goal = Decimal(f"{level + 4:.1f}")
        targets.append(Target(indicator=indicator, period=period, year=None, value=goal))
        targets.append(
            Target(
                indicator=indicator,
                period=period,
                year=period.end_year - 1,
                value=goal - 2,
                accepted_value=goal - 5,
            )
        )
    Value.objects.bulk_create(values, batch_size=5000)
    Target.objects.bulk_create(targets, batch_size=5000)
    rollup.mark_stale(municipality)
    return Setup(indicators, time.perf_counter() - started)


def catalogue_import() -> float:
    KoladaKpi.objects.all().delete()
    started = time.perf_counter()
    kolada.catalogue_import(kolada_lib.load_catalogue())
    seconds = time.perf_counter() - started
    assert KoladaKpi.objects.count() == 6099
    return seconds


def values_csv(indicators: list[Indicator], rows: int = N_VALUES) -> bytes:
    per_indicator = rows // len(indicators)
    lines = ["Indikator;Period;Värde;Kommentar"]
    for n, indicator in enumerate(indicators):
        for m in range(per_indicator):
            year, month = 2022 + m // 12, m % 12 + 1
            value = 1000 + (n * 37 + m * 11) % 900 + m / 10
            lines.append(
                f"{indicator.pk};{year}-{month:02d};{value:,.1f}".replace(",", "\u00a0").replace(
                    ".", ","
                )
                + ";"
            )
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def values_import(municipality: Municipality, user: User, data: bytes) -> tuple[float, Any]:
    access = compute_access(user, municipality)
    started = time.perf_counter()
    result = imports.values_import(
        user=user, municipality=municipality, access=access, data=data, filename="bench.csv"
    )
    seconds = time.perf_counter() - started
    assert not result.problems, result.problems[:5]
    assert result.summary is not None and result.summary.created == N_VALUES
    return seconds, result.summary


def rollup_times(municipality: Municipality, indicator: Indicator, runs: int) -> dict[str, Any]:
    started = time.perf_counter()
    rollup.ensure_fresh(municipality)
    first_ms = (time.perf_counter() - started) * 1000
    samples = []
    for run in range(runs):
        services.value_set(
            user=None,
            indicator=indicator,
            row=services.ValueInput(2026, "month", 6, Decimal(50 + run)),
            expected_version=None if run == 0 else run,
        )
        started = time.perf_counter()
        rollup.ensure_fresh(municipality)
        samples.append(time.perf_counter() - started)
    return {"first_ms": round(first_ms, 1), "samples": samples}

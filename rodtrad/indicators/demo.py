"""Demo indicators for the seed municipalities, from rodtrad/indicators/demo/<name>.yaml.

Loaded after the demo plan (the `demo_loaded` signal) through the same services as the
interface. Format, one entry per indicator under `indicators:`:

    - kolada: N00090            # a KPI of the bundled catalogue (title, gender split from it)
      title: ...                # required without `kolada`
      kind: target | key_figure | index
      unit: "%"                 # decimals, direction (higher|lower|closest), frequency
      owner: Kommunstyrelsen    # an org unit's name
      responsible: ...
      measures: [{level: effektmal, number: "1", year: 2026, owner: ...}]  # year, owner optional
      baseline: {year: 2022, value: 55}
      targets: [{year: 2026, value: 60, accepted: 57}, {period_end: true, value: 60}]
      values: {2019: 55.1, "2026 T1": 12}       # the municipality's own total values
      women: {2023: 8.9}                         # and by gender, when split
      men: {2023: 4.6}
      group: {2023: 8.1}   or   group_offset: -1.5   # "liknande kommuner" (Kolada only)
      riket: {2023: 8.4}   or   riket_offset: 0.8

Kolada-backed demo indicators are marked `demo_values`: their values are invented.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction

from rodtrad.indicators import kolada, services
from rodtrad.indicators.models import Indicator, Source
from rodtrad.lib import kolada as kolada_lib
from rodtrad.lib.swedish import FormatError, parse_period
from rodtrad.lib.yamlfile import FileProblems, Problem, load_located, path_text
from rodtrad.organisations.models import Municipality, OrgUnit
from rodtrad.steering.models import PlanItem, PlanPeriod

DEMOS = Path(__file__).resolve().parent / "demo"
KEYS = {
    "kolada",
    "title",
    "description",
    "kind",
    "unit",
    "decimals",
    "direction",
    "frequency",
    "by_gender",
    "owner",
    "responsible",
    "measures",
    "baseline",
    "targets",
    "values",
    "women",
    "men",
    "group",
    "group_offset",
    "riket",
    "riket_offset",
    "tolerance_pct",
}


@functools.cache
def _catalogue() -> dict[str, kolada_lib.Kpi]:
    return {kpi.id: kpi for kpi in kolada_lib.load_catalogue()}


@functools.cache
def _groups() -> dict[str, kolada_lib.Group]:
    titles = {m.id: m.title for m in kolada_lib.load_municipalities()}
    groups = kolada_lib.load_municipality_groups()
    found = {}
    for code, title in titles.items():
        group = kolada_lib.pick_similar_group(groups, title)
        if group is not None:
            found[code] = group
    return found


def _wobble(seed: str, index: int) -> Decimal:
    """A small deterministic difference so derived comparison series are not straight copies."""
    return Decimal((sum(map(ord, seed)) * 31 + index * 17) % 11 - 5) / 10


@transaction.atomic
def load_demo_indicators(municipality: Municipality, name: str) -> int:
    path = DEMOS / f"{name}.yaml"
    if not path.exists():
        return 0
    located = load_located(path.read_text(encoding="utf-8"))

    def fail(where: tuple[str | int, ...], message: str) -> FileProblems:
        return FileProblems([Problem(located.line(where), path_text(where), f"{path}: {message}")])

    units = {u.name: u for u in OrgUnit.objects.filter(municipality=municipality)}
    periods = list(PlanPeriod.objects.filter(municipality=municipality).order_by("start_year"))
    items = list(
        PlanItem.objects.filter(municipality=municipality).select_related(
            "level", "plan_year", "owner"
        )
    )
    count = 0
    for index, entry in enumerate(located.data.get("indicators", [])):
        where: tuple[str | int, ...] = ("indicators", index)
        unknown = set(entry) - KEYS
        if unknown:
            raise fail(where, f"unknown keys: {', '.join(sorted(unknown))}")
        _load_one(municipality, entry, where, fail, units, periods, items)
        count += 1
    return count


def _load_one(
    municipality: Municipality,
    entry: dict[str, Any],
    where: tuple[str | int, ...],
    fail: Any,
    units: dict[str, OrgUnit],
    periods: list[PlanPeriod],
    items: list[PlanItem],
) -> Indicator:
    owner = units.get(entry.get("owner", ""))
    if owner is None:
        raise fail((*where, "owner"), f"unknown org unit {entry.get('owner')!r}")
    kpi = None
    if "kolada" in entry:
        kpi = _catalogue().get(entry["kolada"])
        if kpi is None:
            raise fail((*where, "kolada"), f"no KPI {entry['kolada']!r} in the catalogue")
    measures = []
    for number, ref in enumerate(entry.get("measures", [])):
        if "level" not in ref or "number" not in ref:
            raise fail((*where, "measures", number), "a measure needs a level and a number")
        found = [
            i
            for i in items
            if i.level.key == ref["level"]
            and i.number == str(ref["number"])
            and ("year" not in ref or (i.plan_year and i.plan_year.year == ref["year"]))
            and ("owner" not in ref or i.owner.name == ref["owner"])
        ]
        if len(found) != 1:
            raise fail((*where, "measures", number), f"{len(found)} items match {ref}")
        measures.append(found[0])
    data: dict[str, Any] = {
        "title": entry.get("title") or (kpi.title if kpi else ""),
        "description": entry.get("description") or (kpi.description if kpi else ""),
        "kind": entry.get("kind", "target"),
        "unit": entry.get("unit", kolada.guess_unit(kpi.title) if kpi else ""),
        "decimals": entry.get("decimals", 1),
        "direction": entry.get("direction", "higher"),
        "frequency": entry.get("frequency", "year"),
        "by_gender": entry.get("by_gender", kpi.is_divided_by_gender if kpi else False),
        "owner": owner,
        "responsible": entry.get("responsible", ""),
    }
    if "tolerance_pct" in entry:
        data["tolerance_pct"] = Decimal(str(entry["tolerance_pct"]))
    if not data["title"]:
        raise fail(where, "an indicator needs a title or a kolada KPI")
    if "baseline" in entry:
        data["baseline_value"] = Decimal(str(entry["baseline"]["value"]))
        data["baseline_year"] = entry["baseline"]["year"]
    if kpi is not None:
        group = _groups().get(municipality.code)
        data.update(
            source=Source.KOLADA,
            kolada_kpi=kpi.id,
            kolada_title=kpi.title,
            kolada_description=kpi.description,
            kolada_publ_period=kpi.publ_period or "",
            kolada_discontinued=kpi.discontinued,
            compare_group=group.id if group else "",
            compare_group_title=group.title if group else "",
            demo_values=True,
        )
    try:
        indicator = services.indicator_create(
            user=None, municipality=municipality, data=data, items=measures
        )
    except services.IndicatorError as exc:
        raise fail((*where, "measures"), "; ".join(exc.problems)) from None
    rows: list[tuple[Indicator, services.ValueInput]] = []

    def series(key: str, gender: str = "T", area: str = "") -> dict[str, Decimal | None]:
        out: dict[str, Decimal | None] = {}
        for period_text, value in (entry.get(key) or {}).items():
            try:
                period = parse_period(str(period_text))
            except FormatError as exc:
                raise fail((*where, key, period_text), str(exc)) from None
            number = None if value is None else Decimal(str(value))
            rows.append(
                (
                    indicator,
                    services.ValueInput(
                        period.year, period.kind, period.number, number, gender, area
                    ),
                )
            )
            out[str(period_text)] = number
        return out

    own = series("values")
    if data["by_gender"]:
        series("women", "K")
        series("men", "M")
    for key, area in (("group", data.get("compare_group", "")), ("riket", "0000")):
        if not area:
            continue
        if key in entry:
            series(key, "T", area)
        elif f"{key}_offset" in entry:
            offset = Decimal(str(entry[f"{key}_offset"]))
            for position, (period_text, value) in enumerate(own.items()):
                if value is None or " " in period_text or "-" in period_text:
                    continue  # comparisons are yearly
                # A wobble of up to ±5 % of the value, so derived series are not copies.
                wobble = _wobble(key + indicator.title, position) * abs(value) / 10
                derived = (value + offset + wobble).quantize(Decimal("0.01"))
                rows.append(
                    (
                        indicator,
                        services.ValueInput(int(period_text), "year", None, derived, "T", area),
                    )
                )
    services.values_write(
        user=None,
        municipality=municipality,
        rows=rows,
        source=Source.KOLADA if kpi else Source.MANUAL,
        name=f"Demo {indicator.title}"[:255],
    )
    targets = []
    for number, target in enumerate(entry.get("targets", [])):
        if "value" not in target:
            raise fail((*where, "targets", number), "a target needs a value")
        if target.get("period_end"):
            period = next((p for p in periods if p.end_year == target.get("year", 0)), None)
            if period is None:
                raise fail((*where, "targets", number), "no plan period ends that year")
            year = None
        else:
            year = target["year"]
            period = next((p for p in periods if year in p.years), None)
            if period is None:
                raise fail((*where, "targets", number), f"{year} is in no plan period")
        accepted = target.get("accepted")
        targets.append(
            services.TargetInput(
                period,
                year,
                Decimal(str(target["value"])),
                None if accepted is None else Decimal(str(accepted)),
            )
        )
    if targets:
        try:
            services.targets_set(user=None, indicator=indicator, rows=targets)
        except services.IndicatorError as exc:
            raise fail((*where, "targets"), "; ".join(exc.problems)) from None
    return indicator

"""Load a demo municipality from a file: organisation, users, model, periods and plan.

Everything goes through the same services as the interface, so the demo plan passes the
model's own rules or does not load at all. Format: see rodtrad/steering/demo/*.yaml.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from rodtrad.lib.yamlfile import FileProblems, Problem, load_located, path_text
from rodtrad.organisations.models import Membership, Municipality, OrgUnit, OrgUnitKind, User
from rodtrad.steering import services
from rodtrad.steering.modelfile import ModelSpec, parse_model
from rodtrad.steering.models import (
    ClassificationValue,
    Level,
    PlanItem,
    PlanPeriod,
    PlanYear,
)
from rodtrad.steering.signals import demo_loaded

PRESETS = Path(__file__).resolve().parent / "presets"
DEMOS = Path(__file__).resolve().parent / "demo"
DEMO_PASSWORD = "rodtrad-demo"
DEMO_ORDER = ["vaggeryd", "heby", "botkyrka", "kramfors", "nynashamn"]


@dataclass
class _PendingItem:
    data: dict[str, Any]
    path: tuple[str | int, ...]
    parent: _PendingItem | None
    created: PlanItem | None = None
    refs: list[str] = field(default_factory=list)


def demo_files() -> list[Path]:
    return [DEMOS / f"{name}.yaml" for name in DEMO_ORDER if (DEMOS / f"{name}.yaml").exists()]


@functools.cache
def preset_spec(name: str) -> ModelSpec:
    """A preset's parsed file; the presets ship with the code and do not change while it runs."""
    return parse_model((PRESETS / f"{name}.yaml").read_text(encoding="utf-8"))


def load_preset(name: str, municipality: Municipality, user: User | None = None) -> None:
    services.steering_model_import(municipality=municipality, spec=preset_spec(name), user=user)


@transaction.atomic
def load_demo_file(path: Path) -> Municipality | None:
    """Load one demo municipality; None if it is there already."""
    located = load_located(path.read_text(encoding="utf-8"))
    data = located.data

    def fail(where: tuple[str | int, ...], message: str) -> FileProblems:
        return FileProblems([Problem(located.line(where), path_text(where), message)])

    code = str(data["municipality"]["code"])
    if Municipality.objects.filter(code=code).exists():
        return None
    municipality = services.municipality_create(code=code, name=data["municipality"]["name"])
    load_preset(data["model"], municipality)
    kinds = {k.key: k for k in OrgUnitKind.objects.filter(municipality=municipality)}
    units: dict[str, OrgUnit] = {}

    def add_units(entries: list[dict[str, Any]], parent: OrgUnit | None, where: tuple) -> None:
        for index, entry in enumerate(entries):
            here = (*where, index)
            if entry["kind"] not in kinds:
                raise fail((*here, "kind"), f"unknown org unit kind {entry['kind']!r}")
            if entry["name"] in units:
                raise fail((*here, "name"), f"the unit name {entry['name']!r} is used twice")
            unit = OrgUnit.objects.create(
                municipality=municipality,
                parent=parent,
                kind=kinds[entry["kind"]],
                name=entry["name"],
                short_name=entry.get("short_name", ""),
                ledger_code=str(entry.get("ledger_code", "")),
                order=index,
            )
            units[unit.name] = unit
            add_units(entry.get("children", []), unit, (*here, "children"))

    add_units(data["org"], None, ("org",))

    for index, entry in enumerate(data.get("users", [])):
        user = User.objects.create_user(
            username=entry["username"],
            password=DEMO_PASSWORD,
            first_name=entry.get("first_name", ""),
            last_name=entry.get("last_name", ""),
            title=entry.get("title", ""),
            municipality=municipality,
            email=f"{entry['username']}@example.se",
        )
        for role in entry.get("roles", []):
            if role["unit"] not in units:
                raise fail(("users", index, "roles"), f"unknown unit {role['unit']!r}")
            Membership.objects.create(user=user, org_unit=units[role["unit"]], role=role["role"])
            if role["role"] == "admin":
                user.is_staff = True
                user.save(update_fields=["is_staff"])

    years: dict[int, PlanYear] = {}
    periods: list[PlanPeriod] = []
    for entry in data["periods"]:
        period = services.plan_period_create(
            user=None,
            municipality=municipality,
            name=entry["name"],
            start_year=int(entry["start"]),
            end_year=int(entry["end"]),
        )
        periods.append(period)
        for year, info in (entry.get("years") or {}).items():
            decided_on = info.get("decided_on")
            years[int(year)] = PlanYear.objects.create(
                period=period,
                year=int(year),
                status=info.get("status", "adopted"),
                decided_by=info.get("decided_by", ""),
                decided_on=decided_on if isinstance(decided_on, datetime.date) else None,
                decision_paragraph=str(info.get("paragraph", "")),
            )

    levels = {lv.key: lv for lv in Level.objects.filter(model__municipality=municipality)}
    values = {
        (v.classification.key, v.key): v
        for v in ClassificationValue.objects.filter(
            classification__model__municipality=municipality
        ).select_related("classification")
    }
    pending: list[_PendingItem] = []

    def collect(entries: list[dict[str, Any]], parent: _PendingItem | None, where: tuple) -> None:
        for index, entry in enumerate(entries):
            item = _PendingItem(
                entry,
                (*where, index),
                parent,
                refs=[str(r) for r in entry.get("contributes_to", [])],
            )
            pending.append(item)
            collect(entry.get("contributors", []), item, (*where, index, "contributors"))

    collect(data["items"], None, ("items",))
    by_ref = {str(p.data["ref"]): p for p in pending if "ref" in p.data}
    remaining = pending
    while remaining:
        progress = []
        for item in remaining:
            if item.parent is not None and item.parent.created is None:
                continue
            if any(by_ref[r].created is None for r in item.refs if r in by_ref):
                continue
            _create_item(item, municipality, periods, years, levels, units, values, by_ref, fail)
            progress.append(item)
        if not progress:
            raise fail(remaining[0].path, "circular references between items")
        remaining = [item for item in remaining if item.created is None]
    demo_loaded.send(sender=Municipality, municipality=municipality, name=path.stem)
    return municipality


def _create_item(
    item: _PendingItem,
    municipality: Municipality,
    periods: list[PlanPeriod],
    years: dict[int, PlanYear],
    levels: dict[str, Level],
    units: dict[str, OrgUnit],
    values: dict[tuple[str, str], ClassificationValue],
    by_ref: dict[str, _PendingItem],
    fail: Callable[[tuple[str | int, ...], str], FileProblems],
) -> None:
    entry, where = item.data, item.path
    level = levels.get(entry["level"])
    if level is None:
        raise fail((*where, "level"), f"unknown level {entry['level']!r}")
    owner = units.get(entry["owner"])
    if owner is None:
        raise fail((*where, "owner"), f"unknown org unit {entry['owner']!r}")
    plan_year = None
    if "year" in entry:
        plan_year = years.get(int(entry["year"]))
        if plan_year is None:
            raise fail((*where, "year"), f"no plan year {entry['year']}")
        period = plan_year.period
    else:
        period = periods[-1]
    parents = [item.parent.created] if item.parent is not None else []
    for ref in item.refs:
        if ref not in by_ref:
            raise fail((*where, "contributes_to"), f"unknown ref {ref!r}")
        parents.append(by_ref[ref].created)
    chosen = []
    for key, value_keys in (entry.get("classifications") or {}).items():
        for value_key in value_keys:
            if (key, str(value_key)) not in values:
                raise fail((*where, "classifications"), f"unknown value {key}:{value_key}")
            chosen.append(values[(key, str(value_key))])
    picked = {
        key: entry[key]
        for key in (
            "number",
            "title",
            "description",
            "responsible",
            "status",
            "decision_reference",
            "due_date",
            "completed_on",
            "start_date",
            "end_date",
        )
        if key in entry
    }
    data: dict[str, Any] = {k: (str(v) if k == "number" else v) for k, v in picked.items()}
    if "assigned_by" in entry:
        data["assigned_by"] = units[entry["assigned_by"]]
    try:
        item.created = services.plan_item_create(
            user=None,
            level=level,
            owner=owner,
            period=period,
            plan_year=plan_year,
            data=data,
            parents=[p for p in parents if p is not None],
            values=chosen,
        )
    except services.PlanError as exc:
        raise fail(where, f"{entry.get('title')}: {' '.join(exc.messages)}") from None


def create_platform_admin() -> bool:
    if User.objects.filter(username="admin").exists():
        return False
    User.objects.create_superuser("admin", "admin@example.se", DEMO_PASSWORD)
    return True

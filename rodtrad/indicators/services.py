"""Writes to indicators, targets, values, overrides and assessment settings.

Each function is one transaction that writes an audit event and marks the roll-up stale.
Imports (files, Kolada) validate everything first and write nothing unless all is valid.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rodtrad.indicators import rollup
from rodtrad.indicators.models import (
    AssessmentSettings,
    Indicator,
    Source,
    StatusOverride,
    Target,
    Value,
    ValueImport,
    period_end,
    period_label,
)
from rodtrad.organisations.audit import record
from rodtrad.steering.models import PlanItem, PlanPeriod, SteeringModel

if TYPE_CHECKING:
    from rodtrad.organisations.models import Municipality, User


class IndicatorError(Exception):
    """A refused write; `problems` are sentences to show the person."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class StaleIndicatorEdit(IndicatorError):
    pass


def _user(user: User | None) -> User | None:
    return user if user is not None and user.is_authenticated else None


def _changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    return (
        {k: v for k, v in before.items() if after.get(k) != v},
        {k: v for k, v in after.items() if before.get(k) != v},
    )


FOUR_PLACES = Decimal("0.0001")


def stored(value: Decimal | None) -> Decimal | None:
    """The value as the database keeps it (four decimals)."""
    return None if value is None else value.quantize(FOUR_PLACES)


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


# --- Indicators -------------------------------------------------------------------------------


def _item_problems(indicator: Indicator, items: Iterable[PlanItem]) -> list[str]:
    problems = []
    for item in items:
        if item.municipality_id != indicator.municipality_id:
            problems.append(_("“%(item)s” belongs to another municipality.") % {"item": item})
        elif not item.level.has_indicators:
            problems.append(
                _("Items at the level %(level)s do not carry indicators (“%(item)s”).")
                % {"level": item.level, "item": item}
            )
    return problems


@transaction.atomic
def indicator_create(
    *,
    user: User | None,
    municipality: Municipality,
    data: dict[str, Any],
    items: Sequence[PlanItem] = (),
) -> Indicator:
    indicator = Indicator(municipality=municipality, **data)
    if indicator.owner.municipality_id != municipality.pk:
        raise IndicatorError([_("The owner belongs to another municipality.")])
    problems = _item_problems(indicator, items)
    if problems:
        raise IndicatorError(problems)
    indicator.save()
    indicator.plan_items.set(items)
    record(
        user=user,
        municipality=municipality,
        action="create",
        obj=indicator,
        after=indicator.snapshot() | {"measures": sorted(i.pk for i in items)},
    )
    rollup.mark_stale(municipality)
    return indicator


def _lock(indicator: Indicator, expected_version: int) -> Indicator:
    current = Indicator.objects.select_for_update().select_related("owner").get(pk=indicator.pk)
    if current.version != expected_version:
        raise StaleIndicatorEdit(
            [
                _(
                    "“%(title)s” was changed by someone else after you opened it. Your changes "
                    "were not saved; reload the page to see the new version and make your "
                    "changes again."
                )
                % {"title": current.title}
            ]
        )
    return current


@transaction.atomic
def indicator_update(
    *, user: User | None, indicator: Indicator, expected_version: int, data: dict[str, Any]
) -> Indicator:
    current = _lock(indicator, expected_version)
    before = current.snapshot()
    for key, value in data.items():
        setattr(current, key, value)
    if current.owner.municipality_id != current.municipality_id:
        raise IndicatorError([_("The owner belongs to another municipality.")])
    current.version += 1
    current.save()
    changed_before, changed_after = _changes(before, current.snapshot())
    record(
        user=user,
        municipality=current.municipality,
        action="update",
        obj=current,
        before=changed_before,
        after=changed_after,
    )
    rollup.mark_stale(current.municipality_id, indicators=[current.pk])
    return current


@transaction.atomic
def indicator_delete(*, user: User | None, indicator: Indicator) -> None:
    before = indicator.snapshot() | {
        "values": indicator.values.count(),
        "measures": sorted(indicator.plan_items.values_list("pk", flat=True)),
    }
    record(
        user=user,
        municipality=indicator.municipality,
        action="delete",
        obj=indicator,
        before=before,
    )
    municipality_id = indicator.municipality_id
    indicator.delete()
    rollup.mark_stale(municipality_id)


@transaction.atomic
def indicator_link(*, user: User | None, indicator: Indicator, item: PlanItem) -> None:
    problems = _item_problems(indicator, [item])
    if not problems and indicator.plan_items.filter(pk=item.pk).exists():
        problems.append(
            _("“%(indicator)s” already measures “%(item)s”.")
            % {"indicator": indicator, "item": item}
        )
    if problems:
        raise IndicatorError(problems)
    indicator.plan_items.add(item)
    record(
        user=user,
        municipality=indicator.municipality,
        action="link",
        obj=item,
        after={"indicator": {"id": indicator.pk, "title": indicator.title}},
    )
    rollup.mark_stale(indicator.municipality_id)


@transaction.atomic
def indicator_unlink(*, user: User | None, indicator: Indicator, item: PlanItem) -> None:
    if not indicator.plan_items.filter(pk=item.pk).exists():
        raise IndicatorError(
            [
                _("“%(indicator)s” does not measure “%(item)s”.")
                % {"indicator": indicator, "item": item}
            ]
        )
    indicator.plan_items.remove(item)
    record(
        user=user,
        municipality=indicator.municipality,
        action="unlink",
        obj=item,
        before={"indicator": {"id": indicator.pk, "title": indicator.title}},
    )
    rollup.mark_stale(indicator.municipality_id)


# --- Targets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetInput:
    period: PlanPeriod
    year: int | None  # None: the end of the period
    value: Decimal | None  # None removes the target
    accepted: Decimal | None = None


def _target_problems(indicator: Indicator, rows: Sequence[TargetInput]) -> list[str]:
    problems = []
    if rows and not indicator.has_targets:
        problems.append(_("A key figure has no target values."))
    for row in rows:
        when = str(row.year) if row.year else _("end of %(period)s") % {"period": row.period}
        if row.period.municipality_id != indicator.municipality_id:
            problems.append(_("The plan period belongs to another municipality."))
        elif row.year is not None and row.year not in row.period.years:
            problems.append(
                _("%(year)s is not a year of %(period)s.")
                % {"year": row.year, "period": row.period}
            )
        if row.value is None and row.accepted is not None:
            problems.append(_("%(when)s: an accepted value needs a target value.") % {"when": when})
        if row.value is not None and row.accepted is not None:
            wrong = (indicator.direction == "higher" and row.accepted > row.value) or (
                indicator.direction == "lower" and row.accepted < row.value
            )
            if wrong:
                problems.append(
                    _(
                        "%(when)s: the accepted value %(accepted)s is better than the target "
                        "%(target)s; it should lie between the target and what is not accepted."
                    )
                    % {"when": when, "accepted": _num(row.accepted), "target": _num(row.value)}
                )
    return problems


def _target_key(target: Target) -> str:
    return str(target.year) if target.year else f"{target.period.name} (slut)"


@transaction.atomic
def targets_set(
    *,
    user: User | None,
    indicator: Indicator,
    rows: Sequence[TargetInput],
    expected_version: int | None = None,
    baseline: tuple[Decimal | None, int | None] | None = None,
) -> int:
    """Set target values (and optionally the baseline); returns how many changed."""
    # Always re-read under a lock (an import holds the indicator for a while); compare the
    # version only when the caller showed one.
    current = (
        _lock(indicator, expected_version)
        if expected_version is not None
        else Indicator.objects.select_for_update().select_related("owner").get(pk=indicator.pk)
    )
    problems = _target_problems(current, rows)
    if problems:
        raise IndicatorError(problems)
    existing = {(t.period_id, t.year): t for t in current.targets.select_related("period")}
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    changed = 0
    for row in rows:
        key = (row.period.pk, row.year)
        target = existing.get(key)
        label = str(row.year) if row.year else f"{row.period.name} (slut)"
        if row.value is None:
            if target is not None:
                before[label] = [_num(target.value), _num(target.accepted_value)]
                after[label] = None
                target.delete()
                changed += 1
            continue
        if target is None:
            target = Target(
                indicator=current,
                period=row.period,
                year=row.year,
                value=row.value,
                accepted_value=row.accepted,
            )
            after[label] = [_num(row.value), _num(row.accepted)]
            before[label] = None
        elif (target.value, target.accepted_value) != (row.value, row.accepted):
            before[label] = [_num(target.value), _num(target.accepted_value)]
            target.value, target.accepted_value = row.value, row.accepted
            after[label] = [_num(row.value), _num(row.accepted)]
        else:
            continue
        target.save()
        changed += 1
    if baseline is not None and (current.baseline_value, current.baseline_year) != baseline:
        before["baseline"] = [_num(current.baseline_value), current.baseline_year]
        current.baseline_value, current.baseline_year = baseline
        after["baseline"] = [_num(current.baseline_value), current.baseline_year]
        changed += 1
    if changed:
        current.version += 1
        current.save()
        record(
            user=user,
            municipality=current.municipality,
            action="update",
            obj=current,
            before={"targets": before},
            after={"targets": after},
        )
        rollup.mark_stale(current.municipality_id, indicators=[current.pk])
        # The caller's instance follows what was saved, as if it had been saved itself.
        indicator.version = current.version
        indicator.baseline_value, indicator.baseline_year = (
            current.baseline_value,
            current.baseline_year,
        )
    return changed


# --- Values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueInput:
    year: int
    kind: str  # year | half | tertial | month
    number: int | None
    value: Decimal | None
    gender: str = "T"
    area: str = ""  # empty: the municipality's own code
    comment: str = ""


def value_key(row: ValueInput, own: str) -> tuple[str, int, str, int, str]:
    """How a value is identified in the database (a whole year has number 0)."""
    return (row.area or own, row.year, row.kind, row.number or 0, row.gender)


@transaction.atomic
def value_set(
    *,
    user: User | None,
    indicator: Indicator,
    row: ValueInput,
    expected_version: int | None,
) -> Value:
    """Enter or change one value. `expected_version` is the value's version the form showed
    (None when the form showed no value): a value saved by someone else in between refuses."""
    own = indicator.municipality.code
    if row.gender != "T" and not indicator.by_gender:
        raise IndicatorError([_("This indicator is not split by gender.")])
    if row.kind != indicator.frequency and not (row.kind == "year"):
        raise IndicatorError(
            [
                _("This indicator is followed up %(frequency)s; the period does not fit.")
                % {"frequency": indicator.get_frequency_display().lower()}
            ]
        )
    area, year, kind, number, gender = value_key(row, own)
    current = (
        Value.objects.select_for_update()
        .filter(
            indicator=indicator,
            area=area,
            year=year,
            period_kind=kind,
            period_number=number,
            gender=gender,
        )
        .first()
    )
    label = period_label(year, kind, number or None)
    found_version = current.version if current is not None else None
    if found_version != expected_version:
        raise StaleIndicatorEdit(
            [
                _(
                    "The value for %(period)s was saved by someone else after you opened the "
                    "form (now %(value)s). Yours was not saved; check it and enter it again."
                )
                % {"period": label, "value": _num(current.value) if current else "–"}
            ]
        )
    now = timezone.now()
    before = None
    if current is None:
        current = Value(
            indicator=indicator,
            area=area,
            year=year,
            period_kind=kind,
            period_number=number,
            gender=gender,
            period_end=period_end(year, kind, number or None),
        )
    else:
        before = {
            "value": _num(current.value),
            "comment": current.comment,
            "source": current.source,
        }
        current.version += 1
    current.value, current.comment = row.value, row.comment
    current.source, current.entered_by, current.imported = Source.MANUAL, _user(user), None
    current.updated_at, current.revised_from = now, None
    current.save()
    record(
        user=user,
        municipality=indicator.municipality,
        action="update" if before else "create",
        obj=indicator,
        before={"value": {label: before}} if before else None,
        after={
            "value": {
                label: {
                    "value": _num(row.value),
                    "comment": row.comment,
                    "gender": gender,
                    "area": area,
                }
            }
        },
    )
    rollup.mark_stale(indicator.municipality_id, indicators=[indicator.pk])
    return current


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    targets_changed: int = 0
    batch: ValueImport | None = None

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.targets_changed


def _adapt(value: Decimal | None) -> Any:
    return connection.ops.adapt_decimalfield_value(value, 18, 4)


def _insert_values(
    rows: list[tuple[tuple, ValueInput]],
    *,
    source: str,
    entered_by_id: int | None,
    batch: ValueImport,
    now: datetime.datetime,
) -> None:
    """INSERT many values with one prepared statement (the ORM's bulk_create spends most of
    its time building and compiling objects)."""
    table = Value._meta.db_table
    columns = (
        "indicator_id, area, year, period_kind, period_number, period_end, gender, value, "
        "comment, source, entered_by_id, imported_id, updated_at, revised_from, version"
    )
    if connection.vendor == "postgresql":
        # COPY: one stream instead of a round trip per row.
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for (indicator_id, area, _year, kind, number, gender), row in rows:
                copy.write_row(
                    (
                        indicator_id,
                        area,
                        row.year,
                        kind,
                        number,
                        period_end(row.year, kind, number or None),
                        gender,
                        row.value,
                        row.comment,
                        source,
                        entered_by_id,
                        batch.pk,
                        now,
                        None,
                        1,
                    )
                )
        return
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "  # noqa: S608 - table name only
        "%s, %s, %s, %s, %s)"
    )
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(now)
    params = [
        (
            indicator_id,
            area,
            row.year,
            kind,
            number,
            ops.adapt_datefield_value(period_end(row.year, kind, number or None)),
            gender,
            _adapt(row.value),
            row.comment,
            source,
            entered_by_id,
            batch.pk,
            stamp,
            None,
            1,
        )
        for (indicator_id, area, _year, kind, number, gender), row in rows
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(params), 10_000):
            cursor.executemany(sql, params[start : start + 10_000])


def _update_values(
    rows: list[tuple[int, ValueInput, Decimal | None, str, int]],
    *,
    source: str,
    entered_by_id: int | None,
    batch: ValueImport,
    now: datetime.datetime,
) -> None:
    if not rows:
        return
    table = Value._meta.db_table
    sql = (
        f"UPDATE {table} SET value = %s, comment = %s, source = %s, entered_by_id = %s, "  # noqa: S608 - table name only
        "updated_at = %s, version = %s, imported_id = %s, revised_from = COALESCE(%s, "
        "revised_from) WHERE id = %s"
    )
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                (
                    _adapt(row.value),
                    comment,
                    source,
                    entered_by_id,
                    stamp,
                    version,
                    batch.pk,
                    _adapt(revised_from),
                    pk,
                )
                for pk, row, revised_from, comment, version in rows
            ],
        )


def values_write(
    *,
    user: User | None,
    municipality: Municipality,
    rows: Sequence[tuple[Indicator, ValueInput]],
    source: str,
    name: str,
    sha256: str = "",
    revisions: bool = False,
) -> ImportSummary:
    """Upsert many values in bulk (already validated); unchanged values are left alone.

    With `revisions`, a changed value keeps what it was before in `revised_from` (Kolada
    revised it upstream). Call inside a transaction.
    """
    own = municipality.code
    summary = ImportSummary(rows=len(rows))
    indicator_ids = {indicator.pk for indicator, _row in rows}
    # (indicator, area, year, kind, number, gender) -> (pk, value, comment, version); plain
    # tuples, not model instances: an import of 100,000 values must not build 100,000 objects.
    existing: dict[tuple, tuple[int | None, Decimal | None, str, int]] = {}
    for (
        indicator_id,
        area,
        year,
        kind,
        number,
        gender,
        pk,
        value,
        comment,
        version,
    ) in Value.objects.filter(indicator__in=indicator_ids).values_list(
        "indicator_id",
        "area",
        "year",
        "period_kind",
        "period_number",
        "gender",
        "pk",
        "value",
        "comment",
        "version",
    ):
        existing[(indicator_id, area, year, kind, number, gender)] = (pk, value, comment, version)
    now = timezone.now()
    entered_by = _user(user)
    entered_by_id = entered_by.pk if entered_by else None
    create: list[tuple[tuple, ValueInput]] = []
    update: list[tuple[int, ValueInput, Decimal | None, str, int]] = []
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for indicator, given in rows:
        # Stored with four decimals: compare what will be stored, or every float from
        # Kolada would look revised.
        row = replace(given, value=stored(given.value))
        key = (indicator.pk, *value_key(row, own))
        found = existing.get(key)
        if found is None:
            existing[key] = (None, row.value, row.comment, 1)
            create.append((key, row))
            continue
        found_pk, value, comment, version = found
        if value == row.value and (comment == row.comment or not row.comment):
            summary.unchanged += 1
            continue
        if found_pk is None:
            continue  # the same value twice in one batch: the first one counts
        label = (
            f"{indicator.pk} {period_label(row.year, row.kind, row.number)} {key[1]} {row.gender}"
        )
        before[label] = _num(value)
        after[label] = _num(row.value)
        revised_from = value if revisions and value is not None and value != row.value else None
        update.append((found_pk, row, revised_from, row.comment or comment, version + 1))
    summary.created = len(create)
    summary.updated = len(update)
    if not create and not update:
        return summary
    batch = ValueImport.objects.create(
        municipality=municipality,
        source=source,
        name=name[:255],
        sha256=sha256,
        created_by=entered_by,
        rows=summary.rows,
        created=summary.created,
        updated=summary.updated,
        unchanged=summary.unchanged,
    )
    _insert_values(create, source=source, entered_by_id=entered_by_id, batch=batch, now=now)
    _update_values(update, source=source, entered_by_id=entered_by_id, batch=batch, now=now)
    record(
        user=user,
        municipality=municipality,
        action="import",
        obj=batch,
        before={"values": before} if before else None,
        after={
            "created": summary.created,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
            "values": after,
        },
    )
    summary.batch = batch
    rollup.mark_stale(municipality, indicators=indicator_ids)
    return summary


# --- Overrides and settings -------------------------------------------------------------------


@transaction.atomic
def status_override(
    *, user: User | None, item: PlanItem, status: str, justification: str
) -> StatusOverride:
    justification = justification.strip()
    if not justification:
        raise IndicatorError([_("Say why you judge the goal differently from the proposal.")])
    rollup.ensure_fresh(item.municipality)
    proposal = getattr(item, "rollup", None)
    override = StatusOverride.objects.create(
        item=item,
        status=status,
        justification=justification,
        proposed_status=proposal.proposed if proposal else "",
        proposed_reasons=proposal.reasons if proposal else {},
        created_by=_user(user),
    )
    record(
        user=user,
        municipality=item.municipality,
        action="update",
        obj=item,
        before={"status": proposal.status if proposal else ""},
        after={
            "status": status,
            "justification": justification,
            "proposed": proposal.proposed if proposal else "",
        },
    )
    rollup.mark_stale(item.municipality)
    return override


@transaction.atomic
def assessment_settings_update(
    *, user: User | None, model: SteeringModel, data: dict[str, Any], expected_version: int
) -> AssessmentSettings:
    current = AssessmentSettings.objects.select_for_update().filter(model=model).first()
    if current is None:
        current = AssessmentSettings(model=model, version=0)  # never saved yet
    if current.version != expected_version:
        raise StaleIndicatorEdit(
            [
                _(
                    "The assessment rules were changed by someone else after you opened them. "
                    "Reload the page and make your changes again."
                )
            ]
        )
    before = current.snapshot()
    for key, value in data.items():
        setattr(current, key, value)
    current.version += 1
    current.save()
    changed_before, changed_after = _changes(before, current.snapshot())
    record(
        user=user,
        municipality=model.municipality,
        action="update",
        obj=current,
        before=changed_before,
        after=changed_after,
    )
    rollup.mark_stale(model.municipality_id, all_indicators=True)
    return current


def today() -> datetime.date:
    return timezone.localdate()

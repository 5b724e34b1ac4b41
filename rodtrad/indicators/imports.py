"""Import indicator values and targets from a CSV or XLSX file, all or nothing.

Columns (headings in Swedish or English, any order, case and spacing ignored):
- `indikator` / `indicator`: the indicator's number (as shown on its page) or exact title.
- `period`: "2026", "2026-04", "2026 T1", "2026 H1"; a date ("2026-04-30", "30.4.2026": the
  indicator's period that contains it); or a plan period ("2023–2026") for a row that only
  sets the period-end target.
- `värde` / `value`: the value ("1 234,5", also with a non-breaking space); empty = missing.
- `kön` / `gender` (optional): T, K or M (default T).
- `område` / `area` (optional): another area's code (a comparison group, 0000 Riket).
- `kommentar` / `comment` (optional).
- `målvärde` / `target` and `accepterat värde` / `accepted value` (optional): the target for
  the row's year (or for the period end).

Every row is checked first; problems name the row and the column; nothing is written unless
every row is valid. Importing the same file again changes nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from rodtrad.indicators.models import MONTHS_PER, Frequency, Indicator, PeriodKind, Source
from rodtrad.indicators.services import (
    ImportSummary,
    IndicatorError,
    TargetInput,
    ValueInput,
    targets_set,
    values_write,
)
from rodtrad.lib.swedish import FormatError, parse_date, parse_decimal, parse_period
from rodtrad.lib.tabular import Table, TableError, read_table
from rodtrad.steering.models import PlanPeriod

if TYPE_CHECKING:
    from rodtrad.organisations.access import Access
    from rodtrad.organisations.models import Municipality, User

COLUMNS = {
    "indicator": ("indikator", "indicator", "indikator-id", "id"),
    "period": ("period", "år", "year"),
    "value": ("värde", "value", "utfall"),
    "gender": ("kön", "gender"),
    "area": ("område", "area", "kommun"),
    "comment": ("kommentar", "comment"),
    "target": ("målvärde", "target", "target value"),
    "accepted": ("accepterat värde", "accepted value", "accepterat"),
}
PERIOD_SPAN = re.compile(r"(\d{4})\s*[-–—]\s*(\d{4})")
AREA = re.compile(r"\d{4}|G\w{1,18}")
MAX_PROBLEMS = 200
LARGEST = Decimal(10) ** 14  # the database keeps 14 digits before the decimal point


@dataclass
class ImportResult:
    problems: list[str] = field(default_factory=list)
    summary: ImportSummary | None = None
    rows: int = 0


def _columns(table: Table) -> tuple[dict[str, str], list[str]]:
    found: dict[str, str] = {}
    for key, names in COLUMNS.items():
        for header in table.headers:
            if header in names:
                found[key] = header
                break
    missing = [key for key in ("indicator", "period") if key not in found]
    if "value" not in found and "target" not in found:
        missing.append("value")
    problems = [
        _(
            "The file has no column “%(column)s”. Row %(row)s should hold the headings: "
            "Indikator; Period; Värde (and optionally Kön, Område, Kommentar, Målvärde, "
            "Accepterat värde)."
        )
        % {"column": COLUMNS[key][0].capitalize(), "row": table.header_row}
        for key in missing
    ]
    return found, problems


def values_import(
    *,
    user: User | None,
    municipality: Municipality,
    access: Access,
    data: bytes,
    filename: str,
) -> ImportResult:
    result = ImportResult()
    try:
        table = read_table(data, filename)
    except TableError as exc:
        result.problems.append(_("The file could not be read: %(reason)s") % {"reason": exc})
        return result
    columns, problems = _columns(table)
    if problems:
        result.problems = problems
        return result
    indicators = list(Indicator.objects.filter(municipality=municipality).select_related("owner"))
    by_id = {str(i.pk): i for i in indicators}
    by_title: dict[str, list[Indicator]] = defaultdict(list)
    for indicator in indicators:
        by_title[" ".join(indicator.title.split()).lower()].append(indicator)
    periods = list(PlanPeriod.objects.filter(municipality=municipality))
    own = municipality.code
    values: list[tuple[Indicator, ValueInput]] = []
    targets: dict[int, dict[tuple[int, int | None], TargetInput]] = defaultdict(dict)
    seen: dict[tuple, int] = {}
    out = result.problems

    def problem(row: int, column: str, message: str) -> None:
        if len(out) < MAX_PROBLEMS:
            out.append(
                _("Row %(row)s, column %(column)s: %(message)s")
                % {
                    "row": row,
                    "column": table.label(columns.get(column, column)),
                    "message": message,
                }
            )

    def number(row: int, column: str, text: str) -> Decimal | None:
        if not text.strip():
            return None
        try:
            value = parse_decimal(text)
        except FormatError:
            problem(
                row,
                column,
                _("“%(text)s” is not a number; write for example 1 234,5.") % {"text": text[:40]},
            )
            return None
        if abs(value) >= LARGEST:
            problem(row, column, _("%(text)s is too large.") % {"text": text[:40]})
            return None
        return value

    for line in table.rows:
        cells = line.cells
        row = line.number
        result.rows += 1
        key = cells.get(columns["indicator"], "").strip()
        candidates = (
            [by_id[key]] if key in by_id else by_title.get(" ".join(key.split()).lower(), [])
        )
        if not key:
            problem(row, "indicator", _("the indicator is missing."))
            continue
        if not candidates:
            problem(
                row,
                "indicator",
                _("there is no indicator “%(key)s” in %(municipality)s.")
                % {"key": key[:80], "municipality": municipality.name},
            )
            continue
        if len(candidates) > 1:
            problem(
                row,
                "indicator",
                _("several indicators are called “%(key)s”; use the indicator's number instead.")
                % {"key": key[:80]},
            )
            continue
        indicator = candidates[0]
        if not access.can_edit_unit(indicator.owner):
            problem(
                row,
                "indicator",
                _("you may not change “%(title)s” (owned by %(owner)s).")
                % {"title": indicator.title, "owner": indicator.owner.name},
            )
            continue
        period_text = cells.get(columns["period"], "").strip()
        span = PERIOD_SPAN.fullmatch(period_text)
        plan_period: PlanPeriod | None = None
        year: int
        kind, number_in_year = "year", None
        if span:
            start, end = int(span.group(1)), int(span.group(2))
            plan_period = next(
                (p for p in periods if p.start_year == start and p.end_year == end), None
            )
            if plan_period is None:
                problem(
                    row,
                    "period",
                    _("there is no plan period %(start)s–%(end)s.") % {"start": start, "end": end},
                )
                continue
            year = end
        else:
            try:
                parsed = parse_period(period_text)
                year, kind, number_in_year = parsed.year, parsed.kind, parsed.number
            except FormatError:
                # A date (Excel turns "2026-04" into one) means the indicator's period
                # that contains it.
                try:
                    day = parse_date(period_text)
                except FormatError:
                    problem(
                        row,
                        "period",
                        _("“%(text)s” is not a period; write 2026, 2026-04, 2026 T1 or 2026 H1.")
                        % {"text": period_text[:40]},
                    )
                    continue
                year, kind = day.year, indicator.frequency
                number_in_year = (
                    None if kind == Frequency.YEAR else (day.month - 1) // MONTHS_PER[kind] + 1
                )
            if kind not in (Frequency.YEAR, indicator.frequency):
                problem(
                    row,
                    "period",
                    _("“%(title)s” is followed up %(frequency)s; “%(text)s” is a %(kind)s.")
                    % {
                        "title": indicator.title,
                        "frequency": indicator.get_frequency_display().lower(),
                        "text": period_text[:20],
                        "kind": str(PeriodKind(kind).label).lower(),
                    },
                )
                continue
        gender = cells.get(columns.get("gender", ""), "").strip().upper() or "T"
        if gender not in ("T", "K", "M"):
            problem(row, "gender", _("“%(text)s” is not T, K or M.") % {"text": gender[:10]})
            continue
        if gender != "T" and not indicator.by_gender:
            problem(
                row, "gender", _("“%(title)s” is not split by gender.") % {"title": indicator.title}
            )
            continue
        area = cells.get(columns.get("area", ""), "").strip()
        if area and not AREA.fullmatch(area):
            problem(
                row,
                "area",
                _("“%(text)s” is not a municipality code (4 digits) or a Kolada group (G…).")
                % {"text": area[:20]},
            )
            continue
        if area == own:
            area = ""
        before = len(out)
        has_value = "value" in columns and not span
        value = number(row, "value", cells.get(columns.get("value", ""), "")) if has_value else None
        target = number(row, "target", cells.get(columns.get("target", ""), ""))
        accepted = number(row, "accepted", cells.get(columns.get("accepted", ""), ""))
        if len(out) > before:
            continue
        value_cell = cells.get(columns.get("value", ""), "").strip()
        if has_value and not value_cell and (target is not None or accepted is not None):
            has_value = False  # a row that only sets a target leaves the value alone
        if has_value:
            identity = (indicator.pk, area, year, kind, number_in_year, gender)
            if identity in seen:
                problem(
                    row,
                    "period",
                    _("row %(other)s already gives this value.") % {"other": seen[identity]},
                )
                continue
            seen[identity] = row
            values.append(
                (
                    indicator,
                    ValueInput(
                        year,
                        kind,
                        number_in_year,
                        value,
                        gender,
                        area,
                        cells.get(columns.get("comment", ""), "").strip(),
                    ),
                )
            )
        if target is not None or accepted is not None:
            if not indicator.has_targets:
                problem(
                    row,
                    "target",
                    _("“%(title)s” is a key figure and has no target value.")
                    % {"title": indicator.title},
                )
                continue
            if plan_period is None:
                plan_period = next((p for p in periods if year in p.years), None)
                if plan_period is None:
                    problem(
                        row, "period", _("%(year)s is not in any plan period.") % {"year": year}
                    )
                    continue
            targets[indicator.pk][(plan_period.pk, None if span else year)] = TargetInput(
                plan_period, None if span else year, target, accepted
            )
    if not result.rows:
        out.append(_("The file has headings but no rows."))
    if out:
        return result
    with transaction.atomic():
        summary = values_write(
            user=user,
            municipality=municipality,
            rows=values,
            source=Source.FILE,
            name=filename,
            sha256=hashlib.sha256(data).hexdigest(),
        )
        by_pk = {i.pk: i for i in indicators}
        for indicator_id, rows in targets.items():
            try:
                summary.targets_changed += targets_set(
                    user=user, indicator=by_pk[indicator_id], rows=list(rows.values())
                )
            except IndicatorError as exc:
                # Target rules (e.g. an accepted value better than the target) refuse the
                # whole file, values included.
                transaction.set_rollback(True)
                result.problems = [f"{by_pk[indicator_id].title}: {p}" for p in exc.problems]
                return result
    result.summary = summary
    return result

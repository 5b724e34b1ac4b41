"""Judging goals: a value against its target, projections, and the roll-up along the thread.

Pure functions over plain data (no database), so the rules can be read and tested on their
own and the roll-up over a Stockholm-sized plan stays in memory.

Rules (docs/indicators.md says the same for users):
- Higher is better: value >= target is achieved. Otherwise, if the target has an accepted
  value, value >= accepted is partly achieved; without one, a value within the tolerance
  (a % of the target) is partly achieved. Anything else is not achieved.
- Lower is better: the mirror image.
- Closest to the target: within the tolerance of the target is achieved; within the accepted
  value's distance (or twice the tolerance when there is none) is partly achieved.
- Key figures and series without a target get no status.
- Roll-up: an item's proposal comes from its own indicators and (if the model says so) the
  statuses of the items that contribute to it, by the model's rule: the worst status; the
  most common status (ties go to the worse); or the weighted mean, scoring achieved 1,
  partly 0.5 and not achieved 0 and taking the nearest status.
- Early warning: a least-squares line through the values so far, projected to the end of
  the plan period; a warning when the projection would not reach the period-end target.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

MET = "met"
PARTLY = "partly"
NOT_MET = "not_met"
NONE = ""
ORDER = {MET: 0, PARTLY: 1, NOT_MET: 2}
SCORE = {MET: 1.0, PARTLY: 0.5, NOT_MET: 0.0}


def judge(
    value: float,
    target: float,
    accepted: float | None,
    *,
    direction: str,
    tolerance_pct: float,
) -> str:
    """The status of one value against one target."""
    band = abs(target) * tolerance_pct / 100
    if direction == "closest":
        distance = abs(value - target)
        if distance <= band:
            return MET
        limit = abs(accepted - target) if accepted is not None else 2 * band
        return PARTLY if distance <= limit else NOT_MET
    if direction == "lower":
        value, target = -value, -target
        accepted = -accepted if accepted is not None else None
    if value >= target:
        return MET
    if accepted is not None:
        return PARTLY if value >= accepted else NOT_MET
    return PARTLY if value >= target - band else NOT_MET


def project(points: Sequence[tuple[float, float]], to: float) -> float | None:
    """A least-squares line through (x, value) points read off at x = `to`; None under three
    points. x is a day number (date.toordinal())."""
    if len(points) < 3:
        return None
    n = len(points)
    mean_x = sum(x for x, _y in points) / n
    mean_y = sum(y for _x, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _y in points)
    if sxx == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    return round(mean_y + slope * (to - mean_x), 4)


def day_number(end: datetime.date | str) -> int:
    """A period's end as a day number; the database may hand it over as text (SQLite)."""
    if isinstance(end, str):
        end = datetime.date.fromisoformat(end[:10])
    return end.toordinal()


def _label(year: int, kind: str, number: int) -> str:
    if kind == "year":
        return str(year)
    if kind == "month":
        return f"{year}-{number:02d}"
    return f"{year} {'T' if kind == 'tertial' else 'H'}{number}"


def _text(value: float) -> str:
    return repr(round(value, 4))


@dataclass(frozen=True)
class TargetRow:
    year: int | None  # None: the end of the plan period
    period_start: int
    period_end: int
    value: float
    accepted: float | None


SeriesRow = tuple[int, "datetime.date | str", str, int, float]  # year, end, kind, number, value


@dataclass
class IndicatorFacts:
    """What is known about one indicator: its rule and its own total series (oldest first)."""

    id: int
    title: str
    direction: str
    has_targets: bool
    tolerance_pct: float
    weight: int = 1
    series: list[SeriesRow] = field(default_factory=list)
    targets: list[TargetRow] = field(default_factory=list)


@dataclass(frozen=True)
class IndicatorJudgement:
    status: str
    reasons: dict[str, Any]
    projection: float | None = None
    projection_year: int | None = None
    warning: bool = False


def target_for(facts: IndicatorFacts, year: int) -> TargetRow | None:
    """The year's own target, else the end target of the plan period the year falls in."""
    period_end_target = None
    for target in facts.targets:
        if target.year == year:
            return target
        if target.year is None and target.period_start <= year <= target.period_end:
            period_end_target = target
    return period_end_target


def judge_indicator(facts: IndicatorFacts, as_of_year: int) -> IndicatorJudgement:
    """The indicator's status from its latest value up to `as_of_year`."""
    if not facts.has_targets:
        return IndicatorJudgement(NONE, {"why": "key_figure"})
    last = len(facts.series)
    while last and facts.series[last - 1][0] > as_of_year:
        last -= 1
    if not last:
        return IndicatorJudgement(NONE, {"why": "no_value", "year": as_of_year})
    year, _end, kind, number, value = facts.series[last - 1]
    label = _label(year, kind, number)
    target = target_for(facts, year)
    if target is None:
        return IndicatorJudgement(NONE, {"why": "no_target", "label": label, "value": _text(value)})
    status = judge(
        value,
        target.value,
        target.accepted,
        direction=facts.direction,
        tolerance_pct=facts.tolerance_pct,
    )
    reasons: dict[str, Any] = {
        "why": "judged",
        "label": label,
        "value": _text(value),
        "target": _text(target.value),
        "target_year": target.year or target.period_end,
        "accepted": None if target.accepted is None else _text(target.accepted),
        "direction": facts.direction,
        "tolerance_pct": _text(facts.tolerance_pct),
    }
    # Early warning: where the series is heading at the end of the plan period.
    end_target = next(
        (
            t
            for t in facts.targets
            if t.year is None and t.period_start <= as_of_year <= t.period_end
        ),
        None,
    ) or next((t for t in facts.targets if t.year is not None and t.year > year), None)
    projection = None
    projection_year = None
    warning = False
    if end_target is not None:
        projection_year = end_target.year or end_target.period_end
        if projection_year > year:
            points = [
                (float(day_number(row[1])), row[4]) for row in facts.series[max(0, last - 8) : last]
            ]
            projection = project(points, datetime.date(projection_year, 12, 31).toordinal())
            if projection is not None:
                warning = (
                    judge(
                        projection,
                        end_target.value,
                        end_target.accepted,
                        direction=facts.direction,
                        tolerance_pct=facts.tolerance_pct,
                    )
                    == NOT_MET
                )
                reasons["projection"] = _text(projection)
                reasons["projection_year"] = projection_year
                reasons["projection_target"] = _text(end_target.value)
    return IndicatorJudgement(status, reasons, projection, projection_year, warning)


def combine(statuses: Sequence[tuple[str, int]], rule: str) -> str:
    """One status from several (status, weight) pairs by the rule; no inputs, no status."""
    judged = [(s, w) for s, w in statuses if s]
    if not judged:
        return NONE
    if rule == "majority":
        counts = Counter(s for s, _w in judged)
        top = max(counts.values())
        return max((s for s, c in counts.items() if c == top), key=ORDER.__getitem__)
    if rule == "mean":
        total = sum(w for _s, w in judged)
        if total == 0:
            return NONE
        mean = sum(SCORE[s] * w for s, w in judged) / total
        if mean >= 0.75:
            return MET
        return PARTLY if mean >= 0.25 else NOT_MET
    return max((s for s, _w in judged), key=ORDER.__getitem__)


@dataclass(slots=True)
class ItemNode:
    id: int
    title: str
    level: str
    as_of_year: int
    indicator_ids: list[int] = field(default_factory=list)
    contributor_ids: list[int] = field(default_factory=list)
    override: str = NONE


@dataclass(frozen=True)
class ItemJudgement:
    proposed: str
    status: str
    reasons: dict[str, Any]
    warning: bool


EMPTY = ItemJudgement(NONE, NONE, {}, False)


def _counts(statuses: Iterable[str]) -> dict[str, int]:
    counts = Counter(s or "none" for s in statuses)
    return {key: counts.get(key, 0) for key in (MET, PARTLY, NOT_MET, "none")}


def rollup(
    items: dict[int, ItemNode],
    indicators: dict[int, IndicatorFacts],
    *,
    rule: str,
    include_contributors: bool,
    judged: dict[tuple[int, int], IndicatorJudgement] | None = None,
) -> tuple[dict[int, ItemJudgement], dict[tuple[int, int], IndicatorJudgement]]:
    """Proposals for every item, contributors before the items they contribute to.

    Returns the items' judgements and the indicator judgements by (indicator, year) that
    were needed; pass `judged` to reuse ones already made.
    """
    judged = {} if judged is None else judged
    result: dict[int, ItemJudgement] = {}

    def indicator_judgement(indicator_id: int, year: int) -> IndicatorJudgement:
        key = (indicator_id, year)
        found = judged.get(key)
        if found is None:
            found = judge_indicator(indicators[indicator_id], year)
            judged[key] = found
        return found

    def visit(item_id: int) -> None:
        # Iterative depth-first walk: the thread can be deep and Python's stack is not.
        stack: list[tuple[int, bool]] = [(item_id, False)]
        on_path: set[int] = set()
        while stack:
            current, expanded = stack.pop()
            if current in result:
                continue
            node = items[current]
            if not expanded:
                on_path.add(current)
                stack.append((current, True))
                for child in node.contributor_ids:
                    if child in items and child not in result and child not in on_path:
                        stack.append((child, False))
                continue
            on_path.discard(current)
            result[current] = _judge_item(
                node,
                items,
                result,
                indicator_judgement,
                indicators,
                rule=rule,
                include_contributors=include_contributors,
            )

    # Leaves with nothing to judge from (most activities) need no walk.
    for item_id, node in items.items():
        if not node.indicator_ids and not node.contributor_ids:
            result[item_id] = (
                ItemJudgement(NONE, node.override, {}, False) if node.override else EMPTY
            )
    for item_id in items:
        if item_id not in result:
            visit(item_id)
    return result, judged


def _judge_item(
    node: ItemNode,
    items: dict[int, ItemNode],
    result: dict[int, ItemJudgement],
    indicator_judgement: Any,
    indicators: dict[int, IndicatorFacts],
    *,
    rule: str,
    include_contributors: bool,
) -> ItemJudgement:
    children = (
        [
            (child_id, result[child_id])
            for child_id in node.contributor_ids
            if child_id in result and result[child_id].status
        ]
        if include_contributors
        else []
    )
    if not node.indicator_ids and not children:
        # Nothing to judge from (most activities): no proposal, only a person's judgement.
        return ItemJudgement(NONE, node.override, {}, False) if node.override else EMPTY
    inputs: list[tuple[str, int]] = []
    worst: list[dict[str, Any]] = []
    warning = False
    indicator_statuses: list[str] = []
    for indicator_id in node.indicator_ids:
        facts = indicators.get(indicator_id)
        if facts is None:
            continue
        judgement = indicator_judgement(indicator_id, node.as_of_year)
        warning = warning or judgement.warning
        if not facts.has_targets:
            continue
        indicator_statuses.append(judgement.status)
        inputs.append((judgement.status, facts.weight))
        if judgement.status in (NOT_MET, PARTLY):
            worst.append(
                {
                    "kind": "indicator",
                    "id": indicator_id,
                    "title": facts.title,
                    "status": judgement.status,
                }
            )
    contributor_statuses: list[str] = []
    for child_id, child in children:
        contributor_statuses.append(child.status)
        inputs.append((child.status, 1))
        if child.status in (NOT_MET, PARTLY):
            child_node = items[child_id]
            worst.append(
                {
                    "kind": "item",
                    "id": child_id,
                    "title": child_node.title,
                    "level": child_node.level,
                    "status": child.status,
                }
            )
    proposed = combine(inputs, rule)
    worst.sort(key=lambda w: -ORDER[w["status"]])
    reasons: dict[str, Any] = {
        "rule": rule,
        "indicators": _counts(indicator_statuses) if indicator_statuses else None,
        "contributors": _counts(contributor_statuses) if contributor_statuses else None,
        "worst": worst[:3],
    }
    return ItemJudgement(proposed, node.override or proposed, reasons, warning)

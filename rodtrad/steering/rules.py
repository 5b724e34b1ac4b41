"""The steering model's rules applied to the plan: which links and items it allows, and gaps.

Every refusal is a sentence a person can act on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from rodtrad.organisations.models import Municipality, OrgUnit
from rodtrad.steering.models import (
    ClassificationValue,
    Horizon,
    Level,
    PlanItem,
    PlanLink,
    PlanPeriod,
    PlanYear,
)


def _names(levels: Iterable[Level]) -> str:
    names = [str(level) for level in levels]
    if len(names) <= 1:
        return "".join(names)
    return _("%(first)s or %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


def link_problems(from_item: PlanItem, to_item: PlanItem, *, adding: bool = True) -> list[str]:
    """Why `from_item` may not contribute to `to_item`; empty if it may.

    With `adding` (the default) the link is a new one: it must not exist yet nor close a
    circle. Without it an existing link is checked against the model's rules only.
    """
    if from_item.municipality_id != to_item.municipality_id:
        return [_("Items of different municipalities can never be linked.")]
    if from_item.pk == to_item.pk:
        return [_("An item cannot contribute to itself.")]
    problems = []
    allowed = list(from_item.level.parents.all())
    if to_item.level_id not in {level.pk for level in allowed}:
        if allowed:
            problems.append(
                _(
                    "In this steering model, items at the level %(level)s contribute to %(allowed)s, not to %(target)s."
                )
                % {
                    "level": str(from_item.level),
                    "allowed": _names(allowed),
                    "target": str(to_item.level),
                }
            )
        else:
            problems.append(
                _(
                    "In this steering model, items at the level %(level)s contribute to no level above."
                )
                % {"level": str(from_item.level)}
            )
    if from_item.period_id != to_item.period_id:
        problems.append(
            _("“%(item)s” belongs to %(period)s but “%(target)s” to %(target_period)s.")
            % {
                "item": from_item.title,
                "period": from_item.period.name,
                "target": to_item.title,
                "target_period": to_item.period.name,
            }
        )
    elif (
        from_item.plan_year_id
        and to_item.plan_year_id
        and (from_item.plan_year_id != to_item.plan_year_id)
    ):
        problems.append(
            _("“%(item)s” is for %(year)s but “%(target)s” is for %(target_year)s.")
            % {
                "item": from_item.title,
                "year": from_item.plan_year.year if from_item.plan_year else "",
                "target": to_item.title,
                "target_year": to_item.plan_year.year if to_item.plan_year else "",
            }
        )
    if not adding:
        return problems
    if PlanLink.objects.filter(from_item=from_item, to_item=to_item).exists():
        problems.append(
            _("“%(item)s” already contributes to “%(target)s”.")
            % {"item": from_item.title, "target": to_item.title}
        )
    elif from_item.pk and _reaches(to_item.pk, from_item.pk):
        problems.append(
            _(
                "The link would close a circle: “%(target)s” already contributes, directly or "
                "through other items, to “%(item)s”."
            )
            % {"item": from_item.title, "target": to_item.title}
        )
    return problems


def _reaches(start_id: int, goal_id: int) -> bool:
    """True if following links upward from `start_id` arrives at `goal_id`."""
    frontier = {start_id}
    seen = set(frontier)
    while frontier:
        if goal_id in frontier:
            return True
        above = set(
            PlanLink.objects.filter(from_item_id__in=frontier).values_list("to_item_id", flat=True)
        )
        frontier = above - seen
        seen |= frontier
    return False


def item_problems(
    item: PlanItem,
    *,
    parents: Iterable[PlanItem] | None = None,
    values: Iterable[ClassificationValue] | None = None,
) -> list[str]:
    """Why the item breaks its level's rules (owner, year, required links and classifications)."""
    level = item.level
    problems = []
    owner_kinds = list(level.owner_kinds.all())
    if item.owner.kind_id not in {kind.pk for kind in owner_kinds}:
        problems.append(
            _(
                "Items at the level %(level)s are owned by: %(kinds)s. %(owner)s is of the kind %(kind)s."
            )
            % {
                "level": str(level),
                "kinds": ", ".join(str(k) for k in owner_kinds),
                "owner": item.owner.name,
                "kind": str(item.owner.kind),
            }
        )
    if level.horizon == Horizon.YEAR and item.plan_year_id is None:
        problems.append(
            _("Items at the level %(level)s are set for one year: choose the year.")
            % {"level": str(level)}
        )
    if level.horizon == Horizon.PERIOD and item.plan_year_id is not None:
        problems.append(
            _("Items at the level %(level)s hold for the whole plan period, not for one year.")
            % {"level": str(level)}
        )
    if item.plan_year is not None and item.plan_year.period_id != item.period_id:
        problems.append(_("The year does not belong to the chosen plan period."))
    if parents is not None and level.link_required and not list(parents):
        problems.append(
            _(
                "Items at the level %(level)s must contribute to at least one of: %(allowed)s. "
                "Choose what the item contributes to."
            )
            % {"level": str(level), "allowed": _names(level.parents.all())}
        )
    if values is not None:
        problems += classification_problems(level, list(values))
    if level.is_assignment is False and item.assigned_by_id:
        problems.append(_("Only assignments have an assigning body."))
    return problems


def classification_problems(level: Level, values: list[ClassificationValue]) -> list[str]:
    problems = []
    by_classification: dict[int, list[ClassificationValue]] = defaultdict(list)
    for value in values:
        by_classification[value.classification_id].append(value)
    rules = {rule.classification_id: rule for rule in level.classification_rules.all()}
    for classification_id, chosen in by_classification.items():
        rule = rules.get(classification_id)
        if rule is None:
            problems.append(
                _("The classification %(name)s is not used at the level %(level)s.")
                % {"name": chosen[0].classification.name, "level": level.name}
            )
        elif not rule.classification.multiple and len(chosen) > 1:
            problems.append(
                _("Choose only one value for %(name)s.") % {"name": str(rule.classification)}
            )
    for rule in rules.values():
        if rule.required and rule.classification_id not in by_classification:
            problems.append(
                _("Items at the level %(level)s must have a value for %(name)s.")
                % {"level": str(level), "name": str(rule.classification)}
            )
    return problems


@dataclass
class UnitGaps:
    unit: OrgUnit
    unsupported: list[PlanItem] = field(default_factory=list)
    unlinked: list[PlanItem] = field(default_factory=list)
    missing_required: list[PlanItem] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.unsupported) + len(self.unlinked) + len(self.missing_required)


def plan_scope(municipality: Municipality, period: PlanPeriod, plan_year: PlanYear | None) -> Q:
    """Items valid in a period and, for one-year levels, in one of its years."""
    scope = Q(municipality=municipality, period=period)
    if plan_year is not None:
        scope &= Q(plan_year__isnull=True) | Q(plan_year=plan_year)
    return scope


def find_gaps(
    municipality: Municipality,
    period: PlanPeriod,
    plan_year: PlanYear | None,
    within: OrgUnit | None = None,
) -> list[UnitGaps]:
    """Where the thread breaks, per owning org unit:

    - unsupported: items at a level that others contribute to, that nothing contributes to
      (a council goal no board contributes to);
    - unlinked: items at a level that may link upward but that contribute to nothing;
    - missing_required: the same where the model requires the link.
    """
    scope = plan_scope(municipality, period, plan_year)
    levels = list(
        Level.objects.filter(model__municipality=municipality).annotate(
            n_children=Count("children", distinct=True), n_parents=Count("parents", distinct=True)
        )
    )
    supported_levels = {level.pk for level in levels if level.n_children}
    linking_levels = {level.pk: level for level in levels if level.n_parents}
    in_scope = PlanItem.objects.filter(scope).exclude(status="cancelled")
    if within is not None:
        in_scope = in_scope.filter(owner__path__startswith=within.path)
    contributor_scope = PlanLink.objects.filter(
        Q(from_item__municipality=municipality, from_item__period=period)
        & (
            Q(from_item__plan_year__isnull=True) | Q(from_item__plan_year=plan_year)
            if plan_year is not None
            else Q()
        )
    )
    with_contributors = set(contributor_scope.values_list("to_item_id", flat=True))
    with_parents = set(contributor_scope.values_list("from_item_id", flat=True))
    per_unit: dict[int, UnitGaps] = {}
    items = in_scope.filter(Q(level_id__in=supported_levels) | Q(level_id__in=linking_levels))
    for item in items.select_related("owner", "level", "plan_year").order_by(
        "owner__path", "level__order", "number", "title"
    ):
        gaps = per_unit.get(item.owner_id)
        if gaps is None:
            gaps = per_unit[item.owner_id] = UnitGaps(unit=item.owner)
        if item.level_id in supported_levels and item.pk not in with_contributors:
            gaps.unsupported.append(item)
        if item.level_id in linking_levels and item.pk not in with_parents:
            if linking_levels[item.level_id].link_required:
                gaps.missing_required.append(item)
            else:
                gaps.unlinked.append(item)
    return [gaps for gaps in per_unit.values() if gaps.count]


def validate_plan(municipality: Municipality) -> list[str]:
    """Every way the municipality's plan breaks its own model; empty when it is sound."""
    problems = []
    items = (
        PlanItem.objects.filter(municipality=municipality)
        .select_related("level", "owner__kind", "plan_year", "period")
        .prefetch_related(
            "classifications__classification",
            "contributes_to",
            "level__owner_kinds",
            "level__parents",
            "level__classification_rules__classification",
        )
    )
    for item in items:
        for problem in item_problems(
            item, parents=item.contributes_to.all(), values=item.classifications.all()
        ):
            problems.append(f"{item}: {problem}")
    links = PlanLink.objects.filter(from_item__municipality=municipality).select_related(
        "from_item__level",
        "from_item__period",
        "from_item__plan_year",
        "to_item__level",
        "to_item__period",
        "to_item__plan_year",
    )
    edges: dict[int, set[int]] = defaultdict(set)
    for link in links:
        edges[link.from_item_id].add(link.to_item_id)
        for problem in link_problems(link.from_item, link.to_item, adding=False):
            problems.append(f"{link}: {problem}")
    if _has_cycle(edges):
        problems.append(_("The links form a circle: some item contributes to itself."))
    return problems


def _has_cycle(edges: dict[int, set[int]]) -> bool:
    """Kahn's algorithm: a graph has a cycle if not every node can be peeled off."""
    indegree: dict[int, int] = defaultdict(int)
    for source, targets in edges.items():
        indegree.setdefault(source, 0)
        for target in targets:
            indegree[target] += 1
    ready = [node for node, degree in indegree.items() if degree == 0]
    peeled = 0
    while ready:
        node = ready.pop()
        peeled += 1
        for target in edges.get(node, ()):
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return peeled != len(indegree)

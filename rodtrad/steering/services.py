"""Writes to the steering model and the plan: each one transaction with an audit event."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, models, transaction
from django.db.models import F, ProtectedError, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rodtrad.lib.yamlfile import FileProblems, Problem
from rodtrad.organisations.audit import record
from rodtrad.organisations.models import BUILTIN_KINDS, Municipality, OrgUnit, OrgUnitKind
from rodtrad.steering import rules
from rodtrad.steering.modelfile import ModelSpec, export_model
from rodtrad.steering.models import (
    ClassificationValue,
    ItemStatus,
    Level,
    LevelClassification,
    PlanItem,
    PlanLink,
    PlanPeriod,
    PlanYear,
    PlanYearStatus,
    SteeringModel,
)
from rodtrad.steering.signals import plan_changed

if TYPE_CHECKING:
    from rodtrad.organisations.models import User


class PlanError(Exception):
    """A write the model's rules refuse; `messages` say why in words."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__(" ".join(messages))


class StaleEdit(PlanError):
    """Someone else saved the object after this edit began."""


def _upsert[M: models.Model](
    queryset: models.QuerySet[M], rows: list[tuple[str, dict[str, Any]]], **parent: Any
) -> dict[str, M]:
    """Create or update the rows of `queryset` keyed by `key`, in two bulk queries.

    `rows` are (key, values) pairs; `parent` are the fields every new row gets.
    """
    model = queryset.model
    existing = {obj.key: obj for obj in queryset}  # type: ignore[attr-defined]
    result: dict[str, M] = {}
    new, changed = [], []
    fields: set[str] = set()
    for key, values in rows:
        obj = existing.get(key)
        if obj is None:
            obj = model(key=key, **parent, **values)
            new.append(obj)
        elif any(getattr(obj, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(obj, name, value)
            changed.append(obj)
            fields |= set(values)
        result[key] = obj
    model._default_manager.bulk_create(new)
    if changed:
        model._default_manager.bulk_update(changed, sorted(fields))
    return result


def ensure_builtin_kinds(municipality: Municipality) -> None:
    _upsert(
        OrgUnitKind.objects.filter(municipality=municipality),
        [
            (key, {"name": name, "name_en": name_en, "builtin": True, "order": order})
            for order, (key, name, name_en) in enumerate(BUILTIN_KINDS)
        ],
        municipality=municipality,
    )


@transaction.atomic
def municipality_create(*, code: str, name: str, user: User | None = None) -> Municipality:
    municipality = Municipality(code=code, name=name)
    municipality.full_clean()
    municipality.save()
    ensure_builtin_kinds(municipality)
    record(
        user=user,
        municipality=municipality,
        action="create",
        obj=municipality,
        after={"code": code, "name": name},
    )
    return municipality


# --- The steering model -------------------------------------------------------------------


@transaction.atomic
def steering_model_import(
    *, municipality: Municipality, spec: ModelSpec, user: User | None
) -> SteeringModel:
    """Create or update the municipality's model from a parsed file. All or nothing.

    Levels, classifications and values are matched by key. One that the file leaves out is
    removed, unless plan items use it: then the import is refused and nothing changes.
    """
    ensure_builtin_kinds(municipality)
    model = SteeringModel.objects.filter(municipality=municipality).first()
    before = {"file": export_model(model)} if model else None
    problems: list[Problem] = []
    if model is not None:
        problems += _removal_problems(model, spec)
    if problems:
        raise FileProblems(problems)

    _upsert(
        OrgUnitKind.objects.filter(municipality=municipality),
        [
            (k.key, {"name": k.name, "name_en": k.name_en, "builtin": False})
            for k in spec.org_unit_kinds
        ],
        municipality=municipality,
    )
    kinds = {k.key: k for k in OrgUnitKind.objects.filter(municipality=municipality)}
    if model is None:
        model = SteeringModel(municipality=municipality)
    else:
        model.version += 1
    model.name, model.name_en = spec.name, spec.name_en
    model.description, model.source = spec.description, spec.source
    model.save()

    model.classifications.exclude(key__in=[c.key for c in spec.classifications]).delete()
    classifications = _upsert(
        model.classifications.all(),
        [
            (
                c.key,
                {
                    "name": c.name,
                    "name_en": c.name_en,
                    "kind": c.kind,
                    "multiple": c.multiple,
                    "order": order,
                },
            )
            for order, c in enumerate(spec.classifications)
        ],
        model=model,
    )
    for c in spec.classifications:
        classification = classifications[c.key]
        classification.values.exclude(key__in=[v.key for v in c.values]).delete()
        _upsert(
            classification.values.all(),
            [
                (
                    v.key,
                    {
                        "name": v.name,
                        "name_en": v.name_en,
                        "description": v.description,
                        "order": order,
                    },
                )
                for order, v in enumerate(c.values)
            ],
            classification=classification,
        )

    model.levels.exclude(key__in=[lv.key for lv in spec.levels]).delete()
    # Move existing levels out of the way so the new order never collides mid-update.
    model.levels.update(order=F("order") + 1000)
    levels = _upsert(
        model.levels.all(),
        [
            (
                lv.key,
                {
                    "name": lv.name,
                    "plural": lv.plural,
                    "name_en": lv.name_en,
                    "plural_en": lv.plural_en,
                    "description": lv.description,
                    "order": order,
                    "link_required": lv.link_required,
                    "horizon": lv.horizon,
                    "assessed": lv.assessed,
                    "has_indicators": lv.indicators,
                    "is_assignment": lv.assignment,
                },
            )
            for order, lv in enumerate(spec.levels, start=1)
        ],
        model=model,
    )
    for lv in spec.levels:
        levels[lv.key].owner_kinds.set([kinds[key] for key in lv.owners])
    for lv in spec.levels:
        level = levels[lv.key]
        level.parents.set([levels[key] for key in lv.links_to])
        LevelClassification.objects.filter(level=level).delete()
        LevelClassification.objects.bulk_create(
            LevelClassification(level=level, classification=classifications[key], required=req)
            for key, req in lv.classifications.items()
        )
    _apply_follow_up(model, spec, levels, kinds)
    # The plan must still hold under the new model: a changed owner, horizon, link rule or
    # classification rule that existing items break refuses the whole import.
    broken = rules.validate_plan(municipality)
    if broken:
        shown = [
            Problem(
                None,
                "",
                _("the plan would break the new model: %(problem)s") % {"problem": problem},
            )
            for problem in broken[:20]
        ]
        if len(broken) > 20:
            shown.append(Problem(None, "", _("and %(count)s more") % {"count": len(broken) - 20}))
        raise FileProblems(shown)
    plan_changed.send(sender=SteeringModel, municipality=municipality)
    record(
        user=user,
        municipality=municipality,
        action="import",
        obj=model,
        before=before,
        after={"file": export_model(model)},
    )
    return model


def _apply_follow_up(
    model: SteeringModel,
    spec: ModelSpec,
    levels: dict[str, Level],
    kinds: dict[str, OrgUnitKind],
) -> None:
    """Create, update and remove the follow-up kinds; one that has periods cannot be removed."""
    try:
        with transaction.atomic():
            model.follow_up_kinds.exclude(key__in=[f.key for f in spec.follow_up]).delete()
    except ProtectedError as exc:
        used = sorted({str(obj.kind.key) for obj in exc.protected_objects})  # type: ignore[attr-defined]
        raise FileProblems(
            [
                Problem(
                    None,
                    "follow_up",
                    _(
                        "the follow-up kind %(key)r is not in the file but has follow-up "
                        "periods; keep it in the file"
                    )
                    % {"key": key},
                )
                for key in used
            ]
        ) from None
    follow_up = _upsert(
        model.follow_up_kinds.all(),
        [
            (
                f.key,
                {
                    "name": f.name,
                    "name_en": f.name_en,
                    "description": f.description,
                    "order": order,
                    "months": f.months,
                    "deadline_days": f.deadline_days,
                    "reminder_days": f.reminders,
                    "economy": f.economy,
                    "indicators": f.indicators,
                    "council_approval": f.council_approval,
                    "sections": [
                        {
                            "key": s.key,
                            "name": s.name,
                            "name_en": s.name_en,
                            "reporters": s.reporters,
                        }
                        for s in f.sections
                    ],
                },
            )
            for order, f in enumerate(spec.follow_up, start=1)
        ],
        model=model,
    )
    for f in spec.follow_up:
        follow_up[f.key].levels.set([levels[key] for key in f.levels])
        follow_up[f.key].reporters.set([kinds[key] for key in f.reporters])


def _removal_problems(model: SteeringModel, spec: ModelSpec) -> list[Problem]:
    problems = []
    keep_levels = {lv.key for lv in spec.levels}
    for level in model.levels.exclude(key__in=keep_levels):
        count = level.items.count()
        if count:
            problems.append(
                Problem(
                    None,
                    "levels",
                    ngettext(
                        "the level %(key)r is not in the file but %(count)s plan item is at it; "
                        "keep the level or move the item first",
                        "the level %(key)r is not in the file but %(count)s plan items are at "
                        "it; keep the level or move the items first",
                        count,
                    )
                    % {"key": level.key, "count": count},
                )
            )
    spec_values = {c.key: {v.key for v in c.values} for c in spec.classifications}
    for classification in model.classifications.all():
        keep = spec_values.get(classification.key, set())
        for value in classification.values.exclude(key__in=keep):
            count = value.items.count()
            if count:
                problems.append(
                    Problem(
                        classification_line(spec, classification.key),
                        "classifications",
                        ngettext(
                            "the value %(value)r of %(classification)r is not in the file but "
                            "%(count)s plan item carries it",
                            "the value %(value)r of %(classification)r is not in the file but "
                            "%(count)s plan items carry it",
                            count,
                        )
                        % {
                            "value": value.key,
                            "classification": classification.key,
                            "count": count,
                        },
                    )
                )
    return problems


def classification_line(spec: ModelSpec, key: str) -> int | None:
    for c in spec.classifications:
        if c.key == key:
            return c.line
    return None


# --- Plan items and links -----------------------------------------------------------------

EDITABLE_FIELDS = (
    "number",
    "title",
    "description",
    "responsible",
    "start_date",
    "end_date",
    "status",
    "assigned_by",
    "decision_reference",
    "due_date",
    "completed_on",
)


def _apply(item: PlanItem, data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key not in EDITABLE_FIELDS:
            raise ValueError(f"{key} is not an editable field of a plan item")
        setattr(item, key, value)
    if item.status == ItemStatus.DONE and item.completed_on is None and item.level.is_assignment:
        item.completed_on = datetime.date.today()


@transaction.atomic
def plan_item_create(
    *,
    user: User | None,
    level: Level,
    owner: OrgUnit,
    period: PlanPeriod,
    plan_year: PlanYear | None,
    data: dict[str, Any],
    parents: list[PlanItem],
    values: list[ClassificationValue],
) -> PlanItem:
    item = PlanItem(
        municipality=owner.municipality,
        level=level,
        owner=owner,
        period=period,
        plan_year=plan_year,
    )
    _apply(item, data)
    problems = rules.item_problems(item, parents=parents, values=values)
    if level.model.municipality_id != owner.municipality_id:
        problems.append(_("The level belongs to another municipality's model."))
    if problems:
        raise PlanError(problems)
    item.save()
    item.classifications.set(values)
    for parent in parents:
        link_problems = rules.link_problems(item, parent)
        if link_problems:
            raise PlanError(link_problems)
        PlanLink.objects.create(from_item=item, to_item=parent, created_by=_user(user))
    after = item.snapshot() | {
        "contributes_to": [p.pk for p in parents],
        "classifications": sorted(v.key for v in values),
    }
    plan_changed.send(sender=PlanItem, municipality=item.municipality)
    record(user=user, municipality=item.municipality, action="create", obj=item, after=after)
    return item


def _user(user: User | None) -> User | None:
    return user if user is not None and user.is_authenticated else None


def _lock(item: PlanItem, expected_version: int) -> PlanItem:
    """Re-read the item inside the transaction; refuse if it changed since the edit began."""
    current = PlanItem.objects.select_for_update().select_related("level", "owner").get(pk=item.pk)
    if current.version != expected_version:
        raise StaleEdit(
            [
                _(
                    "“%(title)s” was changed by someone else after you opened it. Your changes were "
                    "not saved; reload the page to see the new version and make your changes again."
                )
                % {"title": current.title}
            ]
        )
    return current


@transaction.atomic
def plan_item_update(
    *,
    user: User | None,
    item: PlanItem,
    expected_version: int,
    data: dict[str, Any],
    values: list[ClassificationValue] | None = None,
    placement: dict[str, Any] | None = None,
) -> PlanItem:
    """Save changed fields if nobody saved the item since `expected_version` was read.

    `placement` may move the item to another owner or year; its links must still hold.
    """
    current = _lock(item, expected_version)
    before = current.snapshot() | {
        "classifications": sorted(v.key for v in current.classifications.all())
    }
    _apply(current, data)
    for key, value in (placement or {}).items():
        if key not in ("owner", "plan_year"):
            raise ValueError(f"{key} cannot be changed by placement")
        setattr(current, key, value)
    if values is None:
        values = list(current.classifications.all())
    problems = rules.item_problems(current, values=values)
    if placement:
        for link in current.links_up.select_related("to_item__level", "to_item__plan_year"):
            problems += rules.link_problems(current, link.to_item, adding=False)
        for link in current.links_down.select_related("from_item__level", "from_item__plan_year"):
            problems += rules.link_problems(link.from_item, current, adding=False)
    if problems:
        raise PlanError(problems)
    current.version += 1
    current.save()
    current.classifications.set(values)
    after = current.snapshot() | {"classifications": sorted(v.key for v in values)}
    changed_before = {k: v for k, v in before.items() if after.get(k) != v}
    changed_after = {k: v for k, v in after.items() if before.get(k) != v}
    plan_changed.send(sender=PlanItem, municipality=current.municipality)
    record(
        user=user,
        municipality=current.municipality,
        action="update",
        obj=current,
        before=changed_before,
        after=changed_after,
    )
    return current


@transaction.atomic
def plan_item_delete(*, user: User | None, item: PlanItem) -> None:
    contributors = item.links_down.count()
    if contributors:
        raise PlanError(
            [
                ngettext(
                    "%(count)s item contributes to “%(title)s”. Link it elsewhere first, or set "
                    "the status to cancelled to keep the history.",
                    "%(count)s items contribute to “%(title)s”. Link them elsewhere first, or set "
                    "the status to cancelled to keep the history.",
                    contributors,
                )
                % {"count": contributors, "title": item.title}
            ]
        )
    before = item.snapshot() | {"contributes_to": [p.pk for p in item.contributes_to.all()]}
    record(user=user, municipality=item.municipality, action="delete", obj=item, before=before)
    try:
        item.delete()
    except ProtectedError:
        # Follow-up assessments of the item: what was reported is history, never deleted.
        raise PlanError(
            [
                _(
                    "“%(title)s” has been followed up, and what was reported is kept. Set the "
                    "status to cancelled instead of deleting it."
                )
                % {"title": item.title}
            ]
        ) from None
    plan_changed.send(sender=PlanItem, municipality=item.municipality)


@transaction.atomic
def plan_link_add(
    *,
    user: User | None,
    from_item: PlanItem,
    to_item: PlanItem,
    expected_version: int | None = None,
) -> PlanLink:
    if expected_version is not None:
        from_item = _lock(from_item, expected_version)
    problems = rules.link_problems(from_item, to_item)
    if problems:
        raise PlanError(problems)
    link = PlanLink.objects.create(from_item=from_item, to_item=to_item, created_by=_user(user))
    PlanItem.objects.filter(pk=from_item.pk).update(version=from_item.version + 1)
    plan_changed.send(sender=PlanLink, municipality=from_item.municipality)
    record(
        user=user,
        municipality=from_item.municipality,
        action="link",
        obj=from_item,
        after={"contributes_to": {"id": to_item.pk, "title": to_item.title}},
    )
    return link


@transaction.atomic
def plan_link_remove(
    *,
    user: User | None,
    from_item: PlanItem,
    to_item: PlanItem,
    expected_version: int | None = None,
) -> None:
    if expected_version is not None:
        from_item = _lock(from_item, expected_version)
    link = PlanLink.objects.filter(from_item=from_item, to_item=to_item).first()
    if link is None:
        raise PlanError(
            [
                _("“%(item)s” does not contribute to “%(target)s”.")
                % {"item": from_item.title, "target": to_item.title}
            ]
        )
    if from_item.level.link_required and from_item.links_up.count() == 1:
        raise PlanError(
            [
                _(
                    "Items at the level %(level)s must contribute to something above, and this is its only link. "
                    "Add the new link first, then remove this one."
                )
                % {"level": str(from_item.level)}
            ]
        )
    link.delete()
    PlanItem.objects.filter(pk=from_item.pk).update(version=from_item.version + 1)
    plan_changed.send(sender=PlanLink, municipality=from_item.municipality)
    record(
        user=user,
        municipality=from_item.municipality,
        action="unlink",
        obj=from_item,
        before={"contributes_to": {"id": to_item.pk, "title": to_item.title}},
    )


# --- Plan periods and years ----------------------------------------------------------------


@transaction.atomic
def plan_period_create(
    *, user: User | None, municipality: Municipality, name: str, start_year: int, end_year: int
) -> PlanPeriod:
    if end_year < start_year:
        raise PlanError([_("The last year comes before the first year.")])
    if PlanPeriod.objects.filter(
        municipality=municipality, start_year__lte=end_year, end_year__gte=start_year
    ).exists():
        raise PlanError([_("The years overlap a plan period that already exists.")])
    period = PlanPeriod.objects.create(
        municipality=municipality, name=name, start_year=start_year, end_year=end_year
    )
    record(
        user=user,
        municipality=municipality,
        action="create",
        obj=period,
        after={"name": name, "start_year": start_year, "end_year": end_year},
    )
    return period


@transaction.atomic
def plan_year_rollover(*, user: User | None, source: PlanYear, target_year: int) -> PlanYear:
    """Create next year's plan from this year's as a planning version beside the current one.

    One-year items are copied with their owners, classifications and links; links to items
    of the whole period stay; links between copied items follow the copies. When the target
    year starts a new plan period, the period's items are copied too. Items that are done or
    cancelled are not carried over.
    """
    municipality = source.period.municipality
    target_period = PlanPeriod.objects.filter(
        municipality=municipality, start_year__lte=target_year, end_year__gte=target_year
    ).first()
    if target_period is None:
        raise PlanError(
            [
                _("No plan period contains %(year)s. Create the plan period first.")
                % {"year": target_year}
            ]
        )
    if PlanYear.objects.filter(period=target_period, year=target_year).exists():
        raise PlanError([_("A plan for %(year)s already exists.") % {"year": target_year}])
    try:
        with transaction.atomic():
            target = PlanYear.objects.create(
                period=target_period,
                year=target_year,
                status=PlanYearStatus.PLANNING,
                rolled_over_from=source,
            )
    except IntegrityError:  # someone else created it a moment ago
        raise PlanError(
            [_("A plan for %(year)s already exists.") % {"year": target_year}]
        ) from None
    new_period = target_period.pk != source.period_id
    to_copy = Q(plan_year=source)
    if new_period:
        to_copy |= Q(period=source.period, plan_year__isnull=True)
    originals = list(
        PlanItem.objects.filter(to_copy)
        .exclude(status__in=[ItemStatus.DONE, ItemStatus.CANCELLED])
        .select_related("level")
        .prefetch_related("classifications")
    )
    copies: dict[int, PlanItem] = {}
    for original in originals:
        copy = PlanItem(
            municipality=municipality,
            level_id=original.level_id,
            owner_id=original.owner_id,
            period=target_period,
            plan_year=target if original.plan_year_id else None,
            number=original.number,
            title=original.title,
            description=original.description,
            responsible=original.responsible,
            status=ItemStatus.ACTIVE if original.status != ItemStatus.DRAFT else ItemStatus.DRAFT,
            assigned_by_id=original.assigned_by_id,
            decision_reference=original.decision_reference,
            copied_from=original,
        )
        copies[original.pk] = copy
    PlanItem.objects.bulk_create(copies.values())
    through = PlanItem.classifications.through
    through.objects.bulk_create(
        through(planitem_id=copies[o.pk].pk, classificationvalue_id=v.pk)
        for o in originals
        for v in o.classifications.all()
    )
    links = PlanLink.objects.filter(from_item_id__in=copies.keys())
    new_links = []
    for from_id, to_id, to_year in links.values_list(
        "from_item_id", "to_item_id", "to_item__plan_year_id"
    ):
        # Links follow the copies; a link to an item of the whole period stays within the
        # same period; a link to an item that was not copied (done, cancelled) is dropped.
        if to_id in copies:
            target_item: int | None = copies[to_id].pk
        elif not new_period and to_year is None:
            target_item = to_id
        else:
            target_item = None
        if target_item is not None:
            new_links.append(
                PlanLink(
                    from_item_id=copies[from_id].pk, to_item_id=target_item, created_by=_user(user)
                )
            )
    PlanLink.objects.bulk_create(new_links)
    linked = {link.from_item_id for link in new_links}
    orphans = [
        copy.title
        for original, copy in zip(originals, copies.values(), strict=True)
        if original.level.link_required and copy.pk not in linked
    ]
    if orphans:
        raise PlanError(
            [
                _(
                    "These items would lose every link upward because what they contribute to is "
                    "done or cancelled; link them to something else first: %(items)s"
                )
                % {"items": "; ".join(f"“{title}”" for title in orphans)}
            ]
        )
    plan_changed.send(sender=PlanYear, municipality=municipality)
    record(
        user=user,
        municipality=municipality,
        action="rollover",
        obj=target,
        after={
            "from": source.year,
            "to": target_year,
            "items": len(copies),
            "links": len(new_links),
        },
    )
    return target


@transaction.atomic
def plan_year_adopt(
    *,
    user: User | None,
    plan_year: PlanYear,
    decided_by: str,
    decided_on: datetime.date,
    paragraph: str,
) -> PlanYear:
    if plan_year.status != PlanYearStatus.PLANNING:
        raise PlanError([_("Only a planning version can be adopted.")])
    before = {"status": plan_year.status}
    plan_year.status = PlanYearStatus.ADOPTED
    plan_year.decided_by, plan_year.decided_on = decided_by, decided_on
    plan_year.decision_paragraph = paragraph
    plan_year.save()
    PlanItem.objects.filter(plan_year=plan_year, status=ItemStatus.DRAFT).update(
        status=ItemStatus.ACTIVE
    )
    record(
        user=user,
        municipality=plan_year.period.municipality,
        action="adopt",
        obj=plan_year,
        before=before,
        after={
            "status": plan_year.status,
            "decided_by": decided_by,
            "decided_on": decided_on.isoformat(),
            "paragraph": paragraph,
        },
    )
    return plan_year

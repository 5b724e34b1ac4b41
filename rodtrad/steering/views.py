"""Pages of the plan: start page, the thread, items, links, gaps, the model and plan years."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rodtrad.lib.yamlfile import FileProblems
from rodtrad.organisations.access import Access, get_municipality_for_user
from rodtrad.organisations.audit import history
from rodtrad.organisations.models import AuditEvent, Municipality
from rodtrad.steering import extensions, rules, selectors, services
from rodtrad.steering.forms import AdoptForm, ItemForm, LinkForm, ModelFileForm, PeriodForm
from rodtrad.steering.modelfile import export_model, parse_model, problem_text
from rodtrad.steering.models import (
    Classification,
    Level,
    PlanItem,
    PlanPeriod,
    PlanYear,
    SteeringModel,
)


def _get_item_for_user(request: HttpRequest, code: str, pk: int) -> tuple[PlanItem, Access, bool]:
    """The item, what the user may do, and whether they may edit it; 404 if they may not see it."""
    municipality, access = get_municipality_for_user(request, code)
    item = get_object_or_404(
        PlanItem.objects.select_related(
            "level", "owner__kind", "period", "plan_year", "assigned_by"
        ),
        pk=pk,
        municipality=municipality,
    )
    item.municipality = municipality
    return item, access, access.can_edit_unit(item.owner)


def _model_or_404(municipality: Municipality) -> SteeringModel:
    model = SteeringModel.objects.filter(municipality=municipality).first()
    if model is None:
        raise Http404
    return model


@login_required
@require_GET
def municipality_home(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    scope = selectors.resolve_scope(municipality, request.GET)
    model = SteeringModel.objects.filter(municipality=municipality).first()
    counts = {
        row["level_id"]: row["n"]
        for row in scope.items().values("level_id").annotate(n=Count("id"))
    }
    levels = list(model.levels.all()) if model else []
    level_counts = [(level, counts.get(level.pk, 0)) for level in levels]
    top = selectors.thread_roots(scope)[:5] if model else []
    extensions.decorate(municipality, top)
    gaps = rules.find_gaps(municipality, scope.period, scope.plan_year) if scope.period else []
    my_units = list(access.units)
    mine = (
        scope.items()
        .filter(owner__in=my_units)
        .select_related("level", "owner")
        .order_by("level__order", "number", "title")[:20]
        if my_units
        else []
    )
    return render(
        request,
        "steering/home.html",
        {
            "municipality": municipality,
            "access": access,
            "scope": scope,
            "model": model,
            "level_counts": level_counts,
            "top": top,
            "gap_count": sum(g.count for g in gaps),
            "mine": mine,
        },
    )


@login_required
@require_GET
def thread(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    scope = selectors.resolve_scope(municipality, request.GET)
    model = _model_or_404(municipality)
    roots = selectors.thread_roots(scope)
    extensions.decorate(municipality, roots)
    classifications = Classification.objects.filter(model=model).prefetch_related("values")
    unit_options = selectors.unit_options(municipality, scope.unit)
    return render(
        request,
        "steering/thread.html",
        {
            "municipality": municipality,
            "access": access,
            "scope": scope,
            "model": model,
            "roots": roots,
            "levels": model.levels.all(),
            "classifications": classifications,
            "unit_options": unit_options,
        },
    )


@login_required
@require_GET
def thread_children(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    item, _access, _can_edit = _get_item_for_user(request, code, pk)
    scope = selectors.resolve_scope(item.municipality, request.GET)
    try:
        offset = min(max(0, int(request.GET.get("offset", "0"))), 1_000_000)
    except ValueError:
        offset = 0
    children, more = selectors.thread_children(scope, item, offset)
    extensions.decorate(item.municipality, children)
    # The first page is a list; later pages are list items that replace the "more" button.
    partial = "children" if offset == 0 else "children_page"
    return render(
        request,
        f"steering/thread.html#{partial}",
        {
            "municipality": item.municipality,
            "parent": item,
            "children": children,
            "more": more,
            "next_offset": offset + len(children),
            "scope": scope,
        },
    )


@login_required
@require_GET
def item_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    item, access, can_edit = _get_item_for_user(request, code, pk)
    return render(
        request, "steering/item_detail.html", _item_context(request, item, access, can_edit)
    )


ITEM_PAGE_CHILDREN = 20


def _links_context(
    request: HttpRequest, item: PlanItem, access: Access, can_edit: bool, **extra: Any
) -> dict[str, Any]:
    """What the links section of the item page needs, and nothing more (htmx answers)."""
    parents = list(item.contributes_to.select_related("level", "owner", "plan_year"))
    search = request.GET.get("sok", "").replace("\x00", "").strip()
    link_form = None
    if can_edit and item.level.parents.exists():
        candidates = selectors.parent_candidates(
            item.level, _candidate_scope(item), None if search else item.owner
        ).exclude(pk__in=[p.pk for p in parents])
        if search:
            found = candidates.filter(title__icontains=search).values_list("pk", flat=True)
            candidates = candidates.filter(pk__in=list(found[:100]))
        link_form = LinkForm(candidates=candidates, initial={"version": item.version})
    return {
        "municipality": item.municipality,
        "access": access,
        "item": item,
        "can_edit": can_edit,
        "parents": parents,
        "link_form": link_form,
        "search": search,
        **extra,
    }


def _item_context(
    request: HttpRequest, item: PlanItem, access: Access, can_edit: bool
) -> dict[str, Any]:
    scope = _candidate_scope(item)  # the item's own period and year
    # The item page shows the first contributors; the rest load on demand, as in the thread.
    children, more = selectors.thread_children(scope, item, limit=ITEM_PAGE_CHILDREN)
    extensions.decorate(item.municipality, [item, *children])
    return {
        **_links_context(request, item, access, can_edit),
        "ancestors": selectors.ancestors_by_level(item),
        "children": children,
        "more": more,
        "scope": scope,
        "classifications": item.classifications.select_related("classification"),
        "events": _history_rows(item),
        "panels": extensions.panels(request, item, access, can_edit),
    }


def _field_label(key: str) -> str:
    extra = {"year": _("year"), "level": _("level"), "classifications": _("classifications")}
    if key in extra:
        return str(extra[key])
    try:
        return str(getattr(PlanItem._meta.get_field(key), "verbose_name", key))
    except FieldDoesNotExist:
        return key


def _history_rows(item: PlanItem) -> list[tuple[AuditEvent, list[tuple[str, Any, Any]]]]:
    """The item's audit events, newest first, with the changed fields' labels."""
    return [
        (event, [(_field_label(key), old, new) for key, old, new in event.changed_fields()])
        for event in history(item)[:50]
    ]


def _candidate_scope(item: PlanItem) -> selectors.Scope:
    return selectors.Scope(item.municipality, item.period, item.plan_year)


@login_required
@require_http_methods(["GET", "POST"])
def item_create(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    if not access.can_edit_anything:
        raise PermissionDenied
    model = _model_or_404(municipality)
    level = model.levels.filter(
        key=(request.GET.get("level") or request.POST.get("level") or "").replace("\x00", "")
    ).first()
    if level is None:
        levels = list(model.levels.prefetch_related("owner_kinds"))
        return render(
            request,
            "steering/item_choose_level.html",
            {"municipality": municipality, "access": access, "levels": levels},
        )
    scope = selectors.resolve_scope(municipality, request.GET)
    if scope.period is None:
        messages.error(request, _("Create a plan period before adding items."))
        return redirect("steering:plans", code=code)
    form_scope = selectors.Scope(municipality, scope.period, scope.plan_year)
    parent_choices = (
        selectors.parent_candidates(level, form_scope) if level.parents.exists() else None
    )
    initial: dict[str, Any] = {"status": "active"}
    if request.GET.get("parent"):
        initial["parents"] = [request.GET["parent"]]
    if scope.plan_year:
        initial["plan_year"] = scope.plan_year.pk
    form = ItemForm(
        request.POST or None,
        level=level,
        access=access,
        years=scope.years,
        parent_choices=parent_choices,
        initial=initial,
    )
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        plan_year = form.cleaned_data.get("plan_year")
        try:
            item = services.plan_item_create(
                user=request.user,  # type: ignore[arg-type]
                level=level,
                owner=form.cleaned_data["owner"],
                period=scope.period,
                plan_year=plan_year,
                data=form.item_data(),
                parents=list(form.cleaned_data.get("parents") or []),
                values=form.chosen_values(),
            )
        except services.PlanError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("“%(title)s” was created.") % {"title": item.title})
            return redirect("steering:item", code=code, pk=item.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "steering/item_form.html",
        {
            "municipality": municipality,
            "access": access,
            "level": level,
            "form": form,
            "errors": errors,
            "scope": scope,
            "creating": True,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    item, access, can_edit = _get_item_for_user(request, code, pk)
    if not can_edit:
        raise PermissionDenied
    years = list(PlanYear.objects.filter(period=item.period))
    form = ItemForm(
        request.POST or None,
        level=item.level,
        access=access,
        years=years,
        initial=ItemForm.initial_for(item),
    )
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        owner = form.cleaned_data["owner"]
        if owner != item.owner and not access.can_edit_unit(owner):
            raise PermissionDenied
        try:
            data = form.item_data()
            data_owner_year = {
                "owner": owner,
                "plan_year": form.cleaned_data.get("plan_year", item.plan_year),
            }
            item = services.plan_item_update(
                user=request.user,  # type: ignore[arg-type]
                item=item,
                expected_version=form.cleaned_data.get("version") or 0,
                data=data,
                values=form.chosen_values(),
                placement=data_owner_year,
            )
        except services.StaleEdit as exc:
            errors = exc.messages
            return render(
                request,
                "steering/item_form.html",
                {
                    "municipality": item.municipality,
                    "access": access,
                    "level": item.level,
                    "form": form,
                    "errors": errors,
                    "item": item,
                    "stale": True,
                },
                status=409,
            )
        except services.PlanError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("Your changes were saved."))
            return redirect("steering:item", code=code, pk=item.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "steering/item_form.html",
        {
            "municipality": item.municipality,
            "access": access,
            "level": item.level,
            "form": form,
            "errors": errors,
            "item": item,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def item_delete(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    item, access, can_edit = _get_item_for_user(request, code, pk)
    if not can_edit:
        raise PermissionDenied
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.plan_item_delete(user=request.user, item=item)  # type: ignore[arg-type]
        except services.PlanError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("“%(title)s” was deleted.") % {"title": item.title})
            return redirect("steering:thread", code=code)
    return render(
        request,
        "steering/item_delete.html",
        {
            "municipality": item.municipality,
            "access": access,
            "item": item,
            "errors": errors,
        },
        status=422 if errors else 200,
    )


@login_required
@require_POST
def link_add(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    item, _access, can_edit = _get_item_for_user(request, code, pk)
    if not can_edit:
        raise PermissionDenied
    # Any item the model allows may be chosen (the form offers the owner's line first and a
    # search for the rest); the service checks the model's rules.
    candidates = selectors.parent_candidates(item.level, _candidate_scope(item))
    form = LinkForm(request.POST, candidates=candidates)
    errors: list[str] = []
    status = 200
    if form.is_valid():
        try:
            services.plan_link_add(
                user=request.user,  # type: ignore[arg-type]
                from_item=item,
                to_item=form.cleaned_data["to_item"],
                expected_version=form.cleaned_data["version"],
            )
        except services.PlanError as exc:
            errors, status = exc.messages, 409 if isinstance(exc, services.StaleEdit) else 422
        else:
            messages.success(request, _("The link was saved."))
    else:
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        status = 422
    return _links_response(request, code, pk, errors, status)


@login_required
@require_POST
def link_remove(request: HttpRequest, code: str, pk: int, to_pk: int) -> HttpResponse:
    item, _access, can_edit = _get_item_for_user(request, code, pk)
    if not can_edit:
        raise PermissionDenied
    target = get_object_or_404(PlanItem, pk=to_pk, municipality=item.municipality)
    errors: list[str] = []
    status = 200
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = -1
    try:
        services.plan_link_remove(
            user=request.user,  # type: ignore[arg-type]
            from_item=item,
            to_item=target,
            expected_version=version,
        )
    except services.PlanError as exc:
        errors, status = exc.messages, 409 if isinstance(exc, services.StaleEdit) else 422
    else:
        messages.success(request, _("The link was removed."))
    return _links_response(request, code, pk, errors, status)


def _links_response(
    request: HttpRequest, code: str, pk: int, errors: list[str], status: int
) -> HttpResponse:
    if not request.htmx:  # type: ignore[attr-defined]
        for error in errors:
            messages.error(request, error)
        return redirect(reverse("steering:item", kwargs={"code": code, "pk": pk}) + "#links")
    item, access, can_edit = _get_item_for_user(request, code, pk)
    context = _links_context(request, item, access, can_edit, link_errors=errors)
    return render(request, "steering/item_detail.html#links", context, status=status)


@login_required
@require_GET
def gaps(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    scope = selectors.resolve_scope(municipality, request.GET)
    found = (
        rules.find_gaps(municipality, scope.period, scope.plan_year, within=scope.unit)
        if scope.period
        else []
    )
    unit_options = selectors.unit_options(municipality, scope.unit)
    return render(
        request,
        "steering/gaps.html",
        {
            "municipality": municipality,
            "access": access,
            "scope": scope,
            "gaps": found,
            "unit_options": unit_options,
            "total": sum(g.count for g in found),
        },
    )


@login_required
@require_GET
def model_page(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    model = SteeringModel.objects.filter(municipality=municipality).first()
    levels = (
        model.levels.prefetch_related(
            "owner_kinds", "parents", "classification_rules__classification"
        ).annotate(n_items=Count("items"))
        if model
        else []
    )
    classifications = model.classifications.prefetch_related("values") if model else []
    follow_up_kinds = model.follow_up_kinds.prefetch_related("levels", "reporters") if model else []
    return render(
        request,
        "steering/model.html",
        {
            "municipality": municipality,
            "access": access,
            "model": model,
            "levels": levels,
            "classifications": classifications,
            "follow_up_kinds": follow_up_kinds,
        },
    )


@login_required
@require_GET
def model_export(request: HttpRequest, code: str) -> HttpResponse:
    municipality, _access = get_municipality_for_user(request, code)
    model = _model_or_404(municipality)
    response = HttpResponse(export_model(model), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="styrmodell-{municipality.code}.yaml"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def model_import(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    if not access.can_configure:
        raise PermissionDenied
    form = ModelFileForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            spec = parse_model(upload.read(2_000_000))
            services.steering_model_import(
                municipality=municipality,
                spec=spec,
                user=request.user,  # type: ignore[arg-type]
            )
        except FileProblems as exc:
            problems = [problem_text(p) for p in exc.problems]
        else:
            messages.success(request, _("The steering model was imported."))
            return redirect("steering:model", code=code)
    return render(
        request,
        "steering/model_import.html",
        {
            "municipality": municipality,
            "access": access,
            "form": form,
            "problems": problems,
        },
        status=422 if problems or form.errors else 200,
    )


@login_required
@require_GET
def plans(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    periods = (
        PlanPeriod.objects.filter(municipality=municipality)
        .prefetch_related("plan_years")
        .annotate(n_items=Count("items"))
    )
    year_counts = {
        row["plan_year_id"]: row["n"]
        for row in PlanItem.objects.filter(municipality=municipality, plan_year__isnull=False)
        .values("plan_year_id")
        .annotate(n=Count("id"))
    }
    return render(
        request,
        "steering/plans.html",
        {
            "municipality": municipality,
            "access": access,
            "periods": periods,
            "year_counts": year_counts,
            "period_form": PeriodForm(),
            "adopt_form": AdoptForm(),
        },
    )


@login_required
@require_POST
def period_create(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    if not access.can_plan():
        raise PermissionDenied
    form = PeriodForm(request.POST)
    if form.is_valid():
        try:
            services.plan_period_create(
                user=request.user,  # type: ignore[arg-type]
                municipality=municipality,
                **form.cleaned_data,
            )
        except services.PlanError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The plan period was created."))
    else:
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(
                    request, f"{form.fields[field].label if field in form.fields else ''}: {error}"
                )
    return redirect("steering:plans", code=code)


@login_required
@require_POST
def year_rollover(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    if not access.can_plan():
        raise PermissionDenied
    source = get_object_or_404(PlanYear, pk=pk, period__municipality=municipality)
    try:
        target = services.plan_year_rollover(
            user=request.user,  # type: ignore[arg-type]
            source=source,
            target_year=source.year + 1,
        )
    except services.PlanError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("A planning version for %(year)s was created from %(source)s.")
            % {"year": target.year, "source": source.year},
        )
    return redirect("steering:plans", code=code)


@login_required
@require_POST
def year_adopt(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    if not access.can_plan():
        raise PermissionDenied
    plan_year = get_object_or_404(PlanYear, pk=pk, period__municipality=municipality)
    form = AdoptForm(request.POST)
    if form.is_valid():
        try:
            services.plan_year_adopt(
                user=request.user,  # type: ignore[arg-type]
                plan_year=plan_year,
                decided_by=form.cleaned_data["decided_by"],
                decided_on=form.cleaned_data["decided_on"],
                paragraph=form.cleaned_data["paragraph"],
            )
        except services.PlanError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request, _("The plan for %(year)s was adopted.") % {"year": plan_year.year}
            )
    else:
        messages.error(request, _("Fill in who decided, the date and the paragraph."))
    return redirect("steering:plans", code=code)


@login_required
@require_GET
def assignments(request: HttpRequest, code: str) -> HttpResponse:
    """Political assignments (uppdrag, direktiv) given by the council or a board, to done."""
    municipality, access = get_municipality_for_user(request, code)
    scope = selectors.resolve_scope(municipality, request.GET)
    items = list(
        PlanItem.objects.filter(municipality=municipality, level__is_assignment=True)
        .select_related("level", "owner", "assigned_by", "plan_year", "period")
        .order_by("due_date", "title")
    )
    if scope.unit is not None:
        items = [
            i
            for i in items
            if i.owner.is_within(scope.unit)
            or (i.assigned_by is not None and i.assigned_by.is_within(scope.unit))
        ]
    today = datetime.date.today()
    open_items = [i for i in items if i.status not in ("done", "cancelled")]
    overdue = [i for i in open_items if i.due_date and i.due_date < today]
    return render(
        request,
        "steering/assignments.html",
        {
            "municipality": municipality,
            "access": access,
            "scope": scope,
            "open_items": open_items,
            "overdue_ids": {i.pk for i in overdue},
            "done_items": [i for i in items if i.status == "done"],
            "cancelled_items": [i for i in items if i.status == "cancelled"],
            "unit_options": selectors.unit_options(municipality, scope.unit),
            "has_level": Level.objects.filter(
                model__municipality=municipality, is_assignment=True
            ).exists(),
        },
    )

"""Pages for indicators: the list, one indicator (chart and table), entry of values and
targets, Kolada's catalogue, file import, assessment rules, and the item page's panel."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rodtrad.indicators import charts, explain, imports, kolada, rollup, services
from rodtrad.indicators.forms import (
    ImportForm,
    IndicatorForm,
    KpiCreateForm,
    LinkIndicatorForm,
    OverrideForm,
    SettingsForm,
    TargetsForm,
    ValueForm,
)
from rodtrad.indicators.models import (
    Indicator,
    IndicatorKind,
    ItemRollup,
    KoladaKpi,
    Source,
    StatusOverride,
    Value,
)
from rodtrad.lib import kolada as kolada_lib
from rodtrad.organisations.access import Access, get_municipality_for_user
from rodtrad.organisations.audit import history
from rodtrad.organisations.models import Municipality, OrgUnit
from rodtrad.steering.models import PlanItem, PlanPeriod, SteeringModel

RIKET = "0000"


def _get_indicator_for_user(
    request: HttpRequest, code: str, pk: int
) -> tuple[Indicator, Access, bool]:
    """The indicator, what the user may do, and whether they may change it; 404 otherwise."""
    municipality, access = get_municipality_for_user(request, code)
    indicator = get_object_or_404(
        Indicator.objects.select_related("owner"), pk=pk, municipality=municipality
    )
    indicator.municipality = municipality
    return indicator, access, access.can_edit_unit(indicator.owner)


def _editable_units(municipality: Municipality, access: Access) -> QuerySet[OrgUnit]:
    query = Q()
    for path in access.edit_paths:
        query |= Q(path__startswith=path)
    if not access.edit_paths:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(query, municipality=municipality).order_by("path")


def _model(municipality: Municipality) -> SteeringModel | None:
    return SteeringModel.objects.filter(municipality=municipality).first()


def _scale(municipality: Municipality) -> str:
    model = _model(municipality)
    return rollup.settings_for(model).scale if model else "achieved"


# --- The list ---------------------------------------------------------------------------------


@login_required
@require_GET
def indicator_list(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    rollup.ensure_fresh(municipality)
    indicators = (
        Indicator.objects.filter(municipality=municipality)
        .select_related("owner")
        .annotate(n_items=Count("plan_items", distinct=True))
    )
    search = request.GET.get("sok", "").replace("\x00", "").strip()[:100]
    kind = request.GET.get("typ", "")
    source = request.GET.get("kalla", "")
    if search:
        indicators = indicators.filter(Q(title__icontains=search) | Q(kolada_kpi__iexact=search))
    if kind in IndicatorKind.values:
        indicators = indicators.filter(kind=kind)
    if source in Source.values:
        indicators = indicators.filter(source=source)
    if request.GET.get("flaggade"):
        indicators = indicators.filter(
            Q(kolada_renamed=True)
            | Q(kolada_discontinued=True)
            | Q(kolada_missing=True)
            | Q(kolada_revisions__gt=0)
        )
    page = Paginator(indicators.order_by("title", "pk"), 50).get_page(request.GET.get("sida"))
    rows = list(page.object_list)
    statuses = rollup.latest_statuses([i.pk for i in rows])
    latest = _latest_values(municipality, rows)
    scale = _scale(municipality)
    table = [
        {
            "indicator": indicator,
            "latest": latest.get(indicator.pk),
            "status": statuses.get(indicator.pk),
            "badge": _indicator_badge(indicator, statuses.get(indicator.pk), scale),
        }
        for indicator in rows
    ]
    return render(
        request,
        "indicators/list.html",
        {
            "municipality": municipality,
            "access": access,
            "rows": table,
            "page": page,
            "search": search,
            "kind": kind,
            "source": source,
            "flagged": bool(request.GET.get("flaggade")),
            "kinds": IndicatorKind.choices,
            "sources": Source.choices,
        },
    )


def _latest_values(municipality: Municipality, indicators: Sequence[Indicator]) -> dict[int, Value]:
    latest: dict[int, Value] = {}
    for value in Value.objects.filter(
        indicator__in=indicators, area=municipality.code, gender="T", value__isnull=False
    ).order_by("period_end"):
        latest[value.indicator_id] = value
    return latest


def _indicator_badge(indicator: Indicator, status: Any, scale: str) -> Any:
    if status is None or not indicator.has_targets:
        return None
    return explain.badge(
        status.status,
        scale,
        explain.indicator_text(
            status.reasons, scale=scale, decimals=indicator.decimals, unit=indicator.unit
        ),
        warning=status.warning,
    )


# --- One indicator ----------------------------------------------------------------------------


def _area_titles(indicator: Indicator) -> dict[str, str]:
    municipality = indicator.municipality
    titles = {municipality.code: municipality.name, RIKET: _("Sweden (Riket)")}
    if indicator.compare_group:
        titles[indicator.compare_group] = indicator.compare_group_title or indicator.compare_group
    return titles


def _detail_context(indicator: Indicator, access: Access, can_edit: bool) -> dict[str, Any]:
    municipality = indicator.municipality
    rollup.ensure_fresh(municipality)
    own = municipality.code
    values = list(indicator.values.select_related("entered_by", "imported").order_by("period_end"))
    by_area: dict[str, list[Value]] = defaultdict(list)
    for value in values:
        if value.gender == "T":
            by_area[value.area].append(value)
    titles = _area_titles(indicator)
    targets = list(
        indicator.targets.select_related("period").order_by("period__start_year", "year")
    )
    status = rollup.latest_statuses([indicator.pk]).get(indicator.pk)
    scale = _scale(municipality)
    # Chart series: own values, targets, accepted values, comparison, Riket, projection.
    series = [
        charts.Series(
            "own",
            municipality.name,
            [(v.period_end, v.value) for v in by_area[own] if v.value is not None],
        ),
    ]
    if indicator.has_targets:
        series.append(
            charts.Series(
                "target",
                _("Target value"),
                [(datetime.date(t.for_year, 12, 31), t.value) for t in targets],
                line=False,
                marker="square",
            )
        )
        series.append(
            charts.Series(
                "accepted",
                _("Accepted value"),
                [
                    (datetime.date(t.for_year, 12, 31), t.accepted_value)
                    for t in targets
                    if t.accepted_value is not None
                ],
                line=False,
                marker="triangle",
            )
        )
    for area in sorted(by_area):
        if area == own:
            continue
        key = "riket" if area == RIKET else "group"
        series.append(
            charts.Series(
                key,
                titles.get(area, area),
                [(v.period_end, v.value) for v in by_area[area] if v.value is not None],
                marker="diamond" if key == "group" else "none",
                dash="6 4" if key == "group" else "2 3",
            )
        )
    own_points = series[0].points
    if status is not None and status.projection is not None and own_points:
        last_end, last_value = own_points[-1]
        to = datetime.date(status.projection_year or last_end.year, 12, 31)
        series.append(
            charts.Series(
                "projection",
                _("Projection"),
                [(last_end, last_value), (to, status.projection)],
                marker="circle",
                dash="1 4",
            )
        )
    chart = charts.line_chart(
        series,
        title_id="h-chart",
        desc=_("The same values are in the table below the chart."),
        decimals=indicator.decimals,
    )
    # The table: one row per period, a column per area (and gender when split).
    columns: list[tuple[str, str, str]] = [(own, "T", municipality.name)]
    if indicator.by_gender:
        columns += [(own, "K", _("Women")), (own, "M", _("Men"))]
    columns += [(area, "T", titles.get(area, area)) for area in sorted(by_area) if area != own]
    cells: dict[tuple[str, str, str], Value] = {}
    periods: dict[str, datetime.date] = {}
    for value in values:
        cells[(value.label, value.area, value.gender)] = value
        periods[value.label] = value.period_end
    target_by_year = {t.for_year: t for t in targets if t.year}
    end_targets = {t.for_year: t for t in targets if not t.year}
    table = []
    for label, _end in sorted(periods.items(), key=lambda kv: kv[1]):
        year = int(label[:4])
        target = target_by_year.get(year) or (end_targets.get(year) if label == str(year) else None)
        table.append(
            {
                "label": label,
                "cells": [cells.get((label, area, gender)) for area, gender, _t in columns],
                "target": target if label == str(year) else None,
            }
        )
    linked = list(indicator.plan_items.select_related("level", "owner", "plan_year"))
    return {
        "municipality": municipality,
        "access": access,
        "indicator": indicator,
        "can_edit": can_edit,
        "chart": chart,
        "columns": columns,
        "table": table,
        "targets": targets,
        "status": status,
        "status_text": explain.indicator_text(
            status.reasons, scale=scale, decimals=indicator.decimals, unit=indicator.unit
        )
        if status
        else "",
        "badge": _indicator_badge(indicator, status, scale),
        "linked": linked,
        "kolada_source": indicator.source == Source.KOLADA,
        "has_revisions": any(v.revised_from is not None for v in values),
        "events": [(event, event.changed_fields()) for event in history(indicator)[:30]],
    }


@login_required
@require_GET
def indicator_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    indicator, access, can_edit = _get_indicator_for_user(request, code, pk)
    return render(request, "indicators/detail.html", _detail_context(indicator, access, can_edit))


@login_required
@require_http_methods(["GET", "POST"])
def indicator_create(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    if not access.can_edit_anything:
        raise PermissionDenied
    form = IndicatorForm(request.POST or None, owners=_editable_units(municipality, access))
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            indicator = services.indicator_create(
                user=request.user,  # type: ignore[arg-type]
                municipality=municipality,
                data=data,
            )
        except services.IndicatorError as exc:
            errors = exc.problems
        else:
            messages.success(request, _("The indicator was created."))
            return redirect("indicators:detail", municipality.code, indicator.pk)
    return render(
        request,
        "indicators/form.html",
        {"municipality": municipality, "access": access, "form": form, "errors": errors},
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def indicator_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    indicator, access, can_edit = _get_indicator_for_user(request, code, pk)
    if not can_edit:
        raise PermissionDenied
    municipality = indicator.municipality
    form = IndicatorForm(
        request.POST or None,
        instance=Indicator.objects.get(pk=indicator.pk),
        owners=_editable_units(municipality, access),
        initial={"version": indicator.version},
    )
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
            try:
                services.indicator_update(
                    user=request.user,  # type: ignore[arg-type]
                    indicator=indicator,
                    expected_version=form.cleaned_data.get("version") or 0,
                    data=data,
                )
            except services.IndicatorError as exc:
                errors = exc.problems
                status = 409 if isinstance(exc, services.StaleIndicatorEdit) else 422
            else:
                messages.success(request, _("Your changes were saved."))
                return redirect("indicators:detail", municipality.code, indicator.pk)
    return render(
        request,
        "indicators/form.html",
        {
            "municipality": municipality,
            "access": access,
            "form": form,
            "errors": errors,
            "indicator": indicator,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def indicator_delete(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    indicator, access, can_edit = _get_indicator_for_user(request, code, pk)
    if not can_edit:
        raise PermissionDenied
    if request.method == "POST":
        services.indicator_delete(user=request.user, indicator=indicator)  # type: ignore[arg-type]
        messages.success(
            request, _("The indicator “%(title)s” was deleted.") % {"title": indicator.title}
        )
        return redirect("indicators:list", indicator.municipality.code)
    return render(
        request,
        "indicators/delete.html",
        {
            "municipality": indicator.municipality,
            "access": access,
            "indicator": indicator,
            "n_values": indicator.values.count(),
            "n_items": indicator.plan_items.count(),
        },
    )


# --- Values and targets -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def value_entry(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    indicator, access, can_edit = _get_indicator_for_user(request, code, pk)
    if not can_edit:
        raise PermissionDenied
    municipality = indicator.municipality
    initial: dict[str, Any] = {"gender": "T"}
    period_text = request.GET.get("period", "").replace("\x00", "")[:20]
    if period_text:
        initial["period"] = period_text
        form_for_lookup = ValueForm(
            {"period": period_text, "gender": request.GET.get("gender", "T")}, indicator=indicator
        )
        if form_for_lookup.is_valid():
            period = form_for_lookup.cleaned_data["period"]
            found = Value.objects.filter(
                indicator=indicator,
                area=municipality.code,
                year=period.year,
                period_kind=period.kind,
                period_number=period.number or 0,
                gender=form_for_lookup.cleaned_data.get("gender", "T"),
            ).first()
            if found is not None:
                initial.update(
                    {
                        "value": explain.number(str(found.value), indicator.decimals)
                        if found.value is not None
                        else "",
                        "comment": found.comment,
                        "version": found.version,
                        "gender": found.gender,
                    }
                )
    form = ValueForm(request.POST or None, indicator=indicator, initial=initial)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            period = form.cleaned_data["period"]
            try:
                services.value_set(
                    user=request.user,  # type: ignore[arg-type]
                    indicator=indicator,
                    row=services.ValueInput(
                        year=period.year,
                        kind=period.kind,
                        number=period.number,
                        value=form.cleaned_data["value"],
                        gender=form.cleaned_data.get("gender") or "T",
                        comment=form.cleaned_data["comment"].strip(),
                    ),
                    expected_version=form.cleaned_data.get("version"),
                )
            except services.IndicatorError as exc:
                errors = exc.problems
                status = 409 if isinstance(exc, services.StaleIndicatorEdit) else 422
            else:
                messages.success(
                    request, _("The value for %(period)s was saved.") % {"period": str(period)}
                )
                return redirect("indicators:detail", municipality.code, indicator.pk)
    recent = indicator.values.filter(area=municipality.code).order_by("-period_end")[:12]
    return render(
        request,
        "indicators/value_form.html",
        {
            "municipality": municipality,
            "access": access,
            "indicator": indicator,
            "form": form,
            "errors": errors,
            "recent": recent,
        },
        status=status,
    )


def _target_periods(indicator: Indicator) -> list[PlanPeriod]:
    return list(
        PlanPeriod.objects.filter(municipality_id=indicator.municipality_id).order_by("start_year")
    )


@login_required
@require_http_methods(["GET", "POST"])
def targets_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    indicator, access, can_edit = _get_indicator_for_user(request, code, pk)
    if not can_edit:
        raise PermissionDenied
    municipality = indicator.municipality
    if not indicator.has_targets:
        messages.info(request, _("A key figure has no target values."))
        return redirect("indicators:detail", municipality.code, indicator.pk)
    periods = _target_periods(indicator)
    initial: dict[str, Any] = {
        "version": indicator.version,
        "baseline_value": explain.number(str(indicator.baseline_value), indicator.decimals)
        if indicator.baseline_value is not None
        else "",
        "baseline_year": indicator.baseline_year,
    }
    for target in indicator.targets.all():
        key = f"{target.period_id}_{target.year or 'end'}"
        initial[f"target_{key}"] = explain.number(str(target.value), indicator.decimals)
        if target.accepted_value is not None:
            initial[f"accepted_{key}"] = explain.number(
                str(target.accepted_value), indicator.decimals
            )
    form = TargetsForm(request.POST or None, indicator=indicator, periods=periods, initial=initial)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            rows = [
                services.TargetInput(
                    period,
                    year,
                    form.cleaned_data[f"target_{key}"],
                    form.cleaned_data[f"accepted_{key}"],
                )
                for period, year, key, _label in form.rows
            ]
            try:
                changed = services.targets_set(
                    user=request.user,  # type: ignore[arg-type]
                    indicator=indicator,
                    rows=rows,
                    expected_version=form.cleaned_data["version"],
                    baseline=(
                        form.cleaned_data["baseline_value"],
                        form.cleaned_data["baseline_year"],
                    ),
                )
            except services.IndicatorError as exc:
                errors = exc.problems
                status = 409 if isinstance(exc, services.StaleIndicatorEdit) else 422
            else:
                if changed:
                    messages.success(request, _("The target values were saved."))
                else:
                    messages.info(request, _("Nothing was changed."))
                return redirect("indicators:detail", municipality.code, indicator.pk)
    return render(
        request,
        "indicators/targets_form.html",
        {
            "municipality": municipality,
            "access": access,
            "indicator": indicator,
            "form": form,
            "errors": errors,
        },
        status=status,
    )


# --- Kolada -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def kolada_catalogue(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    owners = _editable_units(municipality, access)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if not access.can_edit_anything:
            raise PermissionDenied
        form = KpiCreateForm(request.POST, owners=owners)
        status = 422
        if form.is_valid():
            try:
                indicator, summary = kolada.indicator_from_kpi(
                    user=request.user,  # type: ignore[arg-type]
                    municipality=municipality,
                    kpi_id=form.cleaned_data["kpi"],
                    owner=form.cleaned_data["owner"],
                )
            except kolada_lib.KoladaError as exc:
                errors = [
                    _("Kolada could not be asked; nothing was saved. (%(reason)s)")
                    % {"reason": exc}
                ]
                status = 502
            except services.IndicatorError as exc:
                errors = exc.problems
            else:
                messages.success(
                    request,
                    _("The indicator was created with %(n)s values from Kolada.")
                    % {"n": summary.created},
                )
                return redirect("indicators:detail", municipality.code, indicator.pk)
        else:
            errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
    kolada.ensure_catalogue()
    search = request.GET.get("sok", "").replace("\x00", "").strip()[:100]
    area = request.GET.get("omrade", "").replace("\x00", "")[:200]
    found = kolada.catalogue_search(search, area) if (search or area) else KoladaKpi.objects.none()
    page = Paginator(found, 25).get_page(request.GET.get("sida"))
    used = set(
        Indicator.objects.filter(
            municipality=municipality, kolada_kpi__in=[k.id for k in page]
        ).values_list("kolada_kpi", flat=True)
    )
    return render(
        request,
        "indicators/kolada.html",
        {
            "municipality": municipality,
            "access": access,
            "search": search,
            "area": area,
            "areas": kolada.operating_areas(),
            "page": page,
            "used": used,
            "owners": owners if access.can_edit_anything else None,
            "errors": errors,
            "searched": bool(search or area),
        },
        status=status,
    )


@login_required
@require_POST
def kolada_refresh(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    indicator, _access, can_edit = _get_indicator_for_user(request, code, pk)
    if not can_edit:
        raise PermissionDenied
    try:
        summary = kolada.refresh(user=request.user, indicator=indicator)  # type: ignore[arg-type]
    except kolada_lib.KoladaError as exc:
        messages.error(
            request,
            _("Kolada could not be asked; nothing was changed. (%(reason)s)") % {"reason": exc},
        )
    except services.IndicatorError as exc:
        messages.error(request, " ".join(exc.problems))
    else:
        messages.success(
            request,
            _(
                "Fetched from Kolada: %(created)s new, %(updated)s revised, %(unchanged)s "
                "unchanged values."
            )
            % {
                "created": summary.created,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
            },
        )
    return redirect("indicators:detail", indicator.municipality.code, indicator.pk)


@login_required
@require_POST
def kolada_acknowledge(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    indicator, _access, can_edit = _get_indicator_for_user(request, code, pk)
    if not can_edit or indicator.source != Source.KOLADA:
        raise PermissionDenied
    kolada.acknowledge(user=request.user, indicator=indicator)  # type: ignore[arg-type]
    messages.success(request, _("Kolada's changes are marked as seen."))
    return redirect("indicators:detail", indicator.municipality.code, indicator.pk)


# --- File import ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def values_import(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    if not access.can_edit_anything:
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            upload = form.cleaned_data["file"]
            result = imports.values_import(
                user=request.user,  # type: ignore[arg-type]
                municipality=municipality,
                access=access,
                data=upload.read(),
                filename=upload.name,
            )
            if not result.problems:
                status = 200
    editable = Indicator.objects.filter(
        municipality=municipality, owner__in=_editable_units(municipality, access)
    ).order_by("title")[:200]
    return render(
        request,
        "indicators/import.html",
        {
            "municipality": municipality,
            "access": access,
            "form": form,
            "result": result,
            "editable": editable,
        },
        status=status,
    )


# --- Assessment rules -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def assessment_settings(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    model = _model(municipality)
    if model is None:
        raise Http404
    current = rollup.settings_for(model)
    if request.method == "POST" and not access.can_configure:
        raise PermissionDenied
    form = SettingsForm(
        request.POST or None, instance=current, initial={"version": current.version}
    )
    if not access.can_configure:
        for field in form.fields.values():
            field.disabled = True
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
            try:
                services.assessment_settings_update(
                    user=request.user,  # type: ignore[arg-type]
                    model=model,
                    data=data,
                    expected_version=form.cleaned_data["version"],
                )
            except services.IndicatorError as exc:
                errors = exc.problems
                status = 409
            else:
                messages.success(request, _("The assessment rules were saved."))
                return redirect("indicators:settings", municipality.code)
    return render(
        request,
        "indicators/settings.html",
        {
            "municipality": municipality,
            "access": access,
            "form": form,
            "errors": errors,
            "model": model,
        },
        status=status,
    )


# --- On the item page -------------------------------------------------------------------------


def _item_or_404(request: HttpRequest, code: str, pk: int) -> tuple[PlanItem, Access, bool]:
    municipality, access = get_municipality_for_user(request, code)
    item = get_object_or_404(
        PlanItem.objects.select_related("level", "owner"), pk=pk, municipality=municipality
    )
    item.municipality = municipality
    return item, access, access.can_edit_unit(item.owner)


def item_panel(
    request: HttpRequest, item: PlanItem, access: Access, can_edit: bool, **extra: Any
) -> str:
    """The item page's section on indicators and the item's assessment."""
    municipality = item.municipality
    rollup.ensure_fresh(municipality)
    scale = _scale(municipality)
    state = ItemRollup.objects.filter(item=item).first()
    indicators = list(item.indicators.select_related("owner").order_by("title"))
    # The indicators as the item is judged: as of its year (or its period's last year).
    as_of = (
        item.plan_year.year
        if item.level.horizon == "year" and item.plan_year
        else item.period.end_year
    )
    by_year = rollup.statuses_by_year([i.pk for i in indicators])
    latest = rollup.latest_statuses([i.pk for i in indicators])
    rows = [
        {
            "indicator": i,
            "badge": _indicator_badge(i, by_year.get((i.pk, as_of)) or latest.get(i.pk), scale),
        }
        for i in indicators
    ]
    link_form = None
    search = request.GET.get("indikatorsok", "").replace("\x00", "").strip()[:100]
    if can_edit and item.level.has_indicators:
        # Those owned along the item's owner's line, or found by a search: a select of every
        # indicator of a large city would be thousands of options.
        choices = Indicator.objects.filter(municipality=municipality).exclude(
            pk__in=[i.pk for i in indicators]
        )
        if search:
            choices = choices.filter(title__icontains=search)
        else:
            above = [int(pk) for pk in item.owner.path.strip("/").split("/") if pk]
            choices = choices.filter(
                Q(owner__path__startswith=item.owner.path) | Q(owner_id__in=above)
            )
        # Rendered as plain options (Django's widget templates cost ~0.2 ms an option);
        # the POST is checked by LinkIndicatorForm against all the municipality's indicators.
        link_form = list(choices.order_by("title").values_list("pk", "title")[:100])
    overrides = list(StatusOverride.objects.filter(item=item).select_related("created_by")[:10])
    context = {
        "municipality": municipality,
        "item": item,
        "can_edit": can_edit,
        "rows": rows,
        "state": state,
        "scale": scale,
        "proposed_label": explain.status_label(state.proposed, scale) if state else "",
        "explanation": explain.item_text(state.reasons, scale=scale) if state else "",
        "badge": explain.badge(
            state.status,
            scale,
            warning=state.warning,
            overridden=state.overridden,
        )
        if state and state.status
        else None,
        "override_form": OverrideForm(
            initial={"status": state.status if state and state.overridden else ""}
        )
        if can_edit and item.level.assessed
        else None,
        "overrides": overrides,
        "indicator_link_form": link_form,
        "can_link": link_form is not None,
        "indicator_search": search,
        "carries": item.level.has_indicators,
        "assessed": item.level.assessed,
        **extra,
    }
    if not (indicators or item.level.has_indicators or item.level.assessed or state):
        return ""
    return render_to_string("indicators/_item_panel.html", context, request=request)


def node_badges(municipality: Municipality, items: list[PlanItem]) -> None:
    """Set each shown item's status badge (thread tree, item page)."""
    rollup.ensure_fresh(municipality)
    scale = _scale(municipality)
    states = {s.item_id: s for s in ItemRollup.objects.filter(item__in=[i.pk for i in items])}
    for item in items:
        state = states.get(item.pk)
        if state is not None and state.status:
            item.assessment_badge = explain.badge(  # type: ignore[attr-defined]
                state.status,
                scale,
                explain.item_text(state.reasons, scale=scale),
                warning=state.warning,
                overridden=state.overridden,
            )


@login_required
@require_POST
def item_indicator_link(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    item, _access, can_edit = _item_or_404(request, code, pk)
    if not can_edit:
        raise PermissionDenied
    form = LinkIndicatorForm(
        request.POST, indicators=Indicator.objects.filter(municipality=item.municipality)
    )
    if form.is_valid():
        try:
            services.indicator_link(
                user=request.user,  # type: ignore[arg-type]
                indicator=form.cleaned_data["indicator"],
                item=item,
            )
        except services.IndicatorError as exc:
            messages.error(request, " ".join(exc.problems))
        else:
            messages.success(request, _("The indicator now measures this item."))
    else:
        messages.error(request, _("Choose one of the municipality's indicators."))
    return redirect("steering:item", item.municipality.code, item.pk)


@login_required
@require_POST
def item_indicator_unlink(
    request: HttpRequest, code: str, pk: int, indicator_pk: int
) -> HttpResponse:
    item, _access, can_edit = _item_or_404(request, code, pk)
    if not can_edit:
        raise PermissionDenied
    indicator = get_object_or_404(Indicator, pk=indicator_pk, municipality=item.municipality)
    try:
        services.indicator_unlink(
            user=request.user,  # type: ignore[arg-type]
            indicator=indicator,
            item=item,
        )
    except services.IndicatorError as exc:
        messages.error(request, " ".join(exc.problems))
    else:
        messages.success(request, _("The indicator no longer measures this item."))
    return redirect("steering:item", item.municipality.code, item.pk)


@login_required
@require_POST
def item_override(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    item, _access, can_edit = _item_or_404(request, code, pk)
    if not can_edit or not item.level.assessed:
        raise PermissionDenied
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            services.status_override(
                user=request.user,  # type: ignore[arg-type]
                item=item,
                status=form.cleaned_data["status"],
                justification=form.cleaned_data["justification"],
            )
        except services.IndicatorError as exc:
            messages.error(request, " ".join(exc.problems))
        else:
            messages.success(request, _("Your judgement was saved beside the proposal."))
    else:
        messages.error(request, _("Say why you judge the goal differently from the proposal."))
    return redirect("steering:item", item.municipality.code, item.pk)

"""Economy pages: the boards' overview, a unit's months, the ledger import and its mapping,
budgets (frames, programme, investments), settings, and the public summary."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from rodtrad.finance import selectors, services
from rodtrad.finance.forms import (
    ForecastForm,
    FrameForm,
    LedgerImportForm,
    MappingForm,
    SettingsForm,
)
from rodtrad.finance.models import (
    ActivityArea,
    BudgetFrame,
    BudgetLine,
    Forecast,
    InvestmentBudget,
    InvestmentProject,
    LedgerImport,
    LedgerRow,
    ProgrammeBudget,
)
from rodtrad.indicators import charts
from rodtrad.indicators.forms import SwedishDecimalField
from rodtrad.organisations.access import Access, get_municipality_for_user
from rodtrad.organisations.models import Municipality, OrgUnit
from rodtrad.steering.models import PlanItem, PlanLink

MONTHS = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]


def _year(request: HttpRequest, municipality: Municipality) -> int:
    text = request.GET.get("ar", "")
    if text.isascii() and text.isdigit() and 2000 <= int(text) <= 2100:
        return int(text)
    latest = LedgerRow.objects.filter(municipality=municipality).order_by("-year").first()
    return latest.year if latest else timezone.localdate().year


def _years(municipality: Municipality, year: int) -> list[int]:
    found = set(
        LedgerRow.objects.filter(municipality=municipality).values_list("year", flat=True)
    ) | set(BudgetFrame.objects.filter(municipality=municipality).values_list("year", flat=True))
    return sorted(found | {year})


def _require_economist(access: Access) -> None:
    """Imports, mapping, budgets: admins and controllers of the whole tree."""
    if not access.can_plan():
        raise PermissionDenied


# --- Overview and unit pages ------------------------------------------------------------------


@login_required
@require_GET
def overview(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    year = _year(request, municipality)
    rules = services.settings_for(municipality)
    paths = selectors.visible_paths(access, rules)
    shown = [u for u in selectors.boards(municipality, year) if selectors.may_see(u, paths)]
    rows = selectors.economy(municipality, year, shown)
    total = selectors.UnitEconomy(unit=OrgUnit(name=_("All boards")), year=year)
    for row in rows:
        for month in range(12):
            total.outcome_by_month[month] += row.outcome_by_month[month]
            total.budget_by_month[month] += row.budget_by_month[month]
        total.months_with_outcome = max(total.months_with_outcome, row.months_with_outcome)
    latest = LedgerImport.objects.filter(municipality=municipality, year=year).first()
    return render(
        request,
        "finance/overview.html",
        {
            "municipality": municipality,
            "access": access,
            "year": year,
            "years": _years(municipality, year),
            "rows": rows,
            "total": total if paths is None and rows else None,
            "latest_import": latest,
            "rules": rules,
            "limited": paths is not None,
        },
    )


def _unit_for_user(request: HttpRequest, code: str, pk: int) -> tuple[OrgUnit, Access, bool]:
    municipality, access = get_municipality_for_user(request, code)
    unit = get_object_or_404(OrgUnit, pk=pk, municipality=municipality)
    unit.municipality = municipality
    paths = selectors.visible_paths(access, services.settings_for(municipality))
    if not selectors.may_see(unit, paths):
        raise Http404
    return unit, access, access.can_edit_unit(unit)


@login_required
@require_http_methods(["GET", "POST"])
def unit_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    unit, access, can_edit = _unit_for_user(request, code, pk)
    municipality = unit.municipality
    year = _year(request, municipality)
    (figures,) = selectors.economy(municipality, year, [unit])
    errors: list[str] = []
    status = 200
    # The form is for this month's forecast (the last month with outcome); the latest
    # forecast fills it in when this month has none yet.
    chosen = request.GET.get("manad", "")
    month = (
        int(chosen)
        if chosen.isascii() and chosen.isdigit() and 1 <= int(chosen) <= 12
        else max(1, figures.months_with_outcome)
    )
    this_month = Forecast.objects.filter(org_unit=unit, year=year, month=month).first()
    shown = this_month or figures.forecast
    initial: dict[str, Any] = {
        "month": month,
        "amount": f"{shown.amount:.0f}" if shown else "",
        "comment": shown.comment if shown else "",
        "version": this_month.version if this_month else None,
    }
    form = ForecastForm(request.POST or None, initial=initial) if can_edit else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        status = 422
        if form.is_valid():
            expected = form.cleaned_data.get("version")
            shown_text = request.POST.get("shown_month", "")
            if shown_text.isascii() and shown_text.isdigit() and 1 <= int(shown_text) <= 12:
                month = int(shown_text)  # the month the page showed (an import may have moved on)
            if form.cleaned_data["month"] != month:
                # The version on the page is that of the month shown; another month's
                # forecast is opened first so nobody overwrites one they have not seen.
                other = Forecast.objects.filter(
                    org_unit=unit, year=year, month=form.cleaned_data["month"]
                ).first()
                expected = None
                if other is not None:
                    errors = [
                        _(
                            "Month %(month)s already has a forecast (%(amount)s kr). Open that "
                            "month to change it."
                        )
                        % {"month": other.month, "amount": f"{other.amount:,.0f}".replace(",", " ")}
                    ]
            month = form.cleaned_data["month"]
            try:
                if errors:
                    raise services.StaleFinanceEdit(errors)
                services.forecast_set(
                    user=request.user,  # type: ignore[arg-type]
                    municipality=municipality,
                    org_unit=unit,
                    year=year,
                    month=month,
                    amount=form.cleaned_data["amount"],
                    comment=form.cleaned_data["comment"],
                    budget=figures.budget,
                    expected_version=expected,
                )
            except services.FinanceError as exc:
                errors = exc.problems
                status = 409 if isinstance(exc, services.StaleFinanceEdit) else 422
            else:
                messages.success(request, _("The forecast was saved."))
                return redirect(f"{request.path}?ar={year}")
    children = list(OrgUnit.objects.filter(municipality=municipality, parent=unit).order_by("name"))
    child_rows = selectors.economy(municipality, year, children)
    cumulative_budget = figures.cumulative(figures.budget_by_month)
    cumulative_outcome = figures.cumulative(figures.outcome_by_month)
    months = figures.months_with_outcome
    series = [
        charts.Series(
            "target",
            _("Budget, accumulated"),
            [(_month_end(year, m + 1), cumulative_budget[m]) for m in range(12)],
            marker="square",
            dash="6 4",
        ),
        charts.Series(
            "own",
            _("Outcome, accumulated"),
            [(_month_end(year, m + 1), cumulative_outcome[m]) for m in range(months)],
        ),
    ]
    if figures.forecast is not None and months:
        series.append(
            charts.Series(
                "projection",
                _("Forecast for the year"),
                [
                    (_month_end(year, months), cumulative_outcome[months - 1]),
                    (_month_end(year, 12), figures.forecast.amount),
                ],
                dash="1 4",
            )
        )
    table = [
        {
            "month": MONTHS[m],
            "budget": figures.budget_by_month[m],
            "outcome": figures.outcome_by_month[m] if m < months else None,
            "cumulative_budget": cumulative_budget[m],
            "cumulative_outcome": cumulative_outcome[m] if m < months else None,
        }
        for m in range(12)
    ]
    history = list(Forecast.objects.filter(org_unit=unit, year=year).select_related("created_by"))
    return render(
        request,
        "finance/unit.html",
        {
            "municipality": municipality,
            "access": access,
            "unit": unit,
            "year": year,
            "years": _years(municipality, year),
            "figures": figures,
            "chart": charts.line_chart(
                series,
                title_id="h-months",
                desc=_("The same figures are in the table below the chart."),
                decimals=0,
            ),
            "table": table,
            "children": child_rows,
            "form": form,
            "errors": errors,
            "history": history,
            "rules": services.settings_for(municipality),
            "accounts": _by_account(municipality, unit, year),
            "months_choice": range(1, 13),
        },
        status=status,
    )


def _month_end(year: int, month: int) -> datetime.date:
    if month == 12:
        return datetime.date(year, 12, 31)
    return datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)


def _by_account(municipality: Municipality, unit: OrgUnit, year: int) -> list[dict[str, Any]]:
    """Outcome to date by account for the unit's subtree."""
    codes = [
        code
        for code, unit_id in services.responsibility_map(municipality).items()
        if unit_id
        in set(
            OrgUnit.objects.filter(
                municipality=municipality, path__startswith=unit.path
            ).values_list("pk", flat=True)
        )
    ]
    from rodtrad.finance.models import Account

    names = dict(Account.objects.filter(municipality=municipality).values_list("number", "name"))
    rows = (
        LedgerRow.objects.filter(municipality=municipality, year=year, responsibility__in=codes)
        .values("account")
        .annotate(total=Sum("amount"))
        .order_by("account")
    )
    return [
        {"account": r["account"], "name": names.get(r["account"], ""), "total": r["total"]}
        for r in rows
        if r["account"][0] in services.OPERATING
    ]


# --- Import and mapping -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def ledger_import(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    _require_economist(access)
    form = LedgerImportForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            upload = form.cleaned_data["file"]
            name = upload.name.lower()
            if name.endswith((".csv", ".xlsx")):
                result = services.ledger_import_csv(
                    user=request.user,  # type: ignore[arg-type]
                    municipality=municipality,
                    data=upload.read(),
                    filename=upload.name,
                )
            else:
                result = services.ledger_import_sie4(
                    user=request.user,  # type: ignore[arg-type]
                    municipality=municipality,
                    stream=upload.file,
                    filename=upload.name,
                    with_budget=form.cleaned_data["with_budget"],
                )
            if not result.problems:
                status = 200
    return render(
        request,
        "finance/import.html",
        {
            "municipality": municipality,
            "access": access,
            "form": form,
            "result": result,
            "imports": LedgerImport.objects.filter(municipality=municipality).select_related(
                "created_by"
            )[:20],
            "unmapped": len(selectors.unmapped_codes(municipality)),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def mapping(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    _require_economist(access)
    units = OrgUnit.objects.filter(municipality=municipality).order_by("path")
    areas = ActivityArea.objects.filter(municipality=municipality)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        form = MappingForm(request.POST, units=units, areas=areas)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            target = data["org_unit"] if data["dimension"] == "ansvar" else data["activity_area"]
            if target is None:
                errors = [_("Choose what the code means.")]
            else:
                services.mapping_set(
                    user=request.user,  # type: ignore[arg-type]
                    municipality=municipality,
                    dimension=data["dimension"],
                    code=data["code"],
                    org_unit=data["org_unit"] if data["dimension"] == "ansvar" else None,
                    activity_area=data["activity_area"]
                    if data["dimension"] == "verksamhet"
                    else None,
                )
                messages.success(
                    request, _("The code %(code)s is mapped.") % {"code": data["code"]}
                )
                return redirect("finance:mapping", municipality.code)
        else:
            errors = [_("Choose one of the municipality's org units or activity areas.")]
    return render(
        request,
        "finance/mapping.html",
        {
            "municipality": municipality,
            "access": access,
            "unmapped": selectors.unmapped_codes(municipality),
            "unmapped_activities": selectors.unmapped_activities(municipality),
            "units": units,
            "areas": areas,
            "errors": errors,
            "mapped": services.responsibility_map(municipality),
        },
        status=status,
    )


# --- Budgets ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def budgets(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    year = _year(request, municipality)
    errors: list[str] = []
    status = 200
    paths = selectors.visible_paths(access, services.settings_for(municipality))
    board_list = [b for b in selectors.boards(municipality, year) if selectors.may_see(b, paths)]
    frames = {
        f.org_unit_id: f for f in BudgetFrame.objects.filter(municipality=municipality, year=year)
    }
    if request.method == "POST":
        _require_economist(access)
        status = 422
        kind = request.POST.get("kind", "frame")
        try:
            if kind == "programme":
                _post_programme(request, municipality, year)
            elif kind == "investment":
                _post_investment(request, municipality, year, board_list)
            else:
                _post_frame(request, municipality, year, board_list)
        except services.FinanceError as exc:
            errors = exc.problems
            status = 409 if isinstance(exc, services.StaleFinanceEdit) else 422
        else:
            messages.success(request, _("The budget was saved."))
            return redirect(f"{request.path}?ar={year}")
    rows = selectors.economy(municipality, year, board_list)
    # The programme budget is the whole municipality's by activity: not for someone who may
    # see only their own board; investments only of the boards they see.
    programme = _programme(municipality, year) if paths is None else []
    investments = [
        i
        for i in _investments(municipality, year)
        if selectors.may_see(i["project"].org_unit, paths)
    ]
    return render(
        request,
        "finance/budgets.html",
        {
            "municipality": municipality,
            "access": access,
            "year": year,
            "years": _years(municipality, year),
            "rows": [(row, frames.get(row.unit.pk)) for row in rows],
            "can_write": access.can_plan(),
            "errors": errors,
            "programme": programme,
            "investments": investments,
            "boards": board_list,
            "limited": paths is not None,
        },
        status=status,
    )


def _post_frame(
    request: HttpRequest, municipality: Municipality, year: int, board_list: list[OrgUnit]
) -> None:
    board = next((b for b in board_list if str(b.pk) == request.POST.get("board")), None)
    form = FrameForm(request.POST)
    if board is None:
        raise services.FinanceError([_("Choose one of the municipality's boards.")])
    if not form.is_valid():
        raise services.FinanceError(
            [f"{board.name}: {e}" for errs in form.errors.values() for e in errs]
        )
    services.frame_set(
        user=request.user,  # type: ignore[arg-type]
        municipality=municipality,
        org_unit=board,
        year=year,
        amount=form.cleaned_data["amount"],
        decided_by=form.cleaned_data["decided_by"],
        decided_on=form.cleaned_data["decided_on"],
        paragraph=form.cleaned_data["paragraph"],
        expected_version=form.cleaned_data.get("version"),
    )


def _amount(request: HttpRequest) -> Decimal:
    field = SwedishDecimalField()
    try:
        value = field.clean(request.POST.get("amount", ""))
    except ValidationError as exc:
        raise services.FinanceError([f"{_('Amount')}: {' '.join(exc.messages)}"]) from None
    if value is None:
        raise services.FinanceError([_("Give an amount.")])
    return value


def _post_programme(request: HttpRequest, municipality: Municipality, year: int) -> None:
    area = ActivityArea.objects.filter(
        municipality=municipality, pk=request.POST.get("area") or 0
    ).first()
    if area is None:
        raise services.FinanceError([_("Choose one of the municipality's activity areas.")])
    services.programme_budget_set(
        user=request.user,  # type: ignore[arg-type]
        municipality=municipality,
        area=area,
        year=year,
        amount=_amount(request),
    )


def _post_investment(
    request: HttpRequest, municipality: Municipality, year: int, board_list: list[OrgUnit]
) -> None:
    board = next((b for b in board_list if str(b.pk) == request.POST.get("board")), None)
    code = request.POST.get("code", "").strip()[:20]
    name = request.POST.get("name", "").strip()[:200]
    if board is None or not code or not name:
        raise services.FinanceError(
            [_("An investment needs a project code, a name and one of the boards.")]
        )
    services.investment_budget_set(
        user=request.user,  # type: ignore[arg-type]
        municipality=municipality,
        code=code,
        name=name,
        board=board,
        year=year,
        amount=_amount(request),
    )


def _operating() -> Q:
    condition = Q()
    for prefix in services.OPERATING:
        condition |= Q(account__startswith=prefix)
    return condition


def _fixed_assets() -> Q:
    condition = Q()
    for prefix in services.INVESTMENT:
        condition |= Q(account__startswith=prefix)
    return condition


def _programme(municipality: Municipality, year: int) -> list[dict[str, Any]]:
    areas = services.activity_map(municipality)
    by_code: dict[str, Decimal] = {}
    for row in (
        LedgerRow.objects.filter(municipality=municipality, year=year)
        .exclude(activity="")
        .filter(_operating())
        .values("activity")
        .annotate(total=Sum("amount"))
    ):
        by_code[row["activity"]] = row["total"]
    budgets = dict(
        ProgrammeBudget.objects.filter(municipality=municipality, year=year).values_list(
            "activity_area_id", "amount"
        )
    )
    outcome_by_area: dict[int, Decimal] = {}
    for activity_code, total in by_code.items():
        area_id = areas.get(activity_code)
        if area_id is not None:
            outcome_by_area[area_id] = outcome_by_area.get(area_id, Decimal(0)) + total
    return [
        {"area": area, "budget": budgets.get(area.pk), "outcome": outcome_by_area.get(area.pk)}
        for area in ActivityArea.objects.filter(municipality=municipality)
    ]


def _investments(municipality: Municipality, year: int) -> list[dict[str, Any]]:
    outcome = {
        row["project"]: row["total"]
        for row in LedgerRow.objects.filter(municipality=municipality, year=year)
        .exclude(project="")
        .filter(_fixed_assets())
        .values("project")
        .annotate(total=Sum("amount"))
    }
    budgets = dict(
        InvestmentBudget.objects.filter(project__municipality=municipality, year=year).values_list(
            "project_id", "amount"
        )
    )
    return [
        {"project": p, "budget": budgets.get(p.pk), "outcome": outcome.get(p.code)}
        for p in InvestmentProject.objects.filter(municipality=municipality).select_related(
            "org_unit"
        )
    ]


# --- Settings and the public page -------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    if request.method == "POST" and not access.can_configure:
        raise PermissionDenied
    current = services.settings_for(municipality)
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
                services.settings_update(
                    user=request.user,  # type: ignore[arg-type]
                    municipality=municipality,
                    data=data,
                    expected_version=form.cleaned_data["version"],
                )
            except services.FinanceError as exc:
                errors = exc.problems
                status = 409
            else:
                messages.success(request, _("The economy settings were saved."))
                return redirect("finance:settings", municipality.code)
    return render(
        request,
        "finance/settings.html",
        {"municipality": municipality, "access": access, "form": form, "errors": errors},
        status=status,
    )


@require_GET
def public(request: HttpRequest, code: str) -> HttpResponse:
    """What citizens may read: frames and outcome per board for the published years only."""
    municipality = get_object_or_404(Municipality, code=code)
    rules = services.settings_for(municipality)
    published = rules.published_year
    years = (
        sorted(y for y in _years(municipality, published) if y <= published) if published else []
    )
    year = _year(request, municipality) if published else None
    if year is not None and year not in years:
        year = years[-1] if years else None
    rows = (
        selectors.economy(municipality, year, selectors.boards(municipality, year)) if year else []
    )
    return render(
        request,
        "finance/public.html",
        {"municipality": municipality, "year": year, "years": years, "rows": rows},
    )


# --- On the item page: what a goal costs -----------------------------------------------------


def item_money_panel(request: HttpRequest, item: PlanItem, access: Access, can_edit: bool) -> str:
    """Budget and outcome of the units that own the item and every item contributing to it."""
    municipality = item.municipality
    year = (
        item.plan_year.year
        if item.plan_year
        else min(item.period.end_year, timezone.localdate().year)
    )
    if not (
        BudgetFrame.objects.filter(municipality=municipality, year=year).exists()
        or BudgetLine.objects.filter(municipality=municipality, year=year).exists()
        or LedgerRow.objects.filter(municipality=municipality, year=year).exists()
    ):
        return ""
    owners = {item.owner.path}
    frontier = [item.pk]
    seen = {item.pk}
    # Walk down the thread; once the top of the organisation owns something, it covers all.
    while frontier and not any(path.count("/") == 2 for path in owners):
        links = list(
            PlanLink.objects.filter(to_item__in=frontier).values_list(
                "from_item_id", "from_item__owner__path"
            )
        )
        frontier = []
        for from_id, path in links:
            if from_id not in seen:
                seen.add(from_id)
                frontier.append(from_id)
                owners.add(path)
    rules = services.settings_for(municipality)
    paths = selectors.visible_paths(access, rules)
    units = [
        u for u in selectors.units_for_items(owners, municipality) if selectors.may_see(u, paths)
    ]
    rows = selectors.economy(municipality, year, units)
    total_budget = sum((r.budget for r in rows), Decimal(0))
    total_outcome = sum((r.outcome_to_date for r in rows), Decimal(0))
    return render_to_string(
        "finance/_item_panel.html",
        {
            "municipality": municipality,
            "item": item,
            "year": year,
            "rows": rows,
            "total_budget": total_budget,
            "total_outcome": total_outcome,
            "months": max((r.months_with_outcome for r in rows), default=0),
            "limited": paths is not None,
        },
        request=request,
    )

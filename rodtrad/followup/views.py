"""Follow-up pages: the periods and my assignments, the cycle overview, a report with one form
per item (the proposal beside), sections, submission, approval, reopening, and the frozen
report as approved."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rodtrad.finance import selectors as finance_selectors
from rodtrad.finance.services import settings_for
from rodtrad.followup import selectors, services
from rodtrad.followup.forms import (
    AssessmentForm,
    DeadlineForm,
    DecisionForm,
    ReopenForm,
    SectionForm,
)
from rodtrad.followup.models import (
    Assessment,
    FollowUpPeriod,
    PeriodStatus,
    Report,
    ReportSection,
    ReportStatus,
    Snapshot,
    Tier,
)
from rodtrad.followup.snapshots import build_snapshots, resolve_references, scale_of
from rodtrad.indicators.explain import badge, item_text, status_label
from rodtrad.organisations.access import Access, get_municipality_for_user
from rodtrad.organisations.models import Municipality, OrgUnit
from rodtrad.steering.models import PlanItem, PlanYear
from rodtrad.steering.services import PlanError, StaleEdit

if TYPE_CHECKING:
    from rodtrad.organisations.models import User

STATUS_FILTERS = ("late", "draft", "submitted", "approved", "council_approved")


def _error_lines(form: Form) -> list[str]:
    """A form's errors as lines naming their field: "Analys: ..."."""
    return [
        f"{form.fields[f].label}: {' '.join(str(x) for x in e)}"
        if f in form.fields
        else " ".join(str(x) for x in e)
        for f, e in form.errors.items()
    ]


def _acting(request: HttpRequest) -> User:
    """The signed-in person (every view here requires a login)."""
    return cast("User", request.user)


def _today(request: HttpRequest) -> datetime.date:
    return timezone.localdate()


def _get_period_for_user(
    request: HttpRequest, code: str, pk: int
) -> tuple[FollowUpPeriod, Municipality, Access]:
    municipality, access = get_municipality_for_user(request, code)
    period = get_object_or_404(
        FollowUpPeriod.objects.select_related("kind", "plan_year"),
        pk=pk,
        municipality=municipality,
    )
    period.municipality = municipality
    return period, municipality, access


def _get_report_for_user(
    request: HttpRequest, code: str, pk: int
) -> tuple[Report, Municipality, Access]:
    municipality, access = get_municipality_for_user(request, code)
    report = get_object_or_404(
        Report.objects.select_related("period__kind", "org_unit__kind"),
        pk=pk,
        municipality=municipality,
    )
    report.municipality = municipality
    report.period.municipality = municipality
    return report, municipality, access


def _economy_visible(access: Access, report: Report) -> bool:
    paths = finance_selectors.visible_paths(access, settings_for(report.municipality))
    return finance_selectors.may_see(report.org_unit, paths)


# --- Periods and my assignments ---------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    years = sorted(
        {p.year for p in FollowUpPeriod.objects.filter(municipality=municipality)}
        | set(
            PlanYear.objects.filter(period__municipality=municipality).values_list(
                "year", flat=True
            )
        )
    )
    chosen = request.GET.get("ar", "")
    today = _today(request)
    if chosen.isascii() and chosen.isdigit() and int(chosen) in years:
        year = int(chosen)
    else:
        year = today.year if today.year in years else (years[-1] if years else today.year)
    periods = list(
        FollowUpPeriod.objects.filter(municipality=municipality, year=year).select_related("kind")
    )
    counts = {
        row["period_id"]: row
        for row in Report.objects.filter(period__in=periods)
        .values("period_id")
        .annotate(reports=Count("pk"), done=Count("pk", filter=~Q(status=ReportStatus.DRAFT)))
        .order_by()
    }
    for period in periods:
        period.counts = counts.get(period.pk, {"reports": 0, "done": 0})  # type: ignore[attr-defined]
        period.past_deadline = today > period.deadline  # type: ignore[attr-defined]
    plan_years = list(
        PlanYear.objects.filter(period__municipality=municipality, year=year).select_related(
            "period"
        )
    )
    mine, mine_total = selectors.assignments(access)
    return render(
        request,
        "followup/home.html",
        {
            "municipality": municipality,
            "access": access,
            "year": year,
            "years": years,
            "periods": periods,
            "plan_years": plan_years,
            "can_manage": selectors.may_manage(access),
            "can_oversee": selectors.may_oversee(access),
            "mine": mine,
            "mine_total": mine_total,
            "today": today,
        },
    )


@login_required
@require_POST
def periods_generate(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    plan_year = get_object_or_404(PlanYear, pk=pk, period__municipality=municipality)
    if not selectors.may_manage(access):
        raise PermissionDenied
    try:
        created = services.periods_generate(plan_year=plan_year, user=_acting(request))
    except PlanError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if created:
            messages.success(
                request,
                ngettext(
                    "%(count)s follow-up period was created.",
                    "%(count)s follow-up periods were created.",
                    len(created),
                )
                % {"count": len(created)},
            )
        else:
            messages.info(request, _("Every period of the year exists already."))
    return redirect(f"{reverse('followup:home', args=[code])}?ar={plan_year.year}")


# --- The cycle overview ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def period_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    period, municipality, access = _get_period_for_user(request, code, pk)
    if not selectors.may_oversee(access):
        raise PermissionDenied
    can_manage = selectors.may_manage(access)
    errors: list[str] = []
    status_code = 200
    deadline_form = DeadlineForm(
        initial={"deadline": period.deadline, "version": period.version},
        auto_id="deadline_%s",
    )
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        deadline_form = DeadlineForm(request.POST, auto_id="deadline_%s")
        if deadline_form.is_valid():
            try:
                services.period_update(
                    period=period,
                    user=_acting(request),
                    deadline=deadline_form.cleaned_data["deadline"],
                    expected_version=deadline_form.cleaned_data["version"],
                )
            except PlanError as exc:
                errors = exc.messages
                status_code = 409 if isinstance(exc, StaleEdit) else 422
            else:
                messages.success(request, _("The deadline was saved."))
                return redirect(request.path)
        else:
            status_code = 422
    today = _today(request)
    status = request.GET.get("status", "")
    status = status if status in STATUS_FILTERS else ""
    board = request.GET.get("namnd", "")[:150]
    data = selectors.overview(period, access, today, status=status, board=board)
    page = Paginator(data.rows, 100).get_page(request.GET.get("sida"))
    # Only what this person may approve gets a box (the service checks again).
    approvable = {
        r.report_id
        for r in page.object_list
        if r.status == ReportStatus.SUBMITTED
        and period.status == PeriodStatus.OPEN
        and selectors.controls_path(access, r.path, strictly_above=r.tier == Tier.UNIT)
    }
    # Labels and links made once here, not per row in the template (up to 100 rows).
    labels = dict(_status_choices())
    tiers: dict[int, str] = {
        Tier.UNIT: _("Unit"),
        Tier.BOARD: _("Board"),
        Tier.COUNCIL: _("Council"),
    }
    link = reverse("followup:report", args=[code, 0]).removesuffix("0/")
    rows = [
        {
            "row": r,
            "url": f"{link}{r.report_id}/",
            "tier": tiers.get(r.tier, ""),
            "status": labels["late"] if r.late else labels.get(r.status, r.status),
            "approvable": r.report_id in approvable,
        }
        for r in page.object_list
    ]
    return render(
        request,
        "followup/period.html",
        {
            "municipality": municipality,
            "access": access,
            "period": period,
            "data": data,
            "page": page,
            "status": status,
            "board": board,
            "boards": [b["board"] for b in data.by_board],
            "statuses": _status_choices(),
            "can_manage": can_manage,
            "deadline_form": deadline_form,
            "decision_form": DecisionForm(auto_id="decision_%s"),
            "approvable": approvable,
            "rows": rows,
            "errors": errors,
            "today": today,
            "past_deadline": today > period.deadline,
        },
        status=status_code,
    )


def _status_choices() -> list[tuple[str, str]]:
    return [
        ("late", _("Late")),
        ("draft", _("Draft")),
        ("submitted", _("Submitted")),
        ("approved", _("Approved")),
        ("council_approved", _("Approved by the council")),
    ]


@login_required
@require_POST
def period_open(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    period, _municipality, access = _get_period_for_user(request, code, pk)
    if not selectors.may_manage(access):
        raise PermissionDenied
    try:
        count = services.period_open(period=period, user=_acting(request))
    except PlanError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            ngettext(
                "The period is open: %(count)s org unit reports.",
                "The period is open: %(count)s org units report.",
                count,
            )
            % {"count": count},
        )
    return redirect("followup:period", code, period.pk)


@login_required
@require_POST
def period_close(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    period, _municipality, access = _get_period_for_user(request, code, pk)
    if not selectors.may_manage(access):
        raise PermissionDenied
    try:
        services.period_close(period=period, user=_acting(request))
    except PlanError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The period is closed."))
    return redirect("followup:period", code, period.pk)


@login_required
@require_POST
def period_remind(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    period, municipality, access = _get_period_for_user(request, code, pk)
    if not selectors.may_manage(access):
        raise PermissionDenied
    sent = services.reminders_send(today=_today(request), municipality=municipality, period=period)
    people = sum(len(addresses) for _report, _key, addresses in sent)
    if sent:
        messages.success(
            request,
            ngettext(
                "Reminders for %(reports)s report were sent to %(people)s addresses.",
                "Reminders for %(reports)s reports were sent to %(people)s addresses.",
                len(sent),
            )
            % {"reports": len(sent), "people": people},
        )
    else:
        messages.info(request, _("No reminder is due today; each is sent once."))
    return redirect("followup:period", code, period.pk)


@login_required
@require_POST
def period_approve(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """Approve several submitted reports with one decision (a board approving its units')."""
    period, _municipality, access = _get_period_for_user(request, code, pk)
    ids = [int(x) for x in request.POST.getlist("rapport") if x.isascii() and x.isdigit()]
    reports = list(
        Report.objects.filter(period=period, pk__in=ids).select_related(
            "period__kind", "org_unit__kind"
        )
    )
    if not selectors.may_oversee(access):
        raise PermissionDenied
    if len(reports) != len(set(ids)):
        raise Http404
    for report in reports:
        report.period = period
        if not selectors.may_approve(access, report):
            raise PermissionDenied
    form = DecisionForm(request.POST, auto_id="decision_%s")
    if not reports:
        messages.error(request, _("Choose at least one report to approve."))
    elif not form.is_valid():
        for field, errs in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for err in errs:
                messages.error(request, f"{label}: {err}" if label else str(err))
    else:
        try:
            services.reports_approve(
                reports=reports,
                **form.cleaned_data,
                user=_acting(request),
            )
        except PlanError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)s report was approved and frozen.",
                    "%(count)s reports were approved and frozen.",
                    len(reports),
                )
                % {"count": len(reports)},
            )
    return redirect("followup:period", code, period.pk)


# --- A report ------------------------------------------------------------------------------


def _content(report: Report, access: Access) -> dict[str, Any]:
    content = build_snapshots([report])[report.pk]
    if not _economy_visible(access, report):
        _hide_economy(content)
    return content


def _hide_economy(content: dict[str, Any]) -> None:
    """Where boards see only their own economy: no figures and no economy text of others."""
    content["economy"] = None
    content["sections"] = [s for s in content["sections"] if s["key"] != ReportSection.ECONOMY]


def _decorate(content: dict[str, Any]) -> None:
    """Badges and explanations in the reader's language, from the stored facts."""
    scale = content["report"]["scale"]
    english = _english()
    content["report"]["kind_label"] = (
        content["report"]["kind_name_en"]
        if english and content["report"]["kind_name_en"]
        else content["report"]["kind_name"]
    )
    for item in content["items"]:
        item["level_label"] = item["level_en"] if english and item["level_en"] else item["level"]
        item["badge"] = badge(item["status"], scale) if item["status"] else ""
        item["status_label"] = status_label(item["status"], scale)
        item["proposed_badge"] = badge(item["proposed"], scale)
        item["proposed_text"] = item_text(item["proposed_reasons"] or {}, scale=scale)
        reported = item.get("reported")
        if reported:
            reported["badge"] = badge(reported["status"], scale)
            reported["text"] = item_text(
                {
                    "contributors": {k: reported[k] for k in ("met", "partly", "not_met")},
                    "rule": reported["rule"],
                },
                scale=scale,
            )
        for contributor in item["contributors"]:
            contributor["badge"] = badge(contributor["status"], scale)
            contributor["level_label"] = (
                contributor["level_en"]
                if english and contributor["level_en"]
                else contributor["level"]
            )
        previous = item.get("previous")
        if previous:
            previous["badge"] = badge(previous["status"], scale)
            previous["label"] = previous["period_en"] if english else previous["period"]
            item["changed"] = [
                key for key in ("status", "analysis") if previous.get(key) != item.get(key)
            ]
        for indicator in item["indicators"]:
            indicator["badge"] = badge(indicator["status"], scale) if indicator["status"] else ""
    for section in content["sections"]:
        section["label"] = section["name_en"] if english and section["name_en"] else section["name"]


def _english() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "sv").startswith("en")


@login_required
@require_GET
def report_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    report, municipality, access = _get_report_for_user(request, code, pk)
    return _render_report(request, report, municipality, access)


def _render_report(
    request: HttpRequest,
    report: Report,
    municipality: Municipality,
    access: Access,
    *,
    bound: dict[int, Any] | None = None,
    bound_sections: dict[int, Any] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
    stale: bool = False,
    decision_form: DecisionForm | None = None,
    reopen_form: ReopenForm | None = None,
) -> HttpResponse:
    content = _content(report, access)
    _decorate(content)
    can_edit = selectors.may_edit(access, report)
    scale = content["report"]["scale"]
    bound = bound or {}
    bound_sections = bound_sections or {}
    if can_edit:
        versions = dict(report.assessments.values_list("pk", "version"))
        for item in content["items"]:
            aid = item["assessment_id"]
            item["form"] = bound.get(aid) or AssessmentForm(
                prefix=f"a{aid}",
                scale=scale,
                initial={
                    "status": item["status"],
                    "analysis": item["analysis"],
                    "measures": item["measures"],
                    "ready": item["ready"],
                    "version": versions[aid],
                },
            )
    sections = {s.key: s for s in report.sections.all()}
    for section in content["sections"]:
        obj = sections[section["key"]]
        section["id"] = obj.pk
        if can_edit:
            section["form"] = bound_sections.get(obj.pk) or SectionForm(
                prefix=f"s{obj.pk}",
                initial={"text": obj.text, "ready": obj.ready, "version": obj.version},
            )
    snapshots = list(report.snapshots.select_related("event__by").order_by("number"))
    events = list(report.events.select_related("by"))
    today = _today(request)
    return render(
        request,
        "followup/report.html",
        {
            "municipality": municipality,
            "access": access,
            "report": report,
            "period": report.period,
            "content": content,
            "can_edit": can_edit,
            "can_submit": selectors.may_submit(access, report),
            "can_approve": selectors.may_approve(access, report),
            "can_council_approve": selectors.may_council_approve(access, report),
            "can_reopen": selectors.may_reopen(access, report),
            "can_oversee": selectors.may_oversee(access),
            "missing": services.missing_parts(report) if can_edit else [],
            "values_due": selectors.values_due(report),
            "decision_form": decision_form
            or DecisionForm(
                auto_id="decision_%s",
                initial={"decided_by": _default_body(report), "decided_on": today},
            ),
            "reopen_form": reopen_form or ReopenForm(auto_id="reopen_%s"),
            "snapshots": snapshots,
            "events": events,
            "errors": errors or [],
            "stale": stale,
            "late": report.status == ReportStatus.DRAFT and today > report.period.deadline,
            "waiting_below": _waiting_below(report),
            "council_body": _council_body(report),
        },
        status=status,
    )


def _default_body(report: Report) -> str:
    """Who approves: the board itself, or the board above a unit."""
    unit = report.org_unit
    if report.tier != Tier.UNIT:
        if report.tier == Tier.COUNCIL:
            board = OrgUnit.objects.filter(
                municipality_id=unit.municipality_id, kind__key="kommunstyrelse"
            ).first()
            return board.name if board else unit.name
        return unit.name
    above = (
        OrgUnit.objects.filter(pk__in=unit.ancestor_ids(), kind__key__in=selectors.BOARDISH)
        .order_by("-depth")
        .first()
    )
    return above.name if above else unit.name


def _council_body(report: Report) -> str:
    council = OrgUnit.objects.filter(
        municipality_id=report.org_unit.municipality_id, kind__key="kommunfullmaktige"
    ).first()
    return council.name if council else ""


def _waiting_below(report: Report) -> int:
    """Reports below this one in the same period that are not submitted yet (bottom-up)."""
    if report.tier == Tier.UNIT:
        return 0
    below = Report.objects.filter(
        period_id=report.period_id,
        org_unit__path__startswith=report.org_unit.path,
        tier__lt=report.tier,
        status=ReportStatus.DRAFT,
    )
    return below.count()


@login_required
@require_http_methods(["GET", "POST"])
def assessment_edit(request: HttpRequest, code: str, pk: int, assessment_pk: int) -> HttpResponse:
    """One item's assessment: GET shows the form alone, POST saves it."""
    report, municipality, access = _get_report_for_user(request, code, pk)
    assessment = get_object_or_404(
        Assessment.objects.select_related("item__level", "item__owner"),
        pk=assessment_pk,
        report=report,
    )
    if not selectors.may_edit(access, report):
        raise PermissionDenied
    scale = scale_of(municipality.pk)
    prefix = f"a{assessment.pk}"
    if request.method == "GET":
        form = AssessmentForm(
            prefix=prefix,
            scale=scale,
            initial={
                "status": assessment.status,
                "analysis": assessment.analysis,
                "measures": assessment.measures,
                "ready": assessment.ready,
                "version": assessment.version,
            },
        )
        return _render_report(request, report, municipality, access, bound={assessment.pk: form})
    form = AssessmentForm(request.POST, prefix=prefix, scale=scale)
    errors: list[str] = []
    status = 422
    if form.is_valid():
        try:
            services.assessment_save(
                assessment=assessment,
                user=_acting(request),
                expected_version=form.cleaned_data["version"],
                status=form.cleaned_data["status"],
                analysis=form.cleaned_data["analysis"],
                measures=form.cleaned_data["measures"],
                ready=form.cleaned_data["ready"],
            )
        except PlanError as exc:
            errors = exc.messages
            status = 409 if isinstance(exc, StaleEdit) else 422
            if isinstance(exc, StaleEdit):
                # Keep the person's text; the form now carries the saved version, so after
                # merging the two a save goes through.
                data = request.POST.copy()
                data[f"{prefix}-version"] = str(
                    Assessment.objects.values_list("version", flat=True).get(pk=assessment.pk)
                )
                form = AssessmentForm(data, prefix=prefix, scale=scale)
                form.is_valid()
        else:
            messages.success(
                request, _("The assessment of “%(item)s” was saved.") % {"item": assessment.item}
            )
            return redirect(
                f"{reverse('followup:report', args=[code, report.pk])}#bedomning-{assessment.pk}"
            )
    else:
        errors = _error_lines(form)
    return _render_report(
        request,
        report,
        municipality,
        access,
        bound={assessment.pk: form},
        errors=errors,
        status=status,
        stale=status == 409,
    )


@login_required
@require_POST
def section_edit(request: HttpRequest, code: str, pk: int, section_pk: int) -> HttpResponse:
    report, municipality, access = _get_report_for_user(request, code, pk)
    section = get_object_or_404(ReportSection, pk=section_pk, report=report)
    if not selectors.may_edit(access, report):
        raise PermissionDenied
    form = SectionForm(request.POST, prefix=f"s{section.pk}")
    errors: list[str] = []
    status = 422
    if form.is_valid():
        try:
            services.section_save(
                section=section,
                user=_acting(request),
                expected_version=form.cleaned_data["version"],
                text=form.cleaned_data["text"],
                ready=form.cleaned_data["ready"],
            )
        except PlanError as exc:
            errors = exc.messages
            status = 409 if isinstance(exc, StaleEdit) else 422
            if isinstance(exc, StaleEdit):
                data = request.POST.copy()
                data[f"s{section.pk}-version"] = str(
                    ReportSection.objects.values_list("version", flat=True).get(pk=section.pk)
                )
                form = SectionForm(data, prefix=f"s{section.pk}")
                form.is_valid()
        else:
            messages.success(request, _("The section was saved."))
            return redirect(
                f"{reverse('followup:report', args=[code, report.pk])}#avsnitt-{section.pk}"
            )
    else:
        errors = [" ".join(str(x) for x in e) for e in form.errors.values()]
    return _render_report(
        request,
        report,
        municipality,
        access,
        bound_sections={section.pk: form},
        errors=errors,
        status=status,
        stale=status == 409,
    )


@login_required
@require_POST
def report_submit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    report, municipality, access = _get_report_for_user(request, code, pk)
    if not selectors.may_submit(access, report):
        raise PermissionDenied
    try:
        services.report_submit(report=report, user=_acting(request))
    except PlanError as exc:
        return _render_report(
            request, report, municipality, access, errors=exc.messages, status=422
        )
    messages.success(request, _("The report was submitted."))
    return redirect("followup:report", code, report.pk)


@login_required
@require_POST
def report_approve(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    report, municipality, access = _get_report_for_user(request, code, pk)
    if not selectors.may_approve(access, report):
        raise PermissionDenied
    form = DecisionForm(request.POST, auto_id="decision_%s")
    if form.is_valid():
        try:
            services.reports_approve(
                reports=[report],
                **form.cleaned_data,
                user=_acting(request),
            )
        except PlanError as exc:
            return _render_report(
                request,
                report,
                municipality,
                access,
                errors=exc.messages,
                status=422,
                decision_form=form,
            )
        messages.success(request, _("The report was approved; what was approved is frozen."))
        return redirect("followup:report", code, report.pk)
    return _render_report(request, report, municipality, access, decision_form=form, status=422)


@login_required
@require_POST
def report_council_approve(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    report, municipality, access = _get_report_for_user(request, code, pk)
    if not selectors.may_council_approve(access, report):
        raise PermissionDenied
    form = DecisionForm(request.POST, auto_id="council_%s")
    if form.is_valid():
        try:
            services.report_council_approve(
                report=report,
                **form.cleaned_data,
                user=_acting(request),
            )
        except PlanError as exc:
            return _render_report(
                request, report, municipality, access, errors=exc.messages, status=422
            )
        messages.success(request, _("The council's approval was recorded."))
        return redirect("followup:report", code, report.pk)
    errors = _error_lines(form)
    return _render_report(request, report, municipality, access, errors=errors, status=422)


@login_required
@require_POST
def report_reopen(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    report, municipality, access = _get_report_for_user(request, code, pk)
    if not selectors.may_reopen(access, report):
        raise PermissionDenied
    form = ReopenForm(request.POST, auto_id="reopen_%s")
    if form.is_valid():
        try:
            services.report_reopen(
                report=report,
                **form.cleaned_data,
                user=_acting(request),
            )
        except PlanError as exc:
            return _render_report(
                request, report, municipality, access, errors=exc.messages, status=422
            )
        messages.success(request, _("The report was reopened; the approved version is kept."))
        return redirect("followup:report", code, report.pk)
    return _render_report(request, report, municipality, access, reopen_form=form, status=422)


@login_required
@require_GET
def snapshot_page(request: HttpRequest, code: str, pk: int, number: int) -> HttpResponse:
    """The report exactly as approved: rendered from the frozen snapshot alone."""
    report, municipality, access = _get_report_for_user(request, code, pk)
    snapshot = get_object_or_404(
        Snapshot.objects.select_related("event__by"), report=report, number=number
    )
    content = snapshot.content
    resolve_references(content)
    if not _economy_visible(access, report):
        _hide_economy(content)
    _decorate(content)
    later = report.snapshots.filter(number__gt=number).order_by("number").first()
    return render(
        request,
        "followup/snapshot.html",
        {
            "municipality": municipality,
            "access": access,
            "report": report,
            "snapshot": snapshot,
            "content": content,
            "later": later,
        },
    )


# --- The item page's panel --------------------------------------------------------------------


def item_panel(request: HttpRequest, item: PlanItem, access: Access, can_edit: bool) -> str:
    """Every period's assessment of the item, with what changed since the period before."""
    history = selectors.item_history(item)
    if not history:
        return ""
    scale = scale_of(item.municipality_id)
    for entry in history:
        entry["badge"] = badge(entry["assessment"].status, scale)
    return render_to_string(
        "followup/_item_panel.html",
        {"history": history, "municipality": item.municipality, "access": access},
        request=request,
    )

"""Sign-in, the start page that leads to the user's municipality, and the organisation page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from rodtrad.organisations.access import get_municipality_for_user
from rodtrad.organisations.models import Municipality, OrgUnit


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Signed-in members go to their municipality; everyone else to the sign-in page."""
    if not request.user.is_authenticated:
        return redirect("login")
    if request.user.is_superuser:
        return render(
            request, "organisations/choose.html", {"municipalities": Municipality.objects.all()}
        )
    municipality = getattr(request.user, "municipality", None)
    if municipality is None:
        return render(request, "organisations/choose.html", {"municipalities": []})
    return redirect("steering:home", code=municipality.code)


@login_required
@require_GET
def organisation(request: HttpRequest, code: str) -> HttpResponse:
    municipality, access = get_municipality_for_user(request, code)
    units = (
        OrgUnit.objects.filter(municipality=municipality)
        .select_related("kind")
        .annotate(n_items=Count("plan_items"))
        .order_by("path")
    )
    return render(
        request,
        "organisations/organisation.html",
        {"municipality": municipality, "access": access, "units": units},
    )

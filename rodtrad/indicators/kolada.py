"""Kolada in the product: the KPI catalogue, indicators made from a KPI, and their refresh.

Everything that asks Kolada does so before the first write, so a failed or malformed answer
(a 429 storm, an HTML error page, an unknown KPI) leaves the database exactly as it was.
Values keep "Källa: Kolada" as their source; a value Kolada changed since the last import
keeps what it was (`revised_from`) and is counted on the indicator, and a renamed or
discontinued KPI is flagged until someone acknowledges it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from rodtrad.indicators import rollup
from rodtrad.indicators.models import Indicator, KoladaKpi, Source
from rodtrad.indicators.services import ImportSummary, IndicatorError, ValueInput, values_write
from rodtrad.lib import kolada as lib
from rodtrad.organisations.audit import record

if TYPE_CHECKING:
    from rodtrad.organisations.models import Municipality, OrgUnit, User

RIKET = "0000"
KPI_FIELDS = [
    "title",
    "description",
    "operating_area",
    "perspective",
    "municipality_type",
    "is_divided_by_gender",
    "auspice",
    "publ_period",
    "publication_date",
    "prel_publication_date",
    "has_ou_data",
    "imported_at",
]


def get_client() -> lib.KoladaClient:
    """The client the product uses; tests replace this with one over recorded responses."""
    return lib.KoladaClient(
        base_url=getattr(settings, "KOLADA_BASE_URL", lib.KoladaClient.BASE_URL)
    )


# --- The catalogue ----------------------------------------------------------------------------


@transaction.atomic
def catalogue_import(kpis: Iterable[lib.Kpi]) -> int:
    """Insert or update the KPI catalogue in bulk; returns how many KPIs it holds now."""
    now = timezone.now()
    rows = [
        KoladaKpi(
            id=kpi.id,
            title=kpi.title,
            description=kpi.description,
            operating_area=kpi.operating_area,
            perspective=kpi.perspective or "",
            municipality_type=kpi.municipality_type,
            is_divided_by_gender=kpi.is_divided_by_gender,
            auspice=kpi.auspice or "",
            publ_period=kpi.publ_period or "",
            publication_date=kpi.publication_date or "",
            prel_publication_date=kpi.prel_publication_date or "",
            has_ou_data=kpi.has_ou_data,
            imported_at=now,
        )
        for kpi in kpis
    ]
    KoladaKpi.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=KPI_FIELDS,
    )
    return KoladaKpi.objects.count()


def ensure_catalogue() -> None:
    """Load the bundled catalogue (April 2026) the first time anyone searches it."""
    if not KoladaKpi.objects.exists():
        catalogue_import(lib.load_catalogue())


def catalogue_search(query: str, area: str = "") -> QuerySet[KoladaKpi]:
    kpis = KoladaKpi.objects.all()
    query = query.strip()
    if query:
        if re.fullmatch(r"[NUnu]\d{5}", query):
            kpis = kpis.filter(id=query.upper())
        else:
            for word in query.split()[:6]:
                kpis = kpis.filter(Q(title__icontains=word) | Q(id__iexact=word))
    if area:
        kpis = kpis.filter(operating_area=area)
    return kpis.order_by("id")


def operating_areas() -> list[str]:
    return list(
        KoladaKpi.objects.order_by("operating_area")
        .values_list("operating_area", flat=True)
        .distinct()
    )


# --- Indicators from Kolada -------------------------------------------------------------------


def guess_unit(title: str) -> str:
    lowered = title.lower()
    if "(%)" in lowered or "andel" in lowered or "procent" in lowered:
        return "%"
    if "kr/inv" in lowered:
        return "kr/inv"
    if "index" in lowered or lowered.startswith("nki") or lowered.startswith("nri"):
        return "index"
    if "antal" in lowered:
        return "antal"  # the unit is data, written as Kolada writes it
    return ""


@dataclass
class Fetched:
    kpi: lib.Kpi | None
    group: lib.Group | None
    points: list[lib.DataPoint]


def fetch(client: lib.KoladaClient, kpi_id: str, municipality_code: str, group_id: str) -> Fetched:
    """Everything an indicator needs from Kolada, asked before anything is written."""
    found = client.kpis([kpi_id])
    kpi = found[0] if found else None
    group: lib.Group | None = None
    if group_id:
        groups = client.municipality_groups([group_id])
        group = groups[0] if groups else None
    elif kpi is not None:
        group = client.similar_group(municipality_code)
    areas = [municipality_code, RIKET] + ([group.id] if group else [])
    points = client.values([kpi_id], areas) if kpi is not None else []
    return Fetched(kpi, group, points)


def _inputs(points: Iterable[lib.DataPoint], own: str) -> list[ValueInput]:
    rows = []
    for point in points:
        rows.append(
            ValueInput(
                year=point.period,
                kind="year",
                number=None,
                value=None if point.value is None else Decimal(str(point.value)),
                gender=point.gender,
                area="" if point.municipality == own else point.municipality,
            )
        )
    return rows


def indicator_from_kpi(
    *,
    user: User | None,
    municipality: Municipality,
    kpi_id: str,
    owner: OrgUnit,
    client: lib.KoladaClient | None = None,
) -> tuple[Indicator, ImportSummary]:
    kpi_id = kpi_id.strip().upper()
    if owner.municipality_id != municipality.pk:
        raise IndicatorError([_("The owner belongs to another municipality.")])
    followed = Indicator.objects.filter(municipality=municipality, kolada_kpi=kpi_id).first()
    if followed is not None:
        raise IndicatorError(
            [
                _("%(kpi)s is already followed as “%(title)s”; link that indicator instead.")
                % {"kpi": kpi_id, "title": followed.title}
            ]
        )
    client = client or get_client()
    fetched = fetch(client, kpi_id, municipality.code, "")
    if fetched.kpi is None:
        raise IndicatorError([_("Kolada has no KPI %(kpi)s.") % {"kpi": kpi_id}])
    kpi = fetched.kpi
    with transaction.atomic():
        indicator = Indicator.objects.create(
            municipality=municipality,
            title=kpi.title[:300],
            description=kpi.description,
            unit=guess_unit(kpi.title),
            source=Source.KOLADA,
            by_gender=kpi.is_divided_by_gender,
            owner=owner,
            kolada_kpi=kpi.id,
            kolada_title=kpi.title,
            kolada_description=kpi.description,
            kolada_publ_period=kpi.publ_period or "",
            kolada_discontinued=kpi.discontinued,
            compare_group=fetched.group.id if fetched.group else "",
            compare_group_title=fetched.group.title if fetched.group else "",
            kolada_checked_at=timezone.now(),
        )
        record(
            user=user,
            municipality=municipality,
            action="create",
            obj=indicator,
            after=indicator.snapshot(),
        )
        summary = values_write(
            user=user,
            municipality=municipality,
            rows=[(indicator, row) for row in _inputs(fetched.points, municipality.code)],
            source=Source.KOLADA,
            name=f"Kolada {kpi.id}",
        )
    return indicator, summary


def refresh(
    *, user: User | None, indicator: Indicator, client: lib.KoladaClient | None = None
) -> ImportSummary:
    """Fetch the KPI and its values again; flag renames, discontinuation and revisions."""
    if indicator.source != Source.KOLADA or not indicator.kolada_kpi:
        raise IndicatorError([_("This indicator does not come from Kolada.")])
    client = client or get_client()
    municipality = indicator.municipality
    fetched = fetch(client, indicator.kolada_kpi, municipality.code, indicator.compare_group)
    with transaction.atomic():
        current = Indicator.objects.select_for_update().get(pk=indicator.pk)
        before = {
            "renamed": current.kolada_renamed,
            "discontinued": current.kolada_discontinued,
            "missing": current.kolada_missing,
        }
        kpi = fetched.kpi
        current.kolada_missing = kpi is None
        if kpi is not None:
            catalogue_import([kpi])
            current.kolada_renamed = kpi.title != current.kolada_title
            current.kolada_discontinued = kpi.discontinued
            current.kolada_publ_period = kpi.publ_period or ""
        summary = values_write(
            user=user,
            municipality=municipality,
            rows=[(current, row) for row in _inputs(fetched.points, municipality.code)],
            source=Source.KOLADA,
            name=f"Kolada {current.kolada_kpi}",
            revisions=True,
        )
        current.kolada_revisions += summary.updated
        current.kolada_checked_at = timezone.now()
        current.save()
        after = {
            "renamed": current.kolada_renamed,
            "discontinued": current.kolada_discontinued,
            "missing": current.kolada_missing,
        }
        # Every fetch is recorded, also one that changed nothing: when Kolada was asked.
        record(
            user=user,
            municipality=municipality,
            action="update",
            obj=current,
            before=before,
            after=after
            | {
                "title_in_kolada": kpi.title if kpi else None,
                "fetched": {
                    "new": summary.created,
                    "revised": summary.updated,
                    "unchanged": summary.unchanged,
                },
            },
        )
        rollup.mark_stale(municipality)
    indicator.refresh_from_db()
    return summary


@transaction.atomic
def acknowledge(*, user: User | None, indicator: Indicator) -> None:
    """Someone has seen Kolada's changes: take the new title, clear the flags."""
    current = Indicator.objects.select_for_update().get(pk=indicator.pk)
    kpi = KoladaKpi.objects.filter(pk=current.kolada_kpi).first()
    before = {
        "kolada_title": current.kolada_title,
        "renamed": current.kolada_renamed,
        "revisions": current.kolada_revisions,
    }
    if kpi is not None and current.kolada_renamed:
        current.kolada_title = kpi.title
        current.kolada_description = kpi.description
    current.kolada_renamed = False
    current.kolada_revisions = 0
    current.version += 1
    current.save()
    record(
        user=user,
        municipality=current.municipality,
        action="update",
        obj=current,
        before=before,
        after={"kolada_title": current.kolada_title, "renamed": False, "revisions": 0},
    )


def refresh_all(
    *, municipality: Municipality | None = None, client: lib.KoladaClient | None = None
) -> list[tuple[Indicator, ImportSummary | str]]:
    """Refresh every Kolada indicator; one failing indicator does not stop the others."""
    client = client or get_client()
    indicators = Indicator.objects.filter(source=Source.KOLADA).exclude(kolada_kpi="")
    if municipality is not None:
        indicators = indicators.filter(municipality=municipality)
    # The catalogue first, so renames show against Kolada's current titles.
    results: list[tuple[Indicator, ImportSummary | str]] = []
    for indicator in indicators.select_related("municipality").order_by("municipality", "pk"):
        try:
            results.append((indicator, refresh(user=None, indicator=indicator, client=client)))
        except (lib.KoladaError, IndicatorError) as exc:
            results.append((indicator, str(exc)))
    return results

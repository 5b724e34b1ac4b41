"""Kolada in the product, against recorded real responses (no test touches the network).

The recorded answers: the KPI catalogue, municipalities and "liknande kommuner" groups as
bundled in rodtrad/lib/kolada_data, and the real N00945 values for Stockholm (0180), Malmö
and Göteborg in tests/fixtures/kolada. The test municipality is therefore Stockholm.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from django.urls import reverse

from rodtrad.indicators import kolada
from rodtrad.indicators.models import Indicator, KoladaKpi, Value
from rodtrad.lib import kolada as lib
from rodtrad.organisations.models import AuditEvent, Membership, OrgUnit, OrgUnitKind, User
from rodtrad.steering import services as steering_services

DATA = Path(lib.__file__).resolve().parent / "kolada_data"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "kolada"
KPI = "N00945"


@cache
def _bundled(name: str) -> list[dict[str, Any]]:
    opener = gzip.open if name.endswith(".gz") else open
    with opener(DATA / name, "rt", encoding="utf-8") as file:
        return list(json.load(file)["values"])


@cache
def _recorded_data() -> list[dict[str, Any]]:
    return list(json.loads((FIXTURES / "data_N00945_0180_1280_1480.json").read_text())["values"])


def _envelope(values: list[Any]) -> dict[str, Any]:
    return {"values": values, "count": len(values), "next_url": None}


@dataclass
class RecordedKolada:
    """Answers like Kolada from the recordings; knobs make it change or misbehave."""

    title: str | None = None  # a renamed KPI
    discontinued: bool = False
    missing: bool = False
    shift: float = 0.0  # a revision of the 2019 value
    mode: str = "ok"  # ok | storm | html | garbage
    requests: list[str] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        if self.mode == "storm":
            return httpx.Response(429, headers={"Retry-After": "1"})
        if self.mode == "html":
            return httpx.Response(502, text="<html><body>Bad gateway</body></html>")
        parts = request.url.path.removeprefix("/v3/").split("/")
        if parts[0] == "kpi" and len(parts) == 2:
            rows = [dict(k) for k in _bundled("kpi_catalogue.json.gz") if k["id"] in parts[1]]
            if self.missing:
                rows = []
            for row in rows:
                if self.title:
                    row["title"] = self.title
                if self.discontinued:
                    row["publ_period"] = None
            return httpx.Response(200, json=_envelope(rows))
        if parts[0] == "municipality" and len(parts) == 2:
            ids = parts[1].split(",")
            return httpx.Response(
                200, json=_envelope([m for m in _bundled("municipalities.json") if m["id"] in ids])
            )
        if parts[0] == "municipality_groups":
            groups = _bundled("municipality_groups.json.gz")
            if len(parts) == 2:
                found = [g for g in groups if g["id"] in parts[1].split(",")]
            else:
                wanted = request.url.params["title"].lower()
                found = [g for g in groups if wanted in g["title"].lower()]
            return httpx.Response(200, json=_envelope(found))
        if parts[0] == "data":
            if self.mode == "garbage":
                return httpx.Response(200, json={"values": [{"kpi": KPI, "period": "soon"}]})
            areas = parts[parts.index("municipality") + 1].split(",")
            rows = [
                json.loads(json.dumps(r)) for r in _recorded_data() if r["municipality"] in areas
            ]
            for row in rows:
                if row["period"] == 2019 and self.shift:
                    row["values"][0]["value"] += self.shift
            return httpx.Response(200, json=_envelope(rows))
        raise AssertionError(f"unexpected request {request.url}")

    def client(self) -> lib.KoladaClient:
        http = httpx.Client(transport=httpx.MockTransport(self.handler))
        return lib.KoladaClient(http, min_interval=0, sleep=lambda seconds: None)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordedKolada]:
    fake = RecordedKolada()
    monkeypatch.setattr(kolada, "get_client", fake.client)
    yield fake


@dataclass
class Stockholm:
    board: OrgUnit
    other_board: OrgUnit
    official: User
    other_official: User

    @property
    def code(self) -> str:
        return "0180"


@pytest.fixture
def stockholm(db: None) -> Stockholm:
    municipality = steering_services.municipality_create(code="0180", name="Stockholms stad")
    kind = OrgUnitKind.objects.get(municipality=municipality, key="namnd")
    council = OrgUnit.objects.create(
        municipality=municipality,
        name="Kommunfullmäktige",
        kind=OrgUnitKind.objects.get(municipality=municipality, key="kommunfullmaktige"),
    )
    board = OrgUnit.objects.create(
        municipality=municipality, name="Socialnämnden", kind=kind, parent=council
    )
    other = OrgUnit.objects.create(
        municipality=municipality, name="Kulturnämnden", kind=kind, parent=council
    )
    users = []
    for name, unit in (("handlaggare", board), ("kultur", other)):
        user = User.objects.create_user(username=name, password="x" * 20, municipality=municipality)
        Membership.objects.create(user=user, org_unit=unit, role="editor")
        users.append(user)
    return Stockholm(board, other, users[0], users[1])


def _create(s: Stockholm, user: User | None = None) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user or s.official)
    return client.post(
        reverse("indicators:kolada", args=[s.code]), {"kpi": KPI, "owner": s.board.pk}
    )


def test_catalogue_search_finds_kpis_by_title_and_id(stockholm: Stockholm) -> None:
    from django.test import Client

    client = Client()
    client.force_login(stockholm.official)
    url = reverse("indicators:kolada", args=[stockholm.code])
    response = client.get(url, {"sok": "sjukfrånvaro kommun"})
    html = response.content.decode()
    assert KoladaKpi.objects.count() == 6099  # the bundled catalogue loaded on first use
    assert "N00090" in html and "Sjukfrånvaro totalt bland anställda" in html
    assert "N00945" in client.get(url, {"sok": "n00945"}).content.decode()
    gone = client.get(url, {"sok": "U00405"})  # no longer in Kolada's v3 catalogue
    assert gone.context["page"].paginator.count == 0


def test_an_indicator_from_a_kpi_brings_values_and_comparisons(
    stockholm: Stockholm, recorded: RecordedKolada
) -> None:
    response = _create(stockholm)
    assert response.status_code == 302, response.content.decode()[:2000]
    indicator = Indicator.objects.get(kolada_kpi=KPI)
    assert indicator.source == "kolada" and indicator.owner == stockholm.board
    assert indicator.title.startswith("Tillfälliga föräldrapenningdagar")
    assert indicator.compare_group_title == "Liknande kommuner, övergripande, Stockholm, 2025"
    own = Value.objects.filter(indicator=indicator, area="0180")
    assert own.count() == 21 and own.get(year=2020).value is not None
    assert any("/data/kpi/N00945/municipality/0180,0000," in url for url in recorded.requests)
    page = stockholm_client(stockholm).get(
        reverse("indicators:detail", args=[stockholm.code, indicator.pk])
    )
    assert "Källa: Kolada" in page.content.decode()


def stockholm_client(s: Stockholm) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(s.official)
    return client


@pytest.mark.parametrize(
    ("mode", "words"),
    [("storm", "429"), ("html", "502"), ("garbage", "municipality")],
)
def test_a_failing_kolada_writes_nothing(
    stockholm: Stockholm, recorded: RecordedKolada, mode: str, words: str
) -> None:
    recorded.mode = mode
    audit = AuditEvent.objects.count()
    response = _create(stockholm)
    assert response.status_code == 502
    assert words in response.content.decode()
    assert not Indicator.objects.exists() and not Value.objects.exists()
    assert AuditEvent.objects.count() == audit


def test_an_unknown_kpi_is_refused_clearly(stockholm: Stockholm, recorded: RecordedKolada) -> None:
    recorded.missing = True
    response = _create(stockholm)
    assert response.status_code == 422
    assert "N00945" in response.content.decode()
    assert not Indicator.objects.exists()


def test_refresh_flags_revisions_renames_and_discontinuation(
    stockholm: Stockholm, recorded: RecordedKolada
) -> None:
    _create(stockholm)
    indicator = Indicator.objects.get(kolada_kpi=KPI)
    before = Value.objects.get(indicator=indicator, area="0180", year=2019).value
    recorded.shift = 1.5
    recorded.title = "Tillfälliga föräldrapenningdagar som tas ut av män, andel (%)"
    recorded.discontinued = True
    summary = kolada.refresh(user=stockholm.official, indicator=indicator)
    assert summary.updated == 1 and summary.created == 0
    revised = Value.objects.get(indicator=indicator, area="0180", year=2019)
    assert revised.revised_from == before and revised.value != before
    indicator.refresh_from_db()
    assert indicator.kolada_renamed and indicator.kolada_discontinued
    assert indicator.kolada_revisions == 1
    page = stockholm_client(stockholm).get(
        reverse("indicators:detail", args=[stockholm.code, indicator.pk])
    )
    notice = page.content.decode().split('class="notice"')[1].split("</div>")[0]
    assert indicator.kolada_title in notice  # the title it had when imported
    assert notice.count("<li>") == 3  # renamed, discontinued, one revised value
    # Someone acknowledges: the new title is taken, the flags go, the history keeps both.
    stockholm_client(stockholm).post(
        reverse("indicators:kolada_acknowledge", args=[stockholm.code, indicator.pk])
    )
    indicator.refresh_from_db()
    assert indicator.kolada_title == recorded.title
    assert not indicator.kolada_renamed and indicator.kolada_revisions == 0
    # The same answer again changes nothing.
    assert kolada.refresh(user=None, indicator=indicator).updated == 0


def test_the_refresh_command_reports_each_indicator(
    stockholm: Stockholm, recorded: RecordedKolada, capsys: pytest.CaptureFixture[str]
) -> None:
    _create(stockholm)
    recorded.shift = 2.0
    call_command("kolada_refresh")
    out = capsys.readouterr().out
    assert "1 revised" in out
    recorded.mode = "storm"
    with pytest.raises(SystemExit):
        call_command("kolada_refresh")
    assert "429" in capsys.readouterr().err


def test_catalogue_command_imports_the_bundled_catalogue(db: None) -> None:
    call_command("kolada_catalogue")
    assert KoladaKpi.objects.count() == 6099
    assert KoladaKpi.objects.filter(publ_period="").count() == 734
    call_command("kolada_catalogue")  # again: updated in place
    assert KoladaKpi.objects.count() == 6099

"""The Kolada client against recorded answers: no network, no real waiting.

FakeKolada serves fixtures by exact URL through httpx.MockTransport, fails the test on any URL
it was not told about, and keeps a fake clock that only moves when the client sleeps.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rodtrad.lib.kolada import (
    DATA_DIR,
    DataPoint,
    Group,
    KoladaClient,
    KoladaError,
    chunked,
    load_catalogue,
    load_municipalities,
    load_municipality_groups,
    parse_data,
    pick_similar_group,
)

FIXTURES = Path(__file__).parent / "fixtures" / "kolada"
BASE = "https://api.kolada.se/v3"
SIMILAR = "Liknande%20kommuner%2C%20%C3%B6vergripande%2C%20"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def envelope(values: list[Any], **extra: Any) -> dict[str, Any]:
    return {"values": values, "count": len(values), "next_url": None, **extra}


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # JSON-able, or a str sent as it is
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> httpx.Response:
        if isinstance(self.body, str):
            return httpx.Response(self.status, text=self.body, headers=self.headers)
        return httpx.Response(self.status, json=self.body, headers=self.headers)


Route = Answer | list[Answer] | Callable[[httpx.Request], httpx.Response]


class FakeKolada:
    def __init__(self, routes: dict[str, Route] | None = None, *, emulate: bool = False) -> None:
        self.routes = dict(routes or {})
        # emulate: answer /municipality/{id} and group title searches from the bundled data
        self.emulate = emulate
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self.now = 0.0

    @property
    def urls(self) -> list[str]:
        return [str(request.url) for request in self.requests]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get(str(request.url))
        if isinstance(route, list):  # answers in turn; the last one repeats
            return (route.pop(0) if len(route) > 1 else route[0]).response()
        if isinstance(route, Answer):
            return route.response()
        if route is not None:
            return route(request)
        if self.emulate:
            return emulate_kolada(request)
        raise AssertionError(f"unexpected request {request.url}")

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def client(self, **kwargs: Any) -> KoladaClient:
        http = httpx.Client(transport=httpx.MockTransport(self.handler))
        return KoladaClient(http, sleep=self.sleep, clock=lambda: self.now, **kwargs)


@cache
def bundled(name: str) -> list[dict[str, Any]]:
    path = DATA_DIR / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as file:
        return list(json.load(file)["values"])


def emulate_kolada(request: httpx.Request) -> httpx.Response:
    """Kolada's id lookup and (case-insensitive substring) title search on the bundled files."""
    parts = request.url.path.removeprefix("/v3/").split("/")
    if parts[0] == "municipality" and len(parts) == 2:
        ids = parts[1].split(",")
        return httpx.Response(
            200, json=envelope([m for m in bundled("municipalities.json") if m["id"] in ids])
        )
    if parts == ["municipality_groups"] and "title" in request.url.params:
        wanted = request.url.params["title"].lower()
        groups = [g for g in bundled("municipality_groups.json.gz") if wanted in g["title"].lower()]
        return httpx.Response(200, json=envelope(groups))
    raise AssertionError(f"unexpected request {request.url}")


# --- metadata and paging ---------------------------------------------------------------------


def test_kpis_by_id_parses_real_metadata() -> None:
    url = f"{BASE}/kpi/N03001,N00090,N15428?per_page=5000"
    fake = FakeKolada({url: Answer(body=fixture("kpi_N03001_N00090_N15428.json"))})
    kpis = fake.client().kpis(["N03001", "N00090", "N15428"])
    assert [k.id for k in kpis] == ["N03001", "N00090", "N15428"]
    assert kpis[1].title == "Sjukfrånvaro totalt bland anställda, kommun, andel (%)"
    assert kpis[1].is_divided_by_gender and kpis[1].prel_publication_date is None
    assert (kpis[0].auspice, kpis[0].operating_area, kpis[0].discontinued) == (
        "X",
        "Kommunen, övergripande",
        False,
    )
    assert fake.urls == [url]


def test_paging_follows_next_url_across_two_pages() -> None:
    first = f"{BASE}/municipality/0665,0331,0127?per_page=5000"
    second = f"{BASE}/municipality/0665,0331,0127?page=2&per_page=2"
    fake = FakeKolada(
        {
            first: Answer(body=fixture("municipality_page1_synthetic.json")),
            second: Answer(body=fixture("municipality_page2_synthetic.json")),
        }
    )
    found = fake.client().municipalities(["0665", "0331", "0127"])
    assert [(m.id, m.title, m.type) for m in found] == [
        ("0665", "Vaggeryd", "K"),
        ("0331", "Heby", "K"),
        ("0127", "Botkyrka", "K"),
    ]
    assert fake.urls == [first, second]


def test_legacy_next_page_and_relative_urls_are_followed() -> None:
    second = f"{BASE}/municipality?page=2"
    fake = FakeKolada(
        {
            f"{BASE}/municipality?per_page=5000&region_type=L": Answer(
                body={
                    "values": [{"id": "0000", "title": "Riket", "type": "L"}],
                    "next_page": "/v3/municipality?page=2",
                }
            ),
            second: Answer(
                body={"values": [{"id": "0001", "title": "Region Stockholm", "type": "L"}]}
            ),
        }
    )
    assert [m.id for m in fake.client().municipalities(region_type="L")] == ["0000", "0001"]


@pytest.mark.parametrize("end", [{"next_url": None}, {"next_url": ""}, {}])
def test_paging_stops_on_null_empty_or_missing_next_url(end: dict[str, Any]) -> None:
    url = f"{BASE}/kpi?per_page=5000&title=sjukfr%C3%A5nvaro"
    fake = FakeKolada({url: Answer(body={"values": [], **end})})
    assert fake.client().kpis(title="sjukfrånvaro") == []
    assert fake.urls == [url]


def test_paging_cycle_raises() -> None:
    first = f"{BASE}/municipality_groups?per_page=5000"
    second = f"{BASE}/municipality_groups?page=2&per_page=5000"
    fake = FakeKolada(
        {
            first: Answer(body={"values": [], "next_url": second}),
            second: Answer(body={"values": [], "next_url": first}),  # back to page 1
        }
    )
    with pytest.raises(KoladaError, match=r"paging loops back to .*municipality_groups"):
        fake.client().municipality_groups()
    assert fake.urls == [first, second]


def test_next_url_on_another_host_is_refused() -> None:
    first = f"{BASE}/kpi?per_page=5000"
    fake = FakeKolada(
        {first: Answer(body={"values": [], "next_url": "https://evil.example/v3/kpi?page=2"})}
    )
    with pytest.raises(KoladaError, match=r"leaves api\.kolada\.se"):
        fake.client().kpis()


# --- chunking --------------------------------------------------------------------------------


def test_more_than_25_ids_are_split_into_chunks_across_segments() -> None:
    kpis = [f"N{number:05d}" for number in range(1, 27)]
    municipalities = [m["id"] for m in bundled("municipalities.json")[:27]]
    expected = [
        f"{BASE}/data/kpi/{','.join(kc)}/municipality/{','.join(mc)}/year/2024?per_page=5000"
        for kc in (kpis[:25], kpis[25:])
        for mc in (municipalities[:25], municipalities[25:])
    ]
    fake = FakeKolada(dict.fromkeys(expected, Answer(body=envelope([]))))
    assert fake.client().values(kpis, municipalities, [2024]) == []
    assert fake.urls == expected
    sizes = [
        (u.count(",", 0, u.index("/municipality/")) + 1, u.split("/")[-3].count(",") + 1)
        for u in fake.urls
    ]
    assert sizes == [(25, 25), (25, 2), (1, 25), (1, 2)]


@given(st.lists(st.text(max_size=3)), st.integers(min_value=1, max_value=30))
def test_chunks_cover_all_ids_in_order(ids: list[str], size: int) -> None:
    chunks = chunked(ids, size)
    assert all(1 <= len(chunk) <= size for chunk in chunks)
    assert [item for chunk in chunks for item in chunk] == ids
    assert len(chunks) == -(-len(ids) // size)


# --- retries, throttling, errors -------------------------------------------------------------

N00945 = f"{BASE}/data/kpi/N00945/municipality/0180,1280,1480?per_page=5000"


def test_429_storm_with_retry_after_then_success() -> None:
    busy = Answer(429, {"message": "Too Many Requests"}, {"Retry-After": "2"})
    fake = FakeKolada(
        {N00945: [busy, busy, busy, Answer(body=fixture("data_N00945_0180_1280_1480.json"))]}
    )
    points = fake.client().values(["N00945"], ["0180", "1280", "1480"])
    assert len(points) == 63
    assert fake.sleeps == [2.0, 2.0, 2.0]  # Retry-After honoured, nothing slept for real
    assert fake.urls == [N00945] * 4


def test_backoff_is_exponential_without_retry_after() -> None:
    fake = FakeKolada({N00945: [Answer(503), Answer(502), Answer(504), Answer(body=envelope([]))]})
    assert fake.client().values(["N00945"], ["0180", "1280", "1480"]) == []
    assert fake.sleeps == [1.0, 2.0, 4.0]


def test_429_forever_raises_and_returns_nothing() -> None:
    kpis = [f"N{number:05d}" for number in range(1, 27)]
    first = f"{BASE}/data/kpi/{','.join(kpis[:25])}/municipality/0665?per_page=5000"
    second = f"{BASE}/data/kpi/{kpis[25]}/municipality/0665?per_page=5000"
    fake = FakeKolada(
        {first: Answer(body=fixture("data_N00090_synthetic.json")), second: Answer(429)}
    )
    with pytest.raises(KoladaError) as caught:
        fake.client().values(kpis, ["0665"])
    assert (
        str(caught.value)
        == f"Kolada answered 429 Too Many Requests 5 times for {second}; try again later"
    )
    assert fake.urls == [first] + [second] * 5
    assert fake.sleeps == [pytest.approx(0.34), 1.0, 2.0, 4.0, 8.0]  # throttle, then backoff


@pytest.mark.parametrize(
    ("retry_after", "slept"),
    [("3600", 60.0), ("0.5", 0.5), ("Wed, 21 Oct 2026 07:28:00 GMT", 1.0), ("-1", 1.0)],
)
def test_retry_after_is_capped_and_dates_fall_back_to_backoff(
    retry_after: str, slept: float
) -> None:
    busy = Answer(429, headers={"Retry-After": retry_after})
    fake = FakeKolada({N00945: [busy, Answer(body=envelope([]))]})
    fake.client().values(["N00945"], ["0180", "1280", "1480"])
    assert fake.sleeps == [slept]


def test_network_errors_and_timeouts_are_retried() -> None:
    failures = [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")]

    def flaky(request: httpx.Request) -> httpx.Response:
        if failures:
            raise failures.pop(0)
        return httpx.Response(200, json=fixture("data_N00945_0180_1280_1480.json"))

    fake = FakeKolada({N00945: flaky})
    assert len(fake.client().values(["N00945"], ["0180", "1280", "1480"])) == 63
    assert fake.sleeps == [1.0, 2.0]


def test_timeouts_forever_raise() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    fake = FakeKolada({N00945: hang})
    with pytest.raises(
        KoladaError, match=r"Could not reach Kolada \(ReadTimeout\) 3 times for .*N00945"
    ):
        fake.client(max_retries=2).values(["N00945"], ["0180", "1280", "1480"])


@pytest.mark.parametrize(
    ("status", "words"),
    [(400, "400 Bad Request"), (404, "404 Not Found"), (500, "500 Internal Server Error")],
)
def test_client_and_server_errors_fail_at_once(status: int, words: str) -> None:
    fake = FakeKolada({N00945: Answer(status, {"detail": "nope"})})
    with pytest.raises(KoladaError, match=f"Kolada answered {words} for .*N00945"):
        fake.client().values(["N00945"], ["0180", "1280", "1480"])
    assert len(fake.requests) == 1 and fake.sleeps == []


def test_html_body_raises_naming_the_url() -> None:
    page = (FIXTURES / "error_page_synthetic.html").read_text(encoding="utf-8")
    fake = FakeKolada({N00945: Answer(body=page, headers={"Content-Type": "text/html"})})
    with pytest.raises(
        KoladaError,
        match=r"answer for https://api\.kolada\.se/v3/data/.* is not JSON \(text/html\)",
    ):
        fake.client().values(["N00945"], ["0180", "1280", "1480"])


def row(**changes: Any) -> dict[str, Any]:
    base = {
        "kpi": "N00945",
        "municipality": "0180",
        "period": 2020,
        "values": [{"gender": "T", "value": 40.8}],
    }
    return {key: value for key, value in {**base, **changes}.items() if value is not ...}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"values": {"kpi": "N00945"}}, "field 'values' should be a list"),
        ([1, 2], "expected a JSON object"),
        (envelope([row(), row(kpi=...)]), "row 1: field 'kpi' is missing"),
        (
            envelope([row(values=[{"gender": "T", "value": "40,8"}])]),
            r"row 0 values\[0\]: field 'value' should be a number",
        ),
        (envelope([row(period="tjugotjugo")]), "row 0: field 'period' should be a year"),
        (
            envelope([row(values=[{"gender": "F", "value": 1.0}])]),
            "field 'gender' should be T, K or M",
        ),
        (
            '{"values": [{"kpi": "N00945", "municipality": "0180", "period": 2020, "values": [{"value": NaN}]}]}',
            "should be finite",
        ),
        (envelope(["N00945"]), "row 0 should be an object"),
    ],
)
def test_wrong_shapes_raise_naming_url_row_and_field(body: Any, message: str) -> None:
    fake = FakeKolada({N00945: Answer(body=body)})
    with pytest.raises(KoladaError, match=f"{N00945.replace('?', '[?]')}: .*{message}"):
        fake.client().values(["N00945"], ["0180", "1280", "1480"])


def test_throttle_keeps_requests_apart() -> None:
    url = f"{BASE}/kpi/N00945?per_page=5000"
    fake = FakeKolada({url: Answer(body=envelope([]))})
    client = fake.client(min_interval=0.34)
    client.kpis(["N00945"])
    client.kpis(["N00945"])
    assert fake.sleeps == [pytest.approx(0.34)]


def test_user_agent_and_accept_headers_are_sent() -> None:
    url = f"{BASE}/kpi/N00945?per_page=5000"
    fake = FakeKolada({url: Answer(body=envelope([]))})
    fake.client().kpis(["N00945"])
    assert fake.requests[0].headers["User-Agent"].startswith("rodtrad/")
    assert "(+https://github.com/rodtrad)" in fake.requests[0].headers["User-Agent"]
    assert fake.requests[0].headers["Accept"] == "application/json"
    fake.client(user_agent="test/1").kpis(["N00945"])
    assert fake.requests[1].headers["User-Agent"] == "test/1"


# --- data rows -------------------------------------------------------------------------------


def test_real_n00945_values() -> None:
    fake = FakeKolada({N00945: Answer(body=fixture("data_N00945_0180_1280_1480.json"))})
    points = fake.client().values(["N00945"], ["0180", "1280", "1480"])
    assert len(points) == 63 and {p.period for p in points} == set(range(2000, 2021))
    assert DataPoint("N00945", "0180", 2020, "T", 40.8, 1, "") in points


def test_deleted_dropped_null_kept_gender_split() -> None:
    url = f"{BASE}/data/kpi/N00090/municipality/0665,2282,0331,G37569,0192/year/2023,2024?per_page=5000"
    fake = FakeKolada({url: Answer(body=fixture("data_N00090_synthetic.json"))})
    points = fake.client().values(
        ["N00090"], ["0665", "2282", "0331", "G37569", "0192"], [2023, "2024"]
    )
    by_place: dict[tuple[str, str], DataPoint] = {(p.municipality, p.gender): p for p in points}
    assert [by_place["0665", g].value for g in "KMT"] == [8.9, 4.6, 7.9]
    assert by_place["2282", "T"].value is None  # null kept
    assert ("0331", "T") not in by_place  # isdeleted dropped
    assert by_place["G37569", "T"].count == 6
    # period given as "2023", count/status/isdeleted missing, an unknown field: all tolerated
    assert by_place["0192", "T"] == DataPoint("N00090", "0192", 2023, "T", 7.1, None, "")
    assert len(points) == 6


def test_keep_deleted_and_from_date_for_incremental_sync() -> None:
    url = f"{BASE}/data/kpi/N00090/municipality/0331?per_page=5000&from_date=2026-01-01"
    fake = FakeKolada({url: Answer(body=fixture("data_N00090_synthetic.json"))})
    points = fake.client().values(["N00090"], ["0331"], from_date="2026-01-01", keep_deleted=True)
    assert [(p.municipality, p.deleted) for p in points if p.deleted] == [("0331", True)]


def test_unknown_kpi_gives_empty_list_and_kpi_raises() -> None:
    url = f"{BASE}/kpi/U00405?per_page=5000"
    fake = FakeKolada({url: Answer(body={"values": [], "count": 0, "next_url": None})})
    client = fake.client()
    assert client.kpis(["U00405"]) == []
    with pytest.raises(KoladaError, match=r"^Kolada has no KPI U00405$"):
        client.kpi("U00405")


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.kpis(["N3001"]),
        lambda c: c.kpis(["n03001"]),
        lambda c: c.kpis(["N03001\n"]),
        lambda c: c.kpis("N03001"),  # a bare string, not a list
        lambda c: c.kpi("X00001"),
        lambda c: c.municipalities(["665"]),
        lambda c: c.municipalities(["0665,0331"]),
        lambda c: c.municipalities(region_type="R"),
        lambda c: c.municipality_groups(["37569"]),
        lambda c: c.municipalities(title=" "),
        lambda c: c.values(["N00945"], ["0180/../kpi"]),
        lambda c: c.values(["N00945"], ["0180"], [20]),
        lambda c: c.values(["N00945"], ["0180"], [True]),
        lambda c: c.values(["N00945"], ["0180"], from_date="2026-1-1"),
        lambda c: c.values(["N00945"]),  # one dimension is not enough
        lambda c: c.similar_group("G37569"),
    ],
)
def test_malformed_input_refused_before_any_request(call: Callable[[KoladaClient], Any]) -> None:
    fake = FakeKolada()
    with pytest.raises(KoladaError):
        call(fake.client())
    assert fake.requests == []


def test_empty_id_list_asks_nothing() -> None:
    fake = FakeKolada()
    assert fake.client().values([], ["0665"]) == []
    assert fake.requests == []


# --- bundled data and similar municipalities -------------------------------------------------


def test_load_catalogue_has_the_full_snapshot() -> None:
    catalogue = load_catalogue()
    assert len(catalogue) == 6099 and len({k.id for k in catalogue}) == 6099
    assert sum(k.discontinued for k in catalogue) == 734
    by_id = {k.id: k for k in catalogue}
    assert by_id["N00945"].title.startswith("Tillfälliga föräldrapenningdagar (VAB)")
    assert not by_id["N03001"].discontinued


def test_bundled_municipalities_and_groups() -> None:
    assert len(load_municipalities()) == 312
    groups = load_municipality_groups()
    assert len(groups) == 291 and "G2328" in {g.id for g in groups}
    mark = pick_similar_group(groups, "Mark")
    assert mark is not None and mark.title == "Liknande kommuner, övergripande, Mark, 2025"
    assert pick_similar_group(groups, "Riket") is None


def test_pick_similar_group_takes_the_latest_year() -> None:
    old = Group("G1", "Liknande kommuner, övergripande, Heby, 2024", ())
    new = Group("G2", "Liknande kommuner, övergripande, Heby, 2025", ())
    other = Group("G3", "Liknande kommuner socioekonomi, Heby, 2026", ())
    assert pick_similar_group([old, new, other], "Heby") == new


def test_similar_group_for_vaggeryd() -> None:
    fake = FakeKolada(emulate=True)
    group = fake.client().similar_group("0665")
    assert group is not None and group.id == "G37569"
    assert group.title == "Liknande kommuner, övergripande, Vaggeryd, 2025"
    assert group.members[0] == ("0582", "Söderköping") and len(group.members) == 7
    assert fake.urls == [
        f"{BASE}/municipality/0665?per_page=5000",
        f"{BASE}/municipality_groups?per_page=5000&title={SIMILAR}Vaggeryd",
    ]


def test_similar_group_matches_the_whole_name() -> None:
    fake = FakeKolada(emulate=True)
    client = fake.client()
    mark = client.similar_group("1463")  # the search for "Mark" also finds Markaryd
    assert mark is not None and mark.title.endswith(", Mark, 2025")
    assert client.similar_group("0000") is None  # Riket
    with pytest.raises(KoladaError, match="Kolada has no municipality 9999"):
        client.similar_group("9999")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
data_rows = st.fixed_dictionaries(
    {},
    optional={
        "kpi": st.sampled_from(["N00945", 7, None]),
        "municipality": st.sampled_from(["0180", None]),
        "period": st.sampled_from([2020, "2020", "x", None, True]),
        "values": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "gender": st.sampled_from(["T", "K", "M", "F", None]),
                    "value": json_values,
                    "count": json_values,
                    "status": json_values,
                    "isdeleted": json_values,
                },
            ),
            max_size=3,
        )
        | json_values,
    },
)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries({"values": st.lists(data_rows | json_values, max_size=3)}),
    )
)
def test_parse_data_accepts_or_raises_kolada_error(payload: Any) -> None:
    try:
        points = parse_data(payload, "fuzz")
    except KoladaError as error:
        assert str(error).startswith("fuzz")
    else:
        assert all(isinstance(p.period, int) and p.gender in "TKM" for p in points)

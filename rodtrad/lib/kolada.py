"""A small, typed client for the Kolada API v3 (https://api.kolada.se/v3), free of Django.

Data from Kolada must be shown with "Källa: Kolada"; values we compute ourselves must not be.

Rules the client keeps:

* Ids are strings and are checked before any request: KPI ``N12345``/``U12345``, municipality or
  region ``1234``, municipality group ``G…``, year ``2024``. A malformed id raises
  ``KoladaError``; repeated ids are asked for once. A data query needs at least two of kpis,
  municipalities and years (Kolada's rule); an empty list for one of them asks nothing.
* At most 25 ids go into one path segment. Longer lists are split into chunks of 25, and a data
  query asks for every combination of chunks across its segments (the cartesian product).
* Paging follows ``next_url`` (or the v2 name ``next_page``) until it is missing, null or "".
  A ``next_url`` on another host is refused, and ``http`` is upgraded to the base URL's scheme.
  Following a URL already fetched raises ``KoladaError``: a cycle means broken paging, and
  stopping quietly could hand back a partial answer as if it were complete.
* 429, 502, 503, 504, timeouts and network errors are retried ``max_retries`` times with
  exponential backoff (1, 2, 4, 8 … s, at most 60 s); a ``Retry-After`` given in seconds is used
  instead, capped at 60 s. 400, 404 and 500 (and any other status) fail at once: a 500 from
  Kolada answers a query it cannot handle, and asking again gives the same answer.
* Requests start at least ``min_interval`` seconds apart (about 3 per second). The clock and
  ``sleep`` are injectable so tests never wait.
* Parsing ignores unknown fields, takes ``period`` as int or str, keeps ``value: null`` as None,
  tolerates a missing ``count``, ``status`` or ``isdeleted``, and drops rows marked deleted
  (``keep_deleted=True`` keeps them for ``from_date`` syncs). A body that is not JSON or has the
  wrong shape raises ``KoladaError`` naming the URL (or file), the row and the field.
* An unknown KPI id gives an empty list (Kolada answers 200 with no values); ``kpi(id)`` raises.
* ``similar_group`` searches group titles for "Liknande kommuner, övergripande, <name>" and keeps
  only exact matches (the search is by substring: "Mark" also finds "Markaryd"), latest year first.

The ``parse_*`` functions take a decoded response, so stored files go through the same checks:
``load_catalogue()`` reads the bundled snapshot in ``kolada_data/`` (see its README).
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlencode

import httpx

Gender = Literal["T", "K", "M"]

MAX_SEGMENT = 25
MAX_PER_PAGE = 5000
MAX_PAGES = 1000
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_DELAY = 60.0
DATA_DIR = Path(__file__).with_name("kolada_data")

KPI_ID = re.compile(r"[NU][0-9]{5}")
MUNICIPALITY_ID = re.compile(r"[0-9]{4}")
GROUP_ID = re.compile(r"G[A-Za-z0-9_]+")
YEAR = re.compile(r"[0-9]{4}")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_GENDERS: dict[str, Gender] = {"T": "T", "K": "K", "M": "M"}
SIMILAR_PREFIX = "Liknande kommuner, övergripande, "

try:
    _VERSION = version("rodtrad")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    _VERSION = "0"


class KoladaError(Exception):
    """Kolada could not be asked, or answered something we cannot use. The message says where."""


@dataclass(frozen=True)
class Kpi:
    id: str
    title: str
    description: str
    is_divided_by_gender: bool
    municipality_type: str  # "K" municipality, "L" region, "A" both
    auspice: str | None
    operating_area: str
    perspective: str | None
    prel_publication_date: str | None
    publication_date: str | None
    publ_period: str | None
    has_ou_data: bool

    @property
    def discontinued(self) -> bool:
        """Kolada publishes no further period for this KPI."""
        return self.publ_period is None


@dataclass(frozen=True)
class Municipality:
    id: str
    title: str
    type: str  # "K" municipality, "L" region (and "0000" Riket)


@dataclass(frozen=True)
class Group:
    id: str
    title: str
    members: tuple[tuple[str, str], ...]  # (member_id, member_title)


@dataclass(frozen=True)
class DataPoint:
    kpi: str
    municipality: str  # a municipality, region or group id
    period: int
    gender: Gender
    value: float | None
    count: int | None  # for a group: how many members the unweighted mean covers
    status: str
    deleted: bool = False  # only ever True with keep_deleted=True


# --- parsing ---------------------------------------------------------------------------------


def _rows(payload: Any, source: str) -> list[dict[str, Any]]:
    if not isinstance(payload, dict):
        raise KoladaError(f"{source}: expected a JSON object, got {type(payload).__name__}")
    rows = payload.get("values")
    if not isinstance(rows, list):
        raise KoladaError(f"{source}: field 'values' should be a list, got {type(rows).__name__}")
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise KoladaError(f"{source}: row {index} should be an object")
    return rows


def _field(row: dict[str, Any], key: str, where: str, kind: type, *, required: bool) -> Any:
    value = row.get(key)
    if value is None:
        if required:
            raise KoladaError(f"{where}: field '{key}' is missing")
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise KoladaError(f"{where}: field '{key}' should be {kind.__name__}, got {value!r}")
    return value


def _str(row: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = _field(row, key, where, str, required=default is None)
    return value if value is not None else default or ""


def _opt_str(row: dict[str, Any], key: str, where: str) -> str | None:
    return _field(row, key, where, str, required=False)


def _bool(row: dict[str, Any], key: str, where: str) -> bool:
    value = row.get(key)
    if value in (None, False, 0):  # v2 sent 0/1
        return False
    if value in (True, 1):
        return True
    raise KoladaError(f"{where}: field '{key}' should be a boolean, got {value!r}")


def parse_kpis(payload: Any, source: str = "payload") -> list[Kpi]:
    kpis = []
    for index, row in enumerate(_rows(payload, source)):
        where = f"{source}: row {index}"
        kpis.append(
            Kpi(
                id=_str(row, "id", where),
                title=_str(row, "title", where),
                description=_str(row, "description", where, ""),
                is_divided_by_gender=_bool(row, "is_divided_by_gender", where),
                municipality_type=_str(row, "municipality_type", where, ""),
                auspice=_opt_str(row, "auspice", where) or _opt_str(row, "auspices", where),
                operating_area=_str(row, "operating_area", where, ""),
                perspective=_opt_str(row, "perspective", where),
                prel_publication_date=_opt_str(row, "prel_publication_date", where),
                publication_date=_opt_str(row, "publication_date", where),
                publ_period=_opt_str(row, "publ_period", where),
                has_ou_data=_bool(row, "has_ou_data", where),
            )
        )
    return kpis


def parse_municipalities(payload: Any, source: str = "payload") -> list[Municipality]:
    result = []
    for index, row in enumerate(_rows(payload, source)):
        where = f"{source}: row {index}"
        result.append(
            Municipality(
                _str(row, "id", where), _str(row, "title", where), _str(row, "type", where)
            )
        )
    return result


def parse_groups(payload: Any, source: str = "payload") -> list[Group]:
    groups = []
    for index, row in enumerate(_rows(payload, source)):
        where = f"{source}: row {index}"
        members = _field(row, "members", where, list, required=False) or []
        pairs = []
        for number, member in enumerate(members):
            at = f"{where} member {number}"
            if not isinstance(member, dict):
                raise KoladaError(f"{at}: should be an object")
            # v3 says member_id/member_title; the v2 docs said id/title.
            pairs.append(
                (
                    _str(member, "member_id" if "member_id" in member else "id", at),
                    _str(member, "member_title" if "member_title" in member else "title", at),
                )
            )
        groups.append(Group(_str(row, "id", where), _str(row, "title", where), tuple(pairs)))
    return groups


def parse_data(
    payload: Any, source: str = "payload", *, keep_deleted: bool = False
) -> list[DataPoint]:
    points = []
    for index, row in enumerate(_rows(payload, source)):
        where = f"{source}: row {index}"
        kpi = _str(row, "kpi", where)
        municipality = _str(row, "municipality", where)
        period = row.get("period")
        if isinstance(period, str) and YEAR.fullmatch(period):
            period = int(period)
        if not isinstance(period, int) or isinstance(period, bool):
            raise KoladaError(f"{where}: field 'period' should be a year, got {period!r}")
        for number, entry in enumerate(_field(row, "values", where, list, required=True)):
            at = f"{where} values[{number}]"
            if not isinstance(entry, dict):
                raise KoladaError(f"{at}: should be an object")
            deleted = _bool(entry, "isdeleted", at) or _bool(entry, "is_deleted", at)
            if deleted and not keep_deleted:
                continue
            gender = _GENDERS.get(_str(entry, "gender", at, "T"))
            if gender is None:
                raise KoladaError(
                    f"{at}: field 'gender' should be T, K or M, got {entry['gender']!r}"
                )
            value = entry.get("value")
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise KoladaError(f"{at}: field 'value' should be a number, got {value!r}")
                if not math.isfinite(value):
                    raise KoladaError(f"{at}: field 'value' should be finite, got {value!r}")
                value = float(value)
            count = _field(entry, "count", at, int, required=False)
            status = _str(entry, "status", at, "")
            points.append(
                DataPoint(kpi, municipality, period, gender, value, count, status, deleted)
            )
    return points


def chunked[T](items: Sequence[T], size: int = MAX_SEGMENT) -> list[list[T]]:
    """Split items, in order, into lists of at most ``size``."""
    if size < 1:
        raise ValueError("size must be at least 1")
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def pick_similar_group(groups: Sequence[Group], municipality_title: str) -> Group | None:
    """The "Liknande kommuner, övergripande, <title>, <year>" group with the highest year.

    The title must match exactly: Kolada's title search is a substring search, so asking for
    "Mark" also finds "Markaryd".
    """
    pattern = re.compile(re.escape(SIMILAR_PREFIX + municipality_title) + r", ([0-9]{4})")
    found = [(int(m.group(1)), g.id, g) for g in groups if (m := pattern.fullmatch(g.title))]
    return max(found, key=lambda item: (item[0], item[1]))[2] if found else None


def _load(name: str) -> Any:
    path = DATA_DIR / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as file:
        return json.load(file)


def load_catalogue() -> list[Kpi]:
    """The bundled KPI catalogue (6,099 KPIs, April 2026). Parses the file on every call."""
    return parse_kpis(_load("kpi_catalogue.json.gz"), str(DATA_DIR / "kpi_catalogue.json.gz"))


def load_municipalities() -> list[Municipality]:
    return parse_municipalities(_load("municipalities.json"), str(DATA_DIR / "municipalities.json"))


def load_municipality_groups() -> list[Group]:
    """The bundled "Liknande kommuner, övergripande" groups plus G2328 Alla kommuner."""
    name = "municipality_groups.json.gz"
    return parse_groups(_load(name), str(DATA_DIR / name))


# --- the client ------------------------------------------------------------------------------


def _check_ids(ids: Sequence[str], patterns: Sequence[re.Pattern[str]], what: str) -> list[str]:
    if isinstance(ids, str):
        raise KoladaError(f"{what} ids must be a list of strings, not the single string {ids!r}")
    for item in ids:
        if not isinstance(item, str) or not any(p.fullmatch(item) for p in patterns):
            raise KoladaError(f"{item!r} is not a valid {what} id")
    return list(dict.fromkeys(ids))  # drop repeats, keep order


class KoladaClient:
    BASE_URL = "https://api.kolada.se/v3"

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        base_url: str = BASE_URL,
        min_interval: float = 0.34,
        max_retries: int = 4,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        user_agent: str = f"rodtrad/{_VERSION} (+https://github.com/rodtrad)",
    ) -> None:
        self._owns_client = client is None
        self._http = client or httpx.Client(follow_redirects=True)
        self.base_url = httpx.URL(base_url.rstrip("/"))
        self.min_interval = min_interval
        self.max_retries = max_retries
        self.timeout = timeout
        self._sleep = sleep
        self._clock = clock
        self._headers = {"User-Agent": user_agent, "Accept": "application/json"}
        self._last_request: float | None = None

    def close(self) -> None:
        if self._owns_client:
            self._http.close()

    def __enter__(self) -> KoladaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # metadata

    def kpis(self, ids: Sequence[str] | None = None, title: str | None = None) -> list[Kpi]:
        return self._metadata("kpi", ids, [KPI_ID], "KPI", title, {}, parse_kpis)

    def kpi(self, kpi_id: str) -> Kpi:
        for kpi in self.kpis([kpi_id]):
            if kpi.id == kpi_id:
                return kpi
        raise KoladaError(f"Kolada has no KPI {kpi_id}")

    def municipalities(
        self,
        ids: Sequence[str] | None = None,
        title: str | None = None,
        region_type: Literal["K", "L"] | None = None,
    ) -> list[Municipality]:
        if region_type not in (None, "K", "L"):
            raise KoladaError(f"region_type must be 'K' or 'L', not {region_type!r}")
        params: dict[str, str] = {"region_type": region_type} if region_type else {}
        return self._metadata(
            "municipality",
            ids,
            [MUNICIPALITY_ID],
            "municipality",
            title,
            params,
            parse_municipalities,
        )

    def municipality_groups(
        self, ids: Sequence[str] | None = None, title: str | None = None
    ) -> list[Group]:
        return self._metadata(
            "municipality_groups", ids, [GROUP_ID], "group", title, {}, parse_groups
        )

    def similar_group(self, municipality_id: str) -> Group | None:
        """Kolada's current "Liknande kommuner, övergripande" group for a municipality.

        None for a region, Riket or a municipality without such a group; KoladaError for an id
        Kolada does not know.
        """
        found = self.municipalities(
            _check_ids([municipality_id], [MUNICIPALITY_ID], "municipality")
        )
        if not found:
            raise KoladaError(f"Kolada has no municipality {municipality_id}")
        title = found[0].title
        return pick_similar_group(self.municipality_groups(title=SIMILAR_PREFIX + title), title)

    # data

    def values(
        self,
        kpis: Sequence[str] | None = None,
        municipalities: Sequence[str] | None = None,
        years: Sequence[int | str] | None = None,
        *,
        from_date: str | None = None,
        keep_deleted: bool = False,
    ) -> list[DataPoint]:
        """Data rows for every combination of the given kpis, municipalities and years."""
        segments: list[tuple[str, list[str]]] = []
        if kpis is not None:
            segments.append(("kpi", _check_ids(kpis, [KPI_ID], "KPI")))
        if municipalities is not None:
            patterns = [MUNICIPALITY_ID, GROUP_ID]
            segments.append(("municipality", _check_ids(municipalities, patterns, "municipality")))
        if years is not None:
            texts = [y if isinstance(y, str) else str(y) for y in years]  # True -> "True": refused
            segments.append(("year", _check_ids(texts, [YEAR], "year")))
        if len(segments) < 2:
            raise KoladaError("Kolada needs at least two of kpis, municipalities and years")
        params = {}
        if from_date is not None:
            if not isinstance(from_date, str) or not DATE.fullmatch(from_date):
                raise KoladaError(f"from_date must look like 2025-01-31, not {from_date!r}")
            params["from_date"] = from_date
        if any(not ids for _, ids in segments):
            return []
        points: list[DataPoint] = []
        for combo in itertools.product(*(chunked(ids) for _, ids in segments)):
            path = "/".join(
                f"{name}/{','.join(chunk)}"
                for (name, _), chunk in zip(segments, combo, strict=True)
            )
            for url, page in self._pages(f"data/{path}", params):
                points.extend(parse_data(page, url, keep_deleted=keep_deleted))
        return points

    # internals

    def _metadata[T](
        self,
        entity: str,
        ids: Sequence[str] | None,
        patterns: Sequence[re.Pattern[str]],
        what: str,
        title: str | None,
        params: dict[str, str],
        parse: Callable[[Any, str], list[T]],
    ) -> list[T]:
        if title is not None:
            if not isinstance(title, str) or not title.strip():
                raise KoladaError(f"title must be a non-empty string, not {title!r}")
            params = {**params, "title": title}
        paths = (
            [entity]
            if ids is None
            else [f"{entity}/{','.join(c)}" for c in chunked(_check_ids(ids, patterns, what))]
        )
        return [
            item
            for path in paths
            for url, page in self._pages(path, params)
            for item in parse(page, url)
        ]

    def _pages(self, path: str, params: dict[str, str]) -> Iterator[tuple[str, Any]]:
        query = urlencode({"per_page": MAX_PER_PAGE, **params}, quote_via=quote)
        url: httpx.URL | None = httpx.URL(f"{self.base_url}/{path}?{query}")
        seen: set[str] = set()
        while url is not None:
            if str(url) in seen:
                raise KoladaError(f"Kolada's paging loops back to {url}, a page already fetched")
            if len(seen) >= MAX_PAGES:
                raise KoladaError(f"Kolada sent more than {MAX_PAGES} pages for {path}")
            seen.add(str(url))
            payload = self._get(str(url))
            yield str(url), payload
            url = self._next(url, payload)

    def _next(self, current: httpx.URL, payload: Any) -> httpx.URL | None:
        if not isinstance(payload, dict):
            return None  # the parser reports the shape
        link = payload.get("next_url") or payload.get("next_page")  # v2 called it next_page
        if not link:
            return None
        if not isinstance(link, str):
            raise KoladaError(f"{current}: field 'next_url' should be a URL, got {link!r}")
        target = current.join(link)
        if target.host != self.base_url.host:
            raise KoladaError(f"{current}: next_url {link!r} leaves {self.base_url.host}")
        return target.copy_with(scheme=self.base_url.scheme)

    def _throttle(self) -> None:
        if self._last_request is not None:
            wait = self._last_request + self.min_interval - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_request = self._clock()

    def _get(self, url: str) -> Any:
        attempt = 0
        while True:
            self._throttle()
            retry_after: float | None = None
            try:
                response = self._http.get(url, headers=self._headers, timeout=self.timeout)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                failure = f"Could not reach Kolada ({type(exc).__name__})"
            else:
                if response.status_code not in RETRY_STATUSES:
                    return self._decode(url, response)
                failure = f"Kolada answered {response.status_code} {response.reason_phrase}"
                retry_after = _seconds(response.headers.get("Retry-After"))
            attempt += 1
            if attempt > self.max_retries:
                raise KoladaError(f"{failure} {attempt} times for {url}; try again later")
            backoff = 2.0 ** (attempt - 1)
            self._sleep(min(MAX_DELAY, backoff if retry_after is None else retry_after))

    @staticmethod
    def _decode(url: str, response: httpx.Response) -> Any:
        if not response.is_success:
            hint = ""
            if response.status_code == 400:
                hint = " (an invalid parameter, or more than 25 ids in one segment)"
            elif response.status_code == 404:
                hint = " (no such route)"
            raise KoladaError(
                f"Kolada answered {response.status_code} {response.reason_phrase} for {url}{hint}"
            )
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "no content type")
            start = response.text[:80].strip()
            raise KoladaError(
                f"Kolada's answer for {url} is not JSON ({kind}): {start!r}"
            ) from None


def _seconds(header: str | None) -> float | None:
    """Retry-After in seconds; an HTTP date (or garbage) falls back to the backoff."""
    try:
        seconds = float(header or "")
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None

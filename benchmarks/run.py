"""Run the benchmarks: `python -m benchmarks.run` (what `make bench` does).

The parent process runs one child per database, one after the other (never in parallel, so
they do not compete for the CPU): `python -m benchmarks.run --db sqlite` and `--db postgres`.
Each child creates an empty database, migrates it, loads the small Nynäshamn demo and
generates the Stockholm-scale municipality (benchmarks/stockholm.py), then times the pages
in-process with Django's test Client (no HTTP, no server) and counts their SQL queries;
then it imports a generated 1,000,000-row SIE 4 ledger (benchmarks/finance.py) and, last,
runs a tertial follow-up cycle that 1,500 org units report (benchmarks/followup.py).
The parent prints one table and writes benchmarks/results.json. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpResponseBase
    from django.test import Client

    from rodtrad.organisations.models import Municipality, User
    from rodtrad.steering.models import PlanItem

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results.json"
TARGET_MS = 50
DATABASES = ("sqlite", "postgres")
SUFFIX = {"sqlite": "", "postgres": "_pg"}
ADMIN_DB = "test"  # the existing PostgreSQL database the script connects to, to create its own

PAGES = ("thread_page", "thread_children", "item_page", "link_save")


# --- Figures --------------------------------------------------------------------------------


def figure(value: float, unit: str, target: float | str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "target": target}


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile, linear between the closest ranks (numpy's default)."""
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(samples: list[float], p: float) -> float:
    return round(percentile(samples, p) * 1000, 1)


# --- The child: one database --------------------------------------------------------------


def _pg_urls() -> tuple[str, str, str]:
    """(the benchmark database's URL, its name, a connection string to the admin database)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from benchmarks.settings import DEFAULT_PG_URL

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL)
    name = str(conninfo_to_dict(url).get("dbname") or "rodtrad_bench")
    admin = make_conninfo(url, dbname=os.environ.get("BENCH_ADMIN_DB", ADMIN_DB))
    return url, name, admin


def _pg_recreate(drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    _url, name, admin = _pg_urls()
    if name == os.environ.get("BENCH_ADMIN_DB", ADMIN_DB):
        raise SystemExit(f"The benchmark database may not be the admin database {name!r}.")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _sqlite_remove() -> None:
    from benchmarks.settings import SQLITE_PATH

    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)


@dataclass
class Targets:
    """What is requested in one municipality."""

    municipality: Municipality
    user: User
    children_node: PlanItem
    item: PlanItem
    link_from: PlanItem
    link_to: PlanItem
    info: dict[str, Any]


def pick_targets(municipality: Municipality, user: User) -> Targets:
    """The node with most contributors, a board goal with many contributors and several
    ancestors, and a commitment with one link and another goal of its board to link to."""
    from django.db.models import Count

    from rodtrad.steering import selectors
    from rodtrad.steering.models import PlanItem, PlanLink

    scope = selectors.resolve_scope(municipality, {})
    in_scope = scope.items()
    counts = (
        PlanLink.objects.filter(to_item__in=in_scope, from_item__in=in_scope)
        .values("to_item")
        .annotate(n=Count("id"))
    )
    n_contributors = {row["to_item"]: row["n"] for row in counts}
    n_parents = {
        row["from_item"]: row["n"]
        for row in PlanLink.objects.filter(from_item__in=in_scope)
        .values("from_item")
        .annotate(n=Count("id"))
    }
    items = {i.pk: i for i in in_scope.select_related("level", "owner")}

    def best(level: str, parents: Callable[[int], bool]) -> PlanItem:
        found = [
            i for i in items.values() if i.level.key == level and parents(n_parents.get(i.pk, 0))
        ]
        if not found:
            found = [i for i in items.values() if i.level.key == level]
        return max(
            found, key=lambda i: (n_contributors.get(i.pk, 0), n_parents.get(i.pk, 0), -i.pk)
        )

    children_node = max(items.values(), key=lambda i: (n_contributors.get(i.pk, 0), -i.pk))
    item = best("namndmal", lambda n: n >= 2)
    link_from = best("atagande", lambda n: n == 1)
    current = PlanLink.objects.get(from_item=link_from).to_item
    link_to = (
        PlanItem.objects.filter(
            level=current.level,
            owner=current.owner,
            period=current.period,
            plan_year=current.plan_year,
        )
        .exclude(pk=current.pk)
        .order_by("pk")
        .first()
    )
    if link_to is None:
        raise SystemExit(f"{municipality}: no second board goal to link {link_from} to.")
    from rodtrad.steering.selectors import ancestors_by_level

    info = {
        "children_node": f"{children_node.level.key} #{children_node.pk}, "
        f"{n_contributors.get(children_node.pk, 0)} contributors",
        "item_page": f"{item.level.key} #{item.pk}, {n_contributors.get(item.pk, 0)} contributors, "
        f"{sum(len(a) for _lv, a in ancestors_by_level(item))} ancestors",
        "link_save": f"{link_from.level.key} #{link_from.pk} ({n_contributors.get(link_from.pk, 0)} "
        f"contributors) to/from {link_to.level.key} #{link_to.pk}",
    }
    return Targets(municipality, user, children_node, item, link_from, link_to, info)


class Pages:
    """Requests, as the browser makes them (htmx requests carry HX-Request)."""

    def __init__(self, client: Client, targets: Targets):
        self.client = client
        self.t = targets
        code = targets.municipality.code
        self.thread_url = f"/k/{code}/trad/"
        self.children_url = f"/k/{code}/trad/{targets.children_node.pk}/bidrag/"
        self.item_url = f"/k/{code}/mal/{targets.item.pk}/"
        self.add_url = f"/k/{code}/mal/{targets.link_from.pk}/lankar/"
        self.remove_url = (
            f"/k/{code}/mal/{targets.link_from.pk}/lankar/{targets.link_to.pk}/ta-bort/"
        )

    @staticmethod
    def _ok(response: HttpResponseBase, what: str) -> None:
        if response.status_code != 200:
            raise SystemExit(f"{what} answered {response.status_code}, not 200.")

    def thread_page(self) -> None:
        self._ok(self.client.get(self.thread_url), self.thread_url)

    def thread_children(self) -> None:
        self._ok(
            self.client.get(self.children_url, headers={"HX-Request": "true"}), self.children_url
        )

    def item_page(self) -> None:
        self._ok(self.client.get(self.item_url), self.item_url)

    def _version(self) -> int:
        from rodtrad.steering.models import PlanItem

        return PlanItem.objects.values_list("version", flat=True).get(pk=self.t.link_from.pk)

    def link_add(self) -> Callable[[], None]:
        """Prepare (untimed) an add; the returned call is the request to time."""
        data = {"to_item": str(self.t.link_to.pk), "version": str(self._version())}

        def request() -> None:
            response = self.client.post(self.add_url, data, headers={"HX-Request": "true"})
            self._ok(response, self.add_url)

        return request

    def link_remove(self) -> Callable[[], None]:
        data = {"version": str(self._version())}

        def request() -> None:
            response = self.client.post(self.remove_url, data, headers={"HX-Request": "true"})
            self._ok(response, self.remove_url)

        return request

    def linked(self) -> bool:
        from rodtrad.steering.models import PlanLink

        return PlanLink.objects.filter(from_item=self.t.link_from, to_item=self.t.link_to).exists()

    def after_link(self, expect_linked: bool) -> None:
        """Check the save did its work, and drop the queued flash message: an htmx partial
        never shows it, so it would pile up in the cookie across the run."""
        if self.linked() != expect_linked:
            raise SystemExit("A link request answered 200 but did not change the link.")
        self.client.cookies.pop("messages", None)


def _timed(call: Callable[[], None]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def count_queries(pages: Pages) -> dict[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for name, call in (
        ("thread_page", pages.thread_page),
        ("thread_children", pages.thread_children),
        ("item_page", pages.item_page),
    ):
        call()  # warm
        with CaptureQueriesContext(connection) as ctx:
            call()
        counts[name] = len(ctx.captured_queries)
    if pages.linked():
        pages.link_remove()()
    add = pages.link_add()
    with CaptureQueriesContext(connection) as ctx:
        add()
    pages.after_link(True)
    n_add = len(ctx.captured_queries)
    remove = pages.link_remove()
    with CaptureQueriesContext(connection) as ctx:
        remove()
    pages.after_link(False)
    counts["link_save"] = max(n_add, len(ctx.captured_queries))
    return counts


def time_pages(pages: Pages, n: int, warmup: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {}
    for name, call in (
        ("thread_page", pages.thread_page),
        ("thread_children", pages.thread_children),
        ("item_page", pages.item_page),
    ):
        for _ in range(warmup):
            call()
        samples[name] = [_timed(call) for _ in range(n)]
    if pages.linked():
        pages.link_remove()()
        pages.after_link(False)
    adds: list[float] = []
    removes: list[float] = []
    for i in range(warmup + n):
        add = pages.link_add()
        took = _timed(add)
        pages.after_link(True)
        remove = pages.link_remove()
        took_remove = _timed(remove)
        pages.after_link(False)
        if i >= warmup:
            adds.append(took)
            removes.append(took_remove)
    samples["link_add"] = adds
    samples["link_remove"] = removes
    samples["link_save"] = [t for pair in zip(adds, removes, strict=True) for t in pair]
    return samples


def client_for(user: User) -> Client:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def run_child(args: argparse.Namespace) -> dict[str, Any]:
    os.environ["BENCH_DB"] = args.db
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    if args.db == "postgres":
        _pg_recreate()
    else:
        _sqlite_remove()
    try:
        return _measure(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            if args.db == "postgres":
                _pg_recreate(drop_only=True)
            else:
                _sqlite_remove()


def _measure(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from benchmarks import finance as bench_finance
    from benchmarks import followup as bench_followup
    from benchmarks import indicators as bench_indicators
    from benchmarks import stockholm
    from rodtrad.organisations.models import Membership, Role
    from rodtrad.steering import rules
    from rodtrad.steering.demo import DEMOS, load_demo_file

    log = lambda msg: print(f"[{args.db}] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.perf_counter()
    small = load_demo_file(DEMOS / "nynashamn.yaml")
    assert small is not None
    small_s = time.perf_counter() - migrated
    log(f"migrated in {migrated - started:.1f} s, small demo (Nynäshamn) loaded in {small_s:.1f} s")
    generated = stockholm.generate(scale=args.scale)
    log(
        f"generated {generated.municipality} in {generated.seconds:.1f} s: "
        + ", ".join(f"{k} {v}" for k, v in generated.counts.items())
    )
    if connection.vendor == "postgresql" or args.analyze:
        # PostgreSQL: what autovacuum does shortly after a bulk load. SQLite gathers no
        # statistics unless told to (Röd tråd never does), so it gets ANALYZE only on request.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    if args.validate:
        checked = time.perf_counter()
        problems = rules.validate_plan(generated.municipality)
        log(f"validate_plan: {len(problems)} problems in {time.perf_counter() - checked:.1f} s")
        if problems:
            raise SystemExit("The generated plan breaks its model:\n" + "\n".join(problems[:20]))

    # Indicators (issue 3): 2,000 on the big plan; the catalogue; a 100k-value file; roll-up.
    indicator_setup = bench_indicators.setup(generated.municipality)
    log(f"{len(indicator_setup.indicators)} indicators in {indicator_setup.seconds:.1f} s")
    catalogue_s = bench_indicators.catalogue_import()
    csv_data = bench_indicators.values_csv(indicator_setup.indicators)
    values_s, _summary = bench_indicators.values_import(
        generated.municipality, generated.controller, csv_data
    )
    rollup = bench_indicators.rollup_times(
        generated.municipality, indicator_setup.indicators[0], runs=max(5, args.requests // 5)
    )
    log(
        f"catalogue {catalogue_s:.2f} s, 100k values {values_s:.2f} s, roll-up first "
        f"{rollup['first_ms']} ms then p50 {ms(rollup['samples'], 50)} ms"
    )

    small_user = (
        Membership.objects.filter(org_unit__municipality=small, role=Role.CONTROLLER)
        .select_related("user")
        .first()
    )
    assert small_user is not None
    small_pages = Pages(client_for(small_user.user), pick_targets(small, small_user.user))
    big_targets = pick_targets(generated.municipality, generated.controller)
    big_pages = Pages(client_for(generated.controller), big_targets)
    queries_small = count_queries(small_pages)
    queries_big = count_queries(big_pages)
    log("timing " + ", ".join(f"{k}: {v}" for k, v in big_targets.info.items()))
    load_before = _load()
    timing_started = time.perf_counter()
    samples = time_pages(big_pages, args.requests, args.warmup)
    timing_s = time.perf_counter() - timing_started
    load_after = _load()

    # The ledger import (SIE 4, 1,000,000 #TRANS): after the pages, so its rows cannot
    # change their figures; the import itself runs in a fresh process (peak memory).
    finance_started = time.perf_counter()
    finance_figures, finance_meta = bench_finance.run(generated.municipality, args.db, log)
    finance_meta["total_s"] = round(time.perf_counter() - finance_started, 1)

    # The follow-up cycle (a tertial for 1,500 org units): last, after the ledger, so that the
    # boards' economy has an outcome and a budget and its reports cannot change the pages.
    followup_started = time.perf_counter()
    followup_figures, followup_meta = bench_followup.run(
        generated.municipality,
        generated.controller,
        generated.plan_year,
        requests=args.requests,
        warmup=args.warmup,
        log=log,
    )
    followup_meta["total_s"] = round(time.perf_counter() - followup_started, 1)

    figures: dict[str, Any] = {}
    for name in (*PAGES, "link_add", "link_remove"):
        if name in PAGES:
            figures[f"{name}_p50_ms"] = figure(ms(samples[name], 50), "ms", "informational")
        figures[f"{name}_p95_ms"] = figure(ms(samples[name], 95), "ms", TARGET_MS)
    for name in PAGES:
        figures[f"{name}_queries_small"] = figure(
            queries_small[name], "queries", f"baseline for {name}_queries_stockholm"
        )
        figures[f"{name}_queries_stockholm"] = figure(
            queries_big[name], "queries", f"<= {name}_queries_small (does not grow with the tree)"
        )
    figures["generation_s"] = figure(round(generated.seconds, 1), "s", 60)
    figures["kolada_catalogue_import_s"] = figure(round(catalogue_s, 2), "s", 2)
    figures["values_import_100k_s"] = figure(round(values_s, 2), "s", 5)
    figures["rollup_stockholm_ms"] = figure(ms(rollup["samples"], 50), "ms", 200)
    figures["rollup_stockholm_p95_ms"] = figure(ms(rollup["samples"], 95), "ms", "informational")
    figures["rollup_stockholm_first_ms"] = figure(rollup["first_ms"], "ms", "informational")
    figures.update(finance_figures)
    figures.update(followup_figures)
    with connection.cursor() as cursor:
        cursor.execute(
            "select version()" if connection.vendor == "postgresql" else "select sqlite_version()"
        )
        version = cursor.fetchone()[0]
    meta = {
        "database": f"{connection.vendor} {version.split(' on ')[0]}",
        "dataset": generated.counts,
        "requested": {**big_targets.info, "small_municipality": str(small)},
        "samples_per_figure": args.requests,
        "link_save_samples": 2 * args.requests,
        "warmup_requests": args.warmup,
        "migrate_s": round(migrated - started, 1),
        "small_demo_load_s": round(small_s, 1),
        "timing_s": round(timing_s, 1),
        "scale": args.scale,
        "sqlite_analyzed": bool(args.analyze) if connection.vendor == "sqlite" else None,
        "load_average_before_after": [load_before, load_after],
        "sie4_import": finance_meta,
        "followup": followup_meta,
    }
    return {"figures": figures, "meta": meta}


# --- The parent: both databases -----------------------------------------------------------


def _status(name: str, fig: dict[str, Any], figures: dict[str, Any], suffix: str) -> str:
    target = fig["target"]
    if isinstance(target, int | float):
        return "ok" if fig["value"] <= target else "OVER"
    if name.endswith("_queries_stockholm"):
        small = figures[name.replace("_stockholm", "_small") + suffix]["value"]
        return "ok" if fig["value"] <= small else "GROWS"
    return ""


def print_table(results: dict[str, Any]) -> list[str]:
    """Print the figures; return the names of those that miss their target."""
    rows = []
    missed = []
    for key, fig in results.items():
        if key.startswith("_"):
            continue
        suffix = "_pg" if key.endswith("_pg") else ""
        name = key[: -len(suffix)] if suffix else key
        status = _status(name, fig, results, suffix)
        if status not in ("", "ok"):
            missed.append(key)
        rows.append((key, f"{fig['value']:g}", fig["unit"], str(fig["target"]), status))
    widths = [
        max(len(r[i]) for r in [("name", "value", "unit", "target", "status"), *rows])
        for i in range(5)
    ]
    header = ("name", "value", "unit", "target", "status")
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(
            "  ".join(
                cell.ljust(w) if i != 1 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
    return missed


def run_parent(args: argparse.Namespace) -> int:
    import django

    started = time.perf_counter()
    results: dict[str, Any] = {}
    per_db: dict[str, Any] = {}
    for db in args.only.split(","):
        if db not in DATABASES:
            raise SystemExit(f"unknown database {db!r}; choose from {', '.join(DATABASES)}")
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
            path = Path(out.name)
        command = [sys.executable, "-m", "benchmarks.run", "--db", db, "--out", str(path)]
        command += [
            "--requests",
            str(args.requests),
            "--warmup",
            str(args.warmup),
            "--scale",
            str(args.scale),
        ]
        command += ["--validate"] if args.validate else []
        command += ["--analyze"] if args.analyze else []
        command += ["--keep"] if args.keep else []
        print(f"--- {db}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
        done = subprocess.run(command, cwd=BENCH_DIR.parent, check=False)  # noqa: S603
        if done.returncode != 0:
            path.unlink(missing_ok=True)
            print(
                f"The {db} benchmark failed (exit {done.returncode}); results.json is unchanged.",
                file=sys.stderr,
            )
            return done.returncode
        child = json.loads(path.read_text(encoding="utf-8"))
        path.unlink()
        for name, fig in child["figures"].items():
            results[name + SUFFIX[db]] = fig
        per_db[db] = child["meta"]
    results["_meta"] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "django": django.get_version(),
        "cpu_count": os.cpu_count(),
        "machine": f"{platform.system()} {platform.machine()}",
        "processor": _cpu_name(),
        "total_s": round(time.perf_counter() - started, 1),
        **per_db,
    }
    missed = print_table(results)
    official = args.scale == 1.0 and args.requests >= 50 and not args.analyze
    target = Path(args.results) if args.results else RESULTS
    if args.results or (args.only == ",".join(DATABASES) and official):
        target.write_text(
            json.dumps(results, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        print(f"\nWrote {target} in {results['_meta']['total_s']} s.")
    else:
        print(
            "\nNot the standard run (--only, --scale, --requests < 50 or --analyze): results.json is left as it was."
        )
    if missed:
        print(f"Missed targets: {', '.join(missed)}")
        return 1 if args.strict else 0
    return 0


def _load() -> float | None:
    """The 1-minute load average: other work on the machine slows the figures."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--db", choices=DATABASES, help="run one database (the child process)")
    parser.add_argument("--out", help="child: write its figures to this JSON file")
    parser.add_argument("--only", default=",".join(DATABASES), help="parent: databases to run")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per figure")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink the municipality (trials)")
    parser.add_argument("--validate", action="store_true", help="check the plan with validate_plan")
    parser.add_argument("--analyze", action="store_true", help="SQLite: ANALYZE after generating")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--results", help="parent: write the figures here instead")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.db is None:
        return run_parent(args)
    result = run_child(args)
    text = json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

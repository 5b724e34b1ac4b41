"""The ledger import at Stockholm scale: a SIE 4 file of 1,000,000 #TRANS lines.

`run()` is called by the benchmark child (benchmarks/run.py) once the Stockholm-scale
municipality exists. It

1. generates a SIE 4 ledger for it with `rodtrad.lib.sie4_generate.generate_municipal_ledger`:
   the municipality's org units that have a ledger code as responsibility units (dimension 1;
   the first, Kommunstyrelsen, is the central unit), eight activities (dimension 20), the
   current year, ten months, exactly 1,000,000 #TRANS lines, with the usual header (#OBJEKT,
   #KONTO, #IB/#UB/#RES, #PSALDO per month and #PBUDGET for all twelve months). The file
   is written to a temporary file on disk (not held in memory) and removed afterwards;
2. times reading the same file and splitting its lines, the least any importer must do
   (`for line in open(path, encoding="cp437"): line.split()`, best of 2): `read_s`;
3. imports it end to end with `rodtrad.finance.services.ledger_import_sie4` (the file opened
   in binary mode, as the upload view passes it; budget included), once: `import_s`;
4. checks the import: no problems, every #TRANS and voucher counted, and the stored
   LedgerRow amounts add up, per month and account and per responsibility unit and month,
   to the generator's own totals (`LedgerSummary.by_month_account`, `.by_unit_month`; every
   generated account is a profit-and-loss account, all of which the importer keeps).

Peak memory. The import runs in a fresh Python process (`python -m benchmarks.finance
--db ... --file ...`, the same settings and database as the child), which loads Django, opens
its database connection, then imports the file and reports its own peak resident set size
(VmHWM in /proc/self/status; Linux) and the resident size just before the import (VmRSS).
In the benchmark child itself the peak would be that of everything before (the generated
plan, 1,500 org units, 30,000 items, the indicator benchmarks), and a peak never goes down;
tracemalloc sees only Python's allocations and slows the import several times over, so its
time would be worthless. `getrusage().ru_maxrss` will not do either, in the new process
(`RUSAGE_SELF`) or read from the child (`RUSAGE_CHILDREN`): Linux carries it over the exec
from the forking process, so it would report at least the child's own ~300 MB whatever the
import used (`_status_kb` explains). A separate process is
also what a deployment has: a worker that handles the upload. `sie4_import_1m_peak_mb` is
therefore the whole process's peak (interpreter, Django and the import), i.e. what a worker
needs, and `sie4_import_baseline_mb` the part that is there before the import starts. The
time is measured in that process around the `ledger_import_sie4` call only, so process start
and Django setup are not in it.

On its own (with a kept benchmark database, `python -m benchmarks.run --keep ...`):

    python -m benchmarks.finance --db sqlite [--file ledger.se] [--profile]

imports a file (or generates one first) into that database's Stockholm and prints the
figures; `--profile` runs the import under cProfile and prints the top 15 functions by own
time (cProfile slows it about 2.5 times). Before it imports, it deletes the municipality's
earlier ledger imports, outcome rows and budget lines (outside the timed part), so every run
is a first import, as in `make bench`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rodtrad.lib.sie4_generate import LedgerSummary
    from rodtrad.organisations.models import Municipality

N_TRANSACTIONS = 1_000_000
MONTHS = 10
SEED = 2026
# A handful of Kommun-Bas activities ("verksamhet"); each unit runs one to three of them.
ACTIVITIES = [
    ("100", "Politisk verksamhet"),
    ("300", "Infrastruktur, skydd m.m."),
    ("350", "Fritid och kultur"),
    ("407", "Grundskola"),
    ("410", "Förskola"),
    ("510", "Äldreomsorg"),
    ("520", "Insatser enligt LSS"),
    ("600", "Individ- och familjeomsorg"),
]
TARGET_IMPORT_S = 5
TARGET_PEAK_MB = 300
TARGET_RATIO = 3


@dataclass
class LedgerFile:
    path: Path
    summary: LedgerSummary
    seconds: float
    units: int


def generate_file(municipality: Municipality, directory: str | None = None) -> LedgerFile:
    """Write the 1M-row ledger of `municipality` to a new temporary file."""
    from rodtrad.lib.sie4_generate import generate_municipal_ledger
    from rodtrad.organisations.models import OrgUnit

    # Org units in creation order: Kommunfullmäktige (no code), then Kommunstyrelsen first.
    units = dict(
        OrgUnit.objects.filter(municipality=municipality)
        .exclude(ledger_code="")
        .order_by("pk")
        .values_list("ledger_code", "name")
    )
    fd, name = tempfile.mkstemp(prefix="rodtrad-sie4-", suffix=".se", dir=directory)
    path = Path(name)
    started = time.perf_counter()
    try:
        with os.fdopen(fd, "wb") as out:
            summary = generate_municipal_ledger(
                out,
                seed=SEED,
                company_name=municipality.name,
                orgnr="212000-0142",
                year=datetime.date.today().year,
                months=MONTHS,
                responsibility_units=list(units.items()),
                activities=ACTIVITIES,
                n_transactions=N_TRANSACTIONS,
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return LedgerFile(path, summary, time.perf_counter() - started, len(units))


def read_time(path: Path, runs: int = 2) -> float:
    """The best of `runs` times to read the file's lines and split them into fields."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        with open(path, encoding="cp437") as lines:
            for line in lines:
                line.split()
        best = min(best, time.perf_counter() - started)
    return best


def import_in_fresh_process(db: str, code: str, path: Path) -> dict[str, Any]:
    """Run `python -m benchmarks.finance` on `path`; return what it measured."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        report = Path(out.name)
    try:
        command = [sys.executable, "-m", "benchmarks.finance", "--db", db]
        command += ["--municipality", code, "--file", str(path), "--out", str(report)]
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            command, cwd=Path(__file__).resolve().parent.parent, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"The SIE 4 import process failed (exit {done.returncode}).")
        measured: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    finally:
        report.unlink(missing_ok=True)
    if measured["problems"]:
        raise SystemExit(
            "The SIE 4 import reported problems:\n" + "\n".join(measured["problems"][:20])
        )
    return measured


def check_import(batch_id: int, summary: LedgerSummary) -> dict[str, int]:
    """Compare the stored outcome with the generator's totals; raise SystemExit if they differ."""
    from rodtrad.finance.models import BudgetLine, LedgerImport, LedgerRow
    from rodtrad.finance.services import KEPT_PREFIXES

    batch = LedgerImport.objects.get(pk=batch_id)
    problems = []
    if batch.rows != summary.transactions or batch.vouchers != summary.vouchers:
        problems.append(
            f"counted {batch.rows} rows and {batch.vouchers} vouchers, generated "
            f"{summary.transactions} and {summary.vouchers}"
        )
    if batch.months != list(range(1, MONTHS + 1)):
        problems.append(f"months {batch.months}, expected 1-{MONTHS}")
    # Summed in Python: SQLite adds decimals as floats.
    by_month_account: dict[tuple[int, str], Decimal] = {}
    by_unit_month: dict[tuple[str, int], Decimal] = {}
    stored = 0
    zero = Decimal(0)
    for month, account, unit, amount in LedgerRow.objects.filter(imported_id=batch_id).values_list(
        "month", "account", "responsibility", "amount"
    ):
        stored += 1
        by_month_account[(month, account)] = by_month_account.get((month, account), zero) + amount
        by_unit_month[(unit, month)] = by_unit_month.get((unit, month), zero) + amount
    expected_accounts = {
        key: value
        for key, value in summary.by_month_account.items()
        if value and key[1].startswith(KEPT_PREFIXES)
    }
    if _nonzero(by_month_account) != expected_accounts:
        problems.append(_difference("month/account", _nonzero(by_month_account), expected_accounts))
    expected_units = _nonzero(summary.by_unit_month)
    if _nonzero(by_unit_month) != expected_units:
        problems.append(_difference("unit/month", _nonzero(by_unit_month), expected_units))
    # The import's `stored` counts its sums; a sum of 0 gets no LedgerRow.
    if not 0 < stored <= batch.stored:
        problems.append(f"{stored} rows stored, the import says {batch.stored}")
    budget_lines = BudgetLine.objects.filter(municipality_id=batch.municipality_id).count()
    if not batch.budget_lines or budget_lines != batch.budget_lines:
        problems.append(f"{budget_lines} budget lines, the import says {batch.budget_lines}")
    if problems:
        raise SystemExit("The imported ledger does not match the file:\n" + "\n".join(problems))
    return {"rows_stored": stored, "budget_lines": budget_lines}


def _nonzero[K](totals: dict[K, Decimal]) -> dict[K, Decimal]:
    return {key: value for key, value in totals.items() if value}


def _difference(
    what: str, got: dict[Any, Decimal], expected: dict[Any, Decimal], show: int = 5
) -> str:
    keys = sorted(set(got) | set(expected), key=str)
    wrong = [k for k in keys if got.get(k) != expected.get(k)]
    examples = ", ".join(f"{k}: {got.get(k)} != {expected.get(k)}" for k in wrong[:show])
    return f"{len(wrong)} {what} totals differ, e.g. {examples}"


def run(
    municipality: Municipality, db: str, log: Callable[[str], None]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Generate, read, import (in a fresh process) and check; return (figures, meta)."""
    from benchmarks.run import _load, figure

    ledger = generate_file(municipality)
    try:
        size_mb = ledger.path.stat().st_size / 2**20
        log(
            f"SIE 4: {ledger.summary.transactions:,} #TRANS in {ledger.summary.vouchers:,} "
            f"vouchers, {ledger.summary.lines:,} lines, {size_mb:.0f} MiB, {ledger.units} units, "
            f"generated in {ledger.seconds:.1f} s"
        )
        read_s = read_time(ledger.path)
        load_before = _load()
        measured = import_in_fresh_process(db, municipality.code, ledger.path)
        load_after = _load()
    finally:
        ledger.path.unlink(missing_ok=True)
    import_s = measured["seconds"]
    checked_at = time.perf_counter()
    checked = check_import(measured["batch"], ledger.summary)
    check_s = time.perf_counter() - checked_at
    peak_mb = measured["peak_kb"] / 1024
    baseline_mb = measured["baseline_kb"] / 1024
    log(
        f"SIE 4: read and split {read_s:.2f} s, import {import_s:.2f} s "
        f"(CPU {measured['cpu_seconds']:.2f} s; {import_s / read_s:.1f}x), "
        f"peak {peak_mb:.0f} MB (before the import {baseline_mb:.0f} MB), "
        f"{checked['rows_stored']:,} rows stored, checked in {check_s:.1f} s"
    )
    figures = {
        "sie4_import_1m_s": figure(round(import_s, 2), "s", TARGET_IMPORT_S),
        "sie4_import_1m_peak_mb": figure(round(peak_mb), "MB", TARGET_PEAK_MB),
        "sie4_import_vs_read_ratio": figure(round(import_s / read_s, 1), "x", TARGET_RATIO),
        "sie4_import_1m_cpu_s": figure(round(measured["cpu_seconds"], 2), "s", "informational"),
        "sie4_read_split_1m_s": figure(round(read_s, 2), "s", "informational"),
        "sie4_import_baseline_mb": figure(round(baseline_mb), "MB", "informational"),
        "sie4_generate_1m_s": figure(round(ledger.seconds, 1), "s", "informational"),
        "sie4_rows_stored": figure(checked["rows_stored"], "rows", "informational"),
    }
    meta = {
        "transactions": ledger.summary.transactions,
        "vouchers": ledger.summary.vouchers,
        "lines": ledger.summary.lines,
        "file_mib": round(size_mb, 1),
        "responsibility_units": ledger.units,
        "activities": len(ACTIVITIES),
        "months": MONTHS,
        "budget_lines": checked["budget_lines"],
        "warnings": measured["warnings"],
        "load_average_before_after": [load_before, load_after],
    }
    return figures, meta


# --- The import process -------------------------------------------------------------------


def _status_kb(field: str) -> int:
    """A size from /proc/self/status (VmRSS: resident now, VmHWM: peak resident), in KiB.

    Not `getrusage(RUSAGE_SELF).ru_maxrss`: Linux carries it over an exec from the process
    that forked, so a process started by the benchmark child would report at least the
    child's own size (300 MB at full scale) whatever the import used. VmHWM belongs to the
    process's own address space, which exec makes new.
    """
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise SystemExit(f"/proc/self/status has no {field}: the memory figures need Linux.")


def _import(code: str, path: Path, profile: bool) -> dict[str, Any]:
    from django.db import connection

    from rodtrad.finance.models import BudgetLine, LedgerImport, LedgerRow
    from rodtrad.finance.services import ledger_import_sie4
    from rodtrad.organisations.models import Municipality

    municipality = Municipality.objects.get(code=code)
    # Every run a first import: drop what an earlier run stored (nothing, in `make bench`).
    LedgerRow.objects.filter(municipality=municipality).delete()
    BudgetLine.objects.filter(municipality=municipality).delete()
    LedgerImport.objects.filter(municipality=municipality).delete()
    connection.ensure_connection()
    baseline_kb = _status_kb("VmRSS")
    with open(path, "rb") as stream:
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started, cpu_started = time.perf_counter(), time.process_time()
        result = ledger_import_sie4(
            user=None, municipality=municipality, stream=stream, filename=path.name
        )
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(15)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_kb": _status_kb("VmHWM"),
        "baseline_kb": baseline_kb,
        "problems": result.problems,
        "warnings": result.warnings,
        "batch": result.batch.pk if result.batch is not None else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.finance",
        description="Import a SIE 4 file into the benchmark database, in a process of its own.",
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--municipality", default="0180", help="its code (default 0180)")
    parser.add_argument("--file", help="the SIE 4 file (default: generate the 1M-row ledger)")
    parser.add_argument("--out", help="write the figures to this JSON file")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the import")
    args = parser.parse_args(argv)
    os.environ["BENCH_DB"] = args.db
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    import django

    django.setup()
    generated = None
    if args.file:
        path = Path(args.file)
    else:
        from rodtrad.organisations.models import Municipality

        generated = generate_file(Municipality.objects.get(code=args.municipality))
        path = generated.path
        print(f"generated {path} in {generated.seconds:.1f} s", file=sys.stderr)
    try:
        measured = _import(args.municipality, path, args.profile)
    finally:
        if generated is not None:
            generated.path.unlink(missing_ok=True)
    text = json.dumps(measured, indent=2, ensure_ascii=False)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        print(text)
    if generated is not None and measured["batch"] is not None:
        print(f"checked: {check_import(measured['batch'], generated.summary)}", file=sys.stderr)
    return 1 if measured["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())

"""Settings for the benchmarks: the product's own settings, pointed at a benchmark database.

`BENCH_DB` chooses the database: `sqlite` (default; a file benchmarks/bench.sqlite3, ignored
by git) or `postgres` (the database named in `BENCH_DATABASE_URL`, default
postgres://postgres@127.0.0.1:5432/rodtrad_bench, which benchmarks/run.py creates and drops).
Both go through DATABASE_URL, so the connection options are exactly those of a deployment
(rodtrad/settings.py): persistent connections, and WAL + IMMEDIATE transactions on SQLite.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
SQLITE_PATH = BENCH_DIR / "bench.sqlite3"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/rodtrad_bench"

os.environ["DEBUG"] = "0"
os.environ.setdefault(
    "SECRET_KEY", "benchmark-only-secret-key-never-used-in-production-" + "x" * 20
)
if os.environ.get("BENCH_DB", "sqlite") == "postgres":
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL)
else:
    os.environ["DATABASE_URL"] = f"sqlite:///{SQLITE_PATH}"

from rodtrad.settings import *  # noqa: E402, F403

# WhiteNoise warns that STATIC_ROOT (data/static/) was never collected; the pages do not care.
warnings.filterwarnings("ignore", message="No directory at")

# Requests are timed in-process; keep the log quiet apart from real problems.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "ERROR"},
}

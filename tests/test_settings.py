"""Settings come from the environment and fail loudly on a bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rodtrad.lib.env import EnvError, env_bool, env_choice, env_int, env_list

ROOT = Path(__file__).resolve().parent.parent


def test_env_bool_accepts_the_usual_spellings() -> None:
    assert env_bool("X", False, {"X": "yes"}) is True
    assert env_bool("X", True, {"X": "0"}) is False
    assert env_bool("X", True, {}) is True


def test_env_refuses_bad_values_with_the_variable_name() -> None:
    with pytest.raises(EnvError, match="X='maybe' is not a boolean"):
        env_bool("X", False, {"X": "maybe"})
    with pytest.raises(EnvError, match="X='12a' is not a whole number"):
        env_int("X", 0, {"X": "12a"})
    with pytest.raises(EnvError, match="X='a,,b' has an empty entry"):
        env_list("X", [], {"X": "a,,b"})


def test_env_choice() -> None:
    assert env_choice("L", "sv", ("sv", "en"), {"L": "en"}) == "en"
    with pytest.raises(EnvError, match="not one of sv, en"):
        env_choice("L", "sv", ("sv", "en"), {"L": "fi"})


def _load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DATABASE_URL")
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import rodtrad.settings"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


def test_settings_refuse_a_bad_debug_value() -> None:
    result = _load_settings(DEBUG="perhaps")
    assert result.returncode != 0
    assert "DEBUG='perhaps' is not a boolean" in result.stderr


def test_settings_require_a_secret_key_in_production() -> None:
    result = _load_settings(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_settings_refuse_a_short_secret_key() -> None:
    result = _load_settings(DEBUG="0", SECRET_KEY="short")
    assert "shorter than 50" in result.stderr


def test_settings_refuse_an_unknown_database() -> None:
    result = _load_settings(DEBUG="1", DATABASE_URL="mysql://root@localhost/x")
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_settings_load_with_debug_and_postgres_url() -> None:
    result = _load_settings(DEBUG="1", DATABASE_URL="postgres://u@127.0.0.1:5432/db")
    assert result.returncode == 0, result.stderr

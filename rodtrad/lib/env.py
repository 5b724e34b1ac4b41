"""Read settings from environment variables, failing loudly on a bad value.

No Django here: settings.py imports this before Django is configured.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EnvError(ValueError):
    """A variable is set to a value we cannot use."""


def env_bool(name: str, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise EnvError(f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off.")


def env_list(name: str, default: list[str], environ: Mapping[str, str] = os.environ) -> list[str]:
    raw = environ.get(name)
    if raw is None:
        return list(default)
    items = [part.strip() for part in raw.split(",")]
    if any(not item for item in items):
        raise EnvError(f"{name}={raw!r} has an empty entry: separate values with single commas.")
    return items


def env_int(name: str, default: int, environ: Mapping[str, str] = os.environ) -> int:
    raw = environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise EnvError(f"{name}={raw!r} is not a whole number.") from None


def env_choice(
    name: str, default: str, choices: tuple[str, ...], environ: Mapping[str, str] = os.environ
) -> str:
    raw = environ.get(name, default)
    if raw not in choices:
        raise EnvError(f"{name}={raw!r} is not one of {', '.join(choices)}.")
    return raw

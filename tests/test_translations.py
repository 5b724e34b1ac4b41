"""The interface is Swedish: every message is translated and the compiled catalogue is current."""

from __future__ import annotations

import gettext
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "rodtrad" / "locale" / "sv" / "LC_MESSAGES"


def test_every_message_has_a_swedish_translation() -> None:
    po = polib.pofile(str(LOCALE / "django.po"))
    missing = [e.msgid for e in po if not e.obsolete and (not e.translated() or e.fuzzy)]
    assert missing == []


def test_the_compiled_catalogue_matches_the_source() -> None:
    po = polib.pofile(str(LOCALE / "django.po"))
    with (LOCALE / "django.mo").open("rb") as handle:
        mo = gettext.GNUTranslations(handle)
    for entry in po:
        if entry.obsolete or entry.msgid_plural:
            continue
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        assert mo._catalog.get(key) == entry.msgstr, entry.msgid  # type: ignore[attr-defined]

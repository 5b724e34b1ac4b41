"""Plain-language explanations of statuses, written from the stored facts in the reader's
language: "2 of 3 indicators reached their target; Board goal “X” is not achieved"."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rodtrad.lib.swedish import format_decimal

SYMBOLS = {"met": "✓", "partly": "◐", "not_met": "✗"}


def status_label(status: str, scale: str) -> str:
    if not status:
        return _("No status")
    if scale == "traffic":
        return {"met": _("Green"), "partly": _("Yellow"), "not_met": _("Red")}[status]
    return {"met": _("Achieved"), "partly": _("Partly achieved"), "not_met": _("Not achieved")}[
        status
    ]


def number(text: str | None, decimals: int = 1) -> str:
    if text is None:
        return "–"
    try:
        return format_decimal(Decimal(text), decimals)
    except (InvalidOperation, ValueError):
        return str(text)


def indicator_text(reasons: dict[str, Any], *, scale: str, decimals: int, unit: str) -> str:
    why = reasons.get("why")
    suffix = f" {unit}" if unit else ""
    if why == "key_figure":
        return _("A key figure: reported without a target, so it gets no status.")
    if why == "no_value":
        return _("No value yet.")
    if why == "no_target":
        return _("Latest value %(label)s: %(value)s. There is no target for that year.") % {
            "label": reasons["label"],
            "value": number(reasons["value"], decimals) + suffix,
        }
    if why != "judged":
        return ""
    text = _("Latest value %(label)s: %(value)s against the target %(target)s (%(year)s)") % {
        "label": reasons["label"],
        "value": number(reasons["value"], decimals) + suffix,
        "target": number(reasons["target"], decimals) + suffix,
        "year": reasons["target_year"],
    }
    if reasons.get("accepted") is not None:
        text += _(", accepted value %(accepted)s") % {
            "accepted": number(reasons["accepted"], decimals) + suffix
        }
    text += "."
    if reasons.get("projection") is not None:
        text += " " + _(
            "Projected from the values so far, %(year)s ends at about %(projection)s "
            "(target %(target)s)."
        ) % {
            "year": reasons["projection_year"],
            "projection": number(reasons["projection"], decimals) + suffix,
            "target": number(reasons["projection_target"], decimals) + suffix,
        }
    return text


def item_text(reasons: dict[str, Any], *, scale: str) -> str:
    parts = []
    indicators = reasons.get("indicators")
    if indicators:
        judged = indicators["met"] + indicators["partly"] + indicators["not_met"]
        total = judged + indicators["none"]
        part = ngettext(
            "%(met)s of %(total)s indicator reached its target",
            "%(met)s of %(total)s indicators reached their target",
            total,
        ) % {"met": indicators["met"], "total": total}
        if indicators["partly"]:
            part += _(", %(n)s partly") % {"n": indicators["partly"]}
        if indicators["none"]:
            part += _(", %(n)s without a value or target") % {"n": indicators["none"]}
        parts.append(part)
    contributors = reasons.get("contributors")
    if contributors:
        judged = contributors["met"] + contributors["partly"] + contributors["not_met"]
        parts.append(
            ngettext(
                "%(met)s of %(total)s contributing item achieved",
                "%(met)s of %(total)s contributing items achieved",
                judged,
            )
            % {"met": contributors["met"], "total": judged}
            if scale != "traffic"
            else ngettext(
                "%(met)s of %(total)s contributing item green",
                "%(met)s of %(total)s contributing items green",
                judged,
            )
            % {"met": contributors["met"], "total": judged}
        )
    for worst in reasons.get("worst", []):
        parts.append(
            _("“%(title)s” is %(status)s")
            % {"title": worst["title"], "status": status_label(worst["status"], scale).lower()}
        )
    if not parts:
        return _(
            "Nothing to judge from yet: no indicator with a target and no contributing "
            "item with a status."
        )
    rule = {
        "worst": _("the worst status decides"),
        "majority": _("the most common status decides"),
        "mean": _("weighted mean"),
    }.get(reasons.get("rule", ""), "")
    return "; ".join(parts) + (f" ({rule})." if rule else ".")


def badge(
    status: str,
    scale: str,
    explanation: str = "",
    *,
    warning: bool = False,
    overridden: bool = False,
) -> SafeString:
    """The status as a symbol and words (never colour alone), with the reason on demand.

    Built with format_html rather than a template: the thread shows one per node.
    """
    parts = [
        format_html(
            '<span class="assessment assessment-{}"><span class="assessment-symbol" '
            'aria-hidden="true">{}</span> {}{}</span>',
            status or "none",
            SYMBOLS.get(status, "–"),
            status_label(status, scale),
            format_html(' <span class="assessment-note">({})</span>', _("judged by a person"))
            if overridden
            else "",
        )
    ]
    if warning:
        parts.append(
            format_html(
                ' <span class="assessment-warning"><span aria-hidden="true">⚠</span> {}</span>',
                _("Projection misses the target"),
            )
        )
    if explanation:
        parts.append(
            format_html(
                '<details class="why"><summary>{}</summary><p>{}</p></details>',
                _("Why?"),
                explanation,
            )
        )
    return format_html_join("", "{}", ((part,) for part in parts))

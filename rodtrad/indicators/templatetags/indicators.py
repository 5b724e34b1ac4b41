from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def num(value: Any, decimals: Any = 1) -> str:
    """A number in the reader's language with grouping: 1 234,5 (sv) or 1,234.5 (en)."""
    if value is None or value == "":
        return "–"
    try:
        places = int(decimals)
        number = Decimal(str(value)).quantize(Decimal(1).scaleb(-places))
    except (ArithmeticError, ValueError, TypeError):
        return str(value)
    text = number_format(number, places, use_l10n=True, force_grouping=True)
    return text.replace("-", "\u2212", 1) if text.startswith("-") else text

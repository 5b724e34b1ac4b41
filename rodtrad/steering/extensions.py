"""Places where apps built on the plan add to its pages without the plan importing them.

- `node_decorators`: functions `(municipality, items)` that set attributes on the items a
  page is about to show (the indicators app sets each item's status badge).
- `item_panels`: functions `(request, item, access, can_edit)` that return rendered HTML to
  show on the item page (indicators, assessment), or "" for nothing.

Apps register in their `AppConfig.ready`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from django.http import HttpRequest

    from rodtrad.organisations.access import Access
    from rodtrad.organisations.models import Municipality
    from rodtrad.steering.models import PlanItem

NodeDecorator = Callable[["Municipality", list["PlanItem"]], None]
ItemPanel = Callable[["HttpRequest", "PlanItem", "Access", bool], str]

node_decorators: list[NodeDecorator] = []
item_panels: list[ItemPanel] = []


def decorate(municipality: Municipality, items: Iterable[PlanItem]) -> None:
    shown = list(items)
    if shown:
        for decorator in node_decorators:
            decorator(municipality, shown)


def panels(request: HttpRequest, item: PlanItem, access: Access, can_edit: bool) -> list[Any]:
    out: list[SafeString] = []
    for panel in item_panels:
        html = panel(request, item, access, can_edit)
        if html:
            out.append(mark_safe(html))  # noqa: S308 - rendered by the app's own template
    return out

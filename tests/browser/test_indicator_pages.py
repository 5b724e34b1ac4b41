"""axe-core on the indicator pages and their states, at 320 px too, and the keyboard.

Kramfors's demo has Kolada-backed, manual, tertial, key-figure and index indicators that
measure its council-wide goals (see rodtrad/indicators/demo/kramfors.yaml).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import FilePayload, expect

from rodtrad.indicators.models import Indicator
from rodtrad.steering.models import PlanItem
from tests.browser.conftest import Demo, PageAs
from tests.browser.support import AxeAudit, no_horizontal_scroll, settled
from tests.browser.test_accessibility import submit, visit

pytestmark = pytest.mark.browser


def _pages(demo: Demo) -> list[tuple[str, str]]:
    code = demo.code
    kolada = Indicator.objects.filter(municipality=demo.municipality, source="kolada").exclude(
        kind="key_figure"
    )
    chart = kolada.first()
    manual = Indicator.objects.filter(municipality=demo.municipality, source="manual").first()
    goal = PlanItem.objects.filter(municipality=demo.municipality, indicators__isnull=False).first()
    assert chart is not None and manual is not None and goal is not None
    return [
        ("indicators", f"/k/{code}/indikatorer/"),
        ("indicator with chart and comparisons", f"/k/{code}/indikatorer/{chart.pk}/"),
        ("manual indicator", f"/k/{code}/indikatorer/{manual.pk}/"),
        ("enter a value", f"/k/{code}/indikatorer/{manual.pk}/varden/"),
        ("target values", f"/k/{code}/indikatorer/{manual.pk}/malvarden/"),
        ("edit indicator", f"/k/{code}/indikatorer/{manual.pk}/andra/"),
        ("new indicator", f"/k/{code}/indikatorer/ny/"),
        ("Kolada search results", f"/k/{code}/indikatorer/kolada/?sok=sjukfrånvaro"),
        ("import values", f"/k/{code}/indikatorer/import/"),
        ("assessment rules", f"/k/{code}/indikatorer/bedomning/"),
        ("goal with indicators and assessment", f"/k/{code}/mal/{goal.pk}/"),
    ]


def test_indicator_pages(demo: Demo, page_as: PageAs) -> None:
    audit = AxeAudit()
    page = page_as(demo.admin)
    for label, path in _pages(demo):
        visit(page, path)
        audit.check(page, label)
    # The chart is an image with a name, and the same numbers are in a table.
    visit(page, _pages(demo)[1][1])
    expect(page.locator("svg[role=img]")).to_have_attribute("aria-labelledby", "h-chart")
    expect(page.locator("table.values tbody tr").first).to_be_visible()
    # The explanation opens from the keyboard.
    visit(page, f"/k/{demo.code}/trad/")
    why = page.locator("details.why summary").first
    why.focus()
    page.keyboard.press("Enter")
    expect(page.locator("details.why[open]").first).to_be_visible()
    settled(page)
    audit.check(page, "thread with an explanation open")
    page = page_as(demo.reader)
    visit(page, _pages(demo)[-1][1])
    audit.check(page, "goal with indicators, for a reader")
    audit.assert_clean()


def test_indicator_form_states(demo: Demo, page_as: PageAs) -> None:
    audit = AxeAudit()
    page = page_as(demo.admin)
    pages = dict(_pages(demo))
    visit(page, pages["enter a value"])
    page.fill("#id_period", "förra året")
    page.fill("#id_value", "12,3,4")
    submit(page, "form.stack button[type=submit]", 422)
    expect(page.locator("#errors")).to_be_focused()
    for href in page.locator("#errors a").evaluate_all("(links) => links.map((a) => a.hash)"):
        assert page.locator(href).count() == 1, f"the error summary links to a missing {href}"
    audit.check(page, "value form, 422 with errors")
    visit(page, pages["target values"])
    page.locator("table.form-table input").first.fill("inte ett tal")
    submit(page, "main form button.primary", 422)
    audit.check(page, "target form, 422 with errors")
    visit(page, pages["import values"])
    broken: FilePayload = {
        "name": "varden.csv",
        "mimeType": "text/csv",
        "buffer": "Indikator;Period;Värde\n999999;2025;12,3,4\n".encode(),
    }
    page.set_input_files("#id_file", files=broken)
    submit(page, "main form button.primary", 422)
    expect(page.locator(".error-summary")).to_be_focused()
    audit.check(page, "import with row errors")
    visit(page, pages["goal with indicators and assessment"])
    page.locator("details.override summary").click()
    page.locator("#id_status").select_option("partly")
    page.fill("#id_justification", "Enkäten 2025 hade för få svar för att dra slutsatser.")
    submit(page, "details.override button[type=submit]", 302)
    expect(page.locator(".messages")).to_be_visible()
    audit.check(page, "goal after a person's judgement")
    page.set_viewport_size({"width": 320, "height": 640})
    problems = []
    for label, path in _pages(demo):
        visit(page, path)
        fits, detail = no_horizontal_scroll(page)
        if not fits:
            problems.append(f"{label}: {detail}")
        audit.check(page, f"{label} at 320 px")
    assert not problems, "pages scroll sideways at 320 px:\n" + "\n".join(problems)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator(".account button[name=language]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    visit(page, pages["indicator with chart and comparisons"])
    audit.check(page, "indicator in English")
    audit.assert_clean()

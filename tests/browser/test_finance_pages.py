"""axe-core on the economy pages and their states, at 320 px too.

Kramfors's demo holds frames, an internal budget, ten months of outcome imported from a
generated SIE4 file, forecasts and financial goals (rodtrad/finance/demo.py).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import FilePayload, expect

from rodtrad.finance.models import BudgetFrame
from rodtrad.steering.models import PlanItem
from tests.browser.conftest import Demo, PageAs
from tests.browser.support import AxeAudit, no_horizontal_scroll
from tests.browser.test_accessibility import submit, visit

pytestmark = pytest.mark.browser

UNBALANCED = (
    "#FLAGGA 0\r\n#SIETYP 4\r\n#RAR 0 20260101 20261231\r\n#KONTO 5111 Löner\r\n"
    '#KONTO 1930 Bank\r\n#VER A 1 20260131 "Löner"\r\n{\r\n#TRANS 5111 {} 100.00\r\n'
    "#TRANS 1930 {} -99.00\r\n}\r\n"
).encode("cp437")


def _pages(demo: Demo) -> list[tuple[str, str]]:
    code = demo.code
    frame = BudgetFrame.objects.filter(municipality=demo.municipality).first()
    goal = PlanItem.objects.filter(municipality=demo.municipality, level__key="vision").first()
    assert frame is not None and goal is not None
    return [
        ("economy overview", f"/k/{code}/ekonomi/"),
        ("a board's economy", f"/k/{code}/ekonomi/enhet/{frame.org_unit_id}/"),
        ("budget", f"/k/{code}/ekonomi/budget/"),
        ("import outcome", f"/k/{code}/ekonomi/import/"),
        ("mapping", f"/k/{code}/ekonomi/mappning/"),
        ("economy settings", f"/k/{code}/ekonomi/installningar/"),
        ("vision with the money behind it", f"/k/{code}/mal/{goal.pk}/"),
    ]


def test_economy_pages(demo: Demo, page_as: PageAs) -> None:
    audit = AxeAudit()
    page = page_as(demo.admin)
    for label, path in _pages(demo):
        visit(page, path)
        audit.check(page, label)
    expect(page.locator("#money")).to_be_visible()
    visit(page, _pages(demo)[1][1])
    expect(page.locator("svg[role=img]")).to_have_attribute("aria-labelledby", "h-months")
    # A forecast without a comment where one is needed, then the import of a broken file.
    page.fill("#id_amount", "999999999999")
    page.fill("#id_comment", "")
    submit(page, "form.stack button.primary", 422)
    expect(page.locator("#errors")).to_be_focused()
    audit.check(page, "forecast refused without a comment")
    visit(page, _pages(demo)[3][1])
    broken: FilePayload = {"name": "trasig.se", "mimeType": "text/plain", "buffer": UNBALANCED}
    page.set_input_files("#id_file", files=broken)
    submit(page, "main form button.primary", 422)
    expect(page.locator(".error-summary")).to_be_focused()
    audit.check(page, "import with a broken SIE4 file")
    page = page_as(None)
    visit(page, f"/k/{demo.code}/ekonomi/oppen/")
    audit.check(page, "public economy page")
    page = page_as(demo.admin, width=320, height=640)
    problems = []
    for label, path in _pages(demo):
        visit(page, path)
        fits, detail = no_horizontal_scroll(page)
        if not fits:
            problems.append(f"{label}: {detail}")
        audit.check(page, f"{label} at 320 px")
    assert not problems, "pages scroll sideways at 320 px:\n" + "\n".join(problems)
    audit.assert_clean()

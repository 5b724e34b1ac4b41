"""axe-core (WCAG 2.0 and 2.1, levels A and AA) on every page of the app and on its states.

Each test loads the Kramfors demo once and walks many pages, collecting every violation, so
a failing run shows everything that is wrong, not only the first problem. Pages are also
checked at 320 CSS px: the whole page must not scroll sideways (WCAG 1.4.10).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import FilePayload, Page, expect

from rodtrad.organisations.models import User
from rodtrad.steering.models import PlanItem
from tests.browser.conftest import Demo, PageAs, load_demo
from tests.browser.support import AxeAudit, no_horizontal_scroll, settled

pytestmark = pytest.mark.browser

BROKEN_YAML = (
    b"format: rodtrad/styrmodell-1\nname: Trasig\nlevels:\n  - key: vision\n    name: [oavslutad\n"
)


def visit(page: Page, url: str, status: int = 200) -> None:
    response = page.goto(url)
    assert response is not None
    assert response.status == status, f"{url} answered {response.status}, expected {status}"


def submit(page: Page, button: str, status: int) -> None:
    """Clicks a submit button and checks the status of the answer to the POST."""
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator(button).click()
    assert posted.value.status == status, f"{posted.value.url} answered {posted.value.status}"
    page.wait_for_load_state()


EXPAND_ALL = """async () => {
  // One toggle at a time, as a user would: the live server shares one SQLite connection
  // between its threads in the tests, so parallel requests are not safe. Each click waits
  // until htmx has settled the answer (only then are the new toggles in it active).
  let opened = 0;
  for (let round = 0; round < 10; round++) {
    const closed = [...document.querySelectorAll(".tree-toggle[aria-expanded=false]")];
    if (!closed.length) return opened;
    for (const button of closed) {
      const region = document.getElementById(button.getAttribute("aria-controls"));
      const settled = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`nothing loaded into #${region.id}`)), 8000);
        region.addEventListener("htmx:afterSettle", () => { clearTimeout(timer); resolve(); }, {once: true});
      });
      button.click();
      opened++;
      await settled;
    }
  }
  throw new Error("the tree kept growing");
}"""


def expand_all(page: Page) -> int:
    """Opens every node of the tree, level by level, with one click on each toggle."""
    settled(page)
    opened = page.evaluate(EXPAND_ALL)
    expect(page.locator(".tree-toggle[aria-expanded=false]")).to_have_count(0)
    # Each button shows its own contributors, also where an item appears twice.
    wrong = page.evaluate(
        """() => [...document.querySelectorAll(".tree-toggle")].filter((b) => {
          const region = document.getElementById(b.getAttribute("aria-controls"));
          return !region || region.hidden || !region.children.length
            || region.previousElementSibling !== b.closest(".node");
        }).map((b) => b.getAttribute("aria-controls"))"""
    )
    assert not wrong, f"expanded toggles that do not show their own contributors: {wrong}"
    return opened


def duplicate_ids(page: Page) -> list[str]:
    return page.evaluate(
        "() => [...new Set([...document.querySelectorAll('[id]')].map((e) => e.id)"
        ".filter((id, i, all) => all.indexOf(id) !== i))]"
    )


def app_pages(demo: Demo) -> list[tuple[str, str]]:
    """Every page a municipality administrator can open, in its first state."""
    code, item = demo.code, demo.item.pk
    return [
        ("start page", f"/k/{code}/"),
        ("thread", f"/k/{code}/trad/"),
        ("item", f"/k/{code}/mal/{item}/"),
        ("edit item", f"/k/{code}/mal/{item}/andra/"),
        ("new item: choose level", f"/k/{code}/mal/ny/"),
        ("new item: form", f"/k/{code}/mal/ny/?level={demo.level.key}"),
        ("delete item", f"/k/{code}/mal/{item}/ta-bort/"),
        ("gaps", f"/k/{code}/luckor/"),
        ("assignments", f"/k/{code}/uppdrag/"),
        ("steering model", f"/k/{code}/styrmodell/"),
        ("import a model", f"/k/{code}/styrmodell/import/"),
        ("plans", f"/k/{code}/planer/"),
        ("organisation", f"/k/{code}/organisation/"),
    ]


def test_every_page(demo: Demo, page_as: PageAs) -> None:
    audit = AxeAudit()

    page = page_as(None)
    visit(page, "/konto/logga-in/")
    audit.check(page, "sign-in page")
    page.fill("#id_username", demo.admin.username)
    page.fill("#id_password", "not the password")
    submit(page, "main button[type=submit]", 200)
    expect(page.locator(".error-summary")).to_be_focused()
    audit.check(page, "sign-in page with an error")
    visit(page, "/finns-inte/", 404)
    audit.check(page, "404 page, signed out")

    page = page_as(demo.admin)
    visit(page, "/")
    assert page.url.endswith(f"/k/{demo.code}/"), page.url
    for label, path in app_pages(demo):
        visit(page, path)
        audit.check(page, label)
    visit(page, f"/k/{demo.code}/mal/99999999/", 404)
    audit.check(page, "404 page, signed in")
    # The Django admin's index as a municipality's administrator (Django's own templates).
    visit(page, "/admin/")
    audit.check(page, "Django admin index")

    page = page_as(demo.reader)
    visit(page, f"/k/{demo.code}/mal/ny/", 403)
    audit.check(page, "403 page")
    visit(page, f"/k/{demo.code}/mal/{demo.item.pk}/")
    audit.check(page, "item page for a reader")
    page = page_as(demo.editor)
    visit(page, f"/k/{demo.code}/")
    audit.check(page, "start page for a board editor")
    page = page_as(demo.controller)
    visit(page, f"/k/{demo.code}/planer/")
    expect(page.locator("form[action$='/rulla/']").first).to_be_visible()
    audit.check(page, "plans for a controller, with their forms")
    page = page_as(demo.platform_admin)
    visit(page, "/")
    audit.check(page, "choose a municipality (platform administrator)")
    audit.assert_clean()


def test_thread_expanded(demo: Demo, page_as: PageAs) -> None:
    audit = AxeAudit()
    page = page_as(demo.admin)
    visit(page, f"/k/{demo.code}/trad/")
    toggle = page.locator(".tree-toggle").first
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    region = page.locator(f"#{toggle.get_attribute('aria-controls')}")
    expect(region.locator("li").first).to_be_visible()
    settled(page)
    audit.check(page, "thread with the top node expanded (htmx)")
    # Items that contribute to several goals appear more than once: ids must stay unique.
    assert expand_all(page) > 10
    assert not duplicate_ids(page), f"duplicate ids in the open tree: {duplicate_ids(page)}"
    audit.check(page, "thread with every node expanded (htmx)")
    # The deepest branches must still fit a 320 px wide screen.
    page.set_viewport_size({"width": 320, "height": 640})
    fits, detail = no_horizontal_scroll(page)
    assert fits, f"the open tree scrolls sideways at 320 px: {detail}"
    audit.check(page, "thread with every node expanded, at 320 px")
    audit.assert_clean()


def test_form_states(demo: Demo, page_as: PageAs) -> None:
    audit = AxeAudit()
    page = page_as(demo.admin)
    code, item = demo.code, demo.item.pk

    visit(page, f"/k/{code}/mal/{item}/andra/")
    page.fill("#id_title", "")
    submit(page, "form.stack button[type=submit]", 422)
    expect(page.locator("#errors")).to_be_focused()
    audit.check(page, "edit form, 422 with errors")

    visit(page, f"/k/{code}/mal/ny/?level={demo.level.key}")
    submit(page, "form.stack button[type=submit]", 422)
    for href in page.locator("#errors a").evaluate_all("(links) => links.map((a) => a.hash)"):
        assert page.locator(href).count() == 1, f"the error summary links to a missing {href}"
    audit.check(page, "create form, 422 with errors")

    visit(page, f"/k/{code}/styrmodell/import/")
    broken: FilePayload = {
        "name": "trasig.yaml",
        "mimeType": "application/yaml",
        "buffer": BROKEN_YAML,
    }
    page.set_input_files("#id_file", files=broken)
    submit(page, "main button[type=submit]", 422)
    expect(page.locator(".error-summary")).to_be_focused()
    audit.check(page, "import with a broken file")

    # Deleting a goal that others contribute to is refused with an explanation.
    visit(page, f"/k/{code}/mal/{item}/ta-bort/")
    submit(page, "main form button[type=submit]", 422)
    expect(page.locator(".error-summary")).to_be_focused()
    audit.check(page, "delete refused, 422")

    # The item page: add a link (htmx swaps the links section), then remove it again.
    visit(page, f"/k/{code}/mal/{item}/")
    parents = page.locator("#links > ul.plain-list > li")
    before = parents.count()
    page.locator("#id_to_item").select_option(index=1)
    with page.expect_response(lambda r: "/lankar/" in r.url):
        page.locator("#links form.stack button[type=submit]").click()
    expect(parents).to_have_count(before + 1)
    expect(page.locator("#links .messages")).to_be_focused()
    settled(page)
    audit.check(page, "item page after adding a link (htmx)")
    with page.expect_response(lambda r: "/lankar/" in r.url) as removed:
        parents.last.locator("button").click()
    assert removed.value.request.headers.get("hx-request") == "true"
    expect(parents).to_have_count(before)
    settled(page)
    audit.check(page, "item page after removing a link (htmx)")

    # Plans: create a period, roll a year over into it and open the adopt form.
    visit(page, f"/k/{code}/planer/")
    page.fill("#id_name", "Mandatperioden 2027–2030")
    page.fill("#id_start_year", "2027")
    page.fill("#id_end_year", "2030")
    submit(page, "section[aria-labelledby=h-new-period] button[type=submit]", 302)
    expect(page.locator(".messages")).to_be_visible()
    submit(page, "form[action$='/rulla/'] button >> nth=1", 302)
    summary = page.locator("details summary").first
    summary.click()
    expect(page.locator("details[open] input[name=decided_by]")).to_be_visible()
    audit.check(page, "plans with a planning year and its adopt form open")
    audit.assert_clean()


def test_english(demo: Demo, page_as: PageAs) -> None:
    audit = AxeAudit()
    page = page_as(demo.admin)
    visit(page, f"/k/{demo.code}/trad/")
    page.locator(".account button[name=language]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url.endswith(f"/k/{demo.code}/trad/"), page.url
    audit.check(page, "thread in English")
    page.locator(".tree-toggle").first.click()
    expect(page.locator(".children li").first).to_be_visible()
    settled(page)
    audit.check(page, "thread in English, expanded")
    for label, path in app_pages(demo)[2:5]:
        visit(page, path)
        audit.check(page, f"{label} in English")
    audit.assert_clean()


def test_narrow_screen(demo: Demo, page_as: PageAs) -> None:
    """At 320 CSS px no page scrolls sideways as a whole, and axe still finds nothing."""
    audit = AxeAudit()
    page = page_as(demo.admin, width=320, height=640)
    problems = []

    def check(label: str) -> None:
        fits, detail = no_horizontal_scroll(page)
        if not fits:
            problems.append(f"{label}: {detail}")
        audit.check(page, f"{label} at 320 px")

    for label, path in app_pages(demo):
        visit(page, path)
        check(label)
    visit(page, f"/k/{demo.code}/mal/{demo.item.pk}/andra/")
    page.fill("#id_title", "")
    submit(page, "form.stack button[type=submit]", 422)
    check("edit form with errors")
    page_as(None, width=320, height=640)
    visit(page, "/konto/logga-in/")
    check("sign-in page")
    assert not problems, "pages scroll sideways at 320 px:\n" + "\n".join(problems)
    audit.assert_clean()


def test_assignments(page_as: PageAs) -> None:
    """Kramfors's model has no assignment level; Nynäshamn's has, with the demo's assignments."""
    audit = AxeAudit()
    nynashamn = load_demo("nynashamn")
    code = nynashamn.code
    assignment = PlanItem.objects.filter(municipality=nynashamn, level__key="uppdrag").first()
    assert assignment is not None
    page = page_as(User.objects.get(username="nynashamn-admin"))
    for label, path in [
        ("assignments with open and done tables", f"/k/{code}/uppdrag/"),
        ("assignment item", f"/k/{code}/mal/{assignment.pk}/"),
        ("edit an assignment", f"/k/{code}/mal/{assignment.pk}/andra/"),
        ("new assignment: form", f"/k/{code}/mal/ny/?level=uppdrag"),
    ]:
        visit(page, path)
        audit.check(page, label)
    page.set_viewport_size({"width": 320, "height": 640})
    visit(page, f"/k/{code}/uppdrag/")
    fits, detail = no_horizontal_scroll(page)
    assert fits, f"the assignments page scrolls sideways at 320 px: {detail}"
    audit.check(page, "assignments at 320 px")
    audit.assert_clean()

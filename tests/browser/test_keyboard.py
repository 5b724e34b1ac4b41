"""The app with the keyboard alone, under its real Content Security Policy.

Signs in, takes the skip link, follows the thread, opens two levels of the tree, opens an
item and links it to one more goal; every element Tab reaches must show its focus.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from rodtrad.steering.demo import DEMO_PASSWORD
from tests.browser.conftest import Demo
from tests.browser.support import assert_focus_visible, focus_state, settled, tab_to

pytestmark = pytest.mark.browser


def test_keyboard_only(demo: Demo, strict_page: Page) -> None:
    page = strict_page
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    keys = page.keyboard

    # Sign in. Django's sign-in form puts focus in the user name (autofocus); Shift+Tab
    # leads back through the header to the skip link, the first stop of the page.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/konto/logga-in/"))
    expect(page.locator("#id_username")).to_be_focused()
    tab_to(page, ".skip-link", backwards=True)
    assert page.evaluate("document.activeElement === document.querySelector('a[href]')")
    tab_to(page, "#id_username")
    keys.type(demo.admin.username)
    tab_to(page, "#id_password")
    keys.type(DEMO_PASSWORD)
    keys.press("Enter")
    expect(page).to_have_url(re.compile(rf"/k/{demo.code}/$"))

    # The start page: skip link first; it moves focus to the main content.
    keys.press("Tab")
    assert assert_focus_visible(page)["className"] == "skip-link"
    keys.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    tab_to(page, f"main a[href='/k/{demo.code}/trad/']")
    keys.press("Enter")
    expect(page).to_have_url(re.compile(rf"/k/{demo.code}/trad/$"))

    # The thread: open the vision with Space, then its first direction goal with Enter.
    tab_to(page, ".tree-toggle")
    toggle = page.locator(":focus")
    region = page.locator(f"#{toggle.get_attribute('aria-controls')}")
    expect(region).to_be_hidden()
    keys.press("Space")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(region.locator("li").first).to_be_visible()
    settled(page)
    assert_focus_visible(page)  # focus stays on the button

    tab_to(page, f"#{region.get_attribute('id')} .tree-toggle")
    inner = page.locator(":focus")
    inner_region = page.locator(f"#{inner.get_attribute('aria-controls')}")
    keys.press("Enter")
    expect(inner).to_have_attribute("aria-expanded", "true")
    expect(inner_region.locator("li").first).to_be_visible()
    settled(page)
    # A second press closes it again, a third opens it.
    keys.press("Enter")
    expect(inner).to_have_attribute("aria-expanded", "false")
    expect(inner_region).to_be_hidden()
    keys.press("Enter")
    expect(inner_region.locator("li").first).to_be_visible()

    # Open the first municipality-wide goal under it.
    link = tab_to(page, f"#{inner_region.get_attribute('id')} .node a")
    keys.press("Enter")
    expect(page).to_have_url(re.compile(rf"{re.escape(link['href'])}$"))

    # Link the goal to one more direction goal with the link form.
    parents = page.locator("#links > ul.plain-list > li")
    before = parents.count()
    tab_to(page, "#id_to_item")
    keys.press("ArrowDown")
    chosen = page.locator("#id_to_item").evaluate("(s) => s.selectedOptions[0].text")
    assert page.locator("#id_to_item").input_value(), "ArrowDown chose no option"
    tab_to(page, "#links form.stack button[type=submit]")
    keys.press("Enter")
    expect(parents).to_have_count(before + 1)
    assert any(chosen.split(": ", 1)[-1].split(" (")[0] in t for t in parents.all_inner_texts())
    # Focus is not lost with the replaced form: it moves to the message of what was done.
    expect(page.locator("#links .messages")).to_be_focused()
    state = focus_state(page)
    assert state is not None and state["outlineStyle"] != "none", state

    assert not problems, "errors in the browser console:\n" + "\n".join(problems)

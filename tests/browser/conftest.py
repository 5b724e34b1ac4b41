"""Fixtures for the browser tests: one chromium per worker, the Kramfors demo in the live server.

Playwright's sync API keeps an event loop running in the test thread, which Django takes for
an async context; the tests touch the database only from plain synchronous code, so the
check is switched off for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import Browser, Page, sync_playwright

from rodtrad.organisations.models import Municipality, User
from rodtrad.steering.demo import create_platform_admin, demo_files, load_demo_file
from rodtrad.steering.models import Level, PlanItem
from tests.browser.support import AXE_JS, CHROMIUM, CHROMIUM_ARGS, sign_in


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless chromium (Debian's, never a downloaded one) for the whole worker."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Demo:
    base_url: str
    municipality: Municipality
    admin: User
    controller: User
    editor: User  # editor of Barn- och utbildningsnämnden
    reader: User
    platform_admin: User
    item: PlanItem  # a board goal with parents, contributors and a link form
    level: Level  # the board-goal level: a create form with checkboxes and a classification

    @property
    def code(self) -> str:
        return self.municipality.code


def load_demo(name: str) -> Municipality:
    """One municipality's demo file through the real demo loader."""
    municipality = load_demo_file(next(p for p in demo_files() if p.stem == name))
    assert municipality is not None
    return municipality


@pytest.fixture
def demo(live_server: LiveServer) -> Demo:
    """Kramfors loaded by the real demo loader, committed so the live server sees it.

    live_server makes the test transactional: the tables are emptied after each test.
    """
    municipality = load_demo("kramfors")
    create_platform_admin()
    users = User.objects.filter(municipality=municipality)
    return Demo(
        base_url=live_server.url,
        municipality=municipality,
        admin=users.get(username="kramfors-admin"),
        controller=users.get(username="kramfors-controller"),
        editor=users.get(username="kramfors-editor-2"),
        reader=users.get(username="kramfors-reader"),
        platform_admin=User.objects.get(username="admin"),
        item=PlanItem.objects.get(municipality=municipality, number="BUN 1", plan_year__year=2026),
        level=Level.objects.get(model__municipality=municipality, key="namndmal"),
    )


CONTEXT_OPTIONS: dict[str, Any] = {"locale": "sv-SE", "reduced_motion": "reduce"}


@pytest.fixture(scope="session")
def _audit_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """One tab for all the axe tests of the worker; a new tab costs a renderer process.

    bypass_csp lets axe-core in; it is registered once and chromium injects it into every
    page, which is cheaper than sending it again for each page.
    """
    context = browser.new_context(base_url=live_server.url, bypass_csp=True, **CONTEXT_OPTIONS)
    context.set_default_timeout(10_000)
    context.add_init_script(path=str(AXE_JS))
    page = context.new_page()
    yield page
    context.close()


PageAs = Callable[..., Page]


@pytest.fixture
def page_as(_audit_page: Page, live_server: LiveServer) -> PageAs:
    """The shared tab, signed in as `user` (or signed out) with a fresh set of cookies."""

    def open_page(user: User | None = None, *, width: int = 1280, height: int = 900) -> Page:
        _audit_page.context.clear_cookies()
        if user is not None:
            sign_in(_audit_page.context, live_server.url, user)
        _audit_page.set_viewport_size({"width": width, "height": height})
        return _audit_page

    return open_page


@pytest.fixture
def strict_page(browser: Browser, demo: Demo) -> Iterator[Page]:
    """A tab of its own under the app's real Content Security Policy (no axe-core)."""
    context = browser.new_context(base_url=demo.base_url, **CONTEXT_OPTIONS)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()

"""Helpers for the browser tests: axe-core runs, sign-in by session cookie, keyboard focus."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client
from playwright.sync_api import BrowserContext, Page, expect

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_JS = Path(__file__).resolve().parent.parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({
      target: n.target.map(String),
      html: n.html,
      summary: n.failureSummary,
    })),
  }));
}"""


def run_axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(_RUN_AXE, AXE_TAGS)


def describe(label: str, url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{label} ({url}): {len(violations)} violation(s)"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:8]:
            lines.append(f"    - {' '.join(node['target'])}")
            lines.append(f"      {node['html'][:200]}")
            summary = (node["summary"] or "").replace("\n", "\n        ")
            lines.append(f"        {summary}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


@dataclass
class AxeAudit:
    """Runs axe on page after page and reports every violation at the end, not only the first."""

    failures: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def check(self, page: Page, label: str) -> None:
        violations = run_axe(page)
        self.checked.append(label)
        if violations:
            report = describe(label, page.url, violations)
            print(report)
            self.failures.append(report)

    def assert_clean(self) -> None:
        assert self.checked, "no page was checked"
        assert not self.failures, "axe-core found violations:\n" + "\n".join(self.failures)


def sign_in(context: BrowserContext, base_url: str, user: Any) -> None:
    """Signs `user` in by giving the browser a session cookie made by the test client."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url}])


def no_horizontal_scroll(page: Page) -> tuple[bool, str]:
    """Whether the page fits its viewport width; else the widest elements that stick out."""
    return page.evaluate(
        """() => {
      const width = document.documentElement.clientWidth;
      if (document.documentElement.scrollWidth <= width) return [true, ""];
      const wide = [];
      for (const el of document.body.querySelectorAll("*")) {
        const r = el.getBoundingClientRect();
        if (r.right > width + 1 && !el.closest(".table-scroll")) {
          wide.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${el.className} right=${Math.round(r.right)}`);
        }
      }
      return [false, `scrollWidth ${document.documentElement.scrollWidth} > ${width}: ` + wide.slice(0, 8).join("; ")];
    }"""
    )


FOCUS_STATE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    text: (el.innerText || el.value || "").trim().slice(0, 80),
    id: el.id,
    className: typeof el.className === "string" ? el.className : "",
    href: el.getAttribute("href"),
    focusVisible: el.matches(":focus-visible"),
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    onScreen: (() => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && r.right > 0 && r.left < innerWidth;
    })(),
  };
}"""


def focus_state(page: Page) -> dict[str, Any] | None:
    return page.evaluate(FOCUS_STATE)


def assert_focus_visible(page: Page) -> dict[str, Any]:
    state = focus_state(page)
    assert state is not None, "nothing has focus"
    assert state["focusVisible"], f"focus is not :focus-visible on {state}"
    assert state["outlineStyle"] != "none" and state["outlineWidth"] >= 2, (
        f"the focused element has no visible outline: {state}"
    )
    assert state["onScreen"], f"the focused element is off screen: {state}"
    return state


def tab_to(page: Page, selector: str, *, limit: int = 120, backwards: bool = False) -> dict:
    """Presses Tab until the focused element matches `selector`.

    Every element on the way must show a visible focus indicator, on screen.
    """
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        state = assert_focus_visible(page)
        if page.evaluate("(s) => !!document.activeElement?.matches(s)", selector):
            return state
    raise AssertionError(f"{limit} × {key} never reached {selector!r}; at {focus_state(page)}")


def settled(page: Page) -> None:
    """htmx activates swapped-in content when it settles (20 ms after the swap): wait."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)

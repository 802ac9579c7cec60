"""Every dashboard page checked by axe-core (Deque's accessibility engine, pinned in
tests/browser/js/package.json; ``make test`` installs it) against WCAG 2.1 A and AA (labels,
names, contrast, landmarks, headings, ARIA), at desktop and at phone width, with real content in
them: a conversation with an auto-reply, an opt-out, a search with hits.

A violation fails the test with what axe says: the rule, its impact, the elements and the fix."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from browser_kit import DANA, sign_in, text_in
from dashboard_kit import CHARLIE, DESKTOP, PHONE, Stack
from playwright.sync_api import Browser, BrowserContext, Page, expect

AXE = Path(__file__).resolve().parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
STANDARDS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGES = {
    "status": "/status",
    "conversations": "/conversations",
    "thread": f"/conversations/{quote(CHARLIE, safe='')}",
    "search": "/search?q=invoice",
    "opt-outs": "/opt-outs",
    "out-of-office": "/out-of-office",
}


def violations(page: Page) -> list[dict[str, Any]]:
    """What axe finds on the page as it is now (WCAG 2.1 A/AA rules only)."""
    assert AXE.exists(), "axe-core is missing: `make test` installs it (npm ci in tests/browser/js)"
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations",
        STANDARDS,
    )
    return found


def described(found: list[dict[str, Any]]) -> str:
    return json.dumps(
        [
            {
                "rule": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "where": [n["target"] for n in v["nodes"]][:5],
                "why": v["nodes"][0].get("failureSummary") if v["nodes"] else None,
            }
            for v in found
        ],
        indent=2,
    )


@pytest.fixture
def context(browser: Browser, stack: Stack) -> Iterator[BrowserContext]:
    """As conftest's, but axe's script may run: the dashboard's Content-Security-Policy
    (``script-src 'self'``) refuses a script injected into the page, rightly."""
    context = browser.new_context(base_url=stack.url, viewport=DESKTOP, bypass_csp=True)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture(scope="module")
def content(stack: Stack) -> Stack:
    """Texts in, so the pages have rows, bubbles, a decision, an opt-out and search hits."""
    sent = text_in(stack, CHARLIE, "Did you get my invoice for the kitchen?")
    stack.service.wait_for(rf"message {sent} from \S+: reply")
    stopped = text_in(stack, DANA, "STOP")
    stack.service.wait_for(rf"message {stopped} from \S+: opt-out")
    return stack


def test_the_sign_in_page_passes_wcag_aa(context: BrowserContext) -> None:
    page = context.new_page()
    page.goto("/signin")
    expect(page.get_by_label("Admin password")).to_be_visible()
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)  # type: ignore[arg-type]
        found = violations(page)
        assert found == [], described(found)


@pytest.mark.parametrize("name", list(PAGES))
def test_each_page_passes_wcag_aa_at_desktop_and_phone_width(
    context: BrowserContext, content: Stack, name: str
) -> None:
    page = context.new_page()
    sign_in(page)
    page.goto(PAGES[name])
    expect(page.locator("main")).to_be_visible()
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)  # type: ignore[arg-type]
        found = violations(page)
        assert found == [], f"{name} at {size['width']}px:\n{described(found)}"


def test_the_dashboard_is_usable_from_the_keyboard(context: BrowserContext, content: Stack) -> None:
    """Signing in and reaching a conversation with Tab and Enter only."""
    page = context.new_page()
    page.goto("/signin")
    page.keyboard.press("Tab")
    for _ in range(10):  # Tab to the password field, wherever it sits in the order
        if page.evaluate("() => document.activeElement?.type === 'password'"):
            break
        page.keyboard.press("Tab")
    page.keyboard.type("browser-test-password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Status", exact=True)).to_be_visible()
    link = page.get_by_role("link", name="Conversations")
    for _ in range(20):
        page.keyboard.press("Tab")
        if link.evaluate("a => a === document.activeElement"):
            break
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()

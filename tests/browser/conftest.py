"""Fixtures of the dashboard's browser tests: one emulator + ``rcinbox run`` for the module, and a
fresh browser context (no cookies) per test, in headless Chromium (/usr/bin/chromium, Debian's
package: ``make test`` installs it; ``playwright install`` is not needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_kit import CHROMIUM, CHROMIUM_ARGS, DESKTOP, Stack, running_service
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_service(tmp_path_factory.mktemp("dashboard")) as running:
        yield running


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    assert CHROMIUM.exists(), "the browser tests need Debian's chromium: `make test` installs it (apt-get)"
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, stack: Stack) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=stack.url, viewport=DESKTOP)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def fresh_stack(tmp_path: Path) -> Iterator[Stack]:
    """A service of the test's own (the rate limit's failures would lock the others out)."""
    with running_service(tmp_path) as running:
        yield running

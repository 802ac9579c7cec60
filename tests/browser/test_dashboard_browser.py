"""The dashboard in a real browser (headless Chromium) against ``rcinbox run`` and the emulator:
signing in (a wrong password refused, the right one let in), the vacation banner, a text arriving
live without a reload, signing out, a forged form refused, the sign-in rate limit, a generated
password shown once. Each page is photographed at desktop and phone width into docs/screenshots/
(the README shows them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from browser_kit import shoot, sign_in, submit_password
from dashboard_kit import (
    ADMIN_PASSWORD,
    ALEX,
    CHARLIE,
    TIMEZONE,
    Stack,
    running_service,
)
from playwright.sync_api import BrowserContext, expect


def test_a_wrong_password_is_refused(context: BrowserContext) -> None:
    page = context.new_page()
    page.goto("/status")
    expect(page).to_have_url("/signin?next=%2Fstatus")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shoot(page, "signin")
    answer = submit_password(page, "not the password")
    assert answer.status == 401
    expect(page.get_by_role("alert")).to_have_text("That password is not right. Try again.")
    expect(page.get_by_label("Admin password")).to_have_attribute("aria-invalid", "true")
    page.goto("/status")
    expect(page).to_have_url("/signin?next=%2Fstatus")  # still closed


def test_signing_in_shows_the_vacation_banner_on_with_its_window(context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page)
    banner = page.locator("#vacation")
    expect(banner.get_by_role("heading")).to_have_text("Vacation reply is ON")
    today = datetime.now(UTC).astimezone(ZoneInfo(TIMEZONE))
    start = (today - timedelta(days=2)).strftime("%a %d %b %Y, 09:00")
    end = (today + timedelta(days=12)).strftime("%a %d %b %Y, 08:00")
    expect(page.locator("#vacation-window")).to_have_text(f"{start} → {end} ({TIMEZONE})")
    expect(page.locator("#readiness")).to_have_text("Connected and subscribed")
    page.keyboard.press("Tab")  # the first stop is the skip link, and it shows
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    expect(page.get_by_role("link", name="Skip to content")).to_be_in_viewport()
    for secret in ("eyJ", "Bearer", "access_token"):
        assert secret not in page.content()


def test_an_inbound_text_appears_live_without_a_reload(context: BrowserContext, stack: Stack) -> None:
    page = context.new_page()
    sign_in(page)
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
    before = int(page.locator("#received-today").inner_text())
    page.evaluate("window.__same_page = true")
    text = "Hi Alex, are you around this week?"
    answer = httpx.post(
        f"{stack.emulator_url}/_emulator/inbound", json={"from": CHARLIE, "to": ALEX, "text": text}
    )
    assert answer.status_code == 200, answer.text
    received = page.locator("#feed .feed-received", has_text=text)
    expect(received).to_be_visible()
    expect(received.locator(".feed-who")).to_have_text(CHARLIE)
    expect(page.locator("#feed .feed-answered").first).to_contain_text("Auto-reply: Hi Charlie")
    expect(page.locator("#received-today")).to_have_text(str(before + 1))
    assert page.evaluate("window.__same_page") is True  # no reload happened
    expect(page.locator("#last-inbound")).to_have_text(f"just now from {CHARLIE}")
    page.set_viewport_size({"width": 375, "height": 812})  # the narrowest phone: nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shoot(page, "status")


def test_sign_out_ends_the_session(context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url("/signin?signed_out=1")
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto("/")
    expect(page).to_have_url("/signin?next=%2F")


def test_a_form_with_a_forged_csrf_token_is_refused(context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page)
    page.locator("form[action='/signout'] input[name=csrf]").evaluate("field => field.value = 'forged'")
    with page.expect_response(lambda r: r.url.endswith("/signout")) as sent:
        page.get_by_role("button", name="Sign out").click()
    assert sent.value.status == 403
    expect(page.get_by_role("heading", name="This form has expired")).to_be_visible()
    shoot(page, "form-expired")
    page.goto("/")
    expect(page.locator("#vacation")).to_be_visible()  # still signed in: nothing changed


def test_five_wrong_passwords_pause_sign_in(context: BrowserContext, fresh_stack: Stack) -> None:
    page = context.new_page()
    page.goto(f"{fresh_stack.url}/signin")
    for _ in range(5):
        assert submit_password(page, "guess").status == 401
    paused = submit_password(page, ADMIN_PASSWORD)  # even the right one waits now
    assert paused.status == 429 and 800 < int(paused.headers["retry-after"]) <= 900  # 15 min from the first
    expect(page.get_by_role("alert")).to_contain_text("Too many wrong passwords")
    expect(page.get_by_role("alert")).to_contain_text("try again in 15 min")
    shoot(page, "signin-paused")


def test_a_generated_password_is_shown_once_and_signs_in(context: BrowserContext, tmp_path: Path) -> None:
    with running_service(tmp_path, password=None) as first:
        shown = first.service.wait_for(r"Sign in with: (\S+)").group(1)
        page = context.new_page()
        page.goto(f"{first.url}/signin")
        assert submit_password(page, shown).status == 303
        expect(page.locator("#vacation")).to_be_visible()
        logged = [line for line in first.service.lines if shown in line]
        assert logged == [f"  Sign in with: {shown}"]  # on the console once, in no log line
        first.service.wait_for(
            r"INFO  rcinbox.service: dashboard on http://\S+/ \(sign in with the password shown above\)"
        )
    with running_service(tmp_path, password=None) as again:
        page.goto(f"{again.url}/")
        expect(page.locator("#vacation")).to_be_visible()  # the session outlived the restart
        context.clear_cookies()
        page.goto(f"{again.url}/signin")
        assert submit_password(page, shown).status == 303  # the same password: its hash was kept
        assert not any("Sign in with" in line for line in again.service.lines)

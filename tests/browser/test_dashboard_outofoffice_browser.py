"""The Out of office page in a real browser (headless Chromium) against ``rcinbox run`` and the
emulator: the owner moves the vacation's end and rewrites the message, the live preview's segment
count follows (an emoji (☀, U+2600) makes it UCS-2, and is marked), saves, and the next text from a contact
appears live in the open conversation with the new reply, which the emulator received as sent;
then "Turn off now" on the status page shows OFF and a further text gets no reply. The page is
photographed at desktop and phone width into docs/screenshots/ (the README shows it)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
from browser_kit import DANA, shoot, sign_in, text_in
from dashboard_kit import CHARLIE, DESKTOP, PHONE, TIMEZONE, Stack
from playwright.sync_api import Browser, BrowserContext, expect

from rcinbox.rules.values import format_date

MESSAGE = (
    "Auto-reply: Hi {first_name}, I am walking the coast path until {return_date}. Texts wait until then."
)


def outbound(stack: Stack, to: str) -> list[str]:
    """The texts the emulator received from rcinbox for ``to``."""
    answer = httpx.get(f"{stack.emulator_url}/_emulator/outbound")
    assert answer.status_code == 200, answer.text
    return [r["text"] for r in answer.json()["records"] if to in r["to"]]


def test_the_owner_edits_the_vacation_previews_saves_and_turns_it_off(
    context: BrowserContext, stack: Stack
) -> None:
    page = context.new_page()
    sign_in(page)
    page.get_by_role("link", name="Out of office", exact=True).click()
    expect(page.get_by_role("heading", name="Out of office", exact=True)).to_be_visible()
    expect(page.locator("#preview-encoding")).to_have_text("GSM-7")
    expect(page.locator("#preview-segments")).to_have_text("1 segment")
    expect(page.get_by_role("button", name="Preview")).to_be_hidden()  # live with JavaScript

    end = (datetime.now(UTC).astimezone(ZoneInfo(TIMEZONE)) + timedelta(days=20)).replace(
        hour=17, minute=30, second=0, microsecond=0, tzinfo=None
    )
    page.get_by_label("Until").fill(end.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Message").fill(MESSAGE)
    preview = page.locator("#preview-text")
    expect(preview).to_have_text(MESSAGE.format(first_name="Sam", return_date=format_date(end)))
    expect(page.locator("#preview-segments")).to_have_text("1 segment")
    page.get_by_label("Message").press("End")
    page.get_by_label("Message").press_sequentially(" ☀")
    expect(page.locator("#preview-encoding")).to_have_text("UCS-2")
    expect(page.locator("#preview-segments")).to_have_text("2 segments")
    expect(preview.locator("mark.gsm-breaker")).to_have_text("☀")
    page.get_by_label("As sent to").select_option(label="Sample contact: Sam Taylor")
    shoot(page, "out-of-office")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved. The new settings answer the next text.")
    expect(page.get_by_label("Until")).to_have_value(end.strftime("%Y-%m-%dT%H:%M"))

    page.goto(f"/conversations/{quote(CHARLIE, safe='')}")
    with page.expect_response(lambda r: "/events" in r.url):
        page.reload()  # the live stream is open once the page is loaded
    page.evaluate("window.__same_page = true")
    text_in(stack, CHARLIE, "Can we meet next week?")
    expect(page.locator(".bubble-in", has_text="Can we meet next week?")).to_be_visible()
    sent = "Auto-reply: Hi Charlie, I am walking the coast path until"
    expect(page.locator(".bubble-reply", has_text=sent)).to_contain_text("☀")
    assert page.evaluate("window.__same_page") is True  # it came in live
    stack.service.wait_for(rf"reply \d+ to {re.escape(CHARLIE)} sent")
    expected = MESSAGE.format(first_name="Charlie", return_date=format_date(end)) + " ☀"
    assert outbound(stack, CHARLIE) == [expected]

    page.get_by_role("link", name="Status", exact=True).click()
    banner = page.locator("#vacation")
    expect(banner.get_by_role("heading")).to_have_text("Vacation reply is ON")
    banner.get_by_role("button", name="Turn off now").click()
    expect(banner.get_by_role("heading")).to_have_text("Vacation reply is OFF")
    expect(banner.locator(".banner-state")).to_have_text("OFF")
    expect(page.get_by_role("status")).to_have_text("Turned off: no more vacation replies.")
    expect(banner.get_by_role("button", name="Turn off now")).to_have_count(0)
    quiet = text_in(stack, DANA, "Are you back yet?")
    stack.service.wait_for(rf"message {quiet} from \S+: suppress \(vacation-off\)")
    assert outbound(stack, DANA) == []


def test_without_javascript_the_preview_button_and_field_errors_work(browser: Browser, stack: Stack) -> None:
    context = browser.new_context(base_url=stack.url, viewport=DESKTOP, java_script_enabled=False)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    rules = stack.data_dir.parent / "rcinbox.toml"
    try:
        page = context.new_page()
        sign_in(page)
        page.goto("/out-of-office")
        message = page.get_by_label("Message")
        message.fill("Auto-reply: Hi {first_name}, I’m away until {return_date}.")
        page.get_by_role("button", name="Preview").click()  # the server renders it
        expect(page.locator("#preview-encoding")).to_have_text("UCS-2")
        expect(page.locator("#preview-text mark.gsm-breaker")).to_have_text("’")
        expect(page.locator("#preview-sent")).to_contain_text("Sent as GSM-7 (1 segment)")
        expect(message).to_have_value("Auto-reply: Hi {first_name}, I’m away until {return_date}.")
        before = rules.read_text()
        repeat = page.get_by_label("Reply to the same person again after")
        repeat.fill("30m")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("alert")).to_contain_text("Nothing was saved: 1 field to fix")
        expect(repeat).to_have_attribute("aria-invalid", "true")
        expect(repeat).to_have_attribute("aria-describedby", "hint-repeat_after error-repeat_after")
        expect(page.locator("#error-repeat_after")).to_contain_text("below the 1h minimum")
        assert rules.read_text() == before  # nothing written
        page.get_by_role("alert").get_by_role("link").click()  # the summary leads to the field
        expect(page).to_have_url(re.compile(r"#f-repeat_after$"))
    finally:
        context.close()

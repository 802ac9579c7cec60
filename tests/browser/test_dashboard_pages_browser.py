"""The dashboard's archive pages in a real browser (headless Chromium) against ``rcinbox run`` and
the emulator: a conversation with an MMS picture (the image really loads), a new text appearing in
the open thread without a reload, an opt-out lifted with a reason (an empty one refused), the
search by number and by word. Each page is photographed at desktop and phone width into
docs/screenshots/ (the README shows them)."""

from __future__ import annotations

import base64

from browser_kit import DANA, ELI, png, shoot, sign_in, text_in, thread
from dashboard_kit import ADMIN_PASSWORD, CHARLIE, PHONE, Stack
from playwright.sync_api import BrowserContext, expect


def test_a_conversation_shows_an_mms_picture_inline(context: BrowserContext, stack: Stack) -> None:
    picture = {"contentType": "image/png", "contentBase64": base64.b64encode(png()).decode()}
    sent = text_in(stack, CHARLIE, "Photo of the leak under the sink", attachments=[picture])
    stack.service.wait_for(rf"attachment \S+ of message {sent} stored")
    page = context.new_page()
    sign_in(page)
    page.get_by_role("link", name="Conversations").click()
    row = page.locator(".conversation", has_text="Charlie Williams")
    expect(row).to_contain_text(CHARLIE)
    row.get_by_role("link").click()
    expect(page.locator(".bubble-in", has_text="Photo of the leak")).to_be_visible()
    image = page.get_by_role("img", name=f"Picture sent by {CHARLIE}")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") == 240
    expect(page.locator(".bubble-reply").first).to_contain_text("Auto-reply: Hi Charlie")
    expect(page.locator(".bubble-in .decision").first).to_contain_text("replied with the vacation message")
    shoot(page, "thread")
    page.goto("/conversations")
    shoot(page, "conversations")


def test_a_new_text_appears_in_the_open_thread_without_a_reload(
    context: BrowserContext, stack: Stack
) -> None:
    text_in(stack, DANA, "Are you in the office on Friday?")
    page = context.new_page()
    sign_in(page)
    thread(page, DANA)
    expect(page.locator(".bubble-in", has_text="on Friday")).to_be_visible()
    with page.expect_response(lambda r: "/events" in r.url):
        page.reload()  # the live stream is open once the page is loaded
    page.evaluate("window.__same_page = true")
    text_in(stack, DANA, "Never mind, I found the keys")
    expect(page.locator(".bubble-in", has_text="I found the keys")).to_be_visible()
    expect(page.locator(".bubble-reply", has_text="Auto-reply: Hi Dana")).to_have_count(1)
    assert page.evaluate("window.__same_page") is True  # no reload happened
    page.get_by_role("link", name="All conversations").click()
    with page.expect_response(lambda r: "/events" in r.url):
        page.reload()
    page.evaluate("window.__same_page = true")
    text_in(stack, DANA, "One more thing: bring the ladder")
    expect(page.locator(".conversation", has_text="Dana Lopez")).to_contain_text("bring the ladder")
    assert page.evaluate("window.__same_page") is True  # the list followed, no reload


def test_an_opt_out_is_lifted_with_a_reason(context: BrowserContext, stack: Stack) -> None:
    sent = text_in(stack, ELI, "STOP")
    stack.service.wait_for(rf"message {sent} from \S+: opt-out")
    page = context.new_page()
    sign_in(page)
    page.get_by_role("link", name="Opt-outs").click()
    item = page.locator(".optout", has_text=ELI)
    expect(item).to_contain_text("said “STOP”")
    shoot(page, "opt-outs")
    item.get_by_role("button", name="Lift").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Say why the opt-out is lifted: the reason is required.")
    expect(page.get_by_label("Why lift it?")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Why lift it?").fill("Eli called and asked to hear from us again")
    page.get_by_role("button", name="Lift").click()
    expect(page.get_by_role("status")).to_contain_text(f"The opt-out of {ELI} is lifted")
    expect(page.locator(".lift", has_text=ELI)).to_contain_text(
        "by admin: “Eli called and asked to hear from us again”"
    )
    expect(page.get_by_text("Nobody is opted out.")).to_be_visible()


def test_search_finds_by_number_and_by_word(context: BrowserContext, stack: Stack) -> None:
    sent = text_in(stack, CHARLIE, "The boiler is making a strange noise again")
    stack.service.wait_for(rf"message {sent} from ")
    page = context.new_page()
    sign_in(page)
    page.get_by_role("link", name="Search").click()
    page.get_by_label("Number, name or words").fill("boiler")
    page.get_by_role("button", name="Search").click()
    hit = page.locator(".result", has_text="strange noise")
    expect(hit.locator("mark")).to_have_text("boiler")
    shoot(page, "search")
    page.get_by_label("Number, name or words").fill("(415) 555-0100")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".result").first).to_contain_text(CHARLIE)
    expect(page.get_by_role("heading", name="texts found")).to_be_visible()
    page.locator(".result a").first.click()
    expect(page.get_by_role("heading", name=CHARLIE, exact=True)).to_be_visible()
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert ADMIN_PASSWORD not in page.content()

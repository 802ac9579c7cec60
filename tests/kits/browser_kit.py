"""What the dashboard's browser tests do in a page: sign in, photograph a page at desktop and
phone width into docs/screenshots/, text Alex through the emulator, open a thread, make a PNG."""

from __future__ import annotations

import struct
import zlib
from typing import Any
from urllib.parse import quote

import httpx
from dashboard_kit import ADMIN_PASSWORD, ALEX, DESKTOP, PHONE, SCREENSHOTS, Stack
from playwright.sync_api import Page, Response, expect

DANA = "+14155550101"  # one of Alex's contacts in the emulator
ELI = "+14155550102"


def shoot(page: Page, name: str) -> None:
    """``docs/screenshots/<name>-desktop.png`` and ``<name>-phone.png`` (the whole page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)  # type: ignore[arg-type]
        page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True, animations="disabled")
    page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]


def submit_password(page: Page, password: str) -> Response:
    page.get_by_label("Admin password").fill(password)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/signin")) as sent:
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return sent.value


def sign_in(page: Page, password: str = ADMIN_PASSWORD) -> None:
    page.goto("/")
    submit_password(page, password)
    expect(page.get_by_role("heading", name="Status", exact=True)).to_be_visible()


def png(width: int = 240, height: int = 150) -> bytes:
    """A real (decodable) PNG: a blue rectangle."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x1f\x6f\xeb" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def text_in(stack: Stack, sender: str, text: str, **extra: Any) -> str:
    """Someone texts Alex through the emulator; the message id."""
    answer = httpx.post(
        f"{stack.emulator_url}/_emulator/inbound", json={"from": sender, "to": ALEX, "text": text, **extra}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["messageId"])


def thread(page: Page, number: str) -> None:
    page.goto(f"/conversations/{quote(number, safe='')}")
    expect(page.get_by_role("heading", name=number, exact=True)).to_be_visible()

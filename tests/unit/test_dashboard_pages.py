"""The dashboard's pages through its ASGI app (no server): closed by default, sign-in, CSRF on
every form, the rate limit's 429 page, sign-out, safe redirects, the status page's banner and
extension switcher, cookie flags and security headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from rcinbox.clock import FakeClock
from rcinbox.dashboard.auth import COOKIE, Sessions, SignInLimiter
from rcinbox.dashboard.live import Activity, Publisher
from rcinbox.dashboard.pages import Dashboard
from rcinbox.dashboard.status import (
    ConnectionStatus,
    InboxStatus,
    StatusSnapshot,
    TokenStatus,
    VacationStatus,
)
from rcinbox.passwords import PasswordHash
from rcinbox.rules.config import Vacation
from rcinbox.store.status import DayCounts

NOW = datetime(2026, 12, 21, 15, 0, tzinfo=UTC)
NY = ZoneInfo("America/New_York")
PASSWORD = "open sesame 42"
HASH = PasswordHash.of(PASSWORD)


class MemoryKv:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def kv_get(self, key: str) -> str | None:
        return self.values.get(key)

    async def kv_put(self, key: str, value: str) -> None:
        self.values[key] = value

    async def kv_setdefault(self, key: str, value: str) -> str:
        return self.values.setdefault(key, value)


def snapshot_for(vacation: Vacation, asked: list[str | None]) -> object:
    async def snapshot(ext: str | None) -> StatusSnapshot:
        asked.append(ext)
        return StatusSnapshot(
            now=NOW,
            ready=True,
            not_ready=(),
            vacation=VacationStatus.of(vacation, NOW),
            connection=ConnectionStatus("websocket", True, True, None, "", None, 0),
            token=TokenStatus(True, NOW, NOW),
            inbox=InboxStatus(TODAY, NOW, "+14155550100", 0),
        )

    return snapshot


TODAY = DayCounts(
    NOW.date(),
    NOW,
    NOW,
    received=3,
    replied=1,
    suppressed=MappingProxyType({"not-a-contact": 2}),
    opted_out=0,
    opted_in=0,
)

WINDOW = Vacation(
    enabled=True,
    start=datetime(2026, 12, 20, tzinfo=NY),
    end=datetime(2027, 1, 4, 8, tzinfo=NY),
    timezone=NY,
    message="away",
)


class Site:
    def __init__(self, vacation: Vacation = WINDOW, extensions: tuple[str, ...] = ("101",)) -> None:
        self.clock = FakeClock(NOW)
        self.kv = MemoryKv()
        self.asked: list[str | None] = []
        self.publisher = Publisher()
        self.dashboard = Dashboard(
            snapshot_for(vacation, self.asked),  # type: ignore[arg-type]
            extensions,
            Sessions(b"k" * 32, HASH, self.clock),
            HASH,
            self.publisher,
            self.kv,
            SignInLimiter(self.clock),
        )
        self.client = TestClient(Starlette(routes=self.dashboard.routes()), follow_redirects=False)

    def csrf(self, path: str = "/signin") -> str:
        page = self.client.get(path)
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    def sign_in(self, password: str = PASSWORD, next_: str = "/") -> object:
        return self.client.post("/signin", data={"csrf": self.csrf(), "password": password, "next": next_})


@pytest.fixture
def site() -> Site:
    return Site()


def test_every_page_is_closed_until_signed_in(site: Site) -> None:
    for path in ("/", "/status?ext=101"):
        answer = site.client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/signin?next=")
    assert site.client.get("/events").status_code == 401
    assert site.asked == []  # nothing was read for a stranger


def test_the_sign_in_page_is_accessible_and_locked_down(site: Site) -> None:
    page = site.client.get("/signin")
    assert page.status_code == 200
    assert '<html lang="en">' in page.text and 'href="#main"' in page.text
    assert '<label for="password">' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie


def test_a_wrong_password_is_refused(site: Site) -> None:
    answer = site.sign_in("not it")
    assert answer.status_code == 401  # type: ignore[attr-defined]
    assert "That password is not right" in answer.text  # type: ignore[attr-defined]
    assert site.client.get("/").status_code == 303


def test_the_right_password_signs_in_and_shows_the_banner_in_the_owners_time_zone(site: Site) -> None:
    answer = site.sign_in(next_="/status")
    assert answer.status_code == 303 and answer.headers["location"] == "/status"  # type: ignore[attr-defined]
    page = site.client.get("/status")
    assert page.status_code == 200
    assert "Vacation reply is ON" in page.text
    assert "Sun 20 Dec 2026, 00:00" in page.text and "Mon 04 Jan 2027, 08:00" in page.text
    assert "America/New_York" in page.text
    assert 'id="received-today">3<' in page.text and 'id="replied-today">1<' in page.text
    assert "<strong>2</strong> not in your contacts (replies go to contacts only)" in page.text
    today = site.client.get("/status?fragment=today")  # what the live page fetches on each activity
    assert 'id="received-today">3<' in today.text and "<html" not in today.text


@pytest.mark.parametrize(
    ("vacation", "banner"),
    [
        (Vacation(), "Vacation reply is OFF"),
        (Vacation(**{**WINDOW.__dict__, "start": datetime(2026, 12, 24, tzinfo=NY)}), "OFF · scheduled"),
        (Vacation(**{**WINDOW.__dict__, "enabled": False}), "vacation.enabled</code> is false"),
    ],
)
def test_the_banner_says_off_and_why(vacation: Vacation, banner: str) -> None:
    site = Site(vacation)
    site.sign_in()
    page = site.client.get("/")
    assert banner in page.text and "Vacation reply is ON" not in page.text


def test_a_post_without_its_csrf_token_is_rejected_with_a_clear_page(site: Site) -> None:
    site.csrf()
    answer = site.client.post("/signin", data={"password": PASSWORD, "csrf": "forged"})
    assert answer.status_code == 403 and "This form has expired" in answer.text
    site.sign_in()
    refused = site.client.post("/signout", data={})
    assert refused.status_code == 403
    assert site.client.get("/").status_code == 200  # still signed in: nothing changed


def test_sign_out_ends_the_session_for_good(site: Site) -> None:
    site.sign_in()
    old = site.client.cookies[COOKIE]
    token = site.csrf("/")
    answer = site.client.post("/signout", data={"csrf": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/signin?signed_out=1"
    assert "You are signed out" in site.client.get("/signin?signed_out=1").text
    site.client.cookies.set(COOKIE, old)  # the old cookie, replayed
    assert site.client.get("/").status_code == 303
    assert old.split(".")[0] not in str(site.kv.values)  # only ids are remembered


def test_the_rate_limit_answers_429_with_when_to_retry_and_lifts_on_the_clock(site: Site) -> None:
    for _ in range(5):
        assert site.sign_in("wrong").status_code == 401  # type: ignore[attr-defined]
    paused = site.sign_in(PASSWORD)  # even the right password waits
    assert paused.status_code == 429  # type: ignore[attr-defined]
    assert paused.headers["retry-after"] == "900"  # type: ignore[attr-defined]
    assert "try again in 15 min" in paused.text  # type: ignore[attr-defined]
    site.clock.advance(15 * 60)
    assert site.sign_in(PASSWORD).status_code == 303  # type: ignore[attr-defined]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_sign_in_only_redirects_within_the_site(site: Site, target: str) -> None:
    assert site.sign_in(next_=target).headers["location"] == "/"  # type: ignore[attr-defined]


def test_the_switcher_shows_one_extension_and_ignores_unknown_ones() -> None:
    site = Site(extensions=("101", "102"))
    site.sign_in()
    site.publisher.publish(Activity("received", "101", NOW, "+14155550100", "for 101"))
    site.publisher.publish(Activity("received", "102", NOW, "+14155550101", "for 102"))
    page = site.client.get("/status?ext=102")
    assert '<option value="102" selected>' in page.text
    assert "for 102" in page.text and "for 101" not in page.text
    site.client.get("/status?ext=999")
    assert site.asked == ["102", None]
    assert '<label for="ext">' in page.text


def test_one_extension_has_no_switcher_and_the_nav_names_the_pages(site: Site) -> None:
    site.sign_in()
    page = site.client.get("/")
    assert 'id="ext"' not in page.text
    nav = page.text.split('<nav class="nav"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r">([^<]+)</a>", nav) == ["Status", "Conversations", "Search", "Opt-outs"]


def test_a_message_text_is_escaped(site: Site) -> None:
    site.sign_in()
    site.publisher.publish(Activity("received", "101", NOW, "+1", "<script>alert(1)</script>"))
    page = site.client.get("/")
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text


def test_static_files_are_served(site: Site) -> None:
    assert "--brand" in site.client.get("/static/dashboard.css").text
    assert "EventSource" in site.client.get("/static/dashboard.js").text


def test_the_cookie_is_secure_over_https(site: Site) -> None:
    secure = TestClient(Starlette(routes=site.dashboard.routes()), base_url="https://dash.example")
    assert "Secure" in secure.get("/signin").headers["set-cookie"]

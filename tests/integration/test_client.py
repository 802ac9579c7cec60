"""PlatformClient: retries, 429, 401 recovery, typed errors, downloads — scripted and against the emulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from platform_fake import CREDS, SERVER, FakePlatform, body_json, emu_credentials, oauth_error, rest_error
from transport_kit import inject

from rcinbox.emulator.runner import Running
from rcinbox.errors import (
    AuthError,
    DownloadRefused,
    Forbidden,
    InvalidGrant,
    NotFound,
    PlatformError,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
    error_from_response,
)
from rcinbox.platform import PlatformClient, RetryPolicy

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, max_retry_after=5)
EXT = "/restapi/v1.0/account/~/extension/~"


@pytest.fixture
def fake() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
async def client(fake: FakePlatform) -> AsyncIterator[PlatformClient]:
    async with PlatformClient.open(CREDS, transport=fake.transport(), policy=FAST, upkeep=False) as opened:
        yield opened


# ---- retries ----


async def test_get_is_retried_on_503_and_network_errors(fake: FakePlatform, client: PlatformClient) -> None:
    fake.script("GET", EXT, rest_error(503, "CMN-211", "Service unavailable"), httpx.ConnectError("refused"))
    assert await client.get_json(EXT) == {"ok": True, "path": EXT}
    assert len(fake.api_requests(EXT)) == 3


async def test_get_gives_up_after_the_policy_attempts(fake: FakePlatform, client: PlatformClient) -> None:
    fake.script("GET", EXT, *(rest_error(502, "CMN-201", "Bad gateway") for _ in range(5)))
    with pytest.raises(ServerError) as info:
        await client.get_json(EXT)
    assert (info.value.status, info.value.error_code) == (502, "CMN-201")
    assert len(fake.api_requests(EXT)) == FAST.attempts


async def test_read_timeout_is_retried_for_get_but_never_for_a_send(
    fake: FakePlatform, client: PlatformClient
) -> None:
    fake.script("GET", EXT, httpx.ReadTimeout("slow"))
    assert (await client.get_json(EXT))["ok"] is True
    sms = EXT + "/sms"
    fake.script("POST", sms, httpx.ReadTimeout("slow"))
    with pytest.raises(TransportError) as info:
        await client.send_sms("+16505550100", "+14155550100", "hi")
    assert info.value.timeout and info.value.sent
    assert str(info.value) == f"POST {sms}: ReadTimeout: slow"
    assert len(fake.api_requests(sms)) == 1  # the SMS may have gone out: not sent twice


async def test_a_send_is_retried_when_it_surely_did_not_happen(
    fake: FakePlatform, client: PlatformClient
) -> None:
    sms = EXT + "/sms"
    fake.script("POST", sms, httpx.ConnectError("refused"), rest_error(503, "MSG-290", "Please try later."))
    assert (await client.send_sms("+16505550100", "+14155550100", "hi")).raw["ok"] is True
    assert len(fake.api_requests(sms)) == 3
    assert body_json(fake.api_requests(sms)[-1]) == {
        "from": {"phoneNumber": "+16505550100"},
        "to": [{"phoneNumber": "+14155550100"}],
        "text": "hi",
    }


async def test_a_send_is_not_retried_on_500(fake: FakePlatform, client: PlatformClient) -> None:
    sms = EXT + "/sms"
    fake.script("POST", sms, rest_error(500, "CMN-201", "Service Temporary Unavailable"))
    with pytest.raises(ServerError, match=r"^HTTP 500 CMN-201: Service Temporary Unavailable"):
        await client.send_sms("+16505550100", "+14155550100", "hi")
    assert len(fake.api_requests(sms)) == 1


async def test_429_waits_for_retry_after_then_retries(fake: FakePlatform, client: PlatformClient) -> None:
    seen: list[float] = []

    def limited(request: httpx.Request) -> httpx.Response:
        seen.append(time.monotonic())
        return rest_error(429, "CMN-301", "Request rate exceeded", {"Retry-After": "1"})

    def ok(request: httpx.Request) -> httpx.Response:
        seen.append(time.monotonic())
        return httpx.Response(200, json={"done": True})

    fake.script("GET", EXT, limited, ok)
    assert await client.get_json(EXT) == {"done": True}
    assert seen[1] - seen[0] >= 0.95


async def test_429_asking_too_long_is_raised_with_its_retry_after(
    fake: FakePlatform, client: PlatformClient
) -> None:
    fake.script("GET", EXT, rest_error(429, "CMN-301", "Request rate exceeded", {"Retry-After": "600"}))
    with pytest.raises(RateLimited) as info:
        await client.get_json(EXT)
    assert (info.value.retry_after, info.value.error_code) == (600.0, "CMN-301")


# ---- 401 ----


async def test_401_renews_the_session_once_and_retries(fake: FakePlatform, client: PlatformClient) -> None:
    fake.revoke_all()  # e.g. evicted by a 6th login elsewhere
    assert (await client.get_json(EXT))["ok"] is True
    assert [r.headers["authorization"] for r in fake.api_requests(EXT)] == [
        "Bearer ACCESS-1-tok3n",
        "Bearer ACCESS-2-tok3n",
    ]
    assert fake.count("jwt-bearer") == 2


async def test_a_second_401_is_raised(fake: FakePlatform, client: PlatformClient) -> None:
    fake.script("GET", EXT, *(rest_error(401, "TokenInvalid", "Token not found") for _ in range(2)))
    with pytest.raises(Unauthorized) as info:
        await client.get_json(EXT)
    assert info.value.error_code == "TokenInvalid"
    assert len(fake.api_requests(EXT)) == 2


# ---- typed errors ----


@pytest.mark.parametrize(
    ("response", "kind", "code", "message"),
    [
        (
            rest_error(404, "CMN-102", "Resource for parameter [messageId] is not found"),
            NotFound,
            "CMN-102",
            None,
        ),
        (rest_error(403, "MSG-304", "Phone number doesn't belong to extension"), Forbidden, "MSG-304", None),
        (rest_error(400, "CMN-101", "Parameter [to] value is invalid."), PlatformError, "CMN-101", None),
        (rest_error(429, "CMN-301", "Request rate exceeded"), RateLimited, "CMN-301", None),
        (rest_error(408, "CMN-408x", "Timeout"), ServerError, "CMN-408x", None),
        (oauth_error(400, "invalid_grant", "OAU-210", "Token expired"), InvalidGrant, "OAU-210", None),
        (oauth_error(401, "invalid_client", "OAU-153", "Invalid client: "), AuthError, "OAU-153", None),
        (
            httpx.Response(
                400, json={"errors": [{"errorCode": "SUB-505", "message": "Subscriptions limit"}]}
            ),
            PlatformError,
            "SUB-505",
            "Subscriptions limit",
        ),
        (httpx.Response(502, text="<html>bad gateway</html>"), ServerError, "HTTP-502", "Bad Gateway"),
        (httpx.Response(401, json={"error": "unauthorized_client"}), AuthError, "unauthorized_client", None),
    ],
)
def test_error_bodies_become_typed_errors(
    response: httpx.Response, kind: type[PlatformError], code: str, message: str | None
) -> None:
    response.request = httpx.Request("GET", SERVER + "/restapi/v1.0/x?access_token=SECRETQUERY")
    error = error_from_response(response)
    assert type(error) is kind
    assert (error.status, error.error_code) == (response.status_code, code)
    if message is not None:
        assert error.message == message
    assert "SECRETQUERY" not in str(error)
    assert str(error).endswith("(GET /restapi/v1.0/x)")


def test_retry_after_default_is_the_penalty_window() -> None:
    response = rest_error(429, "CMN-301", "Request rate exceeded")
    response.request = httpx.Request("GET", SERVER + "/x")
    error = error_from_response(response)
    assert isinstance(error, RateLimited) and error.retry_after == 60.0


def test_retry_policy_is_exponential_with_bounded_jitter() -> None:
    policy = RetryPolicy(attempts=5, base_delay=1, multiplier=2, max_delay=5, jitter=0.25)
    assert [policy.delay(n, rand=lambda: 0.5) for n in (1, 2, 3, 4)] == [1, 2, 4, 5]
    assert policy.delay(2, rand=lambda: 0.0) == 1.5 and policy.delay(2, rand=lambda: 1.0) == 2.5
    for bad in ({"attempts": 0}, {"multiplier": 0.5}, {"jitter": 2}, {"base_delay": 9, "max_delay": 1}):
        with pytest.raises(ValueError):
            RetryPolicy(**bad)


# ---- hosts and downloads ----


def hosts(server: str) -> frozenset[str]:
    return PlatformClient(httpx.AsyncClient(), None, server).allowed_download_hosts()  # type: ignore[arg-type]


def test_download_hosts_follow_the_configured_server() -> None:
    assert hosts("https://platform.ringcentral.com") == {"platform.ringcentral.com", "media.ringcentral.com"}
    assert hosts("https://platform.devtest.ringcentral.com") == {
        "platform.devtest.ringcentral.com",
        "media.devtest.ringcentral.com",
    }
    assert hosts("http://127.0.0.1:8090") == {"127.0.0.1"}


async def test_stream_refuses_foreign_hosts_before_sending_anything(
    fake: FakePlatform, client: PlatformClient
) -> None:
    before = len(fake.requests)
    for uri in (
        "https://evil.example.com/restapi/v1.0/x",
        "http://media.ringcentral.com/x",  # not https
        "https://media.ringcentral.com.evil.net/x",
    ):
        with pytest.raises(DownloadRefused):
            async with client.stream(uri):
                pass
    assert len(fake.requests) == before


async def test_stream_downloads_from_the_media_host(fake: FakePlatform, client: PlatformClient) -> None:
    path = "/restapi/v1.0/account/1/extension/2/message-store/3/content/4"
    fake.script(
        "GET", path, httpx.Response(200, content=b"\x89PNG...", headers={"Content-Type": "image/png"})
    )
    async with client.stream("https://media.ringcentral.com" + path) as response:
        data = b"".join([chunk async for chunk in response.aiter_bytes()])
    assert data == b"\x89PNG..."
    assert fake.api_requests(path)[0].headers["authorization"] == "Bearer ACCESS-1-tok3n"
    fake.script("GET", path, rest_error(404, "CMN-102", "Resource for parameter [attachmentId] is not found"))
    with pytest.raises(NotFound):
        async with client.stream("https://media.ringcentral.com" + path):
            pass


async def test_paged_lists_are_followed(fake: FakePlatform, client: PlatformClient) -> None:
    sync = EXT + "/address-book-sync"
    fake.script(
        "GET",
        sync,
        httpx.Response(200, json={"records": [{"id": 1}], "nextPageId": "p2"}),
        httpx.Response(200, json={"records": [{"id": 2}], "syncInfo": {"syncToken": "T2"}}),
    )
    merged = await client.address_book_sync(None)
    assert [r.id for r in merged.records] == ["1", "2"] and merged.sync_info.sync_token == "T2"
    first, second = fake.api_requests(sync)
    assert dict(first.url.params) == {"syncType": "FSync", "perPage": "250"}
    assert dict(second.url.params) == {"syncType": "FSync", "perPage": "250", "pageId": "p2"}
    store = EXT + "/message-store"
    fake.script(
        "GET",
        store,
        httpx.Response(200, json={"records": [{"id": 1}], "navigation": {"nextPage": {"uri": "x"}}}),
        httpx.Response(200, json={"records": [{"id": 2}], "navigation": {}}),
    )
    assert [r.raw for r in await client.list_messages(messageType="SMS")] == [{"id": 1}, {"id": 2}]
    assert [r.url.params["page"] for r in fake.api_requests(store)] == ["1", "2"]


# ---- against the emulator ----


async def faults(http: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await http.post("/_emulator/faults", json=body)
    assert response.status_code == 200, response.text


async def test_emulator_login_and_account_calls(emu: Running) -> None:
    async with PlatformClient.open(emu_credentials(emu), upkeep=False) as client:
        info = await client.extension_info()
        numbers = await client.phone_numbers()
        assert client.allowed_download_hosts() == {"127.0.0.1"}
    assert (info.extension_number, info.name) == ("101", "Alex Morgan")
    assert [n.phone_number for n in numbers] == ["+16505550100", "+16505550101"]


async def test_emulator_503_is_retried(emu: Running, http: httpx.AsyncClient) -> None:
    fault = {"method": "GET", "path": "/restapi/v1.0/account/*/extension/*", "status": 503, "count": 2}
    await faults(http, {"http": [{**fault, "retryAfter": 0}]})
    async with PlatformClient.open(emu_credentials(emu), policy=FAST, upkeep=False) as client:
        assert (await client.extension_info()).id == str(emu.world.extensions[0].id)
    assert (await http.get("/_emulator/faults")).json()["http"] == []  # both injected 503s were consumed


async def test_emulator_429_retry_after_is_honoured(emu: Running, http: httpx.AsyncClient) -> None:
    fault = {"method": "GET", "path": "/restapi/v1.0/account/*/extension/*", "status": 429, "retryAfter": 1}
    async with PlatformClient.open(emu_credentials(emu), policy=FAST, upkeep=False) as client:
        await faults(http, {"http": [fault]})
        started = time.monotonic()
        assert (await client.extension_info()).extension_number == "101"
        assert time.monotonic() - started >= 0.95


async def test_emulator_errors_are_typed(emu: Running) -> None:
    async with PlatformClient.open(emu_credentials(emu), policy=FAST, upkeep=False) as client:
        with pytest.raises(Forbidden) as forbidden:
            await client.send_sms("+16505550102", "+14155550100", "not my number")
        with pytest.raises(NotFound) as missing:
            await client.get_subscription("00000000-0000-0000-0000-000000000000")
    assert (forbidden.value.status, forbidden.value.error_code) == (403, "MSG-304")
    assert missing.value.status == 404 and missing.value.error_code.startswith(("CMN-", "SUB-"))


async def test_emulator_attachment_is_streamed(emu: Running, http: httpx.AsyncClient) -> None:
    photo = bytes(range(256)) * 40
    injected = await inject(http, "+16505550100", "", attachments=[("image/png", photo)])
    async with PlatformClient.open(emu_credentials(emu), policy=FAST, upkeep=False) as client:
        message = await client.get_json(f"{EXT}/message-store/{injected['messageId']}")
        (media,) = [a for a in message["attachments"] if a["type"] == "MmsAttachment"]
        async with client.stream(media["uri"]) as response:
            data = b"".join([chunk async for chunk in response.aiter_bytes()])
            assert response.headers["content-type"].startswith("image/png")
    assert data == photo


def test_platform_package_exports_exactly_its_public_surface() -> None:
    import rcinbox.platform as package

    public = {name for name in vars(package) if not name.startswith("_")}
    modules = {"auth", "client", "pacing", "retry", "tokenfile", "vault", "waits", "annotations"}
    assert set(package.__all__) == public - modules


async def test_a_cancelled_request_frees_its_pacing_slot(fake: FakePlatform, client: PlatformClient) -> None:
    arrived, never = asyncio.Event(), asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        arrived.set()
        await never.wait()
        raise AssertionError("unreachable")

    fake.script("GET", EXT, hang)
    stuck = asyncio.create_task(client.get_json(EXT))  # the Light group's first (probing) request
    await asyncio.wait_for(arrived.wait(), timeout=2)
    stuck.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stuck
    assert (await asyncio.wait_for(client.get_json(EXT), timeout=2))["ok"] is True


async def test_503_retry_after_is_honoured_within_the_backoff_bound(fake: FakePlatform) -> None:
    policy = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.3)
    seen: list[float] = []

    def busy(request: httpx.Request) -> httpx.Response:
        seen.append(time.monotonic())
        return rest_error(503, "CMN-211", "Service unavailable", {"Retry-After": "60"})

    def ok(request: httpx.Request) -> httpx.Response:
        seen.append(time.monotonic())
        return httpx.Response(200, json={"ok": True})

    fake.script("GET", EXT, busy, ok)
    async with PlatformClient.open(CREDS, transport=fake.transport(), policy=policy, upkeep=False) as client:
        assert (await client.get_json(EXT))["ok"] is True
    assert 0.28 <= seen[1] - seen[0] < 5

"""TokenManager against a scripted platform (MockTransport): login, refresh, persistence, upkeep."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest
from platform_fake import CREDS, CountingTransport, FakePlatform, emu_credentials

from rcinbox.clock import FakeClock
from rcinbox.emulator.runner import Running
from rcinbox.emulator.world import Limits
from rcinbox.errors import AuthError, PlatformError
from rcinbox.platform import Credentials, Pacer, PlatformClient, RetryPolicy, TokenManager
from rcinbox.platform.auth import access_margin

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


def fixed_clock() -> FakeClock:
    return FakeClock(datetime.fromtimestamp(1_800_000_000, UTC))


@pytest.fixture
def fake() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
async def http(fake: FakePlatform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        yield client


def manager(http: httpx.AsyncClient, **kw: object) -> TokenManager:
    return TokenManager(http, CREDS, pacer=Pacer(), policy=FAST, **kw)  # type: ignore[arg-type]


async def test_jwt_login_uses_basic_client_auth_and_a_form_body(
    fake: FakePlatform, http: httpx.AsyncClient
) -> None:
    tm = manager(http)
    assert await tm.access_token() == "ACCESS-1-tok3n"
    (request,) = fake.requests
    assert request.method == "POST" and request.url == "https://platform.ringcentral.com/restapi/oauth/token"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    basic = base64.b64encode(b"fake-client-id:fake-client-SECRET-123").decode()
    assert request.headers["authorization"] == f"Basic {basic}"
    assert dict(parse_qsl(request.content.decode())) == {
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": CREDS.jwt,
    }
    assert await tm.access_token() == "ACCESS-1-tok3n"  # cached: no second request
    assert len(fake.requests) == 1 and tm.owner_id == "62264425016"


async def test_refresh_happens_proactively_before_expiry(fake: FakePlatform, http: httpx.AsyncClient) -> None:
    clock = fixed_clock()
    tm = manager(http, clock=clock)
    await tm.access_token()
    clock.advance(3600 - access_margin(3600) - 1)  # 61 s before expiry: still fine
    assert await tm.access_token() == "ACCESS-1-tok3n"
    clock.advance(2)  # inside the 60 s margin
    assert await tm.access_token() == "ACCESS-2-tok3n"
    assert fake.grants[-1] == {"grant_type": "refresh_token", "refresh_token": "REFRESH-1-tok3n"}
    assert (fake.count("jwt-bearer"), fake.count("refresh_token")) == (1, 1)


async def test_concurrent_callers_share_exactly_one_refresh(
    fake: FakePlatform, http: httpx.AsyncClient
) -> None:
    clock = fixed_clock()
    tm = manager(http, clock=clock)
    await tm.access_token()
    clock.advance(3600)  # expired
    fake.token_gate = asyncio.Event()
    callers = [asyncio.create_task(tm.access_token()) for _ in range(25)]
    await fake.until(lambda: fake.count("refresh_token") == 1)  # the first caller is at the platform
    await asyncio.sleep(0.05)  # let any other (wrong) refresh reach it too before the gate opens
    fake.token_gate.set()
    tokens = await asyncio.wait_for(asyncio.gather(*callers), timeout=5)
    assert set(tokens) == {"ACCESS-2-tok3n"}
    assert (fake.count("jwt-bearer"), fake.count("refresh_token")) == (1, 1)


async def test_invalid_grant_on_refresh_falls_back_to_a_jwt_login(
    fake: FakePlatform, http: httpx.AsyncClient
) -> None:
    clock = fixed_clock()
    tm = manager(http, clock=clock)
    await tm.access_token()
    fake.revoke_all()
    clock.advance(3600)
    assert await tm.access_token() == "ACCESS-2-tok3n"
    assert [g["grant_type"].rsplit(":", 1)[-1] for g in fake.grants] == [
        "jwt-bearer",
        "refresh_token",
        "jwt-bearer",
    ]
    assert tm.logins == 2


async def test_recover_after_401_renews_once_for_everyone(
    fake: FakePlatform, http: httpx.AsyncClient
) -> None:
    tm = manager(http)
    rejected = await tm.access_token()
    fake.revoke_all()
    first, second = await asyncio.gather(tm.recover(rejected), tm.recover(rejected))
    assert first == second == "ACCESS-2-tok3n"
    assert fake.count("jwt-bearer") == 2 and fake.count("refresh_token") == 1  # refresh refused → login


async def test_bad_jwt_is_a_typed_auth_error_without_secrets(
    fake: FakePlatform, http: httpx.AsyncClient
) -> None:
    wrong = Credentials(CREDS.server_url, CREDS.client_id, CREDS.client_secret, "eyJwrong.jwt.VALUE")
    tm = TokenManager(http, wrong, pacer=Pacer(), policy=FAST)
    with pytest.raises(AuthError) as info:
        await tm.access_token()
    assert (info.value.status, info.value.error_code, info.value.oauth_error) == (
        400,
        "OAU-140",
        "invalid_grant",
    )
    assert str(info.value) == (
        "HTTP 400 OAU-140: Invalid resource owner credentials (POST /restapi/oauth/token)"
    )
    assert "eyJwrong" not in repr(tm) + repr(wrong) and CREDS.client_secret not in repr(tm)


async def test_token_file_is_private_and_reused_across_a_restart(
    fake: FakePlatform, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    path = tmp_path / "data" / "tokens.json"
    first = manager(http, token_file=path)
    await first.start(background=False)
    await first.aclose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["tokens.json"]  # no temp file left behind
    saved = json.loads(path.read_text())
    assert saved["token"]["refresh_token"] == "REFRESH-1-tok3n"
    assert CREDS.jwt not in path.read_text() and CREDS.client_secret not in path.read_text()

    second = manager(http, token_file=path)  # "restart"
    await second.start(background=False)
    assert await second.access_token() == "ACCESS-1-tok3n"
    assert fake.count("jwt-bearer") == 1  # the session was reused, no second login
    await second.aclose()


async def test_rotated_refresh_token_is_persisted(
    fake: FakePlatform, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    path = tmp_path / "tokens.json"
    tm = manager(http, token_file=path)
    await tm.start(background=False)
    await tm.refresh_now()
    assert json.loads(path.read_text())["token"]["refresh_token"] == "REFRESH-2-tok3n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_token_file_of_another_user_is_not_reused(
    fake: FakePlatform, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    path = tmp_path / "tokens.json"
    await manager(http, token_file=path).start(background=False)
    other = Credentials(CREDS.server_url, CREDS.client_id, CREDS.client_secret, CREDS.jwt + "x")
    tm = TokenManager(http, other, token_file=path, pacer=Pacer(), policy=FAST)
    with pytest.raises(AuthError):  # it must log in with its own JWT (which the fake refuses)
        await tm.start(background=False)
    assert fake.count("jwt-bearer") == 2


async def test_loose_token_file_permissions_are_tightened(
    fake: FakePlatform, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    path = tmp_path / "tokens.json"
    await manager(http, token_file=path).start(background=False)
    path.chmod(0o644)
    await manager(http, token_file=path).start(background=False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert fake.count("jwt-bearer") == 1


def test_upkeep_is_due_before_the_access_token_expires_or_at_half_the_refresh_life(
    fake: FakePlatform,
) -> None:
    clock = fixed_clock()
    tm = TokenManager(httpx.AsyncClient(), CREDS, clock=clock)
    from rcinbox.platform import Token

    tm._token = Token("a", clock.time() + 3600, 3600, "r", clock.time() + 600, clock.time())
    assert tm.next_upkeep_in() == 300  # half the refresh token's life comes first
    tm._token = Token("a", clock.time() + 3600, 3600, "r", clock.time() + 604800, clock.time())
    assert tm.next_upkeep_in() == 3600 - access_margin(3600)  # the access token must stay valid
    tm._token = Token("a", clock.time() + 3 * 86400, 3 * 86400, "r", clock.time() + 604800, clock.time())
    assert tm.next_upkeep_in() == 86400  # and at least daily


async def test_background_upkeep_refreshes_a_quiet_session(
    fake: FakePlatform, http: httpx.AsyncClient
) -> None:
    fake.refresh_ttl = 1  # half-life 0.5 s
    clock, renewed = fixed_clock(), asyncio.Event()
    tm = manager(http, clock=clock, on_renew=lambda _: renewed.set())
    await tm.start()
    for _ in range(2):  # two scheduled refreshes, no API call: each at the refresh token's half-life
        renewed.clear()
        clock.advance(0.5)
        await asyncio.wait_for(renewed.wait(), timeout=5)
    await tm.aclose()
    assert (fake.count("jwt-bearer"), fake.count("refresh_token")) == (1, 2)
    assert clock.sleeping == 0  # stopped: nothing left waiting to refresh


# ---- against the emulator (access token 2 s, refresh token 4 s) ----


@pytest.fixture
def limits() -> Limits:
    return Limits(access_ttl=2, refresh_ttl=4)


@pytest.fixture
async def counting() -> AsyncIterator[CountingTransport]:
    transport = CountingTransport()
    yield transport
    await transport.aclose()


@pytest.fixture
async def wire(counting: CountingTransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=counting) as client:
        yield client


@pytest.fixture
async def control(emu: Running) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=emu.url) as client:
        yield client


def live_sessions(emu: Running) -> int:
    return sum(1 for s in emu.world.sessions.values() if not s.revoked)


async def test_emulator_concurrent_callers_cause_one_refresh(
    emu: Running, wire: httpx.AsyncClient, counting: CountingTransport
) -> None:
    clock = FakeClock()
    tm = TokenManager(wire, emu_credentials(emu), policy=FAST, clock=clock)
    first = await tm.access_token()
    clock.advance(1.9)  # inside the margin (10% of 2 s) but the refresh token (4 s) is still good
    tokens = await asyncio.wait_for(asyncio.gather(*(tm.access_token() for _ in range(20))), timeout=5)
    assert len(set(tokens)) == 1 and tokens[0] != first
    assert counting.count("/oauth/token", 200) == 2  # one login + exactly one refresh
    assert (tm.logins, tm.refreshes, live_sessions(emu)) == (1, 1, 1)
    probe = await wire.get(
        emu.url + "/restapi/v1.0/account/~/extension/~", headers={"Authorization": f"Bearer {tokens[0]}"}
    )
    assert probe.status_code == 200


async def test_emulator_restart_reuses_the_saved_session(
    emu: Running, wire: httpx.AsyncClient, counting: CountingTransport, tmp_path: Path
) -> None:
    path = tmp_path / "tokens.json"
    async with PlatformClient.open(
        emu_credentials(emu), token_file=path, transport=counting, upkeep=False
    ) as one:
        await one.extension_info()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    async with PlatformClient.open(
        emu_credentials(emu), token_file=path, transport=counting, upkeep=False
    ) as two:
        assert (await two.extension_info()).extension_number == "101"
    assert counting.count("/oauth/token") == 1  # the second process never logged in
    assert live_sessions(emu) == 1


async def test_emulator_restart_continues_with_the_rotated_refresh_token(
    emu: Running, wire: httpx.AsyncClient, counting: CountingTransport, tmp_path: Path
) -> None:
    path = tmp_path / "tokens.json"
    first = TokenManager(wire, emu_credentials(emu), token_file=path, policy=FAST)
    await first.start(background=False)
    await first.refresh_now()  # the platform rotates the refresh token
    await first.aclose()
    rotated = json.loads(path.read_text())["token"]["refresh_token"]
    assert rotated == counting.issued[-1] != counting.issued[1]  # the login's refresh token is gone
    # The restarted process finds the access token (2 s) expired: it refreshes with the saved,
    # rotated refresh token (4 s, still good) instead of opening a new session.
    later = FakeClock()
    later.advance(2.5)
    second = TokenManager(wire, emu_credentials(emu), token_file=path, policy=FAST, clock=later)
    await second.start(background=False)
    await second.aclose()
    assert (second.logins, second.refreshes) == (0, 1)
    assert counting.count("/oauth/token", 200) == 3 and counting.count("/oauth/token") == 3
    assert live_sessions(emu) == 1
    assert json.loads(path.read_text())["token"]["refresh_token"] == counting.issued[-1] != rotated


async def test_emulator_scheduled_refresh_keeps_a_quiet_session_alive(
    emu: Running, wire: httpx.AsyncClient, counting: CountingTransport, tmp_path: Path
) -> None:
    path = tmp_path / "tokens.json"
    refreshed = asyncio.Event()
    clock = FakeClock()
    tm = TokenManager(
        wire,
        emu_credentials(emu),
        token_file=path,
        policy=FAST,
        clock=clock,
        on_renew=lambda _: refreshed.set(),
    )
    await tm.start()  # refresh token lives 4 s: upkeep refreshes at its half-life
    refreshed.clear()  # (the login)
    clock.advance(2)
    try:
        await asyncio.wait_for(refreshed.wait(), timeout=5)
    finally:
        await tm.aclose()
    assert counting.count("/oauth/token", 200) == 2 and tm.logins == 1
    saved = json.loads(path.read_text())["token"]["refresh_token"]
    assert tm.token is not None and saved == tm.token.refresh_token == counting.issued[-1]


async def test_emulator_expired_tokens_lead_to_a_fresh_login(
    emu: Running, control: httpx.AsyncClient, counting: CountingTransport
) -> None:
    async with PlatformClient.open(
        emu_credentials(emu), transport=counting, policy=FAST, upkeep=False
    ) as client:
        await client.extension_info()
        assert (await control.post("/_emulator/faults", json={"expireTokens": True})).status_code == 200
        assert (await client.extension_info()).extension_number == "101"
        assert (client.auth.logins, client.auth.refreshes) == (2, 0)
    token_answers = [code for _, path, code in counting.exchanges if path.endswith("/oauth/token")]
    assert token_answers == [200, 400, 200]  # login, refresh refused (invalid_grant), login
    api_answers = [code for _, path, code in counting.exchanges if path.endswith("/extension/~")]
    assert api_answers == [200, 401, 200]


async def test_no_secret_ever_reaches_a_log_line(
    emu: Running, control: httpx.AsyncClient, counting: CountingTransport, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    creds = emu_credentials(emu)
    errors: list[str] = []
    fault = {"method": "GET", "path": "/restapi/v1.0/account/*/extension/*", "status": 503, "retryAfter": 0}
    await control.post("/_emulator/faults", json={"rateLimits": {"Auth": 50}})  # no pacing waits here
    async with PlatformClient.open(creds, transport=counting, policy=FAST, upkeep=False) as client:
        await client.auth.refresh_now()
        await control.post("/_emulator/faults", json={"expireTokens": True, "http": [fault]})
        await client.extension_info()  # 503 retried, then 401 → refresh refused → login
        try:
            await client.send_sms("+16505550102", "+14155550100", "not mine")
        except PlatformError as exc:
            errors.append(f"{exc} {exc!r}")
    bad = Credentials(creds.server_url, creds.client_id, "wrong-secret-XYZ123", creds.jwt)
    with pytest.raises(AuthError) as refused:
        async with PlatformClient.open(bad, transport=counting, policy=FAST, upkeep=False):
            pass
    errors.append(f"{refused.value} {refused.value!r}")
    text = "\n".join(r.getMessage() for r in caplog.records) + "\n".join(errors) + repr(creds)
    assert "refused" in text and "logged in with the JWT" in text and "retrying" in text  # not vacuous
    secrets = [creds.client_secret, creds.jwt, "wrong-secret-XYZ123", *counting.issued]
    secrets += [base64.b64encode(f"{creds.client_id}:{creds.client_secret}".encode()).decode()]
    assert len(counting.issued) >= 6
    leaked = [s for s in secrets if s in text]
    assert leaked == []


async def test_an_unwritable_token_file_does_not_break_the_session(
    fake: FakePlatform, http: httpx.AsyncClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    tm = manager(http, token_file=blocker / "tokens.json")
    assert await tm.access_token() == "ACCESS-1-tok3n"
    assert any("could not save the OAuth session" in r.getMessage() for r in caplog.records)

"""Pacing per throttling group: the table, the gate's arithmetic, and a burst with zero 429s."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from platform_fake import CountingTransport, emu_credentials, rate_headers

from rcinbox.clock import FakeClock
from rcinbox.emulator.runner import Running
from rcinbox.errors import ClaimLost, TransportError
from rcinbox.platform import Pacer, PlatformClient, RetryPolicy, group_for
from rcinbox.platform.pacing import Group
from rcinbox.platform.retry import send

ACCOUNT = "https://platform.ringcentral.com/restapi/v1.0/account/~/extension/~"


@pytest.mark.parametrize(
    ("method", "url", "group"),
    [
        ("POST", f"{ACCOUNT}/sms", "Medium"),
        ("POST", f"{ACCOUNT}/mms", "Medium"),
        ("GET", f"{ACCOUNT}/message-store", "Light"),
        ("GET", f"{ACCOUNT}/message-store/123", "Light"),
        ("PUT", f"{ACCOUNT}/message-store/123", "Medium"),
        ("GET", f"{ACCOUNT}/message-sync?syncType=FSync", "Light"),
        ("GET", ACCOUNT, "Light"),
        ("GET", f"{ACCOUNT}/phone-number", "Light"),
        ("GET", "https://platform.ringcentral.com/restapi/v1.0/account/~/phone-number", "Heavy"),
        ("GET", f"{ACCOUNT}/address-book/contact", "Heavy"),
        ("GET", f"{ACCOUNT}/address-book-sync", "Heavy"),
        ("POST", "https://platform.ringcentral.com/restapi/oauth/token", "Auth"),
        ("POST", "https://platform.ringcentral.com/restapi/oauth/wstoken", "Auth"),
        (
            "GET",
            "https://media.ringcentral.com/restapi/v1.0/account/1/extension/2/message-store/3/content/4",
            "Medium",
        ),
        ("POST", "https://platform.ringcentral.com/restapi/v1.0/subscription", "Medium"),
        ("PUT", "https://platform.ringcentral.com/restapi/v1.0/subscription/abc", "Medium"),
        ("DELETE", "https://platform.ringcentral.com/restapi/v1.0/subscription/abc", "Medium"),
        ("GET", "https://platform.ringcentral.com/restapi/v1.0/subscription/abc", "Light"),
        ("GET", "https://platform.ringcentral.com/restapi/v1.0/subscription", "Light"),
        ("POST", "https://platform.ringcentral.com/restapi/v1.0/subscription/abc/renew", "Light"),
    ],
)
def test_every_endpoint_has_its_group_up_front(method: str, url: str, group: Group) -> None:
    assert group_for(method, url) == group


async def test_first_request_of_a_group_probes_alone_then_limits_are_learned() -> None:
    clock = FakeClock()
    pacer = Pacer(clock)
    ticket = await pacer.acquire("Medium")
    assert pacer.wait_time("Medium") == float("inf")  # limits unknown: wait for the first answer
    assert pacer.wait_time("Light") == 0  # other groups are independent
    pacer.release("Medium", ticket, rate_headers(10, 9, 60))
    assert (pacer.state("Medium").limit, pacer.state("Medium").window) == (10, 60)
    assert pacer.wait_time("Medium") == 0


async def test_full_group_waits_until_the_oldest_answer_leaves_the_window() -> None:
    clock = FakeClock()
    pacer = Pacer(clock)
    first = await pacer.acquire("Medium")
    pacer.release("Medium", first, rate_headers(3, 2, 10))
    clock.advance(1)
    for _ in range(2):
        pacer.release("Medium", await pacer.acquire("Medium"))
    assert pacer.wait_time("Medium") == pytest.approx(9.0)  # first answer at t=1000 counts until 1010
    clock.advance(9)
    assert pacer.wait_time("Medium") == 0


async def test_the_whole_budget_goes_at_once_and_the_next_request_when_the_oldest_leaves() -> None:
    """No spreading when the budget runs low: that put 200 texts at 1.25x the minimum the limits
    allow (after half the budget, one request per window/limit, the steady rate, from then on)."""
    clock = FakeClock()
    pacer = Pacer(clock)
    pacer.release("Medium", await pacer.acquire("Medium"), rate_headers(4, 3, 8))
    clock.advance(1)
    for remaining in (2, 1, 0):
        assert pacer.wait_time("Medium") == 0
        pacer.release("Medium", await pacer.acquire("Medium"), rate_headers(4, remaining, 8))
    assert pacer.wait_time("Medium") == pytest.approx(7.0)  # the first answer (t=0) leaves at t=8
    clock.advance(7)
    assert pacer.wait_time("Medium") == 0
    assert pacer.used("Medium") == 3


async def test_usage_by_others_reported_by_the_server_is_booked() -> None:
    clock = FakeClock()
    pacer = Pacer(clock)
    ticket = await pacer.acquire("Light")
    pacer.release("Light", ticket, rate_headers(5, 0, 30, "light"))  # someone else used 4
    assert (pacer.used("Light"), pacer.by_others("Light")) == (5, 4)
    assert pacer.wait_time("Light") == pytest.approx(30.0)


async def test_an_answer_that_crosses_an_expiry_books_no_phantom_requests() -> None:
    """The server's Remaining is from when the request arrived: our request that left the window
    while this one was in flight still counted then. Booking it as someone else's would cost its
    room for a whole window (200 texts under the default limits took a window more)."""
    clock = FakeClock()
    pacer = Pacer(clock)
    pacer.release("Medium", await pacer.acquire("Medium"), rate_headers(2, 1, 10))  # counted until t=10
    clock.advance(9.9)
    ticket = await pacer.acquire("Medium")
    clock.advance(0.2)  # answered at t=10.1: the server counted both when it arrived
    pacer.release("Medium", ticket, rate_headers(2, 0, 10))
    assert (pacer.used("Medium"), pacer.by_others("Medium")) == (1, 0)


async def test_penalty_blocks_the_group_and_waiting_is_cancellable() -> None:
    clock = FakeClock()
    pacer = Pacer(clock)
    pacer.release("Medium", await pacer.acquire("Medium"), rate_headers(40, 39, 60))
    pacer.penalize("Medium", 60)
    assert pacer.wait_time("Medium") == pytest.approx(60.0)
    waiter = asyncio.create_task(pacer.acquire("Medium"))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert pacer.used("Medium") == 1  # the cancelled waiter booked nothing


async def test_a_release_wakes_a_waiting_request() -> None:
    pacer = Pacer()
    ticket = await pacer.acquire("Heavy")
    waiter = asyncio.create_task(pacer.acquire("Heavy"))  # probing: waits for the first answer
    await asyncio.sleep(0.01)
    assert not waiter.done()
    pacer.release("Heavy", ticket, rate_headers(10, 9, 60, "heavy"))
    assert await asyncio.wait_for(waiter, timeout=1) > ticket


# ---- against the emulator ----

BURST = 10


@pytest.fixture
async def medium_limited(emu: Running, http: httpx.AsyncClient) -> AsyncIterator[None]:
    response = await http.post(
        "/_emulator/faults", json={"rateLimits": {"Medium": 4, "window": 1, "penalty": 3}}
    )
    assert response.status_code == 200, response.text
    yield


async def send_burst(client: PlatformClient) -> list[dict[str, object]]:
    sends = (client.send_sms("+16505550100", "+14155550100", f"reply {n}") for n in range(BURST))
    return list(await asyncio.gather(*sends))


async def test_unpaced_burst_does_hit_429(
    emu: Running, http: httpx.AsyncClient, medium_limited: None
) -> None:
    """The control: the same burst without pacing is refused by the emulator."""
    async with PlatformClient.open(emu_credentials(emu), upkeep=False) as client:
        token = await client.auth.access_token()
    raw = await asyncio.gather(
        *(
            http.post(
                "/restapi/v1.0/account/~/extension/~/sms",
                json={
                    "from": {"phoneNumber": "+16505550100"},
                    "to": [{"phoneNumber": "+14155550100"}],
                    "text": "x",
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            for _ in range(BURST)
        )
    )
    assert sorted(r.status_code for r in raw).count(429) >= BURST - 4


async def test_paced_burst_of_replies_gets_zero_429(emu: Running, medium_limited: None) -> None:
    counting = CountingTransport()
    policy = RetryPolicy(attempts=1)  # a 429 would surface as an error instead of being retried
    async with PlatformClient.open(
        emu_credentials(emu), transport=counting, policy=policy, upkeep=False
    ) as client:
        sent = await asyncio.wait_for(send_burst(client), timeout=20)
    assert len({m.id for m in sent}) == BURST
    assert counting.count("/sms") == BURST
    assert counting.count("/sms", 429) == 0
    texts = sorted(m.text for m in emu.world.messages.values() if m.direction == "Outbound")
    assert texts == sorted(f"reply {n}" for n in range(BURST))


# ---- waits a user can see (issue 6: a silent one-minute hang at start) ----


async def test_a_wait_longer_than_a_second_is_logged_once_listed_and_interruptible(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="rcinbox.platform")
    clock = FakeClock()
    pacer = Pacer(clock)
    pacer.release("Auth", await pacer.acquire("Auth"), rate_headers(5, 0, 60, "auth"))  # 4 used by others
    clock.advance(19)
    waiter = asyncio.create_task(pacer.acquire("Auth", "POST /restapi/oauth/wstoken"))
    await asyncio.sleep(0)  # one step of the waiter: it registers its wait before its first await
    waits = pacer.waits.current()
    pacer.waits.interrupt()  # what `rcinbox run` does at Ctrl-C
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiter, timeout=1)
    reason = "Auth group budget 5/60s used, 4 of them by other clients of this user and app"
    assert waits == [
        {"group": "Auth", "request": "POST /restapi/oauth/wstoken", "seconds": 41.0, "reason": reason}
    ]
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert infos == [f"POST /restapi/oauth/wstoken waits 41 s: {reason}"]
    assert pacer.waits.current() == []
    assert pacer.used("Auth") == 5  # the interrupted request booked nothing


async def test_short_waits_are_neither_announced_nor_listed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="rcinbox.platform")
    pacer = Pacer()
    ticket = await pacer.acquire("Heavy")
    waiter = asyncio.create_task(pacer.acquire("Heavy", "GET /x"))  # waits for the first answer
    await asyncio.sleep(0.01)
    listed = pacer.waits.current()
    pacer.release("Heavy", ticket, rate_headers(10, 9, 60, "heavy"))
    await asyncio.wait_for(waiter, timeout=1)
    assert listed == []
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


async def test_a_server_that_never_answers_costs_no_budget_and_no_pacing_wait() -> None:
    """Connections that were never made are not requests the platform counted: failing them must
    not fill the Auth group (5 a minute), which added a 10 s wait to a failing start."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("All connection attempts failed", request=request)

    pacer = Pacer()
    policy = RetryPolicy(attempts=8, base_delay=0.0, max_delay=0.0)
    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:

        async def build() -> httpx.Request:
            return http.build_request("POST", "https://platform.ringcentral.com/restapi/oauth/token")

        with pytest.raises(TransportError) as failed:
            async with asyncio.timeout(3):
                await send(http, build, group="Auth", pacer=pacer, policy=policy, idempotent=True)
    assert "ConnectError: All connection attempts failed" in str(failed.value)
    assert pacer.used("Auth") == 0
    assert pacer.wait_time("Auth") == 0


async def test_a_fence_is_asked_after_the_pacers_wait_and_its_refusal_sends_nothing() -> None:
    """A replica's last check before an SMS is written (its claim may have ended while it waited
    for the pacer): asked once the wait is over, and a refusal leaves nothing sent, no budget used."""
    clock = FakeClock()
    pacer = Pacer(clock)
    pacer.penalize("Medium", 30)
    written: list[httpx.Request] = []
    asked: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        written.append(request)
        return httpx.Response(200, json={})

    async def fence() -> None:
        asked.append(clock.monotonic())
        raise ClaimLost("another replica has it now")

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:

        async def build() -> httpx.Request:
            return http.build_request("POST", f"{ACCOUNT}/sms")

        sending = asyncio.create_task(
            send(
                http, build, group="Medium", pacer=pacer, policy=RetryPolicy(), idempotent=False, fence=fence
            )
        )
        for _ in range(100):  # scheduling, not time: the send goes to wait for the pacer
            if clock.sleeping:
                break
            await asyncio.sleep(0)
        assert clock.sleeping == 1
        clock.advance(30)
        with pytest.raises(ClaimLost):
            await asyncio.wait_for(sending, 1)
    assert (asked, written) == ([30.0], [])
    assert pacer.used("Medium") == 0

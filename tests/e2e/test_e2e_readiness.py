"""``/healthz`` and ``/readyz`` as a supervisor sees them: ready while subscribed, 503 with the
reason while the subscription cannot be restored (the WebSocket gone and no new ws token; the
WebHook blacklisted and its re-creation refused), ready again once the platform recovers —
while ``/healthz`` stays 200 throughout."""

from __future__ import annotations

from typing import Any

import httpx
from e2e_kit import WITHIN, Harness

WSTOKEN = "/restapi/oauth/wstoken"
SUBSCRIPTION = "/restapi/v1.0/subscription"


async def probe(url: str) -> tuple[int, Any, int]:
    """``/readyz`` (status, body) and the status of ``/healthz``."""
    async with httpx.AsyncClient(timeout=5) as client:
        ready = await client.get(url + "/readyz")
        health = await client.get(url + "/healthz")
    return ready.status_code, ready.json(), health.status_code


async def test_readyz_follows_the_subscription(e2e: Harness) -> None:
    if e2e.transport == "websocket":
        refuse = {"method": "POST", "path": WSTOKEN, "status": 400, "count": 10_000}
        lose: dict[str, Any] = {"dropWebSockets": True}
    else:
        refuse = {"method": "POST", "path": SUBSCRIPTION, "status": 500, "count": 10_000}
        lose = {"blacklistWebhooks": True}
    # Each refused ws token counts in the Auth group (5 a minute): with the default limit the
    # client's pacer would rightly hold the next attempt for a minute after the line is back.
    await e2e.faults({"rateLimits": {"Auth": 100}})
    async with e2e.running() as live:
        url, board = live.service.http.url, live.service.board
        before = await probe(url)
        await e2e.faults({"http": [refuse]})
        await e2e.faults(lose)
        down = await board.wait_until(lambda s: not s.ready and refuse["path"] in s.reason, within=WITHIN)
        during = await probe(url)
        await e2e.clear_faults()
        await board.wait_until(lambda s: s.ready, within=WITHIN)
        after = await probe(url)
    assert before == (200, {"ready": True}, 200)
    assert during[0] == 503 and during[2] == 200
    assert during[1]["ready"] is False
    assert during[1]["reasons"] == [f"{e2e.transport}: {down.reason}"]
    assert after == (200, {"ready": True}, 200)

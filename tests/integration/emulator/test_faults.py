"""The faults control API over real HTTP: injected HTTP failures, rate-limit settings, dropped
WebSockets, expired tokens, blacklisted webhooks, webhook delay, clearing, and bad control input."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
from support import login
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from rcinbox.emulator.model import Subscription
from rcinbox.emulator.runner import Running

FAULTS = "/_emulator/faults"
ME = "/restapi/v1.0/account/~/extension/~"
SMS = "/restapi/v1.0/account/~/extension/~/sms"


def bearer(token: dict[str, object]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['access_token']}"}


async def inject(http: httpx.AsyncClient, body: Any) -> httpx.Response:
    return await http.post(FAULTS, json=body)


# --- HTTP faults -------------------------------------------------------------------------------


async def test_http_fault_answers_the_next_count_matching_requests(
    http: httpx.AsyncClient, emu: Running
) -> None:
    token = await login(http, emu)
    fault = {"method": "GET", "path": "/restapi/v1.0/account/*/extension/*", "status": 503, "count": 2}
    answer = await inject(http, {"http": [fault]})
    assert answer.status_code == 200
    assert answer.json() == {
        "http": [
            {
                **fault,
                "errorCode": "CMN-201",
                "message": "Service Temporary Unavailable",
                "retryAfter": 60,
            }
        ]
    }
    phones = await http.get(ME + "/phone-number", headers=bearer(token))
    assert phones.status_code == 200  # '*' stays inside one path segment
    for _ in range(2):
        failed = await http.get(ME, headers=bearer(token))
        assert failed.status_code == 503
        assert failed.headers["Retry-After"] == "60"
        assert failed.json() == {
            "errorCode": "CMN-201",
            "message": "Service Temporary Unavailable",
            "errors": [{"errorCode": "CMN-201", "message": "Service Temporary Unavailable"}],
        }
    assert (await http.get(ME, headers=bearer(token))).status_code == 200


async def test_http_fault_with_own_code_and_message_comes_before_auth(http: httpx.AsyncClient) -> None:
    fault = {"method": "POST", "path": SMS, "status": 400, "errorCode": "MSG-304", "message": "Nope"}
    await inject(http, {"http": [fault]})
    get = await http.get(SMS)
    assert get.status_code == 405  # another method: not matched (the path only takes POST)
    failed = await http.post(SMS, json={})
    assert failed.status_code == 400
    assert failed.json() == {
        "errorCode": "MSG-304",
        "message": "Nope",
        "errors": [{"errorCode": "MSG-304", "message": "Nope"}],
    }
    assert (await http.post(SMS, json={})).status_code == 401  # count defaults to 1


async def test_http_fault_regex_and_any_method(http: httpx.AsyncClient, emu: Running) -> None:
    await inject(http, {"http": [{"method": "*", "path": "^/restapi/oauth/(token|revoke)$", "status": 429}]})
    throttled = await http.post("/restapi/oauth/token", data={"grant_type": "x"})
    assert throttled.status_code == 429
    assert throttled.json()["errorCode"] == "CMN-301"
    assert throttled.headers["Retry-After"] == "60"
    assert (await login(http, emu))["token_type"] == "bearer"


async def test_double_star_crosses_segments_and_faults_are_consumed_in_order(
    http: httpx.AsyncClient, emu: Running
) -> None:
    token = await login(http, emu)
    await inject(
        http,
        {
            "http": [
                {"path": "/restapi/**/phone-number", "status": 500},
                {"path": "/restapi/**", "status": 502, "message": "Bad Gateway"},
            ]
        },
    )
    first = await http.get(ME + "/phone-number", headers=bearer(token))
    assert (first.status_code, first.json()["errorCode"]) == (500, "CMN-201")
    second = await http.get(ME + "/phone-number", headers=bearer(token))
    assert (second.status_code, second.json()["message"]) == (502, "Bad Gateway")
    assert (await http.get(ME + "/phone-number", headers=bearer(token))).status_code == 200


async def test_get_shows_and_delete_clears_everything(http: httpx.AsyncClient, emu: Running) -> None:
    token = await login(http, emu)
    await inject(
        http,
        {
            "http": [{"method": "GET", "path": ME, "status": 500, "count": 5}],
            "rateLimits": {"Light": 7},
            "webhookDelayMs": 1500,
        },
    )
    state = (await http.get(FAULTS)).json()
    assert state["http"][0]["count"] == 5
    assert state["rateLimits"]["Light"] == 7
    assert state["webhookDelayMs"] == 1500
    cleared = await http.delete(FAULTS)
    assert cleared.status_code == 200
    assert cleared.json() == {
        "http": [],
        "rateLimits": {
            "enabled": True,
            "Light": 50,
            "Medium": 40,
            "Heavy": 10,
            "Auth": 5,
            "window": 60,
            "penalty": 60,
        },
        "webhookDelayMs": 0,
    }
    answer = await http.get(ME, headers=bearer(token))
    assert answer.status_code == 200
    assert answer.headers["X-Rate-Limit-Limit"] == "50"
    assert emu.world.webhook_delay == 0


# --- rate limits, tokens, webhooks, sockets ----------------------------------------------------


async def test_rate_limits_are_settable_through_the_control_api(
    http: httpx.AsyncClient, emu: Running
) -> None:
    answer = await inject(http, {"rateLimits": {"Auth": 1, "window": 30, "penalty": 10}})
    assert answer.json()["rateLimits"] == {
        "enabled": True,
        "Light": 50,
        "Medium": 40,
        "Heavy": 10,
        "Auth": 1,
        "window": 30,
        "penalty": 10,
    }
    await login(http, emu)
    world = emu.world
    throttled = await http.post(
        "/restapi/oauth/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": world.extensions[0].jwt,
        },
        auth=(world.app.client_id, world.app.client_secret),
    )
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "10"
    off = await inject(http, {"rateLimits": {"enabled": False}})
    assert off.json()["rateLimits"]["enabled"] is False
    assert (await login(http, emu))["token_type"] == "bearer"


async def test_expire_tokens_expires_access_and_refresh_tokens(http: httpx.AsyncClient, emu: Running) -> None:
    alex, blair = await login(http, emu, 0), await login(http, emu, 1)
    answer = await inject(http, {"expireTokens": True})
    assert answer.json() == {"expireTokens": 2}
    for token in (alex, blair):
        expired = await http.get(ME, headers=bearer(token))
        assert expired.status_code == 401
        assert expired.json()["errors"][0]["errorCode"] == "OAU-128"
    world = emu.world
    refreshed = await http.post(
        "/restapi/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": str(alex["refresh_token"])},
        auth=(world.app.client_id, world.app.client_secret),
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["errors"] == [{"errorCode": "OAU-210", "message": "Token expired"}]
    assert (await login(http, emu))["token_type"] == "bearer"  # a new login still works


async def test_expire_tokens_also_expires_ws_tokens_used_or_not(
    http: httpx.AsyncClient, emu: Running
) -> None:
    token = await login(http, emu)
    used, unused = [(await http.post("/restapi/oauth/wstoken", headers=bearer(token))).json() for _ in "ab"]
    async with connect(f"{used['uri']}?access_token={used['ws_access_token']}", open_timeout=5) as socket:
        assert orjson.loads(await asyncio.wait_for(socket.recv(), 5))[0]["type"] == "ConnectionDetails"
    assert (await inject(http, {"expireTokens": True})).json() == {"expireTokens": 1}
    for ws in (used, unused):
        async with connect(f"{ws['uri']}?access_token={ws['ws_access_token']}", open_timeout=5) as socket:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400


def webhook(emu: Running, session_id: str, transport: str = "WebHook") -> Subscription:
    world = emu.world
    sub = Subscription(
        id=world.new_uuid(),
        session_id=session_id,
        extension_id=world.extensions[0].id,
        event_filters=[world.account_path(world.extensions[0].id) + "/message-store/instant?type=SMS"],
        transport="WebHook" if transport == "WebHook" else "WebSocket",
        created_at=world.now(),
        expires_at=world.now() + 3600,
        address="http://127.0.0.1:9/hook" if transport == "WebHook" else None,
    )
    world.subscriptions[sub.id] = sub
    return sub


async def test_blacklist_webhooks_blacklists_every_active_webhook(
    http: httpx.AsyncClient, emu: Running
) -> None:
    token = await login(http, emu)
    hooks = [webhook(emu, str(token["session_id"])) for _ in range(2)]
    socket = webhook(emu, str(token["session_id"]), transport="WebSocket")
    answer = await inject(http, {"blacklistWebhooks": True})
    assert answer.json() == {"blacklistWebhooks": 2}
    for hook in hooks:
        shown = (await http.get(f"/restapi/v1.0/subscription/{hook.id}", headers=bearer(token))).json()
        assert shown["status"] == "Blacklisted"
        assert shown["blacklistedData"]["reason"] == "I/O operation is failed. Details: [Read timed out]"
    assert socket.status == "Active"
    assert (await inject(http, {"blacklistWebhooks": True})).json() == {"blacklistWebhooks": 0}


class FakeConnection:
    def __init__(self, fail: bool = False) -> None:
        self.dropped = 0
        self.fail = fail

    async def drop(self) -> None:
        self.dropped += 1
        if self.fail:
            raise ConnectionError("already gone")


async def test_drop_websockets_drops_every_connection(http: httpx.AsyncClient, emu: Running) -> None:
    connections = [FakeConnection(), FakeConnection(fail=True), FakeConnection()]
    emu.world.connections.update(connections)
    answer = await inject(http, {"dropWebSockets": True})
    assert answer.status_code == 200
    assert answer.json() == {"dropWebSockets": 3}
    assert [c.dropped for c in connections] == [1, 1, 1]


async def test_webhook_delay_is_set_in_milliseconds(http: httpx.AsyncClient, emu: Running) -> None:
    answer = await inject(http, {"webhookDelayMs": 4000})
    assert answer.json() == {"webhookDelayMs": 4000}
    assert emu.world.webhook_delay == 4.0


# --- bad control input ---------------------------------------------------------------------------


async def test_malformed_json_is_cmn_103(http: httpx.AsyncClient) -> None:
    answer = await http.post(FAULTS, content=b'{"http": [', headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json() == {
        "errorCode": "CMN-103",
        "message": "JSON can't be parsed.",
        "errors": [{"errorCode": "CMN-103", "message": "JSON can't be parsed."}],
    }


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"httpFaults": []}, "httpFaults"),
        ({"http": {"path": "/x"}}, "http"),
        ({"http": [{"path": "/x", "status": 200}]}, "http.status"),
        ({"http": [{"path": "/x", "status": "503"}]}, "http.status"),
        ({"http": [{"status": 503}]}, "http.path"),
        ({"http": [{"path": "/x", "status": 503, "count": 0}]}, "http.count"),
        ({"http": [{"path": "/x", "status": 503, "method": "FETCH"}]}, "http.method"),
        ({"http": [{"path": "^/x(", "status": 503}]}, "http.path"),
        ({"rateLimits": {"Light": -1}}, "rateLimits.Light"),
        ({"rateLimits": {"Ultra": 3}}, "rateLimits.Ultra"),
        ({"rateLimits": {"enabled": "yes"}}, "rateLimits.enabled"),
        ({"rateLimits": {"window": 0}}, "rateLimits.window"),
        ({"dropWebSockets": "true"}, "dropWebSockets"),
        ({"webhookDelayMs": -5}, "webhookDelayMs"),
        ([1, 2], "body"),
    ],
)
async def test_bad_control_input_is_400_naming_the_parameter(
    http: httpx.AsyncClient, emu: Running, body: Any, parameter: str
) -> None:
    answer = await inject(http, body)
    assert answer.status_code == 400
    error = answer.json()
    assert error["errorCode"] == "CMN-101"
    assert error["parameterName"] == parameter
    assert error["errors"][0]["parameterName"] == parameter


async def test_nothing_is_applied_when_part_of_the_request_is_bad(
    http: httpx.AsyncClient, emu: Running
) -> None:
    answer = await inject(
        http, {"webhookDelayMs": 100, "rateLimits": {"Auth": 1}, "http": [{"path": "/x", "status": 42}]}
    )
    assert answer.status_code == 400
    assert emu.world.webhook_delay == 0
    state = (await http.get(FAULTS)).json()
    assert state["http"] == []
    assert state["rateLimits"]["Auth"] == 5

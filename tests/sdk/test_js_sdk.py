"""RingCentral's official JavaScript SDK (@ringcentral/sdk, @ringcentral/subscriptions 5.0.11)
against the emulator: JWT login, the README's MMS-enabled number lookup (``perPage: 'max'``), SMS
send, token refresh, and an injected inbound SMS received over a WebSocket subscription
(``node js/sdk_check.mjs``); a dropped WebSocket that the SDK recovers by itself, with the text it
missed meanwhile (``node js/sdk_recover.mjs``). See those files for their output.
"""

from __future__ import annotations

import shutil

import httpx
import pytest
from sdk_harness import JS_DIR, ScriptRun, platform_env, require

from rcinbox.emulator.runner import Running

pytestmark = pytest.mark.sdk

SCRIPT = JS_DIR / "sdk_check.mjs"
RECOVER_SCRIPT = JS_DIR / "sdk_recover.mjs"


@pytest.fixture(scope="session")
def node() -> str:
    node = shutil.which("node")
    if node is None:
        require("node", "no `node` executable on PATH")
    for package in ("@ringcentral/sdk", "@ringcentral/subscriptions"):
        if not (JS_DIR / "node_modules" / package / "package.json").is_file():
            require(package, f"{JS_DIR / 'node_modules' / package} is missing")
    return node


async def test_js_sdk_logs_in_sends_refreshes_and_receives_inbound_sms(
    node: str, emu: Running, http: httpx.AsyncClient
) -> None:
    world = emu.world
    alex = world.extensions[0]
    own_number = alex.phone_numbers[0].phone_number
    run = await ScriptRun.start(
        [node, str(SCRIPT)],
        cwd=JS_DIR,
        env=platform_env(
            world,
            alex,
            RC_FROM=own_number,
            RC_TO="+14155550100",
            RC_TEXT="Hello from the official JS SDK",
        ),
    )
    try:
        login = await run.step("login")
        assert login["ownerId"] == str(alex.id)
        assert login["expiresIn"] == 3600

        numbers = await run.step("numbers")  # the README's {perPage: 'max'} call
        assert (numbers["status"], numbers["mmsEnabled"]) == (200, ["+16505550100", "+16505550101"])

        sms = await run.step("sms")
        assert sms["status"] == 200
        assert sms["body"]["messageStatus"] == "Queued"
        assert sms["body"]["from"]["phoneNumber"] == own_number
        assert [to["phoneNumber"] for to in sms["body"]["to"]] == ["+14155550100"]

        refresh = await run.step("refresh")
        assert refresh == {"step": "refresh", "tokenChanged": True, "refreshTokenChanged": True}

        ready = await run.step("ready")
        subscription = ready["subscription"]
        assert subscription["status"] == "Active"
        assert subscription["deliveryMode"]["transportType"] == "WebSocket"
        instant = (
            f"/restapi/v1.0/account/{world.account_id}/extension/{alex.id}/message-store/instant?type=SMS"
        )
        assert subscription["eventFilters"] == [instant]

        injected = await http.post(
            "/_emulator/inbound",
            json={"from": "+14155550123", "to": own_number, "text": "Are you open on Sunday?"},
        )
        assert injected.status_code == 200, injected.text
        assert injected.json()["notified"] == 1

        event = (await run.step("notification"))["event"]
        assert event["event"] == instant
        assert event["subscriptionId"] == subscription["id"]
        body = event["body"]
        assert body["subject"] == "Are you open on Sunday?"
        assert body["from"]["phoneNumber"] == "+14155550123"
        assert [to["phoneNumber"] for to in body["to"]] == [own_number]
        assert body["direction"] == "Inbound"
        assert body["id"] == str(injected.json()["messageId"])
        assert await run.finish() == 0
    finally:
        await run.stop()

    outbound = (await http.get("/_emulator/outbound")).json()["records"]
    assert [(r["from"], r["to"], r["text"]) for r in outbound] == [
        (own_number, ["+14155550100"], "Hello from the official JS SDK")
    ]
    assert outbound[0]["extensionId"] == alex.id
    assert outbound[0]["id"] == sms["body"]["id"]


async def test_js_sdk_recovers_a_dropped_websocket_and_gets_the_text_it_missed(
    node: str, emu: Running, http: httpx.AsyncClient
) -> None:
    """@rc-ex/ws (inside @ringcentral/subscriptions) reconnects with the ws token it already has:
    the gateway must accept it again within its lifetime, or the SDK retries in vain for minutes."""
    world = emu.world
    alex = world.extensions[0]
    own_number = alex.phone_numbers[0].phone_number
    env = platform_env(world, alex, RC_TIMEOUT_MS="10000")
    run = await ScriptRun.start([node, str(RECOVER_SCRIPT)], cwd=JS_DIR, env=env)
    try:
        subscription = (await run.step("ready"))["subscription"]
        assert subscription["status"] == "Active"

        async with run.paused():  # the SDK cannot reconnect before the text has come in
            dropped = await http.post("/_emulator/faults", json={"dropWebSockets": True})
            assert dropped.json() == {"dropWebSockets": 1}
            text = {"from": "+14155550123", "to": own_number, "text": "Still open at 6?"}
            injected = await http.post("/_emulator/inbound", json=text)
            assert injected.status_code == 200, injected.text
            assert injected.json()["notified"] == 1
            assert not world.connections  # nobody connected: the text waits for a recovery

        assert (await run.step("dropped"))["code"] == 1001
        recovered = await run.step("recovered")
        assert recovered["recoveryState"] == "Successful"
        assert recovered["recoveryErrorCode"] is None
        assert recovered["sameWsToken"] is True  # the ws token of the first connection, again
        assert recovered["failedAttempts"] == 0

        event = (await run.step("notification"))["event"]
        assert event["subscriptionId"] == subscription["id"]  # kept, not re-created
        assert event["body"]["subject"] == "Still open at 6?"
        assert event["body"]["id"] == str(injected.json()["messageId"])
        assert await run.finish() == 0
    finally:
        await run.stop()
    assert list(world.subscriptions) == [subscription["id"]]

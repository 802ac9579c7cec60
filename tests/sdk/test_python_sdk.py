"""RingCentral's official Python SDK (``ringcentral==0.9.2`` from PyPI, in ``.venv-sdk``) against the
emulator: JWT login, SMS (JSON) and MMS (the SDK's multipart builder), message store list/read,
attachment download, refresh and logout. The SDK runs as ``python/sdk_check.py`` in its own venv.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from sdk_harness import PY_DIR, REPO_ROOT, ScriptRun, platform_env, require

from rcinbox.emulator.runner import Running, serve
from rcinbox.emulator.world import Limits

pytestmark = pytest.mark.sdk

SCRIPT = PY_DIR / "sdk_check.py"
PIXEL_HEX = (
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a0f1f3f20000000049454e44ae426082"
)


@pytest.fixture(scope="session")
def sdk_python() -> Path:
    python = Path(os.environ.get("RCINBOX_SDK_PYTHON") or REPO_ROOT / ".venv-sdk" / "bin" / "python")
    if not python.is_file():
        require("the official Python SDK venv", f"{python} does not exist")
    site = list(python.parent.parent.glob("lib/python3*/site-packages/ringcentral/sdk.py"))
    if not site:
        require("the `ringcentral` package", f"not installed in {python.parent.parent}")
    return python


async def test_python_sdk_logs_in_sends_and_reads_the_message_store(
    sdk_python: Path, emu: Running, http: httpx.AsyncClient
) -> None:
    world = emu.world
    alex = world.extensions[0]
    own = alex.phone_numbers[0].phone_number
    run = await ScriptRun.start(
        [str(sdk_python), str(SCRIPT)],
        cwd=PY_DIR,
        env=platform_env(
            world,
            alex,
            RC_FROM=own,
            RC_TO="+14155550101",
            RC_TEXT="Hello from the official Python SDK",
        ),
    )
    try:
        login = await run.step("login")
        assert (login["ownerId"], login["expiresIn"]) == (str(alex.id), 3600)

        sms = await run.step("sms")
        assert sms["status"] == 200
        assert sms["body"]["messageStatus"] == "Queued"
        assert sms["body"]["subject"] == "Hello from the official Python SDK"

        mms = await run.step("mms")
        assert mms["status"] == 200
        kinds = sorted((a["type"], a["contentType"]) for a in mms["body"]["attachments"])
        assert ("MmsAttachment", "image/png") in kinds

        store = await run.step("store")
        ids = {record["id"] for record in store["records"]}
        assert {sms["body"]["id"], mms["body"]["id"]} <= ids
        assert all(record["direction"] == "Outbound" for record in store["records"])

        message = await run.step("message")
        assert message["body"]["id"] == mms["body"]["id"]
        assert message["body"]["from"]["phoneNumber"] == own

        content = await run.step("content")
        assert content["contentType"].startswith("image/png")
        assert content["bytes"] == PIXEL_HEX

        assert (await run.step("refresh"))["tokenChanged"] is True
        assert (await run.step("logout"))["status"] == 200
        assert await run.finish() == 0
    finally:
        await run.stop()

    outbound = (await http.get("/_emulator/outbound")).json()["records"]
    assert [(r["from"], r["to"], r["text"]) for r in outbound] == [
        (own, ["+14155550101"], "Hello from the official Python SDK"),
        (own, ["+14155550101"], "Hello from the official Python SDK (with a picture)"),
    ]


@pytest.mark.parametrize("header", [False, True], ids=["today", "compat-WSG-SubscriptionId"])
async def test_python_sdk_websocket_subscription_and_the_2021_header_switch(
    sdk_python: Path, header: bool
) -> None:
    """Today's platform (default) omits ``WSG-SubscriptionId``, so the SDK never fires
    ``subscriptionCreated`` (PY#92) but still gets notifications; the emulator's documented
    compatibility switch ``Limits(ws_subscription_id_header=True)`` brings the 2021 header back."""
    async with serve(limits=Limits(ws_subscription_id_header=header)) as emu:
        world = emu.world
        alex = world.extensions[0]
        run = await ScriptRun.start(
            [str(sdk_python), str(PY_DIR / "sdk_ws_check.py")],
            cwd=PY_DIR,
            env=platform_env(world, alex),
        )
        try:
            ready = await run.step("ready")
            assert ready["status"] == 200
            (subscription,) = [s for s in world.subscriptions.values() if s.transport == "WebSocket"]
            if header:
                assert ready["headers"]["WSG-SubscriptionId"] == subscription.id
            else:
                assert "WSG-SubscriptionId" not in ready["headers"]
            assert ready["subscriptionCreatedFired"] is header

            async with httpx.AsyncClient(base_url=emu.url, timeout=10) as http:
                own = alex.phone_numbers[0].phone_number
                injected = await http.post(
                    "/_emulator/inbound", json={"from": "+14155550199", "to": own, "text": "Over the socket"}
                )
            assert injected.status_code == 200, injected.text
            meta, body = (await run.step("notification"))["event"]
            assert meta["type"] == "ServerNotification"
            assert body["subscriptionId"] == subscription.id
            assert body["body"]["subject"] == "Over the socket"
            assert await run.finish() == 0
        finally:
            await run.stop()

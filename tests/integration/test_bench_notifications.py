"""The webhook benchmark posts notifications exactly as the emulator delivers them: the same
headers, the same envelope and body shape, the same event, owner and parties; and rcinbox's own
parser reads a generated body as the text it carries."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from support import login
from webhook_receiver import Receiver, running_receiver

from bench.scenarios._notifications import WEBHOOK_HEADERS, envelope, template
from rcinbox.emulator.runner import Running
from rcinbox.transports.webhook import parse_notification

INSTANT = "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"
SENDER = "+14155551234"  # no contact of the emulated user


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


async def delivered_text(http: httpx.AsyncClient, emu: Running, receiver: Receiver) -> tuple[Any, ...]:
    """(state, subscription id, delivered headers, delivered envelope) of one inbound text."""
    token = (await login(http, emu))["access_token"]
    mode = {"transportType": "WebHook", "address": receiver.url, "verificationToken": "s3cr3t"}
    created = await http.post(
        "/restapi/v1.0/subscription",
        json={"eventFilters": [INSTANT], "deliveryMode": mode},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 200, created.text
    state = (await http.get("/_emulator/state")).json()
    to = state["extensions"][0]["phoneNumbers"][0]
    injected = await http.post("/_emulator/inbound", json={"from": SENDER, "to": to, "text": "hello"})
    assert injected.status_code == 200, injected.text
    [delivery] = await receiver.wait_deliveries(1)
    return state, created.json()["id"], delivery.headers, delivery.json()


def shape(value: Any) -> Any:
    """The keys of every object, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


async def test_the_generated_notification_is_the_emulators(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver
) -> None:
    state, sub_id, headers, real = await delivered_text(http, emu, receiver)
    body = real["body"]
    at = dt.datetime.fromisoformat(body["creationTime"].replace("Z", "+00:00"))

    ours = envelope(
        state, sub_id, message_id=body["id"], uuid=real["uuid"], sender=SENDER, text="hello", at=at
    )

    assert shape(ours) == shape(real)
    for key in ("event", "subscriptionId", "ownerId"):
        assert ours[key] == real[key]
    for key in ("id", "to", "type", "creationTime", "direction", "subject", "messageStatus", "owner"):
        assert ours["body"][key] == body[key], key
    assert ours["body"]["from"]["phoneNumber"] == body["from"]["phoneNumber"]
    for name, value in WEBHOOK_HEADERS.items():
        assert headers[name.lower()] == value


def test_rcinbox_reads_each_generated_body_as_its_own_text() -> None:
    state = {
        "account": {"id": 37439510},
        "extensions": [{"id": 62264425016, "name": "Alex Morgan", "phoneNumbers": ["+16505550100"]}],
    }
    text = template(state, "sub-1", dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC))

    first = parse_notification(text.replace("__N__", "1").replace("__K__", "1001").encode())
    second = parse_notification(text.replace("__N__", "2").replace("__K__", "1002").encode())

    assert first is not None and second is not None
    assert (first.message_id, second.message_id) == ("71", "72")
    assert (first.sender.phone_number, second.sender.phone_number) == ("+14155551001", "+14155551002")
    assert orjson.loads(text.replace("__N__", "1").replace("__K__", "1001"))["body"]["to"][0]["target"]

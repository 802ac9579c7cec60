"""Nothing the platform sends about an inbound text is dropped (review of issue 3, findings 3 and 9):
a missing sender number or a malformed attachment entry still archives and decides the message,
over the WebHook, the WebSocket and the message-sync catch-up; only bodies that are not
notification envelopes at all are refused. The first sync ever answers no text from before."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import httpx
from catchup_kit import NOW, ScriptedApi, answer, record
from catchup_kit import Intake as RecordingIntake
from pipeline_fakes import EXT, FakeBook, FakePlatform, envelope, facts_for, vacation_rules
from transport_kit import MemoryKv, RecordingSink

from rcinbox.clock import FakeClock
from rcinbox.events import InboundMessage
from rcinbox.rules import decide
from rcinbox.service.catchup import CatchUp
from rcinbox.service.pipeline import Pipeline
from rcinbox.service.web import build_app, serve
from rcinbox.store import Store
from rcinbox.transports.webhook import WebhookEndpoint
from rcinbox.transports.websocket import WebSocketTransport

TOKEN = "verification-token-1"


def anonymous(message_id: str = "900") -> dict[str, Any]:
    env = envelope(message_id=message_id, text="who is this?")
    del env["body"]["from"]["phoneNumber"]
    return env


def bad_attachment(message_id: str = "901") -> dict[str, Any]:
    attachments = [
        {"id": "1", "type": "MmsAttachment", "contentType": "image/png"},  # no uri
        {"id": "2", "type": "MmsAttachment", "uri": "https://media.ringcentral.com/x", "size": -5},
        "not an object",
    ]
    return envelope(message_id=message_id, text="see photo", attachments=attachments)


def test_the_parser_keeps_what_it_cannot_use() -> None:
    msg = InboundMessage.from_notification(anonymous(), "webhook")
    assert (msg.sender.phone_number, msg.text) == ("", "who is this?")
    refs = InboundMessage.from_notification(bad_attachment(), "webhook").attachments
    assert [(r.id, r.uri, r.problem) for r in refs] == [
        ("1", "", "body.attachments[1].uri is missing or not a string"),  # [0] is the text part
        ("2", "", "body.attachments[2].size is not a non-negative integer"),
        ("#3", "", "body.attachments[3] is not an object"),
    ]


async def test_such_messages_are_archived_and_decided(tmp_path: Path) -> None:
    fake = FakePlatform()
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path}/rcinbox.db") as store:
        pipeline = Pipeline(store, fake, vacation_rules, {EXT: FakeBook()}, tmp_path / "data")
        for env in (anonymous(), bad_attachment()):
            assert await pipeline.accept(InboundMessage.from_notification(env, "websocket"))
        await pipeline.drain()
        entries = {e.message_id: e for e in await store.recent()}
        stored = await store.find_message(EXT, "901")
        assert stored is not None
        outcomes = await store.attachments(stored.pk)
        raw = (await store.find_message(EXT, "900")).raw  # type: ignore[union-attr]
    assert (entries["900"].sender, entries["900"].reason) == ("", "invalid-sender")
    assert raw == anonymous()
    assert entries["901"].reason == "replied"
    assert {k: (v.state, v.reason) for k, v in outcomes.items()} == {
        "1": ("refused", "malformed: body.attachments[1].uri is missing or not a string"),
        "2": ("refused", "malformed: body.attachments[2].size is not a non-negative integer"),
        "#3": ("refused", "malformed: body.attachments[3] is not an object"),
    }
    assert fake.streamed == []  # nothing malformed was fetched


async def test_the_webhook_stores_them_and_refuses_only_non_envelopes() -> None:
    sink = RecordingSink()
    endpoint = WebhookEndpoint(sink, lambda: [TOKEN])
    app = build_app([], [endpoint.route("/hook")])
    async with serve(app, "127.0.0.1", 0) as listening, httpx.AsyncClient(timeout=5) as client:

        async def post(body: Any) -> int:
            content = json.dumps(body).encode()
            response = await client.post(
                listening.url + "/hook", content=content, headers={"Verification-Token": TOKEN}
            )
            return response.status_code

        bodies = [anonymous(), bad_attachment(), unaddressed("910", []), [1, 2]]
        statuses = [await post(body) for body in bodies]
    assert statuses == [200, 200, 200, 400]
    assert [(m.message_id, m.sender.phone_number, m.source) for m in sink.messages] == [
        ("900", "", "webhook"),
        ("901", "+14155550100", "webhook"),
        ("910", "+14155550100", "webhook"),
    ]


async def test_the_websocket_hands_them_to_the_pipeline() -> None:
    sink = RecordingSink()
    transport = WebSocketTransport(None, sink, [])  # type: ignore[arg-type]  # no connection needed
    storing = asyncio.create_task(transport._storing.run())
    for env in (anonymous(), bad_attachment()):
        env["event"] = f"/restapi/v1.0/account/1/extension/{EXT}/message-store/instant?type=SMS"
        await transport._notification(copy.deepcopy(env), {})
    await transport._storing.settle(storing)
    storing.cancel()
    assert [(m.message_id, m.sender.phone_number, len(m.attachments)) for m in sink.messages] == [
        ("900", "", 0),
        ("901", "+14155550100", 3),
    ]


async def test_the_catch_up_takes_them_too() -> None:
    nameless = record(1, 2)
    del nameless["from"]["phoneNumber"]
    odd = record(2, 3, attachments=[{"id": "a", "type": "MmsAttachment"}])
    intake = RecordingIntake()
    report = await CatchUp(
        ScriptedApi(answer([nameless, odd])), MemoryKv(), intake, EXT, clock=FakeClock(NOW)
    ).run_once()
    assert report.accepted == 2
    assert intake.seen["1"].sender.phone_number == ""
    assert [r.problem for r in intake.seen["2"].attachments] == [
        "body.attachments[0].uri is missing or not a string"
    ]


async def test_the_first_sync_ever_marks_texts_from_before_the_start_and_later_syncs_do_not() -> None:
    kv, intake = MemoryKv(), RecordingIntake()
    before, after = record(1, 2), record(2, -1)  # two minutes before the start, one after
    api = ScriptedApi(answer([before, after]), answer([record(3, 1)], "ISync"))
    sync = CatchUp(api, kv, intake, EXT, clock=FakeClock(NOW))
    await sync.run_once()
    await sync.run_once()
    marks = {key: msg.before_first_start for key, msg in intake.seen.items()}
    assert marks == {"1": True, "2": False, "3": False}
    facts = facts_for(intake.seen["1"], NOW)
    assert decide(facts, vacation_rules()).reason == "before-first-start"
    assert decide(facts_for(intake.seen["3"], NOW), vacation_rules()).reason == "replied"


def unaddressed(message_id: str, to: Any) -> dict[str, Any]:
    env = envelope(message_id=message_id, text="hello?")
    if to is KeyError:
        del env["body"]["to"]
    else:
        env["body"]["to"] = to
    return env


async def test_a_text_without_a_readable_receiving_number_is_archived_and_not_answered(
    tmp_path: Path,
) -> None:
    """Which of the owner's numbers was texted is the number a reply would come from: without it
    the text is archived and decided ``no-receiving-number`` (never refused, never answered)."""
    fake = FakePlatform()
    cases = {
        "910": unaddressed("910", KeyError),
        "911": unaddressed("911", []),
        "912": unaddressed("912", [{"name": "no number"}]),
        "913": unaddressed("913", [{"phoneNumber": "+16505550100", "target": True}, "junk"]),
    }
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path}/rcinbox.db") as store:
        pipeline = Pipeline(store, fake, vacation_rules, {EXT: FakeBook()}, tmp_path / "data")
        for env in cases.values():
            assert await pipeline.accept(InboundMessage.from_notification(env, "webhook"))
        await pipeline.drain()
        entries = {e.message_id: e for e in await store.recent()}
    assert {k: (e.receiving_number, e.reason) for k, e in entries.items()} == {
        "910": (None, "no-receiving-number"),
        "911": (None, "no-receiving-number"),
        "912": (None, "no-receiving-number"),
        "913": ("+16505550100", "group-message"),  # an unreadable recipient still counts
    }
    assert fake.sent == []

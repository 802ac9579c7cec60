from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from pipeline_fakes import ACCOUNT, CHARLIE, EXT, OWNER, envelope

from rcinbox.events import AttachmentRef, InboundMessage, Party
from rcinbox.transports import instant_message

MMS = {
    "id": "675981076016",
    "type": "MmsAttachment",
    "uri": "https://media.ringcentral.com/restapi/v1.0/account/1/extension/2/message-store/3/content/675981076016",
    "contentType": "image/jpeg",
    "size": 461020,
}


def test_parses_the_documented_payload() -> None:
    env = envelope(text="Hi advisor", sender_name="Charlie Williams", message_id="3062991514017")
    msg = InboundMessage.from_notification(env, "websocket")
    assert msg.message_id == "3062991514017"
    assert msg.extension_id == EXT
    assert msg.account_id == ACCOUNT
    assert msg.sender == Party(CHARLIE, "Charlie Williams", False)
    assert msg.recipients == (Party(OWNER, None, True),)
    assert msg.receiving_number == OWNER
    assert msg.text == "Hi advisor"
    assert msg.attachments == ()
    assert msg.conversation_id == "1638233798595111162"
    assert msg.created_at == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert msg.raw is env
    assert msg.source == "websocket"


def test_mms_attachments_only_and_media_only_text() -> None:
    env = envelope(attachments=[MMS])
    del env["body"]["subject"]
    msg = InboundMessage.from_notification(env, "webhook")
    assert msg.text == ""
    assert msg.attachments == (
        AttachmentRef("675981076016", MMS["uri"], "image/jpeg", 461020, "MmsAttachment"),
    )


def test_numeric_ids_from_rest_become_strings() -> None:
    env = envelope()
    env["body"]["id"] = 3062991514017
    env["body"]["conversation"] = None
    env["body"]["conversationId"] = 6288356833283647895
    msg = InboundMessage.from_notification(env, "sync")
    assert msg.message_id == "3062991514017"
    assert msg.conversation_id == "6288356833283647895"


def test_owner_from_body_when_event_has_no_ids() -> None:
    env = envelope()
    env["event"] = "something else"
    msg = InboundMessage.from_notification(env, "sync")
    assert (msg.account_id, msg.extension_id) == ("", EXT)


def test_receiving_number_of_a_group_message() -> None:
    msg = InboundMessage.from_notification(envelope(to=(OWNER, "+14155550199")), "webhook")
    assert msg.receiving_number == OWNER
    env = envelope(to=(OWNER, "+14155550199"))
    env["body"]["to"][0]["target"] = False
    assert InboundMessage.from_notification(env, "webhook").receiving_number is None


def _broken(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    env = copy.deepcopy(envelope())
    target: Any = env
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return env


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (("body",), KeyError, "body is missing"),
        (("body",), [1, 2], "body is missing or not an object"),
        (("body", "id"), KeyError, "body.id is missing"),
        (("body", "id"), "../../etc/passwd", "body.id is not a plain id"),
        (("body", "id"), True, "body.id is missing or not a string/number"),
        (("body", "subject"), 42, "body.subject is not a string"),
        (("body", "creationTime"), "yesterday", "body.creationTime is not an ISO-8601 timestamp"),
        (("body", "direction"), "Outbound", "not an inbound message"),
        (("body", "type"), "Fax", "not a text message"),
        (("event",), "/restapi/v1.0/account/1/extension/../message-store", "event extension id"),
    ],
)
# A missing sender or recipient number or a malformed attachment is no longer junk: see
# tests/integration/test_incomplete_notifications.py.
def test_junk_raises_value_error_with_a_reason(path: tuple[str, ...], value: Any, reason: str) -> None:
    with pytest.raises(ValueError, match="^" + reason.replace("[", r"\[").replace(".", r"\.")):
        InboundMessage.from_notification(_broken(path, value), "webhook")


def test_not_an_object_and_unknown_source() -> None:
    with pytest.raises(ValueError, match="not a JSON object"):
        InboundMessage.from_notification([], "webhook")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown source"):
        InboundMessage.from_notification(envelope(), "carrier-pigeon")  # type: ignore[arg-type]


def test_no_owner_at_all() -> None:
    env = envelope()
    env["event"] = "x"
    del env["body"]["owner"]
    del env["ownerId"]
    with pytest.raises(ValueError, match="owner extension id"):
        InboundMessage.from_notification(env, "webhook")


def test_from_a_message_sync_record() -> None:
    record = {
        "uri": "https://platform.ringcentral.com/restapi/v1.0/account/1/extension/2/message-store/6424569004",
        "id": 6424569004,
        "to": [{"phoneNumber": OWNER}],
        "from": {"phoneNumber": CHARLIE, "location": "San Mateo, CA"},
        "type": "SMS",
        "creationTime": "2019-05-22T17:07:28.000Z",
        "attachments": [
            {"id": 6424569004, "uri": "https://x/6424569004", "type": "Text", "contentType": "text/plain"}
        ],
        "direction": "Inbound",
        "subject": "Test SMS",
        "conversationId": 8031152018338945839,
        "conversation": {"id": "8031152018338945839"},
    }
    msg = InboundMessage.from_record(record, EXT, ACCOUNT)
    assert (msg.message_id, msg.extension_id, msg.account_id, msg.source) == (
        "6424569004",
        EXT,
        ACCOUNT,
        "sync",
    )
    assert (msg.text, msg.receiving_number, msg.conversation_id) == ("Test SMS", OWNER, "8031152018338945839")
    assert msg.raw["body"]["id"] == 6424569004
    with pytest.raises(ValueError, match="not an inbound message"):
        InboundMessage.from_record({**record, "direction": "Outbound"}, EXT)


def test_both_transports_read_an_instant_sms_event_alike() -> None:
    env = envelope(message_id="900")
    for transport in ("webhook", "websocket"):
        message = instant_message(env, transport)  # type: ignore[arg-type]
        assert message is not None and (message.message_id, message.source) == ("900", transport)
    reminder = {**env, "event": "/restapi/v1.0/subscription/~?threshold=120&interval=30"}
    assert instant_message(reminder, "webhook") is None
    with pytest.raises(ValueError, match="body is missing or not an object"):
        instant_message({**env, "body": []}, "websocket")

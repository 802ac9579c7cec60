"""RingCentral's answers as typed records (rcinbox.wire) and its timestamps (rcinbox.timestamps):
every spelling the platform sends, junk read as absent, and an unreadable answer a PlatformError."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from platform_fake import CREDS, FakePlatform

from rcinbox.errors import AuthError, PlatformError
from rcinbox.platform import PlatformClient, RetryPolicy
from rcinbox.timestamps import maybe_time, parse_time, rc_time
from rcinbox.wire import (
    AddressBookSync,
    DirectoryPage,
    ExtensionInfo,
    MessageRecord,
    MessageSync,
    PhoneNumber,
    Subscription,
    TokenAnswer,
    WsToken,
    parse_items,
)

EXT = "/restapi/v1.0/account/~/extension/~"
SUBSCRIPTION = "/restapi/v1.0/subscription"
FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)
T = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)


# ---- timestamps ----


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27T10:00:00.123Z", T.replace(microsecond=123000)),  # REST, notifications
        ("2026-11-27T10:00:00Z", T),  # ConnectionDetails recovery: no fraction
        ("2026-11-27T10:00:00.000+0000", T),  # WebSocket ConnectionDetails creationTime
        ("2026-11-27T10:00:00+00:00", T),
        ("2026-11-27T12:00:00.000+02:00", T),  # an offset is honoured
        ("2026-11-27T10:00:00.1234567Z", T.replace(microsecond=123456)),  # 7 digits: cut to µs
        ("2026-11-27T10:00:00", T),  # no offset: UTC
    ],
)
def test_every_spelling_ringcentral_sends_is_read_as_utc(text: str, expected: datetime) -> None:
    parsed = parse_time(text)
    assert parsed == expected and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "creationTime is missing or not a string"),
        (1764237600, "creationTime is missing or not a string"),
        ("yesterday", "creationTime is not an ISO-8601 timestamp: 'yesterday'"),
        ("2026-13-01T00:00:00Z", "creationTime is not an ISO-8601 timestamp"),
        ("0001-01-01T00:00:00+05:00", "creationTime is out of range"),
    ],
)
def test_junk_times_are_one_value_error_naming_the_field(value: object, reason: str) -> None:
    with pytest.raises(ValueError, match="^" + reason.replace("(", r"\(")):
        parse_time(value, "creationTime")
    assert maybe_time(value) is None


def test_rc_time_writes_the_platforms_spelling_and_reads_back() -> None:
    moment = datetime(2026, 11, 27, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert rc_time(moment) == "2026-11-27T10:00:00.123Z"
    assert parse_time(rc_time(moment)) == T.replace(microsecond=123000)


# ---- records ----


def test_a_message_record_reads_rest_ids_times_and_parties_and_keeps_the_record() -> None:
    raw = {
        "id": 3062991514017,  # REST: int64
        "direction": "Outbound",
        "type": "SMS",
        "from": {"phoneNumber": "+16505550100", "location": "San Mateo, CA"},
        "to": [{"phoneNumber": "+14155550100"}, "junk", {"phoneNumber": 7}],
        "subject": "hi",
        "creationTime": "2026-11-27T10:00:00.000+0000",
        "messageStatus": "Queued",
    }
    record = MessageRecord.model_validate(raw)
    assert (record.id, record.direction, record.subject, record.creation_time) == (
        "3062991514017",
        "Outbound",
        "hi",
        T,
    )
    assert record.from_ is not None and record.from_.phone_number == "+16505550100"
    assert [p.phone_number for p in record.to] == ["+14155550100", None]  # a non-object entry is left out
    assert record.raw == raw  # whole, for the archive (a catch-up builds the InboundMessage from it)


def test_fields_of_the_wrong_type_read_as_absent_never_fail() -> None:
    record = MessageRecord.model_validate(
        {"id": True, "direction": 5, "from": "x", "to": "y", "subject": [], "creationTime": "soon"}
    )
    assert (record.id, record.direction, record.from_, record.to, record.subject, record.creation_time) == (
        None,
        None,
        None,
        (),
        None,
        None,
    )
    sync = MessageSync.model_validate({"records": {"a": 1}, "syncInfo": "x"})
    assert sync.records == () and sync.sync_info.sync_token is None and not sync.sync_info.older_records_exist


def test_unreadable_entries_of_a_list_are_left_out() -> None:
    items = [{"id": "a", "status": "Active"}, {"status": "Active"}, "junk", {"id": {"x": 1}}]
    assert [s.id for s in parse_items(Subscription, items)] == ["a"]
    assert parse_items(Subscription, {"records": []}) == ()


def test_a_subscription_reads_its_expiry_filters_address_and_blacklist_reason() -> None:
    sub = Subscription.model_validate(
        {
            "id": "dd2f0ff2-580e-4581-a277-76f9c9a54bc9",
            "status": "Blacklisted",
            "expirationTime": "2016-04-06T11:16:23.177Z",
            "eventFilters": ["/restapi/v1.0/account/1/extension/2/message-store/instant?type=SMS"],
            "deliveryMode": {"transportType": "WebHook", "address": "https://example.com/rc"},
            "blacklistedData": {"reason": "Webhook responses with code: [404], reason: [Not Found]"},
        }
    )
    assert sub.expiration_time == datetime(2016, 4, 6, 11, 16, 23, 177000, tzinfo=UTC)
    assert sub.address == "https://example.com/rc" and sub.event_filters is not None
    assert sub.blacklisted_reason.startswith("Webhook responses with code: [404]")
    assert Subscription.model_validate({"id": "b"}).blacklisted_reason == ""


def test_contacts_numbers_directory_and_sync_records() -> None:
    book = AddressBookSync.model_validate(
        {
            "records": [
                {
                    "id": 11,
                    "firstName": "Charlie",
                    "lastName": 3,
                    "mobilePhone": "+14155550100",
                    "homePhone": " ",
                }
            ],
            "syncInfo": {"syncType": "FSync", "syncToken": "t1", "syncTime": "2026-11-27T10:00:00.000Z"},
            "nextPageId": 2,
        }
    )
    (charlie,) = book.records
    assert (charlie.id, charlie.first_name, charlie.last_name, charlie.phone_numbers) == (
        "11",
        "Charlie",
        None,
        ("+14155550100",),
    )
    assert (book.sync_info.sync_token, book.next_page_id) == ("t1", "2")
    number = PhoneNumber.model_validate(
        {"phoneNumber": "+16505550100", "usageType": "DirectNumber", "features": ["SmsSender"]}
    )
    assert (
        "SmsSender" in number.features
        and PhoneNumber.model_validate({"features": "SmsSender"}).features == ()
    )
    page = DirectoryPage.model_validate(
        {
            "records": [
                {
                    "phoneNumbers": [{"phoneNumber": "+16505550101"}],
                    "account": {"mainNumber": {"phoneNumber": "+16505550000"}},
                }
            ],
            "paging": {"totalPages": "2"},
        }
    )
    assert [n.phone_number for n in page.records[0].numbers] == ["+16505550101", "+16505550000"]
    assert page.paging is not None and page.paging.total_pages is None  # not a number: the last page


def test_token_answers_read_like_before() -> None:
    answer = TokenAnswer.model_validate(
        {"access_token": "A", "expires_in": "3600", "refresh_token": None, "owner_id": 62264425016}
    )
    assert (answer.expires_in, answer.refresh_token, answer.refresh_token_expires_in, answer.owner_id) == (
        3600.0,
        "",
        0.0,
        "62264425016",
    )
    with pytest.raises(ValueError):
        TokenAnswer.model_validate({"access_token": "A"})


def test_records_are_frozen() -> None:
    info = ExtensionInfo.model_validate({"id": 1, "extensionNumber": "101"})
    with pytest.raises(ValueError):
        info.name = "x"  # type: ignore[misc]


# ---- at the client: parsed once, an unreadable answer is a PlatformError ----


@pytest.fixture
def fake() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
async def client(fake: FakePlatform) -> AsyncIterator[PlatformClient]:
    async with PlatformClient.open(CREDS, transport=fake.transport(), policy=FAST, upkeep=False) as opened:
        yield opened


async def test_an_answer_without_what_rcinbox_needs_is_a_platform_error_naming_it(
    fake: FakePlatform, client: PlatformClient
) -> None:
    fake.script("GET", f"{SUBSCRIPTION}/s1", httpx.Response(200, json={"status": "Active"}))
    with pytest.raises(PlatformError) as info:
        await client.get_subscription("s1")
    assert (info.value.status, info.value.error_code) == (200, "bad-response")
    assert (
        str(info.value)
        == f"HTTP 200 bad-response: unreadable Subscription: id: Field required (GET {SUBSCRIPTION}/s1)"
    )
    fake.script("POST", "/restapi/oauth/wstoken", httpx.Response(200, json=["not", "an", "object"]))
    with pytest.raises(PlatformError, match="unreadable WsToken"):
        await client.ws_token()


async def test_the_client_hands_out_records(fake: FakePlatform, client: PlatformClient) -> None:
    fake.script(
        "GET",
        SUBSCRIPTION,
        httpx.Response(
            200,
            json={"records": [{"id": "a", "expirationTime": "2026-11-27T10:00:00.000+0000"}, {"no": "id"}]},
        ),
    )
    fake.script(
        "POST",
        "/restapi/oauth/wstoken",
        httpx.Response(200, json={"uri": "wss://ws.example", "ws_access_token": "W", "expires_in": 30}),
    )
    fake.script(
        "GET",
        EXT,
        httpx.Response(200, json={"id": 62264425016, "extensionNumber": "101", "name": "Alex Morgan"}),
    )
    assert [(s.id, s.expiration_time) for s in await client.list_subscriptions()] == [("a", T)]
    assert await client.ws_token() == WsToken(uri="wss://ws.example", ws_access_token="W", expires_in=30)
    assert (await client.extension_info()).id == "62264425016"


async def test_a_malformed_token_answer_is_still_an_auth_error() -> None:
    fake = FakePlatform()
    fake.script(
        "POST", "/restapi/oauth/token", httpx.Response(200, json={"access_token": "A", "expires_in": "soon"})
    )
    with pytest.raises(AuthError, match="malformed token response"):
        async with PlatformClient.open(CREDS, transport=fake.transport(), policy=FAST, upkeep=False):
            pass

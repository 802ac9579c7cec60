"""Company numbers (review of issue 3, finding 2): ``[contacts] company_numbers`` in the rules, and
the company directory when a normal user may not list the account's numbers (against the emulator:
tests/integration/test_company_numbers_emulator.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pipeline_fakes import VACATION_TOML, FakeBook, FakePlatform, envelope

from rcinbox.clock import FakeClock
from rcinbox.errors import RulesError
from rcinbox.events import InboundMessage
from rcinbox.platform.pacing import Pacer, group_for
from rcinbox.rules.config import parse_rules
from rcinbox.service.own_numbers import NumberBook
from rcinbox.service.pipeline import Pipeline
from rcinbox.store import Store
from rcinbox.wire import PhoneNumber

COMPANY = VACATION_TOML + '\n[contacts]\ncompany_numbers = ["(800) 555-0199", "+1 650 555 0177"]\n'


def test_company_numbers_are_read_in_e164_and_a_bad_one_is_refused_with_its_line() -> None:
    rules = parse_rules(COMPANY)
    assert rules.contacts.company_numbers == frozenset({"+18005550199", "+16505550177"})
    assert parse_rules(VACATION_TOML).contacts.company_numbers == frozenset()
    bad = (
        VACATION_TOML
        + '\n[contacts]\nallowlist = []\ncompany_numbers = [\n  "+18005550199",\n  "front desk",\n]\n'
    )
    with pytest.raises(RulesError) as info:
        parse_rules(bad, "rcinbox.toml")
    line = bad.splitlines().index('  "front desk",') + 1
    assert (
        str(info.value)
        == f"rcinbox.toml:{line}: contacts.company_numbers: 'front desk' is not a valid phone number"
    )


async def test_configured_company_numbers_get_no_reply(tmp_path: Path) -> None:
    rules = parse_rules(COMPANY)
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path}/rcinbox.db") as store:
        pipeline = Pipeline(store, FakePlatform(), lambda: rules, {"62264425016": FakeBook()}, tmp_path)
        for message_id, sender in (("700", "+18005550199"), ("701", "+16505550177"), ("702", "+14155550100")):
            msg = InboundMessage.from_notification(envelope(message_id=message_id, sender=sender), "webhook")
            await pipeline.accept(msg)
        await pipeline.drain()
        entries = sorted(await store.recent(), key=lambda e: e.message_id)
    assert [(e.message_id, e.reason) for e in entries] == [
        ("700", "company-number"),
        ("701", "company-number"),
        ("702", "replied"),
    ]


def test_the_directory_is_paced_as_medium_and_an_answer_naming_another_group_unblocks_it() -> None:
    assert group_for("GET", "https://x/restapi/v1.0/account/~/directory/entries") == "Medium"
    pacer = Pacer(FakeClock())
    ticket = asyncio.run(pacer.acquire("Light"))  # guessed Light, the answer says Medium
    headers = {
        "x-rate-limit-group": "medium",
        "x-rate-limit-limit": "40",
        "x-rate-limit-remaining": "39",
        "x-rate-limit-window": "60",
    }
    pacer.release("Light", ticket, headers)
    assert pacer.wait_time("Medium") == 0.0  # not "probing alone" forever


class GatedNumbers(FakePlatform):
    """Counts the number lists asked for; each answer waits until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.asked: list[str] = []
        self.first = asyncio.Event()

    async def phone_numbers(self, ext: str = "~") -> tuple[PhoneNumber, ...]:
        self.asked.append(ext)
        self.first.set()
        await self.gate.wait()
        return await super().phone_numbers(ext)

    async def account_numbers(self) -> tuple[PhoneNumber, ...]:
        self.asked.append("account")
        await self.gate.wait()
        return await super().account_numbers()


async def test_messages_decided_at_once_fetch_each_number_list_once() -> None:
    fake = GatedNumbers()
    book = NumberBook(fake, ["62264425016"], FakeClock())
    asking = [asyncio.create_task(book.for_extension("62264425016")) for _ in range(16)]
    await asyncio.wait_for(fake.first.wait(), 5)  # the first one is fetching; the others wait for it
    fake.gate.set()
    answers = await asyncio.gather(*asking)
    assert sorted(fake.asked) == ["62264425016", "account"]
    assert len({answer.owner for answer in answers}) == 1

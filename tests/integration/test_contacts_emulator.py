"""ContactBook against the emulator's address book: a full sync, then an incremental one that sees
a new contact and a deleted one (the scripted cases: tests/unit/test_contacts.py)."""

from __future__ import annotations

from pathlib import Path

from rcinbox.emulator.model import Contact as EmuContact
from rcinbox.emulator.runner import Running
from rcinbox.platform.auth import Credentials
from rcinbox.platform.client import PlatformClient
from rcinbox.service.contacts import ContactBook
from rcinbox.wire import AddressBookSync


async def test_against_the_emulator(emu: Running, tmp_path: Path) -> None:
    world = emu.world
    alex = world.extensions[0]
    credentials = Credentials(emu.url, world.app.client_id, world.app.client_secret, alex.jwt)
    async with PlatformClient.open(credentials, token_file=tmp_path / "tokens.json", upkeep=False) as client:
        tokens: list[str | None] = []

        class Recording:
            async def address_book_sync(self, sync_token: str | None, ext: str = "~") -> AddressBookSync:
                tokens.append(sync_token)
                return await client.address_book_sync(sync_token, ext)

        book = ContactBook(Recording(), str(alex.id))
        await book.refresh()
        charlie = book.lookup("(415) 555-0100")
        assert charlie is not None and (charlie.first_name, charlie.last_name) == ("Charlie", "Williams")
        assert book.lookup("+14155550102") is not None  # businessPhone
        dana = book.lookup("+14155550101")
        assert dana is not None and dana.contact_id is not None
        assert book.lookup("+14155550110") is None  # Blair's contact, not Alex's

        contacts = f"/restapi/v1.0/account/~/extension/{alex.id}/address-book/contact"
        # the emulator has no contact-create endpoint (rcinbox never writes contacts): add it in the world
        gale_record = EmuContact(world.next_id(), "Gale", phones={"carPhone": "+14155550120"})
        gale_record.modified_at = world.now()
        alex.contacts.append(gale_record)
        await client.request("DELETE", f"{contacts}/{dana.contact_id}")
        await book.refresh()
        gale = book.lookup("+1 415 555 0120")
        assert gale is not None and gale.first_name == "Gale"
        assert book.lookup("+14155550101") is None
        assert book.lookup("+14155550100") is not None
        assert book.lookup("+14155550111") is None  # not in the book (the demo rules allowlist it)
        assert tokens[0] is None and tokens[1] is not None and len(tokens) == 2  # FSync, then ISync

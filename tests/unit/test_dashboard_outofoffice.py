"""The Out of office page (dashboard/outofoffice.py) through the ASGI app, on a real rules file,
the service's rules watcher and a real store: the form shows the file, the preview (server-side
and the live fragment) renders for a chosen contact with the segment counter, saving writes only
what changed keeping the comments and reloads the rules at once, a file changed meanwhile is not
overwritten (the difference is shown), bad input gets one error per field and writes nothing, an
extension's form edits its own section showing what it inherits, and "Turn off now" on the status
page ends the vacation."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_site_kit import TODAY, Site
from pipeline_fakes import CHARLIE, EXT
from starlette.applications import Starlette
from starlette.testclient import TestClient
from store_kit import db_url
from views_kit import EXT2, decide, opened, replied, text_in

from rcinbox.clock import FakeClock
from rcinbox.dashboard.archive import ArchivePages
from rcinbox.dashboard.outofoffice import OutOfOfficePages
from rcinbox.dashboard.status import (
    ConnectionStatus,
    InboxStatus,
    StatusSnapshot,
    TokenStatus,
    VacationStatus,
)
from rcinbox.rules.watcher import RulesWatcher
from rcinbox.store import Store

RULES = """\
# Front desk rules (kept by hand)
[vacation]
enabled = true   # on for the holidays
start = 2026-12-20T00:00:00
end = 2027-01-04T08:00:00
timezone = "America/New_York"
message = "Auto-reply: Hi {first_name}, I am away until {return_date}."
repeat_after = "7d"

[smart.replies]
thanks = "Auto-reply: you are welcome, {first_name}!"

[extensions."62264425099".vacation]   # Blair's own
message = "Auto-reply: Blair is away until {return_date}."
"""
NEW = "Auto-reply: Hi {first_name}, back on {return_date}. Call the desk."


class Ooo:
    def __init__(self, tmp_path: Path, store: Store, run: Any) -> None:
        self.path = tmp_path / "rcinbox.toml"
        self.path.write_text(RULES, encoding="utf-8")
        self.watcher = RulesWatcher(self.path)
        self.reloads = 0
        self.site = Site(extensions=(EXT, EXT2))
        self.site.dashboard.snapshot = self.snapshot
        self.run = run
        self.store = store
        archive = ArchivePages(
            self.site.dashboard, store, tmp_path / "data", lambda: self.rules().vacation.timezone
        )
        pages = OutOfOfficePages(archive, self.path, self.watcher.current, self.reload)
        routes = [*self.site.dashboard.routes(), *archive.routes(), *pages.routes()]
        self.site.client = TestClient(Starlette(routes=routes), follow_redirects=False)
        self.client = self.site.client
        self.site.sign_in()

    def rules(self) -> Any:
        return self.watcher.current()

    def reload(self) -> bool:
        self.reloads += 1
        return self.watcher.check()

    async def snapshot(self, ext: str | None) -> StatusSnapshot:
        rules = self.rules().for_extension(ext) if ext else self.rules()
        now = self.site.clock.now()
        return StatusSnapshot(
            now=now,
            ready=True,
            not_ready=(),
            vacation=VacationStatus.of(rules.vacation, now),
            connection=ConnectionStatus("websocket", True, True, None, "", None, 0),
            token=TokenStatus(True, now, now),
            inbox=InboxStatus(TODAY, now, CHARLIE, 0),
        )

    def form(self, path: str = "/out-of-office") -> tuple[str, dict[str, str]]:
        """The page and its form as a browser would post it (checked boxes, selected options)."""
        page = self.client.get(path)
        assert page.status_code == 200, page.text
        text = page.text
        data: dict[str, str] = {}
        for tag in re.findall(r"<input [^>]*>", text):
            name = re.search(r'name="([^"]+)"', tag)
            if name is None:
                continue
            if 'type="checkbox"' in tag:
                if " checked" in tag:
                    data[name.group(1)] = "on"
                continue
            value = re.search(r'value="([^"]*)"', tag)
            data[name.group(1)] = html.unescape(value.group(1)) if value else ""
        for name, body in re.findall(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', text, re.S):
            data[name] = html.unescape(body)
        for name, body in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', text, re.S):
            chosen = re.search(r'<option value="([^"]*)" selected', body)
            data[name] = html.unescape(chosen.group(1)) if chosen else ""
        data.pop("ext", None) if "?ext=" not in path else None
        return text, data


@pytest.fixture
def ooo(tmp_path: Path) -> Iterator[Ooo]:
    loop = asyncio.new_event_loop()
    cm = opened(db_url(tmp_path), FakeClock(Site().clock.now()))
    store = loop.run_until_complete(cm.__aenter__())
    yield Ooo(tmp_path, store, loop.run_until_complete)
    loop.run_until_complete(cm.__aexit__(None, None, None))
    loop.close()


def post(ooo: Ooo, data: dict[str, str], path: str = "/out-of-office") -> Any:
    return ooo.client.post(path, data=data)


def test_the_page_is_closed_until_signed_in(tmp_path: Path, ooo: Ooo) -> None:
    ooo.client.cookies.clear()
    answer = ooo.client.get("/out-of-office")
    assert answer.status_code == 303 and answer.headers["location"] == "/signin?next=%2Fout-of-office"


def test_the_form_shows_the_file_with_a_label_for_every_field(ooo: Ooo) -> None:
    page, data = ooo.form()
    assert data["start"] == "2026-12-20T00:00" and data["end"] == "2027-01-04T08:00"
    assert data["timezone"] == "America/New_York" and data["enabled"] == "on"
    assert data["message"] == "Auto-reply: Hi {first_name}, I am away until {return_date}."
    assert data["audience"] == "contacts" and data["repeat_after"] == "7d"
    assert data["reply_thanks"] == "Auto-reply: you are welcome, {first_name}!"
    assert 'type="datetime-local" id="f-start"' in page
    ids = re.findall(r'<(?:input|select|textarea) [^>]*id="(f-[^"]+)"', page)
    assert len(ids) >= 14
    for field_id in ids:
        assert f'<label for="{field_id}">' in page, field_id
    assert '<a href="/out-of-office" aria-current="page">Out of office</a>' in page


def test_the_preview_renders_for_the_sample_contact_and_counts_segments(ooo: Ooo) -> None:
    page, _ = ooo.form()
    assert "Hi Sam, I am away until Monday, January 4." in page
    assert '<span class="pill pill-ok" id="preview-encoding">GSM-7</span>' in page
    assert '<strong id="preview-segments">1 segment</strong>' in page


def test_the_no_javascript_preview_shows_the_typed_message_and_its_breakers(ooo: Ooo) -> None:
    _, data = ooo.form()
    data |= {"message": "Hi {first_name}, I’m on a beach 🌴 until {return_date}. " * 2, "action": "preview"}
    page = post(ooo, data)
    assert page.status_code == 200
    assert '<strong id="preview-segments">2 segments</strong>' in page.text
    assert 'id="preview-encoding">UCS-2</span>' in page.text
    assert '<mark class="gsm-breaker" title="not GSM-7: U+1F334">🌴</mark>' in page.text
    assert '<mark class="gsm-breaker" title="not GSM-7: U+2019">’</mark>' in page.text
    assert ooo.path.read_text() == RULES  # a preview writes nothing


def test_the_preview_is_for_a_contact_chosen_from_the_conversations(ooo: Ooo) -> None:
    pk = ooo.run(text_in(ooo.store, "Hello"))
    ooo.run(decide(ooo.store, pk, replied(contact="Charlie", last="Brown")))
    _, data = ooo.form()
    assert (
        f'<option value="{CHARLIE}" >Charlie Brown ({CHARLIE})</option>'
        in ooo.client.get("/out-of-office").text
    )
    fragment = post(ooo, data | {"contact": CHARLIE}, "/out-of-office/preview")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Hi Charlie, I am away until" in fragment.text
    thanks = post(ooo, data | {"contact": CHARLIE, "preview_of": "thanks"}, "/out-of-office/preview")
    assert "Auto-reply: you are welcome, Charlie!" in thanks.text


def test_the_live_preview_follows_unsaved_values_and_needs_the_csrf_token(ooo: Ooo) -> None:
    _, data = ooo.form()
    moved = post(ooo, data | {"end": "2027-01-11T08:00"}, "/out-of-office/preview")
    assert "until Monday, January 11." in moved.text
    assert post(ooo, data | {"csrf": "forged"}, "/out-of-office/preview").status_code == 403


def test_saving_writes_only_what_changed_keeps_comments_and_reloads_at_once(ooo: Ooo) -> None:
    _, data = ooo.form()
    saved = post(ooo, data | {"message": NEW, "end": "2027-01-11T08:00", "action": "save"})
    assert (saved.status_code, saved.headers["location"]) == (303, "/out-of-office?saved=1")
    text = ooo.path.read_text()
    assert text == RULES.replace(
        'message = "Auto-reply: Hi {first_name}, I am away until {return_date}."', f'message = "{NEW}"'
    ).replace("end = 2027-01-04T08:00:00", "end = 2027-01-11T08:00:00")
    assert ooo.reloads == 1 and ooo.rules().vacation.message == NEW  # in effect now, not at the next look
    assert ooo.rules().vacation.end.day == 11
    assert 'role="status" id="saved"' in ooo.client.get("/out-of-office?saved=1").text


def test_a_file_changed_since_the_form_was_loaded_is_not_overwritten(ooo: Ooo) -> None:
    _, data = ooo.form()
    by_hand = RULES.replace('repeat_after = "7d"', 'repeat_after = "3d"  # edited by hand')
    ooo.path.write_text(by_hand, encoding="utf-8")
    answer = post(ooo, data | {"message": NEW, "action": "save"})
    assert answer.status_code == 409
    assert ooo.path.read_text() == by_hand and ooo.reloads == 0
    assert "The rules file changed since you opened this page" in answer.text
    diff = html.unescape(answer.text.split('<pre class="diff"', 1)[1].split("</pre>", 1)[0])
    assert '-repeat_after = "3d"  # edited by hand' in diff and '+repeat_after = "7d"' in diff
    assert f'+message = "{NEW}"' in diff
    assert 'href="/out-of-office">Reload the file</a>' in answer.text


def test_bad_input_gets_one_error_per_field_tied_to_it_and_writes_nothing(ooo: Ooo) -> None:
    _, data = ooo.form()
    bad = data | {"start": "soon", "timezone": "Mars/Olympus", "action": "save"}
    answer = post(ooo, bad)
    assert answer.status_code == 400 and ooo.path.read_text() == RULES
    assert '<p class="error" id="error-start">Use a date and time, e.g. 2026-12-20T09:00.</p>' in answer.text
    assert (
        'id="f-start" name="start" value="soon" aria-describedby="error-start" aria-invalid="true"'
        in answer.text
    )
    assert 'aria-describedby="error-timezone" aria-invalid="true"' in answer.text
    assert "2 fields to fix" in answer.text


def test_an_error_of_the_rules_parser_lands_on_its_field(ooo: Ooo) -> None:
    _, data = ooo.form()
    answer = post(ooo, data | {"repeat_after": "30m", "action": "save"})
    assert answer.status_code == 400 and ooo.path.read_text() == RULES
    assert re.search(
        r'<p class="error" id="error-repeat_after">vacation.repeat_after [^<]*1h minimum', answer.text
    )
    too_long = post(ooo, data | {"reply_thanks": "Thanks! " * 30, "action": "save"})
    assert too_long.status_code == 400 and 'id="error-reply_thanks"' in too_long.text


def test_an_extension_form_edits_its_own_section_and_shows_what_it_inherits(ooo: Ooo) -> None:
    page, data = ooo.form(f"/out-of-office?ext={EXT2}")
    assert data["message"] == "Auto-reply: Blair is away until {return_date}." and data["ext"] == EXT2
    assert data["start"] == "" and data["timezone"] == ""  # inherited: empty, the default shown
    assert '<p class="hint" id="hint-start"><span class="badge">inherited</span>' in page
    assert '<span class="default">2026-12-20T00:00</span>' in page
    assert 'id="hint-message"><span class="badge">inherited' not in page
    saved = post(ooo, data | {"end": "2027-01-02T18:00", "action": "save"})
    assert saved.headers["location"] == f"/out-of-office?saved=1&ext={EXT2}"
    text = ooo.path.read_text()
    assert text.startswith(RULES.split("[extensions.", 1)[0])  # the defaults are untouched
    assert text.endswith(
        '[extensions."62264425099".vacation]   # Blair\'s own\n'
        'message = "Auto-reply: Blair is away until {return_date}."\n'
        "end = 2027-01-02T18:00:00\n"
    )
    assert ooo.rules().for_extension(EXT2).vacation.end.day == 2
    assert ooo.rules().vacation.end.day == 4


def test_turn_off_now_ends_the_vacation_and_the_banner_says_off(ooo: Ooo) -> None:
    status = ooo.client.get("/status")
    assert "Vacation reply is ON" in status.text and "Turn off now" in status.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', status.text).group(1)  # type: ignore[union-attr]
    assert post(ooo, {"csrf": "forged"}, "/vacation/off").status_code == 403
    assert ooo.path.read_text() == RULES
    off = post(ooo, {"csrf": csrf}, "/vacation/off")
    assert (off.status_code, off.headers["location"]) == (303, "/status?off=done")
    assert ooo.path.read_text() == RULES.replace("enabled = true   #", "enabled = false   #")
    after = ooo.client.get("/status?off=done")
    assert "Vacation reply is OFF" in after.text and "Turn off now" not in after.text
    assert 'id="turned-off">Turned off: no more vacation replies.' in after.text

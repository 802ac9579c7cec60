"""The dashboard's rules-file writer: comments kept, atomic, mode kept, conflicts refused."""

from __future__ import annotations

import os
import stat
from datetime import datetime
from pathlib import Path

import pytest

from rcinbox.dashboard import rules_file
from rcinbox.errors import RulesError
from rcinbox.rules.config import load_rules

ORIGINAL = """\
# Rules for the front desk (kept by hand)
[vacation]
enabled = true   # on for the holidays
start = 2026-12-20T00:00:00
end = 2027-01-04T08:00:00
timezone = "America/New_York"
message = "Auto-reply: away until {return_date}."

# who gets a reply
[contacts]
allowlist = ["+14155550111"]
"""


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "rcinbox.toml"
    p.write_text(ORIGINAL, encoding="utf-8")
    p.chmod(0o640)
    return p


def test_edit_keeps_comments_and_layout(path: Path) -> None:
    loaded = rules_file.load(path)
    new = rules_file.edit(loaded.text, "vacation", {"message": "Back on Monday.", "enabled": False})
    rules_file.save(path, loaded.digest, new)
    text = path.read_text(encoding="utf-8")
    assert "# Rules for the front desk (kept by hand)" in text
    assert "# who gets a reply" in text
    assert 'message = "Back on Monday."' in text
    assert "enabled = false   # on for the holidays" in text
    assert load_rules(path).vacation.enabled is False


def test_save_keeps_the_mode_and_leaves_no_temp_file(path: Path) -> None:
    loaded = rules_file.load(path)
    rules_file.save(path, loaded.digest, rules_file.edit(loaded.text, "vacation", {"message": "x"}))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in path.parent.iterdir()) == ["rcinbox.toml"]


def test_save_replaces_the_file_rather_than_rewriting_it(path: Path) -> None:
    before = path.stat().st_ino
    loaded = rules_file.load(path)
    rules_file.save(path, loaded.digest, rules_file.edit(loaded.text, "vacation", {"message": "x"}))
    assert path.stat().st_ino != before  # os.replace of a new file: readers never see half a file


def test_failed_write_leaves_the_file_and_no_temp(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    loaded = rules_file.load(path)
    with pytest.raises(OSError, match="disk full"):
        rules_file.save(path, loaded.digest, rules_file.edit(loaded.text, "vacation", {"message": "x"}))
    assert path.read_text(encoding="utf-8") == ORIGINAL
    assert sorted(p.name for p in path.parent.iterdir()) == ["rcinbox.toml"]


def test_extension_section_is_created_then_updated(path: Path) -> None:
    loaded = rules_file.load(path)
    start = datetime(2026, 12, 22, 9, 0)
    new = rules_file.edit(
        loaded.text, "vacation", {"start": start, "audience": "everyone"}, extension="62264426016"
    )
    assert '[extensions."62264426016".vacation]' in new
    rules_file.save(path, loaded.digest, new)
    loaded = rules_file.load(path)
    again = rules_file.edit(loaded.text, "vacation", {"audience": "contacts"}, extension="62264426016")
    assert again.count('[extensions."62264426016".vacation]') == 1
    assert 'audience = "contacts"' in again and "start = 2026-12-22T09:00:00" in again
    rules_file.save(path, loaded.digest, again)
    assert "# who gets a reply" in path.read_text(encoding="utf-8")


def test_none_removes_a_key_so_the_extension_inherits_it(path: Path) -> None:
    text = rules_file.edit(ORIGINAL, "vacation", {"audience": "everyone"}, extension="1")
    text = rules_file.edit(text, "vacation", {"audience": None}, extension="1")
    assert 'audience = "everyone"' not in text


def test_conflict_refuses_and_shows_the_difference(path: Path) -> None:
    loaded = rules_file.load(path)
    by_hand = ORIGINAL.replace("America/New_York", "Europe/Paris")
    path.write_text(by_hand, encoding="utf-8")
    new = rules_file.edit(loaded.text, "vacation", {"message": "Back on Monday."})
    with pytest.raises(rules_file.RulesFileChanged) as caught:
        rules_file.save(path, loaded.digest, new)
    assert path.read_text(encoding="utf-8") == by_hand
    assert '-timezone = "Europe/Paris"' in caught.value.diff
    assert '+message = "Back on Monday."' in caught.value.diff


def test_invalid_rules_are_not_written(path: Path) -> None:
    loaded = rules_file.load(path)
    new = rules_file.edit(loaded.text, "vacation", {"audience": "martians"})
    with pytest.raises(RulesError):
        rules_file.save(path, loaded.digest, new)
    assert path.read_text(encoding="utf-8") == ORIGINAL


def test_a_missing_file_is_created(tmp_path: Path) -> None:
    path = tmp_path / "rcinbox.toml"
    loaded = rules_file.load(path)
    rules_file.save(path, loaded.digest, rules_file.edit(loaded.text, "vacation", {"enabled": False}))
    assert load_rules(path).vacation.enabled is False

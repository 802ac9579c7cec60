"""``rcinbox messages`` on an 80-column terminal (review of issue 3, finding 14): every column,
the text included, stays readable, and a failed reply says why (finding 4)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from messages_cli_kit import archive, fill, messages

from rcinbox.store import Store


def test_eighty_columns_keep_the_text_readable(tmp_path: Path) -> None:
    archive(tmp_path / "data")
    result = messages("--data-dir", str(tmp_path / "data"), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert all(line.rstrip().endswith(("│", "┃", "┓", "┩", "┘")) for line in lines[1:] if line.strip())
    header = " ".join(line for line in lines if line.startswith("┃"))
    for name in ("time", "ext", "from", "to", "name", "text", "decision", "reply"):
        assert f" {name} " in header, name
    for text in ("Lunch on Thursday?", "Is this the bakery?", "Call me back"):
        assert any(text in line for line in lines), text
    at = next(i for i, line in enumerate(lines) if "Is this the bakery?" in line)
    assert "suppress:" in lines[at] and "not-a-contact" in lines[at + 1]
    assert "(+1 attachment)" in "".join(lines)


def test_a_failed_reply_shows_its_reason(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    asyncio.run(_archive_failed(tmp_path / "data" / "rcinbox.db"))
    result = messages("--data-dir", str(tmp_path / "data"), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    cells = [line.split("│")[-2].strip() for line in result.output.splitlines() if line.startswith("│")]
    shown = " ".join(cell for cell in cells if cell)
    assert "reply: replied failed: expired: queued 120 min ago" in shown


async def _archive_failed(database: Path) -> None:
    await fill(database)
    async with await Store.open(f"sqlite+aiosqlite:///{database}") as store:
        [row] = await store.outbox.due()
        await store.outbox.mark_failed(row.id, "expired: queued 120 min ago")

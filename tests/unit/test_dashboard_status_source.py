"""The status page's snapshot (service/dashboard_status.py) of one extension shows that extension's
own vacation (its ``[extensions."<id>".vacation]`` over the file's defaults), so the banner and
"Turn off now" speak for the extension the switcher shows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from store_kit import db_url
from views_kit import EXT2, opened

from rcinbox.clock import FakeClock
from rcinbox.platform.tokenfile import Token
from rcinbox.rules.config import parse_rules
from rcinbox.service.dashboard_status import Parts, status_source
from rcinbox.transports.status import TransportStatus

NOW = datetime(2026, 12, 21, 15, 0, tzinfo=UTC)
RULES = """
[vacation]
enabled = false
start = 2026-12-20T00:00:00
end = 2027-01-04T08:00:00
timezone = "America/New_York"
message = "Away."

[extensions."62264425099".vacation]
enabled = true
timezone = "Europe/Paris"
"""


class NoSession:
    token: Token | None = None

    def valid(self) -> bool:
        return False

    def next_upkeep_in(self) -> float:
        return 60.0


async def test_an_extensions_snapshot_has_its_own_vacation(tmp_path: Path) -> None:
    rules = parse_rules(RULES)
    parts = Parts(
        rules=lambda: rules,
        transport=lambda: TransportStatus("websocket"),
        not_ready=list,
        waits=list,
        reports=tuple,
    )
    clock = FakeClock(NOW)
    async with opened(db_url(tmp_path), clock) as store:
        snapshot = status_source(parts, NoSession(), store, ["62264425016", EXT2], clock)
        every = await snapshot(None)
        own = await snapshot(EXT2)
    assert (every.vacation.state, str(every.vacation.timezone)) == ("off", "America/New_York")
    assert (own.vacation.state, str(own.vacation.timezone)) == ("on", "Europe/Paris")

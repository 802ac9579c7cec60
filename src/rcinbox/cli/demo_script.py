"""The demo's script: who texts what, what rcinbox must decide, the demo rules and the result table.

Pure data and rendering; :mod:`rcinbox.cli.demo` plays it against the emulator and the service.
The conversation covers the headline rules: a contact gets the vacation reply, the same contact
again does not (``repeat_after``), an unknown number does not (audience), STOP is recorded as an
opt-out, an MMS photo is archived with its SHA-256 and answered, a group text and a short-code
marketing text are left alone; with smart replies (:data:`SMART_STEPS`), an urgent text from a
contact already answered gets the urgent reply (its own handle) and one escalation to Blair, and a
"thanks!" gets no reply. The table shows the intent the classifier chose for every text.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from rich import box
from rich.table import Table

ALEX = "+16505550100"  # ext 101 Alex Morgan (the demo account's super admin)
CHARLIE = "+14155550100"  # contacts of ext 101
DANA = "+14155550101"
ELI = "+14155550102"
ACME = "+14155550103"
STRANGER = "+12125550199"  # in nobody's address book
SHORT_CODE = "72345"
ALLOWLISTED = "+14155550111"  # not a contact, but on the demo rules' allowlist
DEMO_TIMEZONE = "America/New_York"
BACKUP_NUMBER = "+16505550102"  # Blair Kim, ext 102
TITLE = "rcinbox demo: the scripted conversation"
MESSAGE = (
    "Auto-reply: Hi {first_name}, I'm out of the office until {return_date}. "
    "For anything urgent please call Blair at {backup_number}."
)
URGENT = (
    "Auto-reply: Hi {first_name}, I'm away until {return_date}. Urgent? Call Blair now at {backup_number}."
)
APPOINTMENT = (
    "Auto-reply: Hi {first_name}, I'm away until {return_date}. To book or move a meeting: {booking_url}"
)


@dataclass(frozen=True)
class Step:
    """One inbound text of the script and the decision rcinbox must take on it."""

    who: str
    sender: str
    text: str
    action: str
    reason: str
    to: tuple[str, ...] = (ALEX,)
    photo: bool = False
    intent: str | None = None  # the intent the decision must record (None: not checked)
    escalates: bool = False  # an escalation to BACKUP_NUMBER must be queued


CORE_STEPS: tuple[Step, ...] = (
    Step(
        "Charlie (contact)",
        CHARLIE,
        "Hey Alex, it's Charlie. Hope the trip is going well",
        "reply",
        "replied",
    ),
    Step(
        "Charlie again",
        CHARLIE,
        "Also, could you send me the Q4 numbers when you can?",
        "suppress",
        "already-replied",
    ),
    Step("unknown number", STRANGER, "Hello, is this the bakery on 5th Street?", "suppress", "not-a-contact"),
    Step("Dana (contact)", DANA, "STOP", "opt-out", "opt-out"),
    Step("Eli (contact), MMS", ELI, "Here is the photo from the site visit", "reply", "replied", photo=True),
    Step(
        "Acme, group text",
        ACME,
        "Team: the delivery is confirmed for Monday",
        "suppress",
        "group-message",
        to=(ALEX, DANA),
    ),
    Step(
        "short code",
        SHORT_CODE,
        "FLASH SALE: 20% off all office supplies today only. Reply STOP to opt out",
        "suppress",
        "short-code",
    ),
)
SMART_STEPS: tuple[Step, ...] = (
    Step(
        "Charlie, urgent",
        CHARLIE,
        "URGENT: my card was stolen, please call me back",
        "reply",
        "replied",
        intent="urgent",
        escalates=True,
    ),
    Step("Eli, thanks", ELI, "Thanks!", "suppress", "no-reply-needed", intent="thanks"),
)
SCRIPT: tuple[Step, ...] = CORE_STEPS + SMART_STEPS


@dataclass(frozen=True)
class Outcome:
    """What happened to one step: the decision recorded, the reply the emulator got, the file hash."""

    number: int
    step: Step
    message_id: str
    action: str | None = None  # None: no decision within the time limit
    reason: str | None = None
    reply: str | None = None  # text of the SMS received at the emulator
    sha256: str | None = None  # of the stored attachment
    expected_sha256: str | None = None
    intent: str | None = None  # the intent the decision recorded
    escalated_to: str | None = None  # the escalation queued with it

    @property
    def ok(self) -> bool:
        if (self.action, self.reason) != (self.step.action, self.step.reason):
            return False
        if self.step.intent is not None and self.intent != self.step.intent:
            return False
        if self.escalated_to != (BACKUP_NUMBER if self.step.escalates else None):
            return False
        if self.step.action == "reply" and not self.reply:
            return False
        return self.sha256 == self.expected_sha256


def demo_rules(now: datetime) -> str:
    """Rules TOML with a vacation window around ``now`` (local times in :data:`DEMO_TIMEZONE`).

    Midnight and 9 AM never fall into a New York DST gap, so both ends always exist.
    """
    local = now.astimezone(ZoneInfo(DEMO_TIMEZONE))
    start = datetime.combine(local.date() - timedelta(days=1), time(0, 0))
    end = datetime.combine(local.date() + timedelta(days=6), time(9, 0))
    return f"""# rcinbox demo rules (written by `rcinbox demo`; see examples/rcinbox.toml for every option)
[vacation]
enabled = true
start = {start.isoformat()}
end = {end.isoformat()}
timezone = "{DEMO_TIMEZONE}"
message = "{MESSAGE}"
audience = "contacts"
repeat_after = "7d"

[vacation.values]
backup_number = "{BACKUP_NUMBER}"
booking_url = "https://cal.example.com/alex"

[smart]
enabled = true
classifier = "builtin"
[smart.replies]
urgent = "{URGENT}"
appointment = "{APPOINTMENT}"
thanks = ""
[smart.escalate]
to = "{BACKUP_NUMBER}"

[contacts]
allowlist = ["{ALLOWLISTED}"]
blocklist = []
"""


def tiny_png(size: int = 16) -> bytes:
    """A small, valid RGB PNG (a colour gradient), built in code so the demo needs no files."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // size, y * 255 // size, 160)) for x in range(size))
        for y in range(size)
    )
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def photo_sha256() -> str:
    return hashlib.sha256(tiny_png()).hexdigest()


def shorten(text: str | None, width: int) -> str:
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


WIDE = 120  # narrower consoles get the compact layout (same facts, three columns)


def table(outcomes: list[Outcome], width: int = WIDE) -> Table:
    """The result table: one row per message; wide (a column per fact) or compact for narrow consoles."""
    return _wide(outcomes) if width >= WIDE else _compact(outcomes)


def _mark(outcome: Outcome) -> str:
    step = outcome.step
    return "[green]✔[/green]" if outcome.ok else f"[red]✘ expected {step.action}/{step.reason}[/red]"


def _intent(outcome: Outcome) -> str:
    """The intent the decision recorded (nothing for a text not classified)."""
    return outcome.intent or ""


def _received(outcome: Outcome) -> str:
    """The reply received at the emulator, and the escalation sent with it."""
    escalated = f"[dim]+ escalated to {outcome.escalated_to}[/dim]" if outcome.escalated_to else ""
    return "\n".join(filter(None, (outcome.reply or "", escalated)))


def _sender(step: Step) -> str:
    group = f" → {len(step.to)} numbers" if len(step.to) > 1 else ""
    return f"{step.sender}{group}"


def _wide(outcomes: list[Outcome]) -> Table:
    grid = Table(title=TITLE, title_justify="left", box=box.SIMPLE_HEAD)
    grid.add_column("#", style="dim", no_wrap=True)
    grid.add_column("from", no_wrap=True)
    grid.add_column("text", ratio=2, min_width=16)
    grid.add_column("decision\n[dim]intent[/dim]", no_wrap=True)
    grid.add_column("reason", no_wrap=True)
    grid.add_column("reply received at the emulator", ratio=3, min_width=20)
    grid.add_column("attachment sha256", style="dim", no_wrap=True)
    grid.add_column("", no_wrap=True)
    for outcome in outcomes:
        step = outcome.step
        grid.add_row(
            str(outcome.number),
            f"{_sender(step)}\n[dim]{step.who}[/dim]",
            shorten(step.text, 48),
            f"[bold]{outcome.action or '(none)'}[/bold]"
            + (f"\n[cyan]{_intent(outcome)}[/cyan]" if outcome.intent else ""),
            outcome.reason or "",
            _received(outcome),
            outcome.sha256[:12] + "…" if outcome.sha256 else "",
            _mark(outcome),
        )
    return grid


def _compact(outcomes: list[Outcome]) -> Table:
    grid = Table(title=TITLE, title_justify="left", box=box.SIMPLE_HEAD, show_lines=True)
    grid.add_column("#", style="dim", no_wrap=True)
    grid.add_column("from, text → reply received at the emulator, attachment sha256", ratio=1)
    grid.add_column("decision / reason", no_wrap=True)
    for outcome in outcomes:
        step = outcome.step
        lines = [f"{_sender(step)} [dim]{step.who}[/dim]", shorten(step.text, 60)]
        if outcome.reply:
            lines.append(f"[green]→ {outcome.reply}[/green]")
        if outcome.escalated_to:
            lines.append(f"[dim]+ escalated to {outcome.escalated_to}[/dim]")
        if outcome.sha256:
            lines.append(f"[dim]sha256 {outcome.sha256[:16]}…[/dim]")
        decision = f"[bold]{outcome.action or '(none)'}[/bold]\n{outcome.reason or ''}"
        decision += f"\n[cyan]{_intent(outcome)}[/cyan]" if outcome.intent else ""
        grid.add_row(str(outcome.number), "\n".join(lines), f"{decision}\n{_mark(outcome)}")
    return grid

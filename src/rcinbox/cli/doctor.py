"""``rcinbox doctor``: is this installation ready to run? Each check says ✔ (fine), ⚠ (works, but
look at it) or ✘ (broken), and what to fix.

:func:`diagnose` runs, in order: settings complete → server reachable → JWT login (the service's
saved session when valid, else a login saved for ``rcinbox run``) → scopes on the token → the
user's numbers and which can send SMS (``SmsSender``) → the sender JWTs of other users' extensions
(super admin) → for WebHook mode an https ``RCINBOX_WEBHOOK_URL`` and an Active subscription → the
rules file (an enabled vacation whose window has ended, starts more than 60 days ahead or is
missing is a warning) and its segment budget → the data directory writable. The platform checks are
in :mod:`rcinbox.cli.doctor_platform`, the finding type and printing in :mod:`rcinbox.cli.doctor_findings`.
:func:`run_doctor` is the command: exit status 0 when nothing failed (warnings are advice), 1
otherwise. No secret is ever printed.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console

from rcinbox.cli.doctor_findings import Finding, fail, healthy, ok, render, warn
from rcinbox.cli.doctor_platform import platform_findings
from rcinbox.clock import SYSTEM
from rcinbox.datalock import holder
from rcinbox.errors import ConfigError, RulesError, UnknownSetting
from rcinbox.private import private_dir
from rcinbox.rules import Rules, budget_warnings, load_rules
from rcinbox.rules.budget import LONG_FIRST_NAME, LONG_LAST_NAME
from rcinbox.rules.reply import compose
from rcinbox.rules.sms import encoding, segments, units
from rcinbox.settings import Settings

FAR_AHEAD = timedelta(days=60)  # a vacation starting later than this is probably a typo (the year)
SETTINGS_FIX = (
    "set it in the environment or in .env (README → Configuration; `rcinbox run --help` lists every variable)"
)


def run_doctor(settings: Settings | ConfigError, console: Console | None = None) -> int:
    """Check everything and print the findings; the exit status (0 healthy, 1 not).

    ``settings`` is what ``Settings.from_env`` gave, or the error it raised (the first finding).
    """
    console = console or Console(highlight=False)
    if isinstance(settings, ConfigError):
        findings = [fail("settings", str(settings), settings_fix(settings))]
    else:
        findings = asyncio.run(diagnose(settings))
    render(findings, console)
    good = healthy(findings)
    console.print("[green]all good[/green]" if good else "[red]not ready: see the fixes above[/red]")
    return 0 if good else 1


def settings_fix(error: ConfigError) -> str:
    """What to do about settings that could not be read: an unknown variable is removed or renamed."""
    if not isinstance(error, UnknownSetting):
        return SETTINGS_FIX
    where = str(error.source) if error.source else f"the environment (unset {error.name})"
    rename = f", or rename it to {error.guess}" if error.guess else ""
    return f"remove {error.name} from {where}{rename}: rcinbox has no such setting"


async def diagnose(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> list[Finding]:
    data_dir = await asyncio.to_thread(data_dir_finding, settings.data_dir)  # shown last, checked first:
    keep = data_dir.status != "fail"  # the sessions are saved there for `rcinbox run` (else revoked)
    findings = [settings_finding(settings), *await platform_findings(settings, transport, keep_sessions=keep)]
    findings += rules_findings(settings.rules)
    findings.append(data_dir)
    return findings


def settings_finding(settings: Settings) -> Finding:
    extensions = ", ".join(settings.extensions) or "the JWT user"
    return ok(
        "settings",
        f"server {settings.server_url}, app {settings.client_id}, JWT set, {settings.transport} "
        f"transport, extensions: {extensions}",
    )


def rules_findings(path: Path, now: datetime | None = None) -> list[Finding]:
    if not path.is_file():
        return [
            warn(
                "rules",
                f"no rules file at {path}: vacation replies are off (messages are still archived)",
                f"copy examples/rcinbox.toml to {path} (or point RCINBOX_RULES at your file) and edit it",
            )
        ]
    try:
        rules = load_rules(path)
    except RulesError as exc:
        where = f"line {exc.line} of {exc.path}" if exc.line is not None else str(exc.path)
        return [fail("rules", str(exc), f"correct {where}: `rcinbox run` refuses to start until it is valid")]
    now = now or SYSTEM.now()
    detail, problem = f"{path}: {_summary(rules, now)}", _window_problem(rules, now)
    if problem is None:
        return [ok("rules", detail), budget_finding(rules, path)]
    fix = f"set vacation.start and vacation.end in {path} to your next absence, or enabled = false"
    return [warn("rules", f"{detail}; {problem}", fix), budget_finding(rules, path)]


def _summary(rules: Rules, now: datetime) -> str:
    vacation = rules.vacation
    if not vacation.enabled:
        return "vacation off"
    if vacation.start is None or vacation.end is None:
        return "vacation on, but without start and end it never replies"
    tz = vacation.timezone
    window = (
        f"{vacation.start.astimezone(tz):%Y-%m-%d %H:%M} → {vacation.end.astimezone(tz):%Y-%m-%d %H:%M} {tz}"
    )
    state = "active now" if vacation.active(now) else ("ended" if now >= vacation.end else "not started")
    repeat = "once per window" if vacation.repeat_after is None else f"every {_span(vacation.repeat_after)}"
    return f"vacation {window} ({state}), audience {vacation.audience}, at most {repeat} per sender"


def _window_problem(rules: Rules, now: datetime) -> str | None:
    """Why an enabled vacation will not reply any time soon (a stale or mistyped window), or ``None``."""
    vacation = rules.vacation
    if not vacation.enabled or vacation.start is None or vacation.end is None:
        return None  # the rules refuse an enabled vacation without its window
    if now >= vacation.end:
        return "the window has ended: no auto-replies go out"
    if vacation.start - now > FAR_AHEAD:
        days = (vacation.start - now).days
        return f"the window starts in {days} days (more than {FAR_AHEAD.days} ahead): is the year right?"
    return None


def _span(delta: timedelta) -> str:
    """``7 days``, ``1 week 2 hours``, ``90 minutes`` → the largest whole units, no seconds."""
    minutes = int(delta.total_seconds()) // 60
    parts = []
    for name, size in (("week", 7 * 24 * 60), ("day", 24 * 60), ("hour", 60), ("minute", 1)):
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count} {name}{'s' if count > 1 else ''}")
    return " ".join(parts) or "0 minutes"


def budget_finding(rules: Rules, path: Path) -> Finding:
    if not rules.vacation.enabled:
        return ok("segment budget", "vacation off: nothing to send")
    problems = budget_warnings(rules)
    if problems:
        return warn("segment budget", "; ".join(problems), f"edit vacation.message in {path}")
    text = compose(rules, LONG_FIRST_NAME, LONG_LAST_NAME)
    count = segments(text)
    return ok(
        "segment budget",
        f"{units(text)} characters, {encoding(text)}, {count} segment{'s' if count > 1 else ''} "
        f"with a long name ({LONG_FIRST_NAME} {LONG_LAST_NAME})",
    )


def data_dir_finding(data_dir: Path) -> Finding:
    fix = f"create {data_dir} writable by this user, or point RCINBOX_DATA_DIR elsewhere"
    try:
        private_dir(data_dir)  # 0700, as `rcinbox run` makes it: the doctor saves the session there
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".doctor-", delete=True) as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as exc:
        return fail("data directory", f"{data_dir} is not writable: {exc.strerror or exc}", fix)
    tokens = data_dir / "tokens.json"
    if tokens.exists() and tokens.stat().st_mode & 0o077:
        return warn(
            "data directory",
            f"{tokens} is readable by other users",
            f"chmod 600 {tokens} (rcinbox writes it 0600; something changed it)",
        )
    detail = f"{data_dir.resolve()} is writable"
    pid = holder(data_dir)  # doctor does not take the service's lock: it runs beside the service
    if pid is not None:
        detail += f"; rcinbox is running on it (pid {pid})" if pid else "; rcinbox is running on it"
    return ok("data directory", detail)

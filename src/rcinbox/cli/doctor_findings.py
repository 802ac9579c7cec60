"""What ``rcinbox doctor`` reports: one :class:`Finding` per check, and how findings are printed.

Marks: ✔ ok, ⚠ warn (works, but look at it: advice, the exit status stays 0), ✘ fail, – skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rich.console import Console
from rich.markup import escape

from rcinbox.logs import redact

Status = Literal["ok", "warn", "fail", "skip"]
MARKS: dict[Status, str] = {
    "ok": "[green]✔[/green]",
    "warn": "[yellow]⚠[/yellow]",
    "fail": "[red]✘[/red]",
    "skip": "[dim]–[/dim]",
}


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    detail: str
    fix: str = ""  # what to do about it (fail and warn)


def ok(check: str, detail: str) -> Finding:
    return Finding(check, "ok", detail)


def warn(check: str, detail: str, fix: str) -> Finding:
    return Finding(check, "warn", detail, fix)


def fail(check: str, detail: str, fix: str) -> Finding:
    return Finding(check, "fail", detail, fix)


def skip(check: str, why: str) -> Finding:
    return Finding(check, "skip", f"not checked: {why}")


def healthy(findings: Iterable[Finding]) -> bool:
    """No check failed (warnings are advice, skipped checks follow a failure)."""
    return all(finding.status != "fail" for finding in findings)


def render(findings: Iterable[Finding], console: Console) -> None:
    """``✔ check  detail`` lines, each failure or warning followed by ``fix: …``; text is redacted."""
    for finding in findings:
        line = f"{MARKS[finding.status]} [bold]{finding.check}[/bold]: {escape(redact(finding.detail))}"
        console.print(line, soft_wrap=True)
        if finding.fix and finding.status in ("fail", "warn"):
            console.print(f"    fix: {escape(redact(finding.fix))}", soft_wrap=True)

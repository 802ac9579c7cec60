"""Texts answered under RingCentral's default rate limits, against the minimum those limits allow.

The emulator enforces RingCentral's defaults (src/rcinbox/emulator/ratelimit.py): per user and
app, a sliding window of W = 60 s, Medium (``POST .../sms``) L = 40 requests per window; going
over answers 429 and starts a 60 s penalty that every request during it restarts. A request leaves
the window W after it was counted, so N replies from one extension cannot all be sent before
(ceil(N / L) - 1) * W after the first: 200 replies need 240 s at best (40 at once, then 40 every
60 s). That is the minimum a run is compared with; with several extensions each has its own
budget, and the minimum is that of the busiest one.

A run: a fresh emulator (log at INFO, to count its 429 answers), rcinbox started as a user starts
it, then one whole window of quiet so the Medium calls of rcinbox's start (the subscription, the
company directory) have left the window and the texts find the full budget, as they would on a
service that has been running; then N texts from distinct senders posted at once. The figure is
seconds from the first post to the last reply's ``creationTime``.

``--quick`` scales the window and the penalty to 6 s (limits per window unchanged, told to the
emulator through its control API before rcinbox starts; rcinbox learns the window from the
``X-Rate-Limit-Window`` header, as from RingCentral's) and posts fewer texts; its minimum is
computed the same way from the numbers in force.

The multi-extension variant: Alex Morgan (super admin) receives for himself and Blair Kim
(``RCINBOX_EXTENSIONS``), with Blair's JWT in ``RCINBOX_SENDER_JWTS`` for Blair's replies; the texts
are split between their numbers, so each extension's budget can be used in parallel.
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import Any

from bench import procs
from bench.contract import Figure, Scenario
from bench.scenarios import _replying as r

LIMIT = 40  # Medium requests per window, RingCentral's default (and the emulator's)
BLAIR = "+16505550102"  # Blair Kim's number in the emulator's built-in account


def minimum(n: int, limit: int, window: float) -> float:
    """Seconds from the first to the last of ``n`` requests of one group, at ``limit`` per
    sliding ``window``, starting with the whole budget free."""
    return (math.ceil(n / limit) - 1) * window


def run(quick: bool) -> Scenario:
    window = 6.0 if quick else 60.0
    single_n, multi_n = (80, 120) if quick else (200, 200)
    single = _run(single_n, window, multi=False)
    multi = _run(multi_n, window, multi=True)
    single_min = minimum(single_n, LIMIT, window)
    multi_min = minimum(math.ceil(multi_n / 2), LIMIT, window)
    minimum_name = "minimum the limits allow"
    return Scenario(
        name="default_limits",
        title="Replies under RingCentral's default rate limits",
        figures=(
            Figure.of_runs(
                f"{single_n} texts answered, one extension",
                "s",
                [single["seconds"]],
                higher_is_better=False,
                baseline_runs=[single_min],
                baseline_name=minimum_name,
                target=1.05,
                target_is_ratio=True,
            ),
            Figure.of_runs(
                "429 answers, one extension", "", [single["429"]], higher_is_better=False, target=0
            ),
            Figure.of_runs(
                f"{multi_n} texts answered, two extensions",
                "s",
                [multi["seconds"]],
                higher_is_better=False,
                baseline_runs=[multi_min],
                baseline_name=minimum_name,
                target=1.05,
                target_is_ratio=True,
            ),
            Figure.of_runs(
                "429 answers, two extensions", "", [multi["429"]], higher_is_better=False, target=0
            ),
        ),
        notes=(
            f"Medium {LIMIT} per {window:g} s sliding window, penalty {window:g} s"
            + (" (quick: RingCentral's 60 s window and penalty scaled to 6 s)" if quick else "")
            + f"; minimum = (ceil(N / {LIMIT}) - 1) x {window:g} s: {single_min:g} s for {single_n} from one "
            f"extension, {multi_min:g} s for {multi_n} split over two",
            f"one run each (a run lasts several windows); 429s counted in the emulator's log; "
            f"Medium requests that were not /sms during the runs: {single['other']} and {multi['other']}",
            "the machine (2 cores) was shared with other work",
        ),
    )


def _run(n: int, window: float, *, multi: bool) -> dict[str, Any]:
    tag = "multi" if multi else "single"
    with r.workdir(f"limits-{tag}") as tmp:
        directory = Path(tmp)
        log = directory / "emulator.log"
        with procs.emulator("--log-level", "INFO", log=log) as emulator:
            if window != 60:
                r.faults(emulator, {"rateLimits": {"window": window, "penalty": window}})
            state = emulator.state()
            alex, blair = state["extensions"][0], state["extensions"][1]
            env = (
                {
                    "RCINBOX_EXTENSIONS": f"{alex['id']},{blair['id']}",
                    "RCINBOX_SENDER_JWTS": f"{blair['id']}={blair['jwt']}",
                }
                if multi
                else {}
            )
            with r.rcinbox(emulator, directory, env=env):
                time.sleep(window + 1)  # rcinbox's start-up Medium calls leave the window
                mark = log.stat().st_size
                replies = r.Replies(emulator.url, r.last_outbound_id(emulator.url))
                try:
                    numbers = r.senders(n)
                    bodies = r.texts(numbers)
                    if multi:
                        for body in bodies[1::2]:
                            body["to"] = BLAIR
                    sent = r.inject(emulator.url, bodies)
                    answered = replies.wait(numbers, timeout=120 + 2 * minimum(n, LIMIT, window))
                finally:
                    replies.close()
        lines = log.read_bytes()[mark:].decode(errors="replace").splitlines()
    return {
        "seconds": max(answered.values()) - min(sent),
        "429": sum(1 for line in lines if _STATUS_429.search(line)),
        "other": sum(1 for line in lines if _MEDIUM_NOT_SMS.search(line)),
    }


_STATUS_429 = re.compile(r"(HTTP|WS) \S+ \S+ -> 429")
# Medium calls other than sending: subscription create/update/delete, directory, store PUT/DELETE,
# attachment content (src/rcinbox/emulator/rest, group="Medium").
_MEDIUM_NOT_SMS = re.compile(
    r"(HTTP|WS) (POST /restapi/v1\.0/subscription |PUT /restapi/v1\.0/subscription/"
    r"|DELETE /restapi/v1\.0/subscription/|GET \S*/directory/entries"
    r"|PUT \S*/message-store/|DELETE \S*/message-store/|GET \S*/content/)"
)

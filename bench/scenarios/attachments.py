"""A flood of MMS, and a plain text from a contact sent right after it: how long the text waits
for its reply, and how fast the MMS are archived.

The emulator models the platform's distance (``--latency-ms 50`` on every REST answer, so on every
attachment download) with every rate limit raised to 1,000,000 per window (see
:func:`bench.scenarios._replying.lift_limits`), so the figure is about the reply path, not about
the Medium budget that downloads and sends share on the platform.

A run: rcinbox started as a user starts it; first, with nothing else going on, a text from Alex
Morgan's contact Charlie Williams (the baseline: the same text without a flood); then ``N`` MMS
(one JPEG-typed attachment each, 50 to 300 KB) from 10 senders, posted as fast as the emulator
takes them (10 senders, so the flood itself asks for only 10 replies: the contact's reply does not
queue behind hundreds of others); right after the last MMS is posted, a text from another contact
(Dana): seconds from its post to its reply's ``creationTime``. MMS archived/s: N / (the moment the
archive holds all N attachments as stored, read from rcinbox's SQLite every 0.1 s - the first MMS's
post).
"""

from __future__ import annotations

import base64
import random
import time
from pathlib import Path
from typing import Any

from bench import procs
from bench.contract import Figure, Scenario
from bench.scenarios import _replying as r

FLOOD_SENDERS = 10
SIZES = (50_000, 300_000)


def run(quick: bool) -> Scenario:
    n = 100 if quick else 500
    runs = 1 if quick else 3
    results = [_run(n, i) for i in range(runs)]
    return Scenario(
        name="attachments",
        title=f"A plain text after a flood of {n} MMS",
        figures=(
            Figure.of_runs(
                f"contact's text answered, after {n} MMS",
                "s",
                [x["flooded"] for x in results],
                higher_is_better=False,
                baseline_runs=[x["idle"] for x in results],
                baseline_name="the same text, no flood",
                target=2.0,
            ),
            Figure.of_runs("MMS archived/s", "/s", [x["archived"] for x in results], higher_is_better=True),
        ),
        notes=(
            f"{runs} run(s); --latency-ms 50, limits lifted; {n} MMS of 50-300 KB from {FLOOD_SENDERS} "
            "senders, then a contact's plain text",
            "MMS posted at "
            + ", ".join(f"{x['posted']:.0f}/s" for x in results)
            + " (the emulator's intake with these bodies)",
            "the machine (2 cores) was shared with other work",
        ),
    )


def _images(count: int, seed: int) -> list[str]:
    """``count`` distinct JPEG-typed payloads of 50-300 KB, base64 (random bytes behind an SOI marker)."""
    rng = random.Random(seed)
    return [
        base64.b64encode(b"\xff\xd8\xff\xe0" + rng.randbytes(rng.randint(*SIZES))).decode()
        for _ in range(count)
    ]


def _run(n: int, i: int) -> dict[str, Any]:
    images = _images(25, seed=i)
    with r.workdir(f"attachments-{i}") as tmp, procs.emulator("--latency-ms", "50") as emulator:
        r.lift_limits(emulator)
        contacts = [
            c["mobilePhone"] for c in emulator.state()["extensions"][0]["contacts"] if "mobilePhone" in c
        ]
        before, after = contacts[0], contacts[1]
        with r.rcinbox(emulator, Path(tmp)) as rcinbox:
            replies = r.Replies(emulator.url, r.last_outbound_id(emulator.url))
            try:
                idle = _answer_time(emulator.url, replies, before)
                flood_from = r.senders(FLOOD_SENDERS)
                bodies = [
                    {
                        "from": flood_from[k % FLOOD_SENDERS],
                        "to": r.OWNER,
                        "text": "",
                        "attachments": [
                            {
                                "contentType": "image/jpeg",
                                "contentBase64": images[k % len(images)],
                                "fileName": "photo.jpg",
                            }
                        ],
                    }
                    for k in range(n)
                ]
                sent = r.inject(emulator.url, bodies)
                flooded = _answer_time(emulator.url, replies, after)
                stored = "SELECT count(*) FROM attachments WHERE state = 'stored'"
                procs.wait_until(
                    lambda: r.count(rcinbox.data_dir, stored) >= n, 60 + n, f"{n} MMS archived", every=0.1
                )
                archived_at = time.time()
            finally:
                replies.close()
    return {
        "idle": idle,
        "flooded": flooded,
        "archived": n / (archived_at - min(sent)),
        "posted": n / (max(sent) - min(sent)),
    }


def _answer_time(url: str, replies: r.Replies, sender: str) -> float:
    """Post a plain text from ``sender``: seconds until its reply's ``creationTime``."""
    (sent,) = r.inject(url, [{"from": sender, "to": r.OWNER, "text": "Hi Alex, can you call me back today?"}])
    return replies.wait([sender], timeout=120)[sender] - sent

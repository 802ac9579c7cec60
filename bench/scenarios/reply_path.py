"""Inbound text -> reply: throughput at saturation, latency at a steady rate, and a burst over a
modelled round trip, beside programs written the way RingCentral's guide samples work.

Every run starts a fresh emulator with every rate limit raised to 1,000,000 per window ("limits
lifted": see :func:`bench.scenarios._replying.lift_limits` for why not ``--no-rate-limits``) and
the subject on it, answering Alex Morgan's number +16505550100; each text comes from a new sender
so the once-per-sender rule never suppresses a reply.

- saturation: ``N`` texts posted to ``/_emulator/inbound`` as fast as 4 connections take them;
  replies/s = N / (the last reply's ``creationTime`` - the moment the first text was posted).
- latency: texts posted at a steady 10 per second (below rcinbox's saturation today: no queue),
  then at 50 per second; each text's latency is its reply's
  ``creationTime`` minus the moment the bench posted it (one system clock, milliseconds), p50/p99.
- burst: the emulator at ``--latency-ms 50`` (every REST answer and notification 50 ms later);
  100 texts posted at once; seconds from the first post to the last reply's ``creationTime``.

Baselines, interleaved with rcinbox run by run: bench/baselines/sdk_sample.mjs (JS SDK, replies
fire-and-forget) for all three, bench/baselines/sdk_sample.py (Python SDK, one synchronous reply at
a time) for the burst.
"""

from __future__ import annotations

from pathlib import Path

from bench import procs
from bench.contract import Figure, Scenario
from bench.scenarios import _replying as r

RATE = 50.0  # texts per second for the latency figure
LOW_RATE = 10.0  # the same, below rcinbox's saturation today: latency without a queue
BURST = 100


def run(quick: bool) -> Scenario:
    runs = 1 if quick else 3
    saturation_n = 150 if quick else 1000
    latency_n = 50 if quick else 500
    low_n = 20 if quick else 100
    figures: dict[str, dict[str, list[float]]] = {}

    def add(figure: str, who: str, value: float) -> None:
        figures.setdefault(figure, {}).setdefault(who, []).append(value)

    ceiling = r.ingest_ceiling(500 if quick else 2000)
    for i in range(runs):
        for who in ("rcinbox", "js"):
            rate, (low50, low99), (p50, p99) = _loopback(who, saturation_n, latency_n, low_n, tag=f"{i}")
            add("saturation", who, rate)
            add("low50", who, low50)
            add("low99", who, low99)
            add("p50", who, p50)
            add("p99", who, p99)
        for who in ("rcinbox", "python", "js"):
            add("burst", who, _burst(who))

    def of(name: str, who: str) -> list[float]:
        return figures[name][who]

    js, py = "JS SDK sample", "Python SDK sample"
    return Scenario(
        name="reply_path",
        title="Inbound text -> reply (limits lifted)",
        figures=(
            Figure.of_runs(
                "replies/s at saturation, loopback",
                "/s",
                of("saturation", "rcinbox"),
                higher_is_better=True,
                baseline_runs=of("saturation", "js"),
                baseline_name=js,
                target=200,
            ),
            Figure.of_runs(
                f"inbound->reply p50 at {LOW_RATE:g} msg/s",
                "ms",
                of("low50", "rcinbox"),
                higher_is_better=False,
                baseline_runs=of("low50", "js"),
                baseline_name=js,
            ),
            Figure.of_runs(
                f"inbound->reply p99 at {LOW_RATE:g} msg/s",
                "ms",
                of("low99", "rcinbox"),
                higher_is_better=False,
                baseline_runs=of("low99", "js"),
                baseline_name=js,
            ),
            Figure.of_runs(
                f"inbound->reply p50 at {RATE:g} msg/s",
                "ms",
                of("p50", "rcinbox"),
                higher_is_better=False,
                baseline_runs=of("p50", "js"),
                baseline_name=js,
            ),
            Figure.of_runs(
                f"inbound->reply p99 at {RATE:g} msg/s",
                "ms",
                of("p99", "rcinbox"),
                higher_is_better=False,
                baseline_runs=of("p99", "js"),
                baseline_name=js,
                target=50,
            ),
            Figure.of_runs(
                f"burst of {BURST} answered, --latency-ms 50, vs JS",
                "s",
                of("burst", "rcinbox"),
                higher_is_better=False,
                baseline_runs=of("burst", "js"),
                baseline_name=js,
                target=1.0,
                target_is_ratio=True,
            ),
            Figure.of_runs(
                f"burst of {BURST} answered, --latency-ms 50, vs Python",
                "s",
                of("burst", "rcinbox"),
                higher_is_better=False,
                baseline_runs=of("burst", "python"),
                baseline_name=py,
                target=1 / 3,
                target_is_ratio=True,
            ),
        ),
        notes=(
            f"{runs} run(s) each, rcinbox and the samples interleaved; saturation {saturation_n} texts, "
            f"latency {low_n} texts at {LOW_RATE:g}/s then {latency_n} at {RATE:g}/s, burst {BURST} texts",
            f"emulator alone: takes {ceiling:,.0f} inbound texts/s (nobody subscribed); the JS sample's "
            "saturation figure is the emulator's reply ceiling with a minimal client",
            "times: text posted (bench clock) -> reply creationTime (emulator clock, same machine, ms)",
            "burst runs (s): "
            + "; ".join(f"{w} {r.fmt_runs(of('burst', w))}" for w in ("rcinbox", "python", "js")),
            "the machine (2 cores) was shared with other work: figures are medians of noisy runs",
        ),
    )


def _loopback(
    who: str, saturation_n: int, latency_n: int, low_n: int, tag: str
) -> tuple[float, tuple[float, float], tuple[float, float]]:
    """One run of ``who`` at loopback, limits lifted: replies/s at saturation, and (p50, p99) in
    ms at ``LOW_RATE`` then at ``RATE``."""
    with r.workdir(f"reply-{who}-{tag}") as tmp, procs.emulator() as emulator:
        r.lift_limits(emulator)
        with r.subject(who, emulator, Path(tmp)):
            replies = r.Replies(emulator.url, r.last_outbound_id(emulator.url))
            try:
                low = _latencies(emulator.url, replies, r.senders(low_n), LOW_RATE)
                steady = _latencies(emulator.url, replies, r.senders(latency_n, offset=low_n), RATE)
                flood = r.senders(saturation_n, offset=low_n + latency_n)
                sent = r.inject(emulator.url, r.texts(flood, offset=low_n + latency_n))
                answered = replies.wait(flood, timeout=60 + saturation_n / 5)
            finally:
                replies.close()
    rate = saturation_n / (max(answered.values()) - min(sent))
    return rate, low, steady


def _latencies(url: str, replies: r.Replies, numbers: list[str], rate: float) -> tuple[float, float]:
    """Texts from ``numbers`` posted at ``rate`` per second: (p50, p99) of post -> reply, in ms."""
    sent = r.inject(url, r.texts(numbers), every=1 / rate)
    answered = replies.wait(numbers, timeout=60 + len(numbers) / 5)
    latencies = [(answered[n] - t) * 1000 for n, t in zip(numbers, sent, strict=True)]
    return r.percentile(latencies, 50), r.percentile(latencies, 99)


def _burst(who: str) -> float:
    """Seconds ``who`` takes to answer a burst of 100 texts at ``--latency-ms 50``."""
    with r.workdir(f"burst-{who}") as tmp, procs.emulator("--latency-ms", "50") as emulator:
        r.lift_limits(emulator)
        with r.subject(who, emulator, Path(tmp)):
            replies = r.Replies(emulator.url, r.last_outbound_id(emulator.url))
            try:
                numbers = r.senders(BURST)
                sent = r.inject(emulator.url, r.texts(numbers))
                answered = replies.wait(numbers, timeout=120)
            finally:
                replies.close()
    return max(answered.values()) - min(sent)

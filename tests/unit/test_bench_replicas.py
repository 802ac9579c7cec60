"""The replicas benchmark's figures: each PostgreSQL set-up's medians beside the SQLite process's
of the same run (the ratio the docs quote), and the takeover's from the three-replica runs."""

from __future__ import annotations

from bench.loadgen import Load
from bench.scenarios.replicas import Run, summarise


def load(rps: float, p99: float, non_200: int = 0) -> Load:
    return Load(
        sent=int(rps) * 10,
        ok=int(rps) * 10 - non_200,
        statuses={"200": int(rps) * 10 - non_200},
        errors=0,
        seconds=10,
        rps=rps,
        p50=p99 / 4,
        p99=p99,
        cpu_seconds=1,
    )


def run(rps: float, archived: float, takeover: tuple[float, float] | None = None) -> Run:
    return Run(archived, archived + 1, 20, load(rps, 100), 90, 0, takeover)


def test_each_set_up_is_reported_beside_the_sqlite_process_of_the_same_run() -> None:
    results = {
        "sqlite": [run(1000, 2), run(800, 3), run(900, 4)],
        "pg": [run(1200, 2), run(1100, 2), run(1300, 2)],
        "pg3": [run(600, 5, (0.5, 0.6)), run(700, 6, (1.5, 1.7)), run(500, 7, (2.0, 2.1))],
    }

    scenario = summarise(results, seconds=10, texts=600, senders=100)
    figures = {f.name: f for f in scenario.figures}

    three = figures["3 replicas, PostgreSQL: ingest"]
    assert (three.value, three.baseline, three.baseline_name) == (600, 900, "1 process, SQLite")
    assert three.ratio == 600 / 900
    assert figures["1 replica, PostgreSQL: ingest"].ratio == 1200 / 900
    archived = figures["3 replicas, PostgreSQL: burst of 600: all archived"]
    assert (archived.value, archived.baseline) == (6, 3)
    answered = figures["1 replica, PostgreSQL: burst of 600: 100 senders answered"]
    assert (answered.value, answered.baseline) == (3, 4)
    assert figures["takeover: another replica leads"].value == 1.5
    assert figures["takeover: its subscription in place"].value == 1.7
    assert figures["takeover: its subscription in place"].baseline is None
    assert any("replies in each burst" in note and "20" in note for note in scenario.notes)

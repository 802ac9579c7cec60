"""What a scenario hands back: figures, each beside its baseline measured in the same run.

A scenario module in :mod:`bench.scenarios` has one function, ``run(quick: bool) -> Scenario``.
It starts what it measures as separate processes (rcinbox as a user runs it, the emulator, the
baselines), runs rcinbox and each baseline interleaved, ``runs`` times, and reports medians.
``quick`` shortens each run (``make bench QUICK=1``, and the smoke test in ``make test``), it never
changes what is measured.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Figure:
    """One measured figure: rcinbox's median, and the baseline's median from the same run.

    ``target`` is the issue's goal: compared with ``value`` itself, or with ``value / baseline``
    when ``target_is_ratio`` (for a "lower is better" figure the ratio is still value / baseline).
    """

    name: str
    unit: str
    value: float
    higher_is_better: bool
    runs: tuple[float, ...] = ()
    baseline: float | None = None
    baseline_name: str | None = None
    baseline_runs: tuple[float, ...] = ()
    target: float | None = None
    target_is_ratio: bool = False

    @classmethod
    def of_runs(
        cls,
        name: str,
        unit: str,
        runs: Sequence[float],
        *,
        higher_is_better: bool,
        baseline_runs: Sequence[float] = (),
        baseline_name: str | None = None,
        target: float | None = None,
        target_is_ratio: bool = False,
    ) -> Figure:
        """The figure of several runs (and the baseline's runs): medians of each."""
        return cls(
            name=name,
            unit=unit,
            value=statistics.median(runs),
            higher_is_better=higher_is_better,
            runs=tuple(runs),
            baseline=statistics.median(baseline_runs) if baseline_runs else None,
            baseline_name=baseline_name,
            baseline_runs=tuple(baseline_runs),
            target=target,
            target_is_ratio=target_is_ratio,
        )

    @property
    def ratio(self) -> float | None:
        """rcinbox / baseline (``None`` without a baseline or with a zero one)."""
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        """Whether the target is reached (``None`` when there is no target to compare with)."""
        if self.target is None:
            return None
        compared = self.ratio if self.target_is_ratio else self.value
        if compared is None:
            return None
        return compared >= self.target if self.higher_is_better else compared <= self.target

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "value": self.value,
            "runs": list(self.runs),
            "higher_is_better": self.higher_is_better,
            "baseline": None
            if self.baseline is None
            else {"name": self.baseline_name, "value": self.baseline, "runs": list(self.baseline_runs)},
            "ratio": self.ratio,
            "target": None
            if self.target is None
            else {"value": self.target, "of": "ratio" if self.target_is_ratio else "value", "met": self.met},
        }


@dataclass(frozen=True)
class Scenario:
    """A scenario's result: its figures, and notes (the emulator's ceiling, caveats, settings)."""

    name: str
    title: str
    figures: tuple[Figure, ...]
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "figures": [f.to_json() for f in self.figures],
            "notes": list(self.notes),
        }

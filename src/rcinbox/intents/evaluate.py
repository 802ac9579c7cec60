"""``python -m rcinbox.intents.evaluate [EVAL.tsv] [--backend NAME]`` (``make eval``): each
backend against a labelled evaluation set: accuracy of ``Classification.chosen(min_confidence)``,
per-intent precision and recall, the confusion matrix, the opt-out figures at the shared
thresholds, load time, median latency per message and the memory the backend adds (RSS delta).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rcinbox.clock import SYSTEM
from rcinbox.intent import (
    BACKENDS,
    DEFAULT_MIN_CONFIDENCE,
    INTENTS,
    OPT_OUT_CERTAIN,
    OPT_OUT_REVIEW,
    Classifier,
)
from rcinbox.intents.examples import Example, read_examples

DEFAULT_SET = Path("tests/eval/intents_eval.tsv")


@dataclass
class Report:
    backend: str
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (expected, chosen)
    opt_out_certain: int = 0  # opt-outs at or above OPT_OUT_CERTAIN
    opt_out_total: int = 0
    false_certain: list[str] = field(default_factory=list)  # not opt-outs, yet at or above CERTAIN
    false_review: list[str] = field(default_factory=list)  # not opt-outs, at or above REVIEW
    load_seconds: float = 0.0
    median_ms: float = 0.0
    rss_mb: float = 0.0

    @property
    def accuracy(self) -> float:
        return sum(e == c for e, c in self.pairs) / len(self.pairs)

    @property
    def opt_out_recall(self) -> float:
        return self.opt_out_certain / self.opt_out_total if self.opt_out_total else 1.0

    def precision_recall(self, intent: str) -> tuple[float, float]:
        chosen = sum(c == intent for _, c in self.pairs)
        expected = sum(e == intent for e, _ in self.pairs)
        right = sum(e == c == intent for e, c in self.pairs)
        return (right / chosen if chosen else 1.0), (right / expected if expected else 1.0)


def evaluate(
    load: Callable[[], Classifier],
    examples: Sequence[Example],
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> Report:
    """Load a classifier (timed, with the RSS it adds) and run it over ``examples``."""
    rss = rss_mb()
    start = SYSTEM.monotonic()
    classifier = load()
    report = Report(classifier.backend, load_seconds=SYSTEM.monotonic() - start)
    timings: list[float] = []
    for example in examples:
        start = SYSTEM.monotonic()
        result = classifier.classify(example.text)
        timings.append(SYSTEM.monotonic() - start)
        report.pairs.append((example.intent, result.chosen(min_confidence)))
        opt_out = result.intent == "opt_out"
        if example.intent == "opt_out":
            report.opt_out_total += 1
            report.opt_out_certain += opt_out and result.confidence >= OPT_OUT_CERTAIN
        elif opt_out and result.confidence >= OPT_OUT_CERTAIN:
            report.false_certain.append(example.text)
        elif opt_out and result.confidence >= OPT_OUT_REVIEW:
            report.false_review.append(example.text)
    report.median_ms = statistics.median(timings) * 1000
    report.rss_mb = rss_mb() - rss
    return report


def format_report(report: Report) -> str:
    lines = [
        f"== {report.backend}: accuracy {report.accuracy:.1%} over {len(report.pairs)} messages "
        f"(chosen at min_confidence {DEFAULT_MIN_CONFIDENCE})",
        f"opt-out recall at >= {OPT_OUT_CERTAIN}: {report.opt_out_recall:.1%} "
        f"({report.opt_out_certain}/{report.opt_out_total}); false opt-outs >= {OPT_OUT_CERTAIN}: "
        f"{len(report.false_certain)}; >= {OPT_OUT_REVIEW} (review): {len(report.false_review)}",
        f"load {report.load_seconds * 1000:.0f} ms; median {report.median_ms:.2f} ms a message; "
        f"memory +{report.rss_mb:.0f} MB RSS",
        "",
        f"{'intent':<12}{'precision':>10}{'recall':>8}{'n':>5}",
    ]
    counts = Counter(e for e, _ in report.pairs)
    for intent in INTENTS:
        precision, recall = report.precision_recall(intent)
        lines.append(f"{intent:<12}{precision:>10.1%}{recall:>8.1%}{counts[intent]:>5}")
    lines += [
        "",
        "confusion (rows expected, columns chosen)",
        " " * 12 + "".join(f"{i[:7]:>8}" for i in INTENTS),
    ]
    matrix = Counter(report.pairs)
    for expected in INTENTS:
        lines.append(f"{expected:<12}" + "".join(f"{matrix[(expected, c)]:>8}" for c in INTENTS))
    lines += [f"  false opt-out: {text}" for text in report.false_certain + report.false_review]
    return "\n".join(lines)


def rss_mb() -> float:
    """This process's resident memory, MB (Linux /proc; 0 elsewhere)."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return 0.0
    line = next((s for s in status.splitlines() if s.startswith("VmRSS:")), "VmRSS: 0 kB")
    return int(line.split()[1]) / 1024


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rcinbox.intents.evaluate", description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_SET, help="intent<TAB>text file")
    parser.add_argument("--backend", choices=BACKENDS, action="append", help="default: both")
    args = parser.parse_args(argv)
    from rcinbox.errors import ClassifierError
    from rcinbox.intents import load_classifier

    examples = read_examples(args.path)
    for backend in args.backend or BACKENDS:
        try:
            report = evaluate(functools.partial(load_classifier, backend), examples)
        except ClassifierError as exc:
            sys.stdout.write(f"== {backend}: not evaluated: {exc}\n")
            continue
        sys.stdout.write(format_report(report) + "\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

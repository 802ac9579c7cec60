"""The ``builtin`` classifier's fast path (issue 9) gives exactly what the straightforward one gave.

Two checks:

- against a plain reference kept here (the code before the speed work: a Counter of f-string
  features, a dict vector, the inverted index walked posting by posting, per-intent lists sorted),
  on every evaluation text and every training example: the same similarities bit for bit, the same
  per-intent scores, and the same start-up calibration;
- against outputs recorded from that code (``tests/eval/builtin_expected.jsonl``): the same
  normalised text, opt-out evidence, intent and confidence (to the 4 decimals it is rounded to).
  After a deliberate change to the examples or the rules, regenerate the file with
  ``PYTHONPATH=src:tests/kits python tests/unit/test_intent_builtin_equivalence.py`` and review the
  diff.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from intent_kit import EVAL_SET

from rcinbox.intent import INTENTS, Intent
from rcinbox.intents import BuiltinClassifier
from rcinbox.intents.examples import read_examples, training_examples
from rcinbox.intents.normalise import normalise
from rcinbox.intents.optout import opt_out_evidence
from rcinbox.intents.scoring import K, intent_scores, leave_one_out

RECORDED = EVAL_SET.parent / "builtin_expected.jsonl"
WEIGHTS = {"w": 1.0, "p": 0.7, "c": 0.35}


class Reference:
    """The builtin classifier's arithmetic as it was first written (slow and obvious)."""

    def __init__(self) -> None:
        examples = training_examples()
        self.labels: list[Intent] = [e.intent for e in examples]
        raw = [self.features(normalise(e.text)) for e in examples]
        documents = Counter(f for counts in raw for f in counts)
        self.idf = {f: math.log((1 + len(raw)) / (1 + n)) + 1.0 for f, n in documents.items()}
        self.index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for number, counts in enumerate(raw):
            for feature, weight in self.vector(counts).items():
                self.index[feature].append((number, weight))

    @staticmethod
    def features(normalised: str) -> Counter[str]:
        words = normalised.split()
        counts: Counter[str] = Counter()
        for word in words:
            counts[f"w:{word}"] += 1
            padded = f"#{word}#"
            for n in (2, 3, 4):
                for start in range(len(padded) - n + 1):
                    counts[f"c:{padded[start : start + n]}"] += 1
        for first, second in itertools.pairwise(words):
            counts[f"p:{first} {second}"] += 1
        return counts

    def vector(self, counts: Counter[str]) -> dict[str, float]:
        vector = {
            f: WEIGHTS[f[0]] * (1.0 + math.log(c)) * self.idf[f] for f, c in counts.items() if f in self.idf
        }
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {f: v / norm for f, v in vector.items()}

    def similarities(self, text: str) -> list[float]:
        sims = [0.0] * len(self.labels)
        for feature, weight in self.vector(self.features(normalise(text))).items():
            for number, other in self.index.get(feature, []):
                sims[number] += weight * other
        return sims

    def scores(self, sims: Sequence[float], skip: int = -1) -> dict[Intent, float]:
        by_intent: dict[Intent, list[float]] = {i: [] for i in INTENTS}
        for index, (sim, label) in enumerate(zip(sims, self.labels, strict=True)):
            if index != skip:
                by_intent[label].append(sim)
        return {
            i: sum(sorted(v, reverse=True)[:K]) / len(sorted(v, reverse=True)[:K])
            for i, v in by_intent.items()
            if v
        }


@cache
def built() -> tuple[BuiltinClassifier, Reference]:
    return BuiltinClassifier(), Reference()


def texts() -> list[str]:
    return [e.text for e in read_examples(EVAL_SET)] + [e.text for e in training_examples()]


def observed(classifier: BuiltinClassifier, text: str) -> dict[str, object]:
    result = classifier.classify(text)
    return {
        "text": text,
        "normalised": normalise(text),
        "evidence": opt_out_evidence(text),
        "intent": result.intent,
        "confidence": result.confidence,
    }


def test_similarities_and_scores_are_the_references_bit_for_bit() -> None:
    fast, reference = built()
    for text in texts():
        sims = fast.similarities(text)
        assert sims == reference.similarities(text), text
        assert intent_scores(sims, fast.labels) == reference.scores(sims), text


def test_the_start_up_calibration_is_the_references() -> None:
    fast, reference = built()
    rows = [reference.similarities(e.text) for e in training_examples()]
    assert fast.calibration == leave_one_out(rows, reference.labels)
    for index, row in enumerate(rows[:40]):
        assert intent_scores(row, fast.labels, skip=index) == reference.scores(row, skip=index)


def test_every_text_is_classified_as_recorded() -> None:
    fast, _ = built()
    recorded = [json.loads(line) for line in RECORDED.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in recorded] == texts(), f"{RECORDED} is stale: regenerate it (module docstring)"
    drifted = [(r, now) for r in recorded if (now := observed(fast, str(r["text"]))) != r]
    assert drifted == [], drifted[:5]


def record(path: Path = RECORDED) -> None:
    classifier = BuiltinClassifier()
    lines = [json.dumps(observed(classifier, text), ensure_ascii=False) for text in texts()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    record()

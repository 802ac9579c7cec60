"""The ``builtin`` backend: no dependency beyond the standard library, built at start-up from the
labelled examples in a few tens of milliseconds, deterministic.

A text becomes a TF-IDF vector (sublinear term frequency, smoothed IDF, L2-normalised) over its
normalised words, word pairs and the character 2- to 4-grams of each word (``#stop#`` gives
``#s``, ``st``, …, ``#sto``, …), so misspellings still share most features. Similarity is the
cosine to each labelled example, found through an inverted index; scores, confidence and opt-out
are :mod:`rcinbox.intents.scoring`'s.
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Sequence

from rcinbox.intent import Backend, Classification, Intent
from rcinbox.intents.examples import Example, training_examples
from rcinbox.intents.normalise import normalise
from rcinbox.intents.scoring import Calibration, decide, intent_scores, leave_one_out

WEIGHTS = {"w": 1.0, "p": 0.7, "c": 0.35}  # words, word pairs, character n-grams
Vector = dict[str, float]
NOWHERE: tuple[array[int], array[float]] = (array("i"), array("d"))


def features(normalised: str) -> Counter[str]:
    """Counts of the words, word pairs and character n-grams of a normalised text."""
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


class BuiltinClassifier:
    """TF-IDF k-NN over the labelled examples (see the module's docstring)."""

    backend: Backend = "builtin"

    def __init__(self, examples: Sequence[Example] | None = None) -> None:
        examples = training_examples() if examples is None else examples
        self.labels: list[Intent] = [e.intent for e in examples]
        self.texts = [e.text for e in examples]
        raw = [features(normalise(text)) for text in self.texts]
        documents = Counter(f for counts in raw for f in counts)
        total = len(raw)
        self.idf = {f: math.log((1 + total) / (1 + n)) + 1.0 for f, n in documents.items()}
        vectors = [self._vector(counts) for counts in raw]
        # feature -> (the examples that have it, its weight in each), as packed arrays: a few
        # hundred kB where lists of (int, float) tuples took a few MB for the process's lifetime
        self.index: dict[str, tuple[array[int], array[float]]] = defaultdict(lambda: (array("i"), array("d")))
        for number, vector in enumerate(vectors):
            for feature, weight in vector.items():
                numbers, weights = self.index[feature]
                numbers.append(number)
                weights.append(weight)
        self.index = dict(self.index)
        # Row by row: the square matrix of similarities (~200,000 floats) is never held at once.
        rows = (self._sims(vector) for vector in vectors)
        self.calibration: Calibration = leave_one_out(rows, self.labels)

    def classify(self, text: str) -> Classification:
        return decide(
            text, intent_scores(self.similarities(text), self.labels), self.calibration, self.backend
        )

    def similarities(self, text: str) -> list[float]:
        """The cosine of ``text`` to each labelled example, in order."""
        return self._sims(self._vector(features(normalise(text))))

    def training_similarities(self) -> list[list[float]]:
        """The cosine of each labelled example to each (a square matrix, rows in order)."""
        return [self.similarities(text) for text in self.texts]

    def _vector(self, counts: Counter[str]) -> Vector:
        vector = {
            f: WEIGHTS[f[0]] * (1.0 + math.log(c)) * self.idf[f] for f, c in counts.items() if f in self.idf
        }
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {f: v / norm for f, v in vector.items()}

    def _sims(self, vector: Vector) -> list[float]:
        sims = [0.0] * len(self.labels)
        for feature, weight in vector.items():
            numbers, weights = self.index.get(feature, NOWHERE)
            for number, other in zip(numbers, weights, strict=True):
                sims[number] += weight * other
        return sims

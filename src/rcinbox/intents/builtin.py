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
import operator
from array import array
from collections import Counter, defaultdict
from collections.abc import Sequence

from rcinbox.intent import Backend, Classification, Intent
from rcinbox.intents.examples import Example, training_examples
from rcinbox.intents.normalise import normalise
from rcinbox.intents.scoring import Calibration, Groups, decide, leave_one_out

WEIGHTS = {"w": 1.0, "p": 0.7, "c": 0.35}  # words, word pairs, character n-grams
Vector = dict[str, float]
Postings = tuple[tuple[int, ...], "array[float]"]


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
    """TF-IDF k-NN over the labelled examples (see the module's docstring).

    Per text the work is the same arithmetic as the plain description, in the same order (so the
    same floats, bit for bit), with less of Python around it: only features the examples have are
    counted, a feature seen once in the text takes its weight precomputed, postings are read from
    tuples of shared ints, per-intent groups are known in advance (:class:`Groups`)."""

    backend: Backend = "builtin"

    def __init__(self, examples: Sequence[Example] | None = None) -> None:
        examples = training_examples() if examples is None else examples
        self.labels: list[Intent] = [e.intent for e in examples]
        self.texts = [e.text for e in examples]
        raw = [features(normalise(text)) for text in self.texts]
        documents = Counter(f for counts in raw for f in counts)
        total = len(raw)
        self.idf = {f: math.log((1 + total) / (1 + n)) + 1.0 for f, n in documents.items()}
        # a feature's weight when the text has it once: (WEIGHTS[kind] * (1 + log 1)) * idf, the
        # same float as WEIGHTS[kind] * idf since the factor is exactly 1.0
        self.unit = {f: WEIGHTS[f[0]] * idf for f, idf in self.idf.items()}
        vectors = [self._vector(counts) for counts in raw]
        # feature -> (the examples that have it, its weight in each): numbers as tuples of one shared
        # int per example (read without creating ints), weights packed (a few hundred kB)
        numbers: dict[str, list[int]] = defaultdict(list)
        weights: dict[str, array[float]] = defaultdict(lambda: array("d"))
        shared = tuple(range(total))
        for number, vector in enumerate(vectors):
            for feature, weight in vector.items():
                numbers[feature].append(shared[number])
                weights[feature].append(weight)
        self.index: dict[str, Postings] = {f: (tuple(numbers[f]), weights[f]) for f in numbers}
        self.groups = Groups(self.labels)
        # Row by row: the square matrix of similarities (~200,000 floats) is never held at once.
        rows = (self._sims(vector) for vector in vectors)
        self.calibration: Calibration = leave_one_out(rows, self.labels)

    def classify(self, text: str) -> Classification:
        normalised = normalise(text)
        scores = self.groups.scores(self._sims(self._vector(self._counts(normalised))))
        return decide(text, scores, self.calibration, self.backend, normalised)

    def similarities(self, text: str) -> list[float]:
        """The cosine of ``text`` to each labelled example, in order."""
        return self._sims(self._vector(self._counts(normalise(text))))

    def training_similarities(self) -> list[list[float]]:
        """The cosine of each labelled example to each (a square matrix, rows in order)."""
        return [self.similarities(text) for text in self.texts]

    def _counts(self, normalised: str) -> Counter[str]:
        """:func:`features` restricted to those the examples have, in the same order."""
        known = self.unit
        words = normalised.split()
        found: list[str] = []
        for word in words:
            if (key := f"w:{word}") in known:
                found.append(key)
            padded = f"#{word}#"
            for n in (2, 3, 4):
                for start in range(len(padded) - n + 1):
                    if (key := f"c:{padded[start : start + n]}") in known:
                        found.append(key)
        for first, second in itertools.pairwise(words):
            if (key := f"p:{first} {second}") in known:
                found.append(key)
        return Counter(found)

    def _vector(self, counts: Counter[str]) -> Vector:
        unit, idf, log = self.unit, self.idf, math.log
        vector = {
            f: unit[f] if c == 1 else WEIGHTS[f[0]] * (1.0 + log(c)) * idf[f]
            for f, c in counts.items()
            if f in idf
        }
        values = vector.values()
        norm = math.sqrt(sum(map(operator.mul, values, values))) or 1.0
        return {f: v / norm for f, v in vector.items()}

    def _sims(self, vector: Vector) -> list[float]:
        sims = [0.0] * len(self.labels)
        index = self.index
        for feature, weight in vector.items():
            numbers, weights = index[feature]
            for number, other in zip(numbers, weights, strict=True):
                sims[number] += weight * other
        return sims

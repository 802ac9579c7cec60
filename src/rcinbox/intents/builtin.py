"""The ``builtin`` backend: no dependency beyond the standard library, built at start-up from the
labelled examples in a few tens of milliseconds, deterministic.

A text becomes a TF-IDF vector (sublinear term frequency, smoothed IDF, L2-normalised) over its
normalised words, word pairs and the character 2- to 4-grams of each word (``#stop#`` gives
``#s``, ``st``, …, ``#sto``, …), so misspellings still share most features. Similarity is the
cosine to each labelled example, found through an inverted index; scores, confidence and opt-out
are :mod:`rcinbox.intents.scoring`'s.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from array import array
from collections import Counter, defaultdict
from collections.abc import Sequence
from operator import itemgetter

from rcinbox.intent import INTENTS, Backend, Classification, Intent
from rcinbox.intents.examples import Example, training_examples
from rcinbox.intents.normalise import normalise
from rcinbox.intents.scoring import Calibration, Groups, conclude, leave_one_out, opening, ruled_out

WEIGHTS = {"w": 1.0, "p": 0.7, "c": 0.35}  # words, word pairs, character n-grams
Vector = dict[str, float]
WORD_CACHE = 1024  # words whose known features are remembered (a few hundred bytes each)


class Feature:
    """One feature the labelled examples have: its weights, and its postings in the inverted index
    (the examples that have it, its weight in each)."""

    __slots__ = ("idf", "kind", "numbers", "unit", "weights")

    def __init__(self, name: str, idf: float) -> None:
        self.kind = WEIGHTS[name[0]]
        self.idf = idf
        # its weight in a text that has it once, (kind * (1 + log 1)) * idf: the same float as
        # kind * idf since the factor is exactly 1.0
        self.unit = self.kind * idf
        self.numbers: tuple[int, ...] = ()  # one shared int per example: read without creating ints
        self.weights = array("d")


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

    Per text the arithmetic is the plain description's, in the same order (so the same floats, bit
    for bit), with less Python around it: a word's features the examples have are looked up once
    (a bounded cache of :data:`WORD_CACHE` words), counted as :class:`Feature` objects that carry
    their weights and postings, and a text the scores cannot change is not scored at all."""

    backend: Backend = "builtin"

    def __init__(self, examples: Sequence[Example] | None = None) -> None:
        examples = training_examples() if examples is None else examples
        self.labels: list[Intent] = [e.intent for e in examples]
        self.texts = [e.text for e in examples]
        raw = [features(normalise(text)) for text in self.texts]
        documents = Counter(f for counts in raw for f in counts)
        total = len(raw)
        self.index = {f: Feature(f, math.log((1 + total) / (1 + n)) + 1.0) for f, n in documents.items()}
        vectors = [self._vector(Counter({self.index[f]: c for f, c in counts.items()})) for counts in raw]
        # Inside, the examples are numbered intent by intent (each intent's similarities are then a
        # slice); similarities() gives them back in the examples' order.
        order = sorted(range(total), key=lambda number: INTENTS.index(self.labels[number]))
        inside = [0] * total
        for position, number in enumerate(order):
            inside[number] = position
        self._ranked = Groups([self.labels[number] for number in order])
        self._restore = itemgetter(*inside) if total > 1 else lambda sims: tuple(sims)
        numbers: dict[Feature, list[int]] = defaultdict(list)
        shared = tuple(range(total))
        for number, vector in enumerate(vectors):
            for feature, weight in vector.items():
                numbers[feature].append(shared[inside[number]])
                feature.weights.append(weight)
        for feature, found in numbers.items():
            feature.numbers = tuple(found)
        self._word = functools.lru_cache(maxsize=WORD_CACHE)(self._word_features)
        # Row by row: the square matrix of similarities (~200,000 floats) is never held at once.
        rows = (self._restore(self._sims(vector)) for vector in vectors)
        self.calibration: Calibration = leave_one_out(rows, self.labels)

    def classify(self, text: str) -> Classification:
        """:func:`~rcinbox.intents.scoring.decide` on the scores, in its two halves: a text the
        scores cannot change (no words, an explicit opt-out) is not scored at all, and only the
        intents that can rank first or second are (:meth:`Groups.leading`)."""
        normalised = normalise(text)
        first = opening(text, self.backend, normalised)
        if isinstance(first, Classification):
            return first
        sims = self._sims(self._vector(self._counts(normalised)))
        scores = self._ranked.leading(sims, ruled_out(first))
        return conclude(scores, first, self.calibration, self.backend)

    def similarities(self, text: str) -> list[float]:
        """The cosine of ``text`` to each labelled example, in order."""
        return list(self._restore(self._sims(self._vector(self._counts(normalise(text))))))

    def training_similarities(self) -> list[list[float]]:
        """The cosine of each labelled example to each (a square matrix, rows in order)."""
        return [self.similarities(text) for text in self.texts]

    def _counts(self, normalised: str) -> Counter[Feature]:
        """:func:`features` restricted to those the examples have, in the same order."""
        words = normalised.split()
        found = list(itertools.chain.from_iterable(map(self._word, words)))
        index = self.index
        for first, second in itertools.pairwise(words):
            if (pair := index.get(f"p:{first} {second}")) is not None:
                found.append(pair)
        return Counter(found)

    def _word_features(self, word: str) -> tuple[Feature, ...]:
        """The features of one word (itself, its character n-grams) the examples have, in order."""
        index = self.index
        padded = f"#{word}#"
        names = [f"w:{word}"] + [
            f"c:{padded[start : start + n]}" for n in (2, 3, 4) for start in range(len(padded) - n + 1)
        ]
        return tuple(feature for name in names if (feature := index.get(name)) is not None)

    def _vector(self, counts: Counter[Feature]) -> dict[Feature, float]:
        log = math.log
        vector = {f: f.unit if c == 1 else f.kind * (1.0 + log(c)) * f.idf for f, c in counts.items()}
        values = vector.values()
        norm = math.sqrt(sum(map(operator.mul, values, values))) or 1.0
        return {f: v / norm for f, v in vector.items()}

    def _sims(self, vector: dict[Feature, float]) -> list[float]:
        sims = [0.0] * len(self.labels)
        for feature, weight in vector.items():
            for number, other in zip(feature.numbers, feature.weights, strict=True):
                sims[number] += weight * other
        return sims

"""What both backends share once a text is a vector: per-intent scores from the nearest labelled
examples, a calibrated confidence, and the opt-out evidence.

Scores. For each intent, the mean similarity of the text to its :data:`K` most similar examples of
that intent (k-NN per class). The top intent is the answer.

Confidence. The probability that the top intent is right, from the top score and its margin over
the second, by a logistic model fitted at start-up on the labelled set itself, leave-one-out (each
example scored against all the others). Both backends are calibrated the same way on the same
examples, so a confidence of 0.6 means "right about 60 % of the time" for either, and the shared
thresholds of :mod:`rcinbox.intent` mean the same whatever the backend.

Opt-out. :func:`rcinbox.intents.optout.opt_out_evidence` settles it: an explicit phrase is
``opt_out`` at :data:`~rcinbox.intents.optout.EXPLICIT_CONFIDENCE`; a guarded or absent opt-out word
rules ``opt_out`` out (the best other intent is taken); a mere cue caps the model's ``opt_out``
below ``OPT_OUT_CERTAIN`` (borderline).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from rcinbox.intent import INTENTS, Backend, Classification, Intent
from rcinbox.intents.normalise import normalise
from rcinbox.intents.optout import CUE_CEILING, EXPLICIT_CONFIDENCE, Evidence, opt_out_evidence

K = 3
_NEWTON_STEPS = 25
_RIDGE = 1e-3
_PEAK_MARGIN = 1.0 + 1e-9


@dataclass(frozen=True)
class Calibration:
    """``confidence = sigmoid(bias + w_top * top + w_margin * margin)``."""

    bias: float
    w_top: float
    w_margin: float

    def confidence(self, top: float, margin: float) -> float:
        return _sigmoid(self.bias + self.w_top * top + self.w_margin * margin)


class Groups:
    """The labelled examples' positions grouped by intent (in :data:`INTENTS` order), worked out
    once for a classifier's lifetime instead of on every text."""

    def __init__(self, labels: Sequence[Intent]) -> None:
        self.size = len(labels)
        members: dict[Intent, list[int]] = {i: [] for i in INTENTS}
        for index, label in enumerate(labels):
            members[label].append(index)
        self.members = [(i, tuple(m)) for i, m in members.items() if m]
        # a group's similarities: a slice when its examples are consecutive, else one by one
        self._pick = [(i, _picker(m)) for i, m in self.members]

    def scores(self, sims: Sequence[float], skip: int = -1) -> dict[Intent, float]:
        """Per intent, the mean of its ``K`` highest similarities (example ``skip`` left out)."""
        if len(sims) != self.size:
            raise ValueError(f"{len(sims)} similarities for {self.size} labelled examples")
        scores: dict[Intent, float] = {}
        if skip >= 0:
            for intent, members in self.members:
                values = [sims[m] for m in members if m != skip]
                if values:
                    best = sorted(values, reverse=True)[:K]
                    scores[intent] = sum(best) / len(best)
            return scores
        for intent, pick in self._pick:
            best = sorted(pick(sims), reverse=True)[:K]
            scores[intent] = sum(best) / len(best)
        return scores

    def leading(self, sims: Sequence[float], exclude: Intent | None = None) -> dict[Intent, float]:
        """The scores :func:`top_two` needs from :meth:`scores` (``exclude`` left out): the intents
        that can rank first or second, each exactly as :meth:`scores` has it. Another intent's
        score is at most its best similarity: once two exact scores are above that, it is skipped."""
        peaks = sorted(
            (
                (max(values), intent, values)
                for intent, pick in self._pick
                if intent != exclude
                for values in [pick(sims)]
            ),
            key=itemgetter(0),
            reverse=True,
        )
        scores: dict[Intent, float] = {}
        second = -math.inf  # the second best score found so far
        for peak, intent, values in peaks:
            # a mean of floats may round a hair above their largest: a margin far beyond that
            if peak * _PEAK_MARGIN < second:
                break
            best = sorted(values, reverse=True)[:K]
            scores[intent] = sum(best) / len(best)
            if len(scores) >= 2:
                second = sorted(scores.values())[-2]
        return scores


def _picker(members: tuple[int, ...]) -> Callable[[Sequence[float]], Sequence[float]]:
    """What reads a group's similarities: a slice when its examples are consecutive."""
    if members[-1] - members[0] == len(members) - 1:
        return itemgetter(slice(members[0], members[-1] + 1))
    return itemgetter(*members)  # two or more, so a tuple


def intent_scores(sims: Sequence[float], labels: Sequence[Intent], skip: int = -1) -> dict[Intent, float]:
    """Per intent, the mean of its ``K`` highest similarities (example ``skip`` left out)."""
    return Groups(labels).scores(sims, skip)


def top_two(scores: dict[Intent, float], exclude: Intent | None = None) -> tuple[Intent, float, float]:
    """The best intent, its score and its margin over the runner-up."""
    ranked = sorted(((s, i) for i, s in scores.items() if i != exclude), key=lambda p: (-p[0], p[1]))
    (best, intent), second = ranked[0], (ranked[1][0] if len(ranked) > 1 else 0.0)
    return intent, best, best - second


def fit_calibration(rows: Sequence[tuple[float, float, bool]]) -> Calibration:
    """Logistic regression of "the top intent was right" on (top, margin), by Newton's method."""
    w = [0.0, 0.0, 0.0]
    for _ in range(_NEWTON_STEPS):
        grad = [0.0, 0.0, 0.0]
        hess = [[_RIDGE if r == c else 0.0 for c in range(3)] for r in range(3)]
        for top, margin, right in rows:
            x = (1.0, top, margin)
            p = _sigmoid(sum(wi * xi for wi, xi in zip(w, x, strict=True)))
            for r in range(3):
                grad[r] += (p - float(right)) * x[r]
                for c in range(3):
                    hess[r][c] += p * (1 - p) * x[r] * x[c]
        step = _solve3(hess, [g + _RIDGE * wi for g, wi in zip(grad, w, strict=True)])
        w = [wi - si for wi, si in zip(w, step, strict=True)]
        if max(abs(s) for s in step) < 1e-9:
            break
    return Calibration(*w)


def leave_one_out(rows_of_sims: Iterable[Sequence[float]], labels: Sequence[Intent]) -> Calibration:
    """Calibrate on the labelled set: every example scored against all the others."""
    rows, groups = [], Groups(labels)
    for index, sims in enumerate(rows_of_sims):
        intent, top, margin = top_two(groups.scores(sims, skip=index))
        rows.append((top, margin, intent == labels[index]))
    return fit_calibration(rows)


def decide(
    text: str, scores: dict[Intent, float], calibration: Calibration, backend: Backend
) -> Classification:
    """The classification of ``text`` from its scores, with the opt-out evidence applied; a text
    with no words at all (an MMS with only a picture) is ``other``."""
    first = opening(text, backend)
    return first if isinstance(first, Classification) else conclude(scores, first, calibration, backend)


def opening(text: str, backend: Backend, normalised: str | None = None) -> Classification | Evidence:
    """The first half of :func:`decide`, before any score: the classification itself when no score
    can change it (no words: ``other``; an explicit opt-out), else the opt-out evidence.
    ``normalised`` is ``normalise(text)`` when the caller has it already."""
    if not (normalise(text) if normalised is None else normalised):
        return Classification("other", 1.0, backend)
    evidence = opt_out_evidence(text)
    if evidence == "explicit":
        return Classification("opt_out", EXPLICIT_CONFIDENCE, backend)
    return evidence


def ruled_out(evidence: Evidence) -> Intent | None:
    """The intent the evidence rules out: ``opt_out`` when a guarded or absent opt-out word."""
    return "opt_out" if evidence in ("guarded", "none") else None


def conclude(
    scores: dict[Intent, float], evidence: Evidence, calibration: Calibration, backend: Backend
) -> Classification:
    """The second half of :func:`decide`: the best intent the evidence allows, calibrated."""
    intent, top, margin = top_two(scores, ruled_out(evidence))
    confidence = calibration.confidence(top, margin)
    if intent == "opt_out":
        confidence = min(confidence, CUE_CEILING)
    return Classification(intent, round(confidence, 4), backend)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _solve3(a: list[list[float]], b: list[float]) -> list[float]:
    """Solve the 3×3 system ``a x = b`` (Cramer's rule; ``a`` is positive definite here)."""

    def det(m: list[list[float]]) -> float:
        return (
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        )

    d = det(a)
    return [det([[b[r] if c == k else a[r][c] for c in range(3)] for r in range(3)]) / d for k in range(3)]

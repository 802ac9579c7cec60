"""The evaluation set (tests/eval/intents_eval.tsv, written apart from the training examples)
holds the targets of issue 8 for both backends, so a regression fails CI: opt-out recall 100 % at
or above OPT_OUT_CERTAIN with no false opt-out, accuracy of ``chosen(0.6)`` at least 85 % for
``builtin`` and 90 % for ``embeddings``."""

from __future__ import annotations

from collections import Counter

import pytest
from intent_kit import EVAL_SET, classifier

from rcinbox.intent import INTENTS, Backend
from rcinbox.intents.evaluate import evaluate, format_report, main
from rcinbox.intents.examples import read_examples, training_examples
from rcinbox.intents.normalise import normalise

TARGETS: dict[Backend, float] = {"builtin": 0.85, "embeddings": 0.90}


def test_the_evaluation_set_is_large_varied_and_apart_from_the_training_examples() -> None:
    evaluation = read_examples(EVAL_SET)
    assert len(evaluation) >= 400
    assert set(Counter(e.intent for e in evaluation)) == set(INTENTS)
    trained = {normalise(e.text) for e in training_examples()}
    assert [e.text for e in evaluation if normalise(e.text) in trained] == []


def test_the_training_examples_ship_in_the_package() -> None:
    examples = training_examples()
    assert len(examples) >= 400
    assert min(Counter(e.intent for e in examples).values()) >= 50


@pytest.mark.parametrize("backend", TARGETS)
def test_the_targets_hold_on_the_evaluation_set(backend: Backend) -> None:
    report = evaluate(lambda: classifier(backend), read_examples(EVAL_SET))
    shown = format_report(report)
    assert report.opt_out_recall == 1.0, shown
    assert report.false_certain == [] and report.false_review == [], shown
    assert report.accuracy >= TARGETS[backend], shown


def test_make_eval_prints_both_backends(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(EVAL_SET)]) == 0
    out = capsys.readouterr().out
    for backend in TARGETS:
        assert f"== {backend}: accuracy" in out
    assert "confusion (rows expected, columns chosen)" in out and "median" in out and "RSS" in out


def test_builtin_is_deterministic_and_quick_to_build() -> None:
    from rcinbox.intents import BuiltinClassifier

    texts = [e.text for e in read_examples(EVAL_SET)][:50]
    first, second = BuiltinClassifier(), BuiltinClassifier()
    assert [first.classify(t) for t in texts] == [second.classify(t) for t in texts]


def test_builtin_calibrates_row_by_row_as_on_the_whole_matrix() -> None:
    """The start-up calibration never holds the square matrix, and gets what the matrix gives."""
    from rcinbox.intents import BuiltinClassifier
    from rcinbox.intents.scoring import leave_one_out

    built = BuiltinClassifier()
    assert leave_one_out(built.training_similarities(), built.labels) == built.calibration


def test_the_wheel_ships_the_training_examples() -> None:
    import tomllib
    from fnmatch import fnmatch
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["rcinbox"]
    assert any(fnmatch("intents/examples.tsv", p) for p in patterns)

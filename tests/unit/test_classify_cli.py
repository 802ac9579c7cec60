"""``rcinbox classify``: the chosen intent per argument or stdin line, in order; backend and
threshold from the rules file; one-line errors with exit 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from rcinbox.cli.main import app

CLEAN_ENV: dict[str, str | None] = {
    "RCINBOX_RULES": None,
    "RC_APP_CLIENT_ID": None,
    "RC_APP_CLIENT_SECRET": None,
    "RC_USER_JWT": None,
}


@pytest.fixture(autouse=True)
def _in_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./rcinbox.toml, no ./.env


def classify(*args: str, stdin: str | None = None, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(app, ["classify", *args], input=stdin, env={**CLEAN_ENV, **(env or {})})


def rows(result: Result) -> list[list[str]]:
    assert result.exit_code == 0, result.output
    return [line.split("\t") for line in result.stdout.splitlines()]


def test_each_argument_gets_its_line_in_order() -> None:
    got = rows(
        classify(
            "pls stop texting", "Stop by the office tomorrow?", "thanks!", "can we move tuesday's meeting?"
        )
    )
    assert [(r[0], r[2]) for r in got] == [
        ("opt_out", "pls stop texting"),
        ("question", "Stop by the office tomorrow?"),
        ("thanks", "thanks!"),
        ("appointment", "can we move tuesday's meeting?"),
    ]
    assert all(0 <= float(r[1]) <= 1 for r in got)


def test_without_arguments_each_line_of_stdin_in_order() -> None:
    got = rows(classify(stdin="urgent, my card was stolen, call me\n\nno más mensajes\n"))
    assert [(r[0], r[2]) for r in got] == [
        ("urgent", "urgent, my card was stolen, call me"),
        ("other", ""),
        ("opt_out", "no más mensajes"),
    ]


def test_json_lines() -> None:
    result = classify("--json", "who is this?")
    assert result.exit_code == 0
    (line,) = result.stdout.splitlines()
    record = json.loads(line)
    assert record["intent"] == "help" and record["backend"] == "builtin" and record["text"] == "who is this?"


def test_min_confidence_and_backend_come_from_a_rules_file_with_only_smart(tmp_path: Path) -> None:
    rules = tmp_path / "smart.toml"
    rules.write_text('[smart]\nclassifier = "embeddings"\nmin_confidence = 1.0\n', encoding="utf-8")
    record = json.loads(classify("--json", "--rules", str(rules), "can we meet friday?").stdout)
    assert (record["backend"], record["top"], record["intent"]) == ("embeddings", "appointment", "other")
    via_env = json.loads(classify("--json", "hi", env={"RCINBOX_RULES": str(rules)}).stdout)
    assert via_env["backend"] == "embeddings"


def test_a_bad_rules_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    rules = tmp_path / "bad.toml"
    rules.write_text('[smart]\nclassifier = "bert"\n', encoding="utf-8")
    result = classify("--rules", str(rules), "hi")
    assert result.exit_code == 2
    assert (
        result.stderr
        == f'error: {rules}:2: smart.classifier must be "builtin" or "embeddings", not \'bert\'\n'
    )


def test_a_model_that_is_not_the_pinned_one_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"x")
    rules = tmp_path / "r.toml"
    rules.write_text(
        f'[smart]\nclassifier = "embeddings"\nmodel = "{tmp_path / "model.onnx"}"\n', encoding="utf-8"
    )
    result = classify("--rules", str(rules), "hi")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: ") and "refusing to load it" in result.stderr
    assert result.stderr.count("\n") == 1


def test_the_extra_missing_is_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    rules = tmp_path / "r.toml"
    rules.write_text('[smart]\nclassifier = "embeddings"\n', encoding="utf-8")
    result = classify("--rules", str(rules), "hi")
    assert result.exit_code == 2
    assert (
        result.stderr
        == "error: the \"embeddings\" classifier needs onnxruntime: pip install 'rcinbox[embeddings]'\n"
    )

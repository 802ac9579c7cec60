"""The README stays true: every setting, every decision reason, the rules example, the emulator's
flags and its account-data example are the code's."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest
import typer.main

from rcinbox.cli import main as cli
from rcinbox.emulator.data import load as load_account
from rcinbox.rules import load_rules
from rcinbox.settings import FIELDS, Field

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
decide_module = importlib.import_module("rcinbox.rules.decide")  # the package re-exports decide()
recheck = importlib.import_module("rcinbox.rules.recheck")


def section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def test_quick_start_is_exactly_make_demo_and_make_test() -> None:
    block = re.search(r"```sh\n(.*?)```", section("Quick start"), re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert commands == ["make demo", "make test"]


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.env)
def test_every_setting_is_documented_with_its_flag(field: Field) -> None:
    env, flag = field.env, field.flag
    rows = [line for line in section("Configuration").splitlines() if line.startswith(f"| `{env}` |")]
    assert len(rows) == 1, f"{env} missing from the Configuration table"
    assert f"`{flag}`" in rows[0]


def test_every_decision_reason_is_documented() -> None:
    source = inspect.getsource(decide_module)
    reasons = set(re.findall(r'_suppress\("([a-z-]+)"\)', source))
    reasons |= set(re.findall(r'Decision\("[a-z-]+", "([a-z-]+)"', source))
    reasons |= set(decide_module._KIND_REASONS.values())
    reasons.add("replied")
    for shared in (recheck.consent, recheck.window, recheck.audience):  # checks decide() shares
        reasons |= set(re.findall(r'(?:return|else) "([a-z-]+)"', inspect.getsource(shared)))
    assert len(reasons) >= 18 and {"opted-out", "outside-window", "not-a-contact"} <= reasons
    table = section("What rcinbox never replies to")
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", table, re.M))
    assert reasons <= documented, sorted(reasons - documented)


def test_the_rules_example_parses_and_matches_the_example_file(tmp_path: Path) -> None:
    block = re.search(r"```toml\n(.*?)```", section("Reply rules"), re.S)
    assert block is not None
    shown = tmp_path / "readme.toml"
    shown.write_text(block.group(1), encoding="utf-8")
    assert load_rules(shown) == load_rules(ROOT / "examples" / "rcinbox.toml")


def test_the_emulator_data_example_loads(tmp_path: Path) -> None:
    block = re.search(r"```toml\n(.*?)```", section("The emulator"), re.S)
    assert block is not None
    shown = tmp_path / "account.toml"
    shown.write_text(block.group(1), encoding="utf-8")
    app, account_id, company_numbers, extensions = load_account(shown)
    assert (app.client_id, account_id, company_numbers) == ("my-client-id", 809646016, ["+16505550000"])
    assert [(e.id, e.super_admin, [n.phone_number for n in e.phone_numbers]) for e in extensions] == [
        (62264425016, True, ["+16505550100"]),
        (62264426016, False, ["+16505550102"]),
    ]
    assert extensions[0].contacts[0].phones == {"mobilePhone": "+14155550100"}


def test_the_emulator_synopsis_and_table_list_every_flag() -> None:
    text = section("The emulator")
    synopsis = re.search(r"```sh\n(.*?)```", text, re.S)
    assert synopsis is not None
    emulator = typer.main.get_command(cli.app).commands["emulator"]  # type: ignore[attr-defined]
    for param in emulator.params:
        if param.name == "help":
            continue
        shown = param.secondary_opts if param.default is True else param.opts  # --no-rate-limits
        flag = shown[0]
        assert flag in synopsis.group(1), f"{flag} missing from the emulator synopsis"
        assert re.search(rf"^\| [^|]*`{flag}", text, re.M), f"{flag} missing from the emulator flag table"


def test_the_rules_per_extension_example_holds_what_it_says(tmp_path: Path) -> None:
    text = section("Reply rules")
    block = re.search(r"### Rules per extension\n.*?```toml\n(.*?)```", text, re.S)
    assert block is not None
    shown = tmp_path / "readme.toml"
    example = (ROOT / "examples" / "rcinbox.toml").read_text(encoding="utf-8")
    shown.write_text(example + block.group(1), encoding="utf-8")
    rules = load_rules(shown)
    blair, defaults = rules.for_extension("62264426016"), rules.for_extension("62264425016")
    assert defaults == load_rules(ROOT / "examples" / "rcinbox.toml")
    assert (blair.vacation.enabled, blair.vacation.timezone, blair.vacation.repeat_after) == (
        defaults.vacation.enabled,
        defaults.vacation.timezone,
        defaults.vacation.repeat_after,
    )
    assert blair.vacation.message.startswith("Auto-reply: Hi {first_name}, Blair is away")
    assert blair.vacation.audience == "everyone" and blair.vacation.values["backup_number"] == "+16505550177"
    assert set(blair.smart.replies) == {"urgent"}

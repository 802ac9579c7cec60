"""House style (review of issue 3, finding 13): every service module stays under 400 lines."""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).parents[2] / "src" / "rcinbox"
LIMIT = 400


def test_every_service_module_is_under_the_limit() -> None:
    modules = [p for p in SRC.rglob("*.py") if "emulator" not in p.relative_to(SRC).parts]
    assert len(modules) > 40
    sizes = {p.relative_to(SRC).as_posix(): len(p.read_text(encoding="utf-8").splitlines()) for p in modules}
    assert {name: size for name, size in sizes.items() if size >= LIMIT} == {}
    assert sizes["rules/config.py"] < LIMIT and "rules/lines.py" in sizes

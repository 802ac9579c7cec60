"""User docs never point outside the repository: every relative link resolves to a file of the
checkout, and no path climbs out of it (``../shared/...``); sources are cited by public URL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_stay_in_the_repository(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    outside = [m.group(0) for m in re.finditer(r"\.\./[\w./-]*", text)]
    assert outside == [], f"{doc.name} points outside the repository: {outside}"
    assert "PLATFORM.md" not in text, f"{doc.name} cites notes that are not published; cite a public URL"
    for target in LINK.findall(text):
        if re.match(r"(https?|mailto):|#", target):
            continue
        resolved = (doc.parent / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT), target
        assert resolved.exists(), f"{doc.name} links {target}, which is not in the repository"

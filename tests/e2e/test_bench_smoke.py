"""Every benchmark scenario runs: ``python -m bench --quick --only NAME`` (what ``make bench
QUICK=1`` runs for each) exits 0 and writes figures with finite values, each beside its baseline
when it names one. A smoke test only: performance is judged by ``make bench``, never here.

The scenarios come from the registry; one whose module is not written yet is left out (and shows
in this file's parameter list once it is)."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.registry import SCENARIOS

ROOT = Path(__file__).parents[2]
WRITTEN = [name for name in SCENARIOS if importlib.util.find_spec(f"bench.scenarios.{name}") is not None]

pytestmark = [pytest.mark.slow, pytest.mark.sdk]

# The baselines a scenario measures beside itself (a baseline that failed to run would otherwise
# just be missing from its figures).
BASELINES = {
    "webhook_ingest": {"bare", "bare+SQLite"},
    "footprint": {"SDK sample (Python)"},
    "replicas": {"1 process, SQLite"},
}


def run_quick(name: str, out: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", name, "--out", str(out)],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)])),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (
        f"python -m bench --quick --only {name} failed:\n{done.stdout}\n{done.stderr}"
    )
    report: dict[str, Any] = json.loads((out / "latest.json").read_text())
    return report


@pytest.mark.parametrize("name", WRITTEN)
def test_quick_variant_reports_finite_figures_beside_their_baselines(name: str, tmp_path: Path) -> None:
    report = run_quick(name, tmp_path)

    assert report["quick"] is True
    assert report["machine"]["cpus"] >= 1
    [scenario] = report["scenarios"]
    assert scenario["name"] == name
    assert scenario["figures"], f"{name} reported no figure"
    for figure in scenario["figures"]:
        assert math.isfinite(figure["value"]), figure
        assert figure["runs"] and all(math.isfinite(v) for v in figure["runs"]), figure
        baseline = figure["baseline"]
        if baseline is not None:
            assert baseline["name"], figure
            assert math.isfinite(baseline["value"]), figure
            assert baseline["runs"] and all(math.isfinite(v) for v in baseline["runs"]), figure
    measured = {f["baseline"]["name"] for f in scenario["figures"] if f["baseline"] is not None}
    assert BASELINES.get(name, set()) <= measured

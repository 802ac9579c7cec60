"""``python -m bench [--quick] [--only NAME ...] [--out DIR]``: run the scenarios, print a table,
write ``DIR/latest.json`` (machine facts, and per scenario its figures, baselines and ratios)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench.contract import Figure, Scenario
from bench.registry import SCENARIOS, runner

RESULTS = Path(__file__).parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs (same measurements)")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, metavar="NAME", help="these scenarios only")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where latest.json goes")
    args = parser.parse_args(argv)
    names = args.only or list(SCENARIOS)
    started = time.monotonic()
    results: list[Scenario] = []
    for name in names:
        print(f"== {name} ...", flush=True)
        t0 = time.monotonic()
        scenario = runner(name)(args.quick)
        results.append(scenario)
        print(table([scenario]), flush=True)
        print(f"   ({time.monotonic() - t0:.0f} s)", flush=True)
    report = {"machine": machine(), "quick": args.quick, "scenarios": [s.to_json() for s in results]}
    report["seconds"] = round(time.monotonic() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(table(results))
    print(f"written {args.out / 'latest.json'} in {report['seconds']:.0f} s")
    return 0


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def table(scenarios: list[Scenario]) -> str:
    rows = [("scenario", "figure", "rcinbox", "baseline", "ratio", "target")]
    for s in scenarios:
        for f in s.figures:
            rows.append((s.name, f.name, _value(f.value, f.unit), _baseline(f), _ratio(f), _target(f)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for s in scenarios:
        lines.extend(f"  {s.name}: {note}" for note in s.notes)
    return "\n".join(lines)


def _value(value: float, unit: str) -> str:
    shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{shown} {unit}"


def _baseline(f: Figure) -> str:
    return "" if f.baseline is None else f"{_value(f.baseline, f.unit)} ({f.baseline_name})"


def _ratio(f: Figure) -> str:
    return "" if f.ratio is None else f"{f.ratio:.2f}x"


def _target(f: Figure) -> str:
    if f.target is None:
        return ""
    sign = ">=" if f.higher_is_better else "<="
    shown = f"{f.target:g}x" if f.target_is_ratio else _value(f.target, f.unit)
    return f"{sign} {shown} {'met' if f.met else 'NOT met'}"


if __name__ == "__main__":
    sys.exit(main())

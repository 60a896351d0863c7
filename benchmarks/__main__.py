"""Run every benchmark module and print one table of results.

Each ``benchmarks/bench_*.py`` module exposes ``run(quick: bool) -> list[dict]``; every dict is one row with
at least ``benchmark``, ``subject``, ``n``, ``seconds``, ``per_s`` and, where a reference implementation ran
in the same process, ``ratio`` (subject speed / reference speed) and ``peak_mib``. Rows are printed and
written as JSON lines to ``benchmarks/results/latest.jsonl``, each tagged with its ``module``: a run of some
modules replaces only their rows and keeps the others' from earlier runs.

Usage: ``python -m benchmarks [--quick] [NAME ...]`` where NAME filters modules by substring.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
from pathlib import Path

import benchmarks


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", help="only modules whose name contains one of these")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    out_dir = Path(__file__).parent / "results"
    out_dir.mkdir(exist_ok=True)
    rows: list[dict] = []
    ran: set[str] = set()
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        if args.names and not any(n in info.name for n in args.names):
            continue
        module = importlib.import_module(f"benchmarks.{info.name}")
        print(f"== {info.name}", flush=True)
        ran.add(info.name)
        for row in module.run(quick=args.quick):
            row = {"module": info.name, **row}
            rows.append(row)
            print("   " + "  ".join(f"{k}={_fmt(v)}" for k, v in row.items()), flush=True)
    latest = out_dir / "latest.jsonl"
    kept = [r for r in _read_rows(latest) if r.get("module") not in ran]
    with latest.open("w", encoding="utf-8") as fh:
        for row in kept + rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


if __name__ == "__main__":
    main()

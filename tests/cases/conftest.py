"""Helpers shared by the case-store tests (imported as ``from .conftest import …``)."""

from __future__ import annotations

from pathlib import Path

#: The columns of the case CSVs the import tests write (the ``generic`` mapping's names).
HEADER = "case_id,source,category,lat,lon,reported_at,closed_at,status,description\n"


def write_cases_csv(path: Path, n: int, prefix: str = "NT") -> Path:
    """Write ``n`` rows to ``path`` (the last 5 repeat the first 5 ids, in a later chunk) and one unparseable
    row in the middle: ``n - 5`` cases to import, 5 duplicates, 1 quarantined."""
    lines = [
        f"{prefix}{i % (n - 5)},patrol,06010,{32.0 + i * 1e-4:.6f},{120.86 + (i % 7) * 1e-4:.6f},"
        f"2024-03-05 08:{i % 60:02d}:00,,open,第{i}条\n"
        for i in range(n)
    ]
    lines.insert(n // 2, "BAD,patrol,06010,32.0,120.86,someday,,open,x\n")
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path

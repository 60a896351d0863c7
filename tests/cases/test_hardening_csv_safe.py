"""Every CSV the project writes defuses formula cells (issue #25): one writer, cases.csv_safe."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from app.cli import main
from cases.csv_safe import csv_bytes, defuse_frame, is_formula_safe, write_csv
from cases.db import make_engine
from cases.export import export_cases
from tests.conftest import migrated_sqlite

EVIL = '=HYPERLINK("http://evil.example/x","click")'
HEADER = "case_id,reported_at,category_code,lat,lon,department,description\n"


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig")


def test_the_writer_defuses_text_but_keeps_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "text": [EVIL, "+1", "@SUM(A1)", "-x", "\tTAB", "ok", None],
            "number": [-1.5, 2, 3, 4, 5, 6, 7],
            EVIL: pd.Series(["a", "b", "c", "d", "e", "f", "g"], dtype="string"),
        }
    )
    out = tmp_path / "x.csv"
    write_csv(frame, out)
    text = _text(out)
    assert is_formula_safe(text)
    assert "'" + EVIL.replace('"', '""') in text
    read = pd.read_csv(out)
    assert read["number"].tolist() == [-1.5, 2, 3, 4, 5, 6, 7]
    assert is_formula_safe(csv_bytes(frame).decode("utf-8-sig"))
    assert defuse_frame(frame)["text"].iloc[5] == "ok"
    assert not is_formula_safe(frame.to_csv(index=False))  # the check itself catches the raw writer


def test_quarantine_kpi_and_export_csv_are_safe(tmp_path: Path) -> None:
    rows = [
        f'C1,2025-01-02 08:00,road,31.23,121.47,"{EVIL.replace(chr(34), chr(34) * 2)}",'
        f'"{EVIL.replace(chr(34), chr(34) * 2)}"',
        "C2,2025-01-02 09:00,road,31.23,121.47,@dept,+desc",
        "=cmd|' /C calc'!A0,too,many,fields,here,and,more,still",  # malformed: raw starts with '='
        "C3,2099-01-01 08:00,road,31.23,121.47,d,-bad time",  # quarantined: implausible report time
    ]
    path = tmp_path / "evil.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    url = migrated_sqlite(tmp_path / "t.db")
    quarantine = tmp_path / "q.csv"
    runner = CliRunner()
    result = runner.invoke(
        main, ["--db-url", url, "import", "cases", str(path), "--quarantine-out", str(quarantine)]
    )
    assert result.exit_code == 0, result.output
    assert is_formula_safe(_text(quarantine))
    assert "'=cmd" in _text(quarantine)

    kpi = tmp_path / "kpi.csv"
    result = runner.invoke(main, ["--db-url", url, "kpi", "--by", "department", "--out", str(kpi)])
    assert result.exit_code == 0, result.output
    assert "'" + EVIL.replace('"', '""') in _text(kpi)
    assert is_formula_safe(_text(kpi))

    export = tmp_path / "export.csv"
    engine = make_engine(url)
    assert export_cases(engine, export, fmt="csv") == 2
    engine.dispose()
    assert is_formula_safe(_text(export))
    assert "'+desc" in _text(export)

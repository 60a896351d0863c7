"""Excel ``.xlsx`` via openpyxl (read-only, streaming): cells as the text a user sees, sheet row numbers.

Every cell is read as text, ids and phones included: a whole number is written with all its digits
(``13812345678``, ``320612202501021234`` when the cell holds the exact integer), never in exponent form.
A cell holding a whole *floating-point* number beyond 2**53 (Excel keeps 15–17 significant digits, so an
18-digit id typed as a number is already rounded, ``3.2061220250102e+17``) cannot be trusted as an id: its
row is refused (``inexact_number``) rather than imported under a wrong id that might collide with another
case's.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cases.readers._base import Chunk, ImportReadError, TableSource, dedupe, finish_chunk, sha256_of

_XLSX_HEADER_SCAN_ROWS = 20
#: Largest magnitude up to which every whole float64 is exact (2**53).
_EXACT = float(2**53)


def _load_workbook(path: Path) -> Any:
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        msg = f"{path}: cannot open as an Excel .xlsx workbook ({type(exc).__name__}: {exc})"
        raise ImportReadError(msg) from exc


def _worksheet(workbook: Any, path: Path, sheet: str | None) -> Any:
    if sheet is None:
        return workbook.worksheets[0]
    if sheet not in workbook.sheetnames:
        msg = f"{path}: no sheet {sheet!r} (sheets: {', '.join(workbook.sheetnames)})"
        raise ImportReadError(msg)
    return workbook[sheet]


def _xlsx_header(rows: list[tuple[Any, ...]]) -> int:
    """Index of the header among the first rows: the first with the most non-empty cells (skips titles)."""
    counts = [sum(v is not None and str(v).strip() != "" for v in row) for row in rows]
    if not counts or max(counts) == 0:
        return -1
    return counts.index(max(counts))


def open_xlsx(path: Path, sheet: str | None) -> TableSource:
    workbook = _load_workbook(path)
    try:
        ws = _worksheet(workbook, path, sheet)
        head = [
            row for _, row in zip(range(_XLSX_HEADER_SCAN_ROWS), ws.iter_rows(values_only=True), strict=False)
        ]
        lines = ws.max_row or 0
    finally:
        workbook.close()
    at = _xlsx_header(head)
    if at < 0:
        msg = f"{path}: the sheet has no header row (the first {_XLSX_HEADER_SCAN_ROWS} rows are empty)"
        raise ImportReadError(msg)
    columns = tuple(dedupe([_cell_text(v) or f"column_{i + 1}" for i, v in enumerate(head[at])]))
    return TableSource(path, "xlsx", None, None, None, sheet, sha256_of(path), columns, at + 1, lines)


def _cell_text(value: Any) -> str:
    """An Excel cell as the text a user sees (integers without ``.0``, times in ISO 8601, booleans)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) <= _EXACT:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def xlsx_chunks(source: TableSource, chunksize: int) -> Iterator[Chunk]:
    workbook = _load_workbook(source.path)
    try:
        ws = _worksheet(workbook, source.path, source.sheet)
        rows = ws.iter_rows(values_only=True)
        head = [row for _, row in zip(range(_XLSX_HEADER_SCAN_ROWS), rows, strict=False)]
        at = _xlsx_header(head)
        width = len(source.columns)
        buffer: list[tuple[Any, ...]] = list(head[at + 1 :])
        first_row = at + 2  # 1-based sheet row of buffer[0]
        for row in rows:
            buffer.append(row)
            if len(buffer) >= chunksize:
                yield _xlsx_chunk(buffer, first_row, source.columns, width)
                first_row += len(buffer)
                buffer = []
        yield _xlsx_chunk(buffer, first_row, source.columns, width)
    finally:
        workbook.close()


def _inexact(value: Any) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) > _EXACT


def _xlsx_chunk(rows: list[tuple[Any, ...]], first_row: int, columns: tuple[str, ...], width: int) -> Chunk:
    cells = [(tuple(row) + (None,) * width)[:width] for row in rows]
    line = np.arange(first_row, first_row + len(rows), dtype=np.int64)
    refused = np.array([any(_inexact(v) for v in row) for row in cells], dtype=bool)
    text = [[_cell_text(v) for v in row] for row in cells]
    frame = pd.DataFrame(text, columns=list(columns), dtype=object)
    malformed = None
    if refused.any():
        details = []
        for row in (r for r, bad in zip(cells, refused, strict=True) if bad):
            names = [f"{c} = {v!r}" for c, v in zip(columns, row, strict=True) if _inexact(v)]
            details.append(
                f"{', '.join(names)}: a whole number beyond 2**53 stored as a floating-point number has lost "
                "digits (an id typed as a number?); format the column as text in Excel and export again"
            )
        raw = frame.loc[refused]
        malformed = pd.DataFrame(
            {
                "line": line[refused],
                "raw": [
                    json.dumps(dict(zip(map(str, columns), r, strict=True)), ensure_ascii=False)
                    for r in raw.to_numpy().tolist()
                ],
                "detail": details,
                "reason": "inexact_number",
            }
        )
        frame, line = frame.loc[~refused].reset_index(drop=True), line[~refused]
    return finish_chunk(frame, line, malformed)

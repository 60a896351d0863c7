"""The one CSV writer of the project: text cells that a spreadsheet would run as a formula are defused.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula by
Excel, LibreOffice and Google Sheets (CSV injection, OWASP "CSV Injection"): ``=HYPERLINK("http://…")``
in a citizen's description becomes a live link in an officer's spreadsheet. Such a text cell is written with
a leading apostrophe (``'=HYPERLINK(…)``), which spreadsheets show as text. Only text cells are touched:
numbers (``-3.5``), times and booleans are written as they are, so a negative number stays a number.

Use :func:`write_csv` for files and :func:`csv_bytes` for downloads (``st.download_button``); both accept
any :class:`pandas.DataFrame`. :func:`defuse_frame` returns the defused copy for callers that write
themselves (e.g. chunk by chunk).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import pandas as pd

__all__ = ["FORMULA_START", "csv_bytes", "defuse", "defuse_frame", "is_formula_safe", "write_csv"]

#: First characters that make a spreadsheet treat a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse(text: pd.Series) -> pd.Series:
    """``text`` with an apostrophe before every string value starting with :data:`FORMULA_START`.

    Non-string values (numbers, ``None``/NaN, times) are left unchanged.
    """
    as_text = text.astype("string") if text.dtype != object else text.map(_str_or_none).astype("string")
    risky = as_text.str.startswith(FORMULA_START).fillna(False).to_numpy(dtype=bool)
    if not risky.any():
        return text
    out = text.astype(object).copy()
    out[risky] = ("'" + as_text[risky]).to_numpy(dtype=object)
    return out


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _is_texty(column: pd.Series) -> bool:
    return column.dtype == object or isinstance(column.dtype, pd.StringDtype) or "string" in str(column.dtype)


def defuse_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text columns (and text column names) are defused (see :func:`defuse`)."""
    out = frame.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if _is_texty(column):
            out.isetitem(i, defuse(column))
    names = [
        "'" + n if isinstance(n, str) and n.startswith(FORMULA_START) else n for n in out.columns.tolist()
    ]
    out.columns = names
    return out


def write_csv(
    frame: pd.DataFrame, path_or_buf: str | Path | IO[str], *, encoding: str = "utf-8", **kwargs: Any
) -> None:
    """Write ``frame`` as CSV (``index=False`` unless given) with its text cells defused.

    ``kwargs`` go to :meth:`pandas.DataFrame.to_csv` (``header``, ``lineterminator`` …).
    """
    kwargs.setdefault("index", False)
    if isinstance(path_or_buf, str | Path):
        Path(path_or_buf).parent.mkdir(parents=True, exist_ok=True)
        defuse_frame(frame).to_csv(path_or_buf, encoding=encoding, **kwargs)
    else:
        defuse_frame(frame).to_csv(path_or_buf, **kwargs)


def csv_bytes(frame: pd.DataFrame, *, encoding: str = "utf-8-sig") -> bytes:
    """``frame`` as defused CSV bytes (UTF-8 with BOM by default, so Excel shows Chinese)."""
    return defuse_frame(frame).to_csv(index=False).encode(encoding)


def is_formula_safe(text: str) -> bool:
    """Whether no cell of the CSV ``text`` starts with a formula character (a check for tests)."""
    import csv
    import io

    for row in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")):
        if any(cell.startswith(FORMULA_START) and not _is_number(cell) for cell in row):
            return False
    return True


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True

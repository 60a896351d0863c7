"""Rows converted for the database driver ahead of a bulk write — pure CPU work, no connection.

:func:`prepare_rows` turns a chunk of imported rows into :class:`PreparedRows` (on SQLite: times as
:class:`cases.types.UTCDateTime`'s text, NULL columns left out, constant columns bound once) so that an
importer can convert the next chunk while another thread writes the previous one; :func:`_records` gives
the dict rows of Core ``executemany`` for other backends and :func:`_same` the NULL-aware comparison of
the compare-and-update path. :mod:`cases.bulk` writes them and re-exports the public names.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import itertools
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Leading values of a text column sampled to decide whether sharing repeated texts pays off.
_SHARE_SAMPLE = 1_024


@dataclasses.dataclass(frozen=True)
class PreparedRows:
    """Rows converted for the DBAPI ahead of the write (by :func:`prepare_rows`, in any thread).

    Attributes
    ----------
    n : int
        Number of rows.
    names : tuple of str
        SQLite: the columns whose values vary between rows, in statement order.
    values : tuple of list
        SQLite: for each of ``names``, its ``n`` Python values (None for NULL).
    constant : dict
        SQLite: columns with the same non-NULL value in every row (bound once per statement).
    frame : pandas.DataFrame or None
        Other backends: the rows as given (converted to records on write); None on SQLite.
    """

    n: int
    names: tuple[str, ...] = ()
    values: tuple[list, ...] = ()
    constant: dict[str, object] = dataclasses.field(default_factory=dict)
    frame: pd.DataFrame | None = None

    def __len__(self) -> int:
        return self.n

    def subset(self, keep: np.ndarray) -> PreparedRows:
        """The rows where the boolean mask ``keep`` (shape (n,)) is True, in order."""
        if keep.all():
            return self
        if self.frame is not None:
            return dataclasses.replace(self, n=int(keep.sum()), frame=self.frame.loc[keep])
        mask = keep.tolist()
        values = tuple(list(itertools.compress(v, mask)) for v in self.values)
        return dataclasses.replace(self, n=int(keep.sum()), values=values)


def prepare_rows(dialect: str, frame: pd.DataFrame) -> PreparedRows:
    """Convert ``frame`` for :func:`insert_prepared` on a backend named ``dialect`` (``"sqlite"`` …).

    Pure CPU work on the frame (no connection): an importer can run it for the next chunk while another
    thread writes the previous one. On SQLite: times as :class:`cases.types.UTCDateTime`'s text, NaN/NaT/NA
    as None, columns NULL in every row left out (their default, NULL, applies), and text/integer columns
    with one value in every row kept apart as constants.
    """
    if dialect != "sqlite":
        return PreparedRows(len(frame), frame=frame)
    names: list[str] = []
    values: list[list] = []
    constant: dict[str, object] = {}
    with _gc_paused():
        for name in frame.columns:
            series = frame[name]
            if series.isna().all():
                continue
            column, uniform = _sqlite_column(series)
            first = column[0]
            if uniform and first is not None and column.count(first) == len(column):
                constant[name] = first
            else:
                names.append(name)
                values.append(column)
    return PreparedRows(len(frame), tuple(names), tuple(values), constant)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of row tuples are built (they hold no cycles)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _same(mine: pd.Series, stored: pd.Series) -> np.ndarray:
    """Element-wise equality (vectorised) where two missing values are equal; times as UTC instants."""
    if isinstance(mine.dtype, pd.DatetimeTZDtype):
        a = mine.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
        b = pd.to_datetime(stored, utc=True).dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
        return (a == b) | (np.isnat(a) & np.isnat(b))
    if mine.dtype.kind == "f":
        a = mine.to_numpy(dtype=np.float64, na_value=np.nan)
        b = pd.to_numeric(stored, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        return (a == b) | (np.isnan(a) & np.isnan(b))
    kind = pa.int64() if mine.dtype.kind in "iu" else pa.string()
    a_arr = pa.array(mine, type=kind, from_pandas=True)
    b_arr = pa.array(stored.astype(object).where(stored.notna(), None), type=kind, from_pandas=True)
    equal = pc.fill_null(pc.equal(a_arr, b_arr), False)
    both_missing = pc.and_(pc.is_null(a_arr), pc.is_null(b_arr))
    return pc.or_(equal, both_missing).to_numpy(zero_copy_only=False)


def _sqlite_column(series: pd.Series) -> tuple[list, bool]:
    """Python values for the DBAPI: times as UTCDateTime's SQLite text, NaN/NaT/NA as None.

    Returns the values and whether they all have one Python type (text, integer), i.e. whether equal
    values are interchangeable (not so for floats, where ``0.0 == -0.0``, nor for object columns).
    """
    if isinstance(series.dtype, pd.ArrowDtype | pd.StringDtype):
        return _text_values(pa.array(series, from_pandas=True)), True
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        # Arrow formats timestamp[us] as "YYYY-MM-DD HH:MM:SS.ffffff": SQLAlchemy's SQLite DATETIME text
        values = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
        return pa.array(values, type=pa.timestamp("us"), from_pandas=True).cast(pa.string()).to_pylist(), True
    return _python_column(series), series.dtype.kind in "iu"


def _text_values(arr: pa.Array | pa.ChunkedArray) -> list:
    """``arr.to_pylist()``, but a repeated text is one shared ``str`` object.

    Few distinct values (category codes, departments, Chinese status words …) are decoded once instead of
    once per row, and the sqlite3 module's UTF-8 view of a shared ``str`` is built once, not per bind.
    A sample decides, so mostly-unique columns (ids) skip the dictionary pass.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    if n >= 2 * _SHARE_SAMPLE and pc.count_distinct(arr.slice(0, _SHARE_SAMPLE)).as_py() * 2 <= _SHARE_SAMPLE:
        encoded = pc.dictionary_encode(arr)
        words = encoded.dictionary
        if len(words) * 2 <= n:
            table = np.array([*words.to_pylist(), None], dtype=object)
            codes = encoded.indices.fill_null(len(words)).to_numpy(zero_copy_only=False)
            return table[codes].tolist()
    return arr.to_pylist()


def _python_column(series: pd.Series) -> list:
    """Python values (float, int, str, tz-aware datetime, None) of a column; NaN, NaT and NA become None."""
    if series.dtype.kind in "fiub" and not series.isna().any():
        return series.to_numpy().tolist()  # numpy makes the Python numbers in C
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        out = np.array(series.dt.to_pydatetime(), dtype=object)
    else:
        out = np.array(series.to_numpy(dtype=object), dtype=object)  # a writable copy
    missing = series.isna().to_numpy(dtype=bool)
    if missing.any():
        out[missing] = None
    return out.tolist()


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of Python values for Core ``executemany`` (tz-aware datetimes for typed tables)."""
    columns = {c: _python_column(frame[c]) for c in frame.columns}
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]

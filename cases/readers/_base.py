"""Types shared by the readers: the error, a chunk of rows, a checked source file, and small helpers."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_BLOCK_BYTES = 4 << 20


class ImportReadError(Exception):
    """The file cannot be read as a table at all (missing, not a table, undecodable); nothing was imported."""


@dataclasses.dataclass(frozen=True)
class Chunk:
    """Consecutive rows of a file.

    Attributes
    ----------
    frame : pandas.DataFrame
        The source columns, every value a string (Arrow string dtype), ``""`` for an empty cell. Rows whose
        cells are all empty (blank lines) are already dropped.
    line : numpy.ndarray of int64, shape (len(frame),)
        1-based line (CSV, JSON) or sheet row (xlsx) of each row.
    malformed : pandas.DataFrame
        Rows that could not be split into columns: ``line`` (int), ``raw`` (the row's text), ``detail``
        and ``reason`` (``malformed_row``: wrong number of fields; ``unterminated_quote``,
        ``undecodable_row``: CSV; ``inexact_number``: xlsx).
    blank : int
        Number of all-empty rows dropped from this chunk.
    """

    frame: pd.DataFrame
    line: np.ndarray
    malformed: pd.DataFrame
    blank: int = 0


@dataclasses.dataclass(frozen=True)
class TableSource:
    """A file checked to be readable, with what was detected about it (see :func:`open_table`).

    Attributes
    ----------
    path : pathlib.Path
    format : str
        ``"csv"``, ``"xlsx"`` or ``"json"``.
    compression : str or None
        ``"gzip"`` or ``None``.
    encoding : str or None
        Python codec name of the text (``None`` for xlsx).
    delimiter : str or None
        CSV field delimiter.
    sheet : str or None
        xlsx sheet name (default: the first sheet).
    sha256 : str
        Hex SHA-256 of the file's bytes as stored (compressed, for a ``.gz``).
    columns : tuple of str
        The header, made unique the way pandas does (``x``, ``x.1`` …).
    header_line : int
        1-based line (sheet row for xlsx) of the header; an xlsx header may sit below title rows.
    lines : int
        Physical lines of the text (CSV, JSON) or rows of the sheet (xlsx): an upper bound of the rows,
        known before reading them.
    per_line : tuple of str
        CSV whose whole text no single encoding decodes: the codecs tried line by line, in order (a line
        none decodes is quarantined as ``undecodable_row``); empty when ``encoding`` decodes the whole file.
    warnings : tuple of str
        What the user should know about the file (e.g. a declared encoding that looks wrong).
    """

    path: Path
    format: str
    compression: str | None
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    sha256: str
    columns: tuple[str, ...]
    header_line: int = 1
    lines: int = 0
    per_line: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def dedupe(names: list[str]) -> list[str]:
    """Make header names unique the way pandas does (``x``, ``x.1``, ``x.2`` …)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            out.append(f"{name}.{seen[name]}")
        else:
            seen[name] = 0
            out.append(name)
    return out


def finish_chunk(frame: pd.DataFrame, line: np.ndarray, malformed: pd.DataFrame | None = None) -> Chunk:
    """Drop all-empty rows, make every column Arrow strings, wrap in a :class:`Chunk`."""
    frame = frame.astype(pd.ArrowDtype(pa.string())) if len(frame.columns) else frame
    blank = _blank_rows(frame)
    if blank.any():
        frame = frame.loc[~blank].reset_index(drop=True)
        line = line[~blank]
    if malformed is None:
        malformed = pd.DataFrame(
            {"line": np.array([], dtype=np.int64), "raw": [], "detail": [], "reason": []}
        )
    return Chunk(frame, np.asarray(line, dtype=np.int64), malformed, int(blank.sum()))


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose cells are all empty, whitespace or missing (bool array, shape (len(frame),)).

    Column by column, only over the rows still blank so far: usually the first column settles every row.
    """
    candidates = np.arange(len(frame))
    for name in frame.columns:
        if not candidates.size:
            break
        column = pa.array(frame[name], type=pa.string(), from_pandas=True)
        if candidates.size < len(frame):
            column = column.take(pa.array(candidates))
        empty = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(column), ""), True)
        candidates = candidates[empty.to_numpy(zero_copy_only=False)]
    blank = np.zeros(len(frame), dtype=bool)
    blank[candidates] = True
    return blank


def raw_blocks(path: Path) -> Iterator[bytes]:
    """The file's stored bytes in blocks of 4 MiB."""
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK_BYTES):
            yield block


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of the file's bytes as stored."""
    digest = hashlib.sha256()
    for block in raw_blocks(path):
        digest.update(block)
    return digest.hexdigest()

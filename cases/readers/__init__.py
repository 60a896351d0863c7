"""Read tabular input files as text, chunk by chunk, keeping every row's line number in the file.

Formats: CSV (plain or gzip; any delimiter among ``, \\t ; |``), Excel ``.xlsx`` and Open311 GeoReport v2
``requests.json`` (a JSON array of request objects). Every value is read as a string (no type guessing);
an empty cell is ``""``. Each chunk is a :class:`Chunk`: a DataFrame of the source columns with Arrow string
dtype, the 1-based ``line`` of each row in the file (CSV: the header is line 1 and the first data row line 2,
counting the physical lines of quoted multi-line values; xlsx: the sheet row number; JSON: the array index +
1) and, for CSV, the malformed rows (wrong number of fields) that could not be parsed into columns.

Text encoding (CSV and JSON): a caller-given encoding wins, then a byte-order mark; otherwise the whole file
is decoded strictly as UTF-8, else as GB18030 (a superset of GBK, Excel's default on Chinese Windows); a
file that no candidate decodes as a whole is decoded line by line, and lines no candidate decodes are
quarantined (:mod:`cases.readers._encoding`). Text is never decoded with replacement characters.

CSV records are checked against a strict parser first (:mod:`cases.readers._quotes`): a line that opens a
quoted value never properly closed is quarantined (``unterminated_quote``) instead of swallowing the rows
after it, and reading resumes on the next line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from cases.readers._base import Chunk, ImportReadError, TableSource, finish_chunk
from cases.readers._csv import csv_chunks, csv_header
from cases.readers._encoding import detect_encoding, first_text, sniff_delimiter
from cases.readers._json import read_json
from cases.readers._xlsx import open_xlsx, xlsx_chunks

__all__ = ["CHUNK_ROWS", "Chunk", "ImportReadError", "TableSource", "iter_chunks", "open_table"]

#: Rows per chunk: bounds memory for big files while keeping every step vectorised (the case importer holds
#: up to three chunks at once: one being written, one ready, one being read).
CHUNK_ROWS = 100_000
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"


def open_table(
    path: str | Path, *, encoding: str | None = None, delimiter: str | None = None, sheet: str | None = None
) -> TableSource:
    """Check that ``path`` is a readable table and detect its format, compression, encoding and header.

    Parameters
    ----------
    path
        CSV (``.gz`` allowed), ``.xlsx`` or ``.json`` file. The format is detected from the content (zip →
        xlsx, ``[``/``{`` → JSON, else CSV), so the extension does not matter.
    encoding
        Python codec name to use instead of detecting it (CSV and JSON).
    delimiter
        CSV delimiter to use instead of detecting it from the header line.
    sheet
        xlsx sheet name (default: the first sheet).

    Raises
    ------
    ImportReadError
        Missing or empty file, undecodable or binary text, a header that cannot be parsed, an xlsx that
        openpyxl cannot open, or JSON that is not an array of objects.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: no such file"
        raise ImportReadError(msg)
    with path.open("rb") as fh:
        head = fh.read(4)
    if not head:
        msg = f"{path}: the file is empty"
        raise ImportReadError(msg)
    if head.startswith(_ZIP_MAGIC):
        return open_xlsx(path, sheet)
    compression = "gzip" if head.startswith(_GZIP_MAGIC) else None
    found = detect_encoding(path, compression, encoding)
    used, sha256, lines = found.encoding, found.sha256, found.lines
    first = first_text(path, compression, used, found.per_line)
    if first.lstrip().startswith(("[", "{")):
        columns = tuple(read_json(path, compression, used).columns)
        return TableSource(path, "json", compression, used, None, None, sha256, columns, 1, lines)
    delimiter = delimiter or sniff_delimiter(first)
    columns = csv_header(path, first, delimiter)
    return TableSource(
        path,
        "csv",
        compression,
        used,
        delimiter,
        None,
        sha256,
        columns,
        1,
        lines,
        found.per_line,
        found.warnings,
    )


def iter_chunks(source: TableSource, *, chunksize: int = CHUNK_ROWS) -> Iterator[Chunk]:
    """Yield the rows of ``source`` as :class:`Chunk` objects of at most ``chunksize`` rows, in file order."""
    if source.format == "csv":
        yield from csv_chunks(source, chunksize)
    elif source.format == "xlsx":
        yield from xlsx_chunks(source, chunksize)
    else:
        frame = read_json(source.path, source.compression, source.encoding)
        for start in range(0, max(len(frame), 1), chunksize):
            part = frame.iloc[start : start + chunksize].reset_index(drop=True)
            yield finish_chunk(part, np.arange(start + 1, start + len(part) + 1, dtype=np.int64))

"""CSV through Arrow's streaming reader: every value a string, physical line numbers, malformed rows kept."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from cases.readers._base import Chunk, ImportReadError, TableSource, dedupe, finish_chunk
from cases.readers._encoding import _text_blocks, decode_lines
from cases.readers._quotes import odd_quote_lines, unterminated_lines

#: Bad physical lines found before Arrow reads the file: line → (reason, raw text, detail).
BadLines = dict[int, tuple[str, str, str]]


def _csv_stream(source_path: Path, compression: str | None) -> Any:
    raw = pa.OSFile(str(source_path), "rb")
    return pa.CompressedInputStream(raw, "gzip") if compression == "gzip" else raw


def _repaired_input(source: TableSource) -> tuple[Any, str, BadLines]:
    """The stream Arrow reads, its encoding and the lines it must not parse (see :mod:`._quotes`).

    Undecodable lines (line-by-line decoding) and lines opening an unterminated quote are replaced by an
    all-empty record, so every other line keeps its number; the caller turns them into malformed rows.
    """
    encoding = source.encoding or "utf-8"
    bad: BadLines = {}
    data: bytes | None = None
    if source.per_line:
        data, undecodable = decode_lines(source.path, source.compression, source.per_line)
        encoding = "utf-8"
        tried = ", ".join(source.per_line)
        bad = {n: ("undecodable_row", raw, f"not decodable as {tried}") for n, raw in undecodable.items()}
    if not encoding.replace("_", "-").startswith(("utf-16", "utf-32")):
        odd = odd_quote_lines([data] if data is not None else _text_blocks(source.path, source.compression))
        if odd:
            data = data if data is not None else b"".join(_text_blocks(source.path, source.compression))
            width = len(source.columns)
            for n, raw in unterminated_lines(
                data, odd, encoding=encoding, delimiter=source.delimiter or ",", width=width
            ).items():
                detail = (
                    f"unterminated quoted field: the quote opened on line {n} is not closed before the "
                    f"rows that follow; line {n} quarantined, reading resumed on line {n + 1}"
                )
                bad.setdefault(n, ("unterminated_quote", raw, detail))
    if not bad:  # the file as stored (streamed, not held in memory) unless it was transcoded
        stream = pa.BufferReader(data) if source.per_line else _csv_stream(source.path, source.compression)
        return stream, encoding, bad
    data = data if data is not None else b""
    empty = ((source.delimiter or ",") * (len(source.columns) - 1)).encode(encoding)
    lines = data.split(b"\n")
    for n in bad:
        lines[n - 1] = empty + (b"\r" if lines[n - 1].endswith(b"\r") else b"")
    return pa.BufferReader(b"\n".join(lines)), encoding, bad


def csv_header(path: Path, first: str, delimiter: str) -> tuple[str, ...]:
    """The header fields of the CSV's first record (``first`` is the start of the decoded text)."""
    try:
        names = next(csv.reader(io.StringIO(first, newline=""), delimiter=delimiter))
    except (StopIteration, csv.Error) as exc:
        msg = f"{path}: cannot read the CSV header ({exc})"
        raise ImportReadError(msg) from exc
    if not names or all(not n.strip() for n in names):
        msg = f"{path}: the header line is empty"
        raise ImportReadError(msg)
    return tuple(dedupe(names))


def _csv_read_options(encoding: str, block_size: int) -> pcsv.ReadOptions:
    # Arrow skips a UTF-8 BOM itself; other encodings are transcoded to UTF-8 through Python's codec.
    arrow_encoding = "utf8" if encoding in ("utf-8", "utf-8-sig", "utf_8") else encoding
    return pcsv.ReadOptions(encoding=arrow_encoding, block_size=block_size, use_threads=False)


def csv_chunks(source: TableSource, chunksize: int) -> Iterator[Chunk]:
    """Chunks of exactly ``chunksize`` rows (the last one shorter), read by Arrow in 4 MiB blocks.

    Single-threaded parsing keeps Arrow's record numbers, which :class:`_LineState` turns into physical
    line numbers; rows with the wrong number of fields are skipped by Arrow and returned as ``malformed``.
    """
    invalid: list[tuple[int, str, int, int]] = []

    def on_invalid(row: Any) -> str:
        invalid.append((row.number, row.text, row.expected_columns, row.actual_columns))
        return "skip"

    if source.lines <= 1:  # the header alone, without a final newline: no rows
        return
    names = list(source.columns)
    synthetic = [f"c{i}" for i in range(len(names))]
    stream, encoding, bad = _repaired_input(source)
    read_options = _csv_read_options(encoding, 1 << 22)
    read_options.column_names = synthetic
    read_options.skip_rows = 1  # the header; Arrow still counts it in record numbers
    reader = _open_csv(
        source.path,
        stream,
        read_options=read_options,
        parse_options=pcsv.ParseOptions(
            delimiter=source.delimiter or ",",
            newlines_in_values=True,
            ignore_empty_lines=False,
            invalid_row_handler=on_invalid,
        ),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(synthetic, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    state = _LineState(bad)
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in _read_batches(reader, source.path):
        pending.append(batch)
        rows += batch.num_rows
        while rows >= chunksize:
            table = pa.Table.from_batches(pending, schema=reader.schema)
            yield state.chunk(table.slice(0, chunksize).rename_columns(names), invalid)
            rest = table.slice(chunksize)
            pending, rows = rest.to_batches(), rest.num_rows
    table = pa.Table.from_batches(pending, schema=reader.schema).rename_columns(names)
    if table.num_rows or len(invalid) > state.invalid_used:
        yield state.chunk(table, invalid, final=True)


def _open_csv(path: Path, stream: Any, **options: Any) -> Any:
    try:
        return pcsv.open_csv(stream, **options)
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError) as exc:
        msg = f"{path}: cannot parse the CSV ({exc})"
        raise ImportReadError(msg) from exc


def _read_batches(reader: Any, path: Path) -> Iterator[pa.RecordBatch]:
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except (pa.ArrowInvalid, UnicodeDecodeError, OSError) as exc:
            msg = f"{path}: cannot parse the CSV ({exc})"
            raise ImportReadError(msg) from exc
        yield batch


class _LineState:
    """Turns Arrow's record order into physical line numbers across chunks.

    Arrow numbers records from 1 (the header) and reports skipped malformed records by that number; a
    record spans ``1 + (newlines inside its quoted values)`` physical lines.
    """

    def __init__(self, bad: BadLines | None = None) -> None:
        self.next_record = 2  # record number of the next data row
        self.extra = 0  # newlines inside quoted values of all records before ``next_record``
        self.invalid_used = 0
        self.bad = bad or {}
        self.bad_lines = np.array(sorted(self.bad), dtype=np.int64)

    def chunk(
        self, table: pa.Table, invalid: list[tuple[int, str, int, int]], *, final: bool = False
    ) -> Chunk:
        n = table.num_rows
        new_invalid = invalid[self.invalid_used :]
        inv_numbers = np.array([r[0] for r in new_invalid], dtype=np.int64)
        # Data record numbers skip the malformed records: d_i = next + i + #{invalid j with u_j <= i}.
        u = inv_numbers - self.next_record - np.arange(len(inv_numbers))
        idx = np.arange(n, dtype=np.int64)
        records = self.next_record + idx + np.searchsorted(u, idx, side="right")
        last = records[-1] if n else self.next_record - 1
        use = len(new_invalid) if final else int(np.searchsorted(inv_numbers, last, side="right"))
        inv_used = new_invalid[:use]
        data_nl = _newlines_per_row(table)
        inv_nl = np.array([r[1].count("\n") for r in inv_used], dtype=np.int64)
        inv_rec = inv_numbers[:use]
        # Physical line of a record = its number + newlines inside all earlier records.
        all_rec = np.concatenate([records, inv_rec])
        all_nl = np.concatenate([data_nl, inv_nl])
        order = np.argsort(all_rec, kind="stable")
        before = np.empty_like(all_nl)
        before[order] = np.cumsum(all_nl[order]) - all_nl[order]
        lines = all_rec + self.extra + before
        self.extra += int(all_nl.sum())
        self.next_record = int(max(last, inv_rec.max() if use else 0)) + 1
        self.invalid_used += use
        malformed = pd.DataFrame(
            {
                "line": lines[n:],
                "raw": [r[1] for r in inv_used],
                "detail": [f"expected {r[2]} fields, found {r[3]}" for r in inv_used],
                "reason": "malformed_row",
            }
        )
        data_lines = lines[:n]
        if len(self.bad_lines):
            replaced = np.isin(data_lines, self.bad_lines)
            if replaced.any():
                found = data_lines[replaced]
                extra = pd.DataFrame(
                    {
                        "line": found,
                        "raw": [self.bad[int(x)][1] for x in found],
                        "detail": [self.bad[int(x)][2] for x in found],
                        "reason": [self.bad[int(x)][0] for x in found],
                    }
                )
                malformed = pd.concat([malformed, extra], ignore_index=True).sort_values("line")
                table = table.filter(pa.array(~replaced))
                data_lines = data_lines[~replaced]
        frame = table.to_pandas(types_mapper=_arrow_string_dtype)
        return finish_chunk(frame, data_lines, malformed.reset_index(drop=True))


def _arrow_string_dtype(arrow_type: pa.DataType) -> Any:
    return pd.ArrowDtype(pa.string()) if arrow_type == pa.string() else None


def _newlines_per_row(table: pa.Table) -> np.ndarray:
    total = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        if table.num_rows and _may_hold_newline(column):
            total += pc.count_substring(column, "\n").to_numpy(zero_copy_only=False).astype(np.int64)
    return total


def _may_hold_newline(column: pa.ChunkedArray) -> bool:
    """Whether a byte 0x0A occurs in the column's character data (a fast scan of the raw buffers).

    The buffers may extend beyond the column's slice, so True can be a false alarm (the exact count
    follows); False is certain. UTF-8 never uses 0x0A inside a multi-byte character.
    """
    for chunk in column.chunks:
        data = chunk.buffers()[2] if len(chunk) else None
        if data is not None and data.size and (np.frombuffer(data, dtype=np.uint8) == 0x0A).any():
            return True
    return False

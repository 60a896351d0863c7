"""Find CSV lines that open a quoted value never properly closed, before Arrow reads the file.

A lenient parser lets such a quote swallow every following row into one value (the rows are then neither
imported nor quarantined). PostgreSQL's ``COPY`` refuses the file ("unterminated CSV quoted field"); here
the line is quarantined (``unterminated_quote``) and reading resumes on the next physical line.

Method: a line holding an odd number of ``"`` is the only place a quoted value can stay open at a line end
(``""`` inside a value is even), so a vectorised count of quotes per line (numpy over the raw bytes, block
by block; ``"`` and newline are single bytes in UTF-8, GB18030, GBK and the single-byte code pages) finds
the candidates, usually none. From each candidate line the record is parsed with Python's strict CSV
parser over at most :data:`MAX_RECORD_LINES` lines; it is sound when it parses and, if it spans several
lines, has as many fields as the header. Otherwise the candidate line is unterminated. UTF-16/32 text is
not scanned (Arrow reads it as before).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

import numpy as np

__all__ = ["MAX_RECORD_LINES", "odd_quote_lines", "unterminated_lines"]

#: Most physical lines one record (a multi-line quoted value) may span.
MAX_RECORD_LINES = 1000
_QUOTE, _NEWLINE = 0x22, 0x0A


def odd_quote_lines(blocks: Iterable[bytes]) -> list[int]:
    """1-based numbers of the lines holding an odd number of ``"`` bytes."""
    odd: list[int] = []
    line = 1  # line number at the start of the block
    carry = 0  # quotes on the current line before the block
    for block in blocks:
        arr = np.frombuffer(block, dtype=np.uint8)
        quotes = np.flatnonzero(arr == _QUOTE)
        newlines = np.flatnonzero(arr == _NEWLINE)
        if not len(quotes) and not carry % 2:
            line += len(newlines)
            continue
        per_line = np.bincount(np.searchsorted(newlines, quotes), minlength=len(newlines) + 1)
        per_line[0] += carry
        ends = per_line[: len(newlines)]
        odd.extend((line + np.flatnonzero(ends % 2)).tolist())
        carry = int(per_line[len(newlines)])
        line += len(newlines)
    if carry % 2:
        odd.append(line)
    return odd


def unterminated_lines(
    data: bytes, odd: list[int], *, encoding: str, delimiter: str, width: int
) -> dict[int, str]:
    """{line number: the line's text} of the data lines (not the header) that open an unterminated quote.

    ``data`` is the whole text as bytes, ``odd`` the result of :func:`odd_quote_lines` on it.
    """
    if not odd:
        return {}
    starts = np.concatenate([[0], np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _NEWLINE) + 1])
    total = len(starts)  # physical lines (the last may be empty)

    def text(number: int) -> str:
        end = starts[number] if number < total else len(data)
        return data[starts[number - 1] : end].decode(encoding, errors="replace")

    def lines_from(first: int) -> Iterator[str]:
        for number in range(first, min(first + MAX_RECORD_LINES, total + 1)):
            yield text(number)

    bad: dict[int, str] = {}
    resume = 1
    for first in odd:
        if first < resume:
            continue
        reader = csv.reader(lines_from(first), delimiter=delimiter, strict=True)
        try:
            row = next(reader)
            sound = reader.line_num == 1 or len(row) == width
        except (csv.Error, StopIteration):
            sound = False
        if sound:
            resume = first + reader.line_num
        else:
            resume = first + 1
            if first > 1:
                bad[first] = text(first).rstrip("\r\n")
    return bad

"""Text encoding detection from a short, documented list of candidates; line-by-line decoding as a fallback.

Rule (no guessing of exotic code pages such as ``ptcp154`` or ``cp1250``):

1. A caller-given encoding (the mapping's ``encoding``; use it for ``cp1252``/``latin-1`` files) is used;
   a byte-order mark decides otherwise: ``utf-8-sig``, ``utf-16``.
2. Else :data:`CANDIDATES` in order, each of which must decode the *whole* file strictly: UTF-8, then
   GB18030 (a superset of GBK, Excel's default on Chinese Windows).
3. When no candidate decodes the whole file, or when a GB18030 file also holds lines that are valid
   non-ASCII UTF-8 (a file appended to by two systems), the file is decoded **line by line**: each line with
   the first candidate that decodes it; a line that none decodes is quarantined (``undecodable_row``) and
   the rest imported. The report says so, with the byte offset and line of the first failure. A file
   whose header line, or more than half of whose lines, cannot be decoded is refused.

A NUL byte, a truncated or corrupt ``.gz`` and an empty file are refused with one line naming the file (and
the line). A mapping that declares a GBK-family encoding for a file that is valid UTF-8 gets a warning.
"""

from __future__ import annotations

import codecs
import dataclasses
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from cases.readers._base import ImportReadError, raw_blocks, sha256_of

__all__ = ["CANDIDATES", "Detected", "decode_lines", "detect_encoding", "first_text", "sniff_delimiter"]

#: Encodings tried, in order, when neither the caller nor a byte-order mark decides.
CANDIDATES = ("utf-8", "gb18030")
_GBK_FAMILY = ("gbk", "gb2312", "gb18030", "hz")
_DELIMITERS = (",", "\t", ";", "|")


@dataclasses.dataclass(frozen=True)
class Detected:
    """What :func:`detect_encoding` found (see :class:`cases.readers.TableSource` for the fields)."""

    sha256: str
    encoding: str
    lines: int
    per_line: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def _text_blocks(path: Path, compression: str | None) -> Iterator[bytes]:
    """The decompressed bytes of the file, block by block (a truncated or corrupt gzip is refused)."""
    if compression != "gzip":
        yield from raw_blocks(path)
        return
    decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        for block in raw_blocks(path):
            data = block
            while data:
                yield decomp.decompress(data)
                data = decomp.unused_data
                if data:  # a concatenated gzip member
                    decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        yield decomp.flush()
    except zlib.error as exc:
        msg = f"{path}: corrupt gzip data ({exc}); nothing was imported"
        raise ImportReadError(msg) from exc
    if not decomp.eof:
        msg = f"{path}: the gzip data is truncated (the file ends before the end of the compressed stream)"
        raise ImportReadError(msg)


def _all_text_bytes(path: Path, compression: str | None) -> bytes:
    return b"".join(_text_blocks(path, compression))


def _decodes(path: Path, compression: str | None, encoding: str) -> int | None:
    """Newline count if the whole file decodes strictly with ``encoding``, else None."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    newlines = 0
    try:
        for block in _text_blocks(path, compression):
            text = decoder.decode(block)
            if "\x00" in text:
                _refuse_nul(path, newlines + text.count("\n", 0, text.index("\x00")) + 1)
            newlines += text.count("\n")
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return newlines


def _sample(path: Path, compression: str | None, size: int = 1 << 20) -> bytes:
    out = bytearray()
    for block in _text_blocks_head(path, compression):
        out += block
        if len(out) >= size:
            break
    return bytes(out)


def _text_blocks_head(path: Path, compression: str | None) -> Iterator[bytes]:
    """Like :func:`_text_blocks` but without the truncation check (the caller reads only the start)."""
    if compression != "gzip":
        yield from raw_blocks(path)
        return
    decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        for block in raw_blocks(path):
            yield decomp.decompress(block)
            if decomp.eof:
                return
    except zlib.error as exc:
        msg = f"{path}: corrupt gzip data ({exc}); nothing was imported"
        raise ImportReadError(msg) from exc


def _refuse_nul(path: Path, line: int) -> None:
    msg = f"{path}: line {line} holds a NUL byte: binary data or a corrupt row; nothing was imported"
    raise ImportReadError(msg)


def detect_encoding(path: Path, compression: str | None, encoding: str | None) -> Detected:
    """The encoding of the file's text, by the rule of the module docstring.

    Raises :class:`ImportReadError` for an empty file, a NUL byte, a broken gzip, an undecodable header
    or a file that is mostly undecodable.
    """
    digest = sha256_of(path)
    sample = _sample(path, compression)
    if not sample:
        msg = f"{path}: the file is empty"
        raise ImportReadError(msg)
    utf16 = sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if encoding is None and utf16:
        encoding = "utf-16"
    if encoding is None and sample.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    if encoding is not None:
        warnings = _declared_warning(path, compression, encoding)
        if (newlines := _decodes(path, compression, encoding)) is not None:
            return Detected(digest, encoding, newlines + 1, (), warnings)
        if encoding.startswith(("utf-16", "utf-32")):
            data = _all_text_bytes(path, compression)
            try:
                data.decode(encoding)
            except UnicodeDecodeError as exc:
                line = _line_at(data, exc.start)
                msg = f"{path}: cannot decode as {encoding}: byte {exc.start} (line {line})"
                raise ImportReadError(msg) from exc
        try:
            found = _per_line(path, compression, digest, (encoding,))
        except ImportReadError as exc:
            if not warnings:
                raise
            msg = f"{exc}; {warnings[0]}"
            raise ImportReadError(msg) from exc
        return dataclasses.replace(found, warnings=warnings + found.warnings)
    if (newlines := _decodes(path, compression, CANDIDATES[0])) is not None:
        return Detected(digest, CANDIDATES[0], newlines + 1)
    return _per_line(path, compression, digest, CANDIDATES)


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _declared_warning(path: Path, compression: str | None, encoding: str) -> tuple[str, ...]:
    if codecs.lookup(encoding).name not in _GBK_FAMILY:
        return ()
    data = _sample(path, compression)
    if data.isascii() or _decodes(path, compression, "utf-8") is None:
        return ()
    return (
        f"the mapping declares encoding {encoding!r}, but {path.name} is valid UTF-8: its Chinese text is "
        "probably garbled; remove `encoding` from the mapping to let the file be detected",
    )


def _decode_line(line: bytes, candidates: tuple[str, ...]) -> tuple[str | None, int]:
    """The line decoded with the first candidate that decodes it (and that candidate's index), else None."""
    for i, candidate in enumerate(candidates):
        try:
            return line.decode(candidate), i
        except UnicodeDecodeError:
            continue
    return None, -1


def _per_line(path: Path, compression: str | None, digest: str, candidates: tuple[str, ...]) -> Detected:
    """Detect by lines: whole GB18030 when no line needs UTF-8, else line-by-line decoding (see module)."""
    data = _all_text_bytes(path, compression)
    if (at := data.find(b"\x00")) >= 0 and not candidates[0].startswith(("utf-16", "utf-32")):
        _refuse_nul(path, _line_at(data, at))
    lines = data.split(b"\n")
    used = [0] * len(candidates)
    bad: list[int] = []
    first_failure = None
    offset = 0
    for number, line in enumerate(lines, start=1):
        _, which = _decode_line(line.removeprefix(codecs.BOM_UTF8) if number == 1 else line, candidates)
        if which != 0 and first_failure is None:
            try:
                line.decode(candidates[0])
            except UnicodeDecodeError as exc:
                first_failure = (offset + exc.start, number)
        if which < 0:
            bad.append(number)
        elif not line.isascii():
            used[which] += 1
        offset += len(line) + 1
    names = ", ".join(candidates)
    where = f"byte {first_failure[0]}, line {first_failure[1]}" if first_failure else "?"
    filled = sum(1 for line in lines if line.strip())
    if bad and (bad[0] == 1 or len(bad) * 2 > filled):
        msg = (
            f"{path}: cannot decode the file as text (tried {names}; first failure at {where}; "
            f"{len(bad)} of {len(lines)} line(s) undecodable); set the mapping's `encoding` if you know it"
        )
        raise ImportReadError(msg)
    if not bad and len(candidates) > 1 and used[0] == 0:  # a plain GBK/GB18030 file
        return Detected(digest, candidates[1], len(lines), (), _western_warning(path, data))
    counts = ", ".join(f"{n} as {c}" for c, n in zip(candidates, used, strict=True) if n)
    warning = (
        f"no single encoding decodes the whole file ({candidates[0]} fails at {where}): decoded line by "
        f"line ({counts or 'ASCII only'}); {len(bad)} undecodable line(s) quarantined (undecodable_row)"
    )
    return Detected(digest, "utf-8", len(lines), candidates, (warning, *_western_warning(path, data)))


def _western_warning(path: Path, data: bytes) -> tuple[str, ...]:
    """A warning when a file read as GB18030 looks like a single-byte Western code page instead.

    Chinese text puts its two-byte characters next to each other, so bytes >= 0x80 come in runs; in
    cp1252/latin-1 text (``Piñata``, ``Café``) each accented letter is one such byte between ASCII ones.
    """
    high = np.frombuffer(data, dtype=np.uint8) >= 0x80
    if not high.any() or (high[:-1] & high[1:]).any():
        return ()
    return (
        f"{path.name} was read as GB18030, but its non-ASCII bytes stand alone between ASCII letters, as in "
        "a Western single-byte encoding: if its text looks garbled, set the mapping's `encoding` "
        "(e.g. 'cp1252' or 'latin-1') and import again",
    )


def decode_lines(path: Path, compression: str | None, candidates: tuple[str, ...]) -> tuple[bytes, dict]:
    """The text re-encoded as UTF-8, line by line; and {line number: raw text} of the undecodable lines
    (left empty in the returned text, so the line numbers stay)."""
    out: list[bytes] = []
    bad: dict[int, str] = {}
    for number, line in enumerate(_all_text_bytes(path, compression).split(b"\n"), start=1):
        text, _ = _decode_line(line.removeprefix(codecs.BOM_UTF8) if number == 1 else line, candidates)
        if text is None:
            bad[number] = line.decode(candidates[0], errors="backslashreplace").rstrip("\r")
            out.append(b"")
        else:
            out.append(text.encode("utf-8"))
    return b"\n".join(out), bad


def first_text(path: Path, compression: str | None, encoding: str, per_line: tuple[str, ...] = ()) -> str:
    """The first 64 KiB of the text (without a BOM), for sniffing the format, delimiter and header."""
    sample = _sample(path, compression, 1 << 16)
    if per_line:
        return "\n".join(_decode_line(x, per_line)[0] or "" for x in sample.split(b"\n")).lstrip("\ufeff")
    text = codecs.getincrementaldecoder(encoding)(errors="ignore").decode(sample)
    return text.lstrip("\ufeff")


def sniff_delimiter(text: str) -> str:
    """The delimiter that occurs most often in the header line (``,`` on a tie or when none occurs)."""
    header = text.splitlines()[0] if text else ""
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","

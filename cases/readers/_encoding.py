"""Text encoding detection: BOM, else strict UTF-8, else GB18030, else charset-normalizer (whole file)."""

from __future__ import annotations

import codecs
import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

from cases.readers._base import ImportReadError, raw_blocks, sha256_of

__all__ = ["detect_encoding", "first_text", "sniff_delimiter"]

_DELIMITERS = (",", "\t", ";", "|")


def _text_blocks(path: Path, compression: str | None) -> Iterator[bytes]:
    """The decompressed bytes of the file, block by block."""
    if compression != "gzip":
        yield from raw_blocks(path)
        return
    decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
    for block in raw_blocks(path):
        data = block
        while data:
            yield decomp.decompress(data)
            data = decomp.unused_data
            if data:  # a concatenated gzip member
                decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
    yield decomp.flush()


def _decodes(path: Path, compression: str | None, encoding: str) -> int | None:
    """Newline count if the whole file decodes strictly with ``encoding`` and holds no NUL, else None."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    newlines = 0
    try:
        for block in _text_blocks(path, compression):
            text = decoder.decode(block)
            if "\x00" in text:
                return None
            newlines += text.count("\n")
        decoder.decode(b"", final=True)
    except (UnicodeDecodeError, zlib.error, EOFError, gzip.BadGzipFile):
        return None
    return newlines


def _sample(path: Path, compression: str | None, size: int = 1 << 20) -> bytes:
    out = bytearray()
    try:
        for block in _text_blocks(path, compression):
            out += block
            if len(out) >= size:
                break
    except zlib.error as exc:
        msg = f"{path}: corrupt gzip data ({exc})"
        raise ImportReadError(msg) from exc
    return bytes(out)


def detect_encoding(path: Path, compression: str | None, encoding: str | None) -> tuple[str, str, int]:
    """Return (sha256 of the stored bytes, the codec that decodes the whole text, its line count).

    A byte-order mark decides; otherwise the candidates are ``encoding`` if given, else strict UTF-8 then
    GB18030 (a superset of GBK), then charset-normalizer's guess; each must decode the *whole* file
    strictly and yield no NUL character (binary data). Raises :class:`ImportReadError` when none does.
    """
    digest = sha256_of(path)
    sample = _sample(path, compression)
    if not sample:
        msg = f"{path}: the file is empty"
        raise ImportReadError(msg)
    if encoding is not None:
        candidates = [encoding]
    elif sample.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for candidate in candidates:
        if (newlines := _decodes(path, compression, candidate)) is not None:
            return digest, candidate, newlines + 1
    if encoding is None and not sample.startswith(codecs.BOM_UTF8):
        guess = _charset_normalizer_guess(sample)
        if guess and guess not in candidates and (newlines := _decodes(path, compression, guess)) is not None:
            return digest, guess, newlines + 1
        candidates.append(guess or "charset-normalizer: no guess")
    msg = f"{path}: cannot decode the file as text (tried {', '.join(candidates)}); is it a table?"
    raise ImportReadError(msg)


def _charset_normalizer_guess(sample: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    return None if best is None else codecs.lookup(best.encoding).name


def first_text(path: Path, compression: str | None, encoding: str) -> str:
    """The first 64 KiB of the text (without a BOM), for sniffing the format, delimiter and header."""
    text = codecs.getincrementaldecoder(encoding)(errors="ignore").decode(_sample(path, compression, 1 << 16))
    return text.lstrip("\ufeff")


def sniff_delimiter(text: str) -> str:
    """The delimiter that occurs most often in the header line (``,`` on a tie or when none occurs)."""
    header = text.splitlines()[0] if text else ""
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","

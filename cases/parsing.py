"""Vectorised parsing of text fields into numbers, UTC times and booleans (Arrow compute + pandas).

Every parser takes a Series of stripped strings (``""`` = empty) and returns the typed values together with
``present`` (the field has a value) and ``bad`` (it has one that cannot be parsed) masks, so the caller can
quarantine ``bad`` rows with ``unparseable_*`` and treat ``~present`` as missing. Before parsing, numbers and
times are NFKC-normalised, so full-width digits and punctuation typed in Chinese input methods
(``２０２４－０３－０５ ０８：００``) parse like ASCII. The texts in :data:`NULL_TOKENS` (``NULL``, ``N/A``,
``-`` …) count as empty.

Time rule (documented in :func:`parse_times`): a time with an offset (``Z``, ``+08:00``) is converted to UTC;
a naive time is local time in the mapping's zone. A DST-ambiguous local time (the repeated hour when clocks
go back) is taken as its *first* occurrence (daylight time, like ``fold=0`` in Python); a nonexistent local
time (the skipped hour when clocks go forward) is shifted forward to the first valid instant. Both are
counted so the importer can warn.

Fallback formats are strict: the compact ``%Y%m%d%H%M%S`` and ``%Y%m%d`` apply only to exactly 14 and 8
digits, and every fallback needs a four-digit year at the start, so ``1735689600`` (epoch seconds) or
``1/2/25`` (a US short date) are unparseable instead of landing in the years 1735 or 1. Chinese forms
``2025年1月2日 14时30分``, ``2025年1月2日 14:30``, ``2025年1月2日 下午2点30分`` (上午/下午/晚上/中午/凌晨/
早上) and ``2025年1月2日`` are read as local times. Epoch seconds, epoch milliseconds (UTC) and
Excel serial dates (local days since 1899-12-30) are read only when the format says so:
:data:`NUMERIC_FORMATS` (``date_format = "epoch_s"``, ``"epoch_ms"`` or ``"excel"``, per field
in ``date_formats``). Plausibility (a report time in 1970 or 2099) is checked by the caller
with :func:`outside_window`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "NULL_TOKENS",
    "NUMERIC_FORMATS",
    "ParsedTimes",
    "outside_window",
    "parse_bools",
    "parse_numbers",
    "parse_times",
    "plausible_window",
    "present_mask",
    "text_isin",
]

#: Texts that mean "no value" in a number, time or boolean field (compared case-insensitively).
NULL_TOKENS = ("", "null", "none", "nan", "nat", "n/a", "#n/a", "na", "-", "--", "—")
#: Fallback formats tried after ISO 8601 when no format is given (common in Chinese exports).
FALLBACK_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H时%M分%S秒",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
    "%Y%m%d%H%M%S",
    "%Y%m%d",
)
#: Texts a fallback format applies to (a four-digit year first; compact forms of exactly 14 / 8 digits).
_FALLBACK_SHAPE = {"%Y%m%d%H%M%S": r"^\d{14}$", "%Y%m%d": r"^\d{8}$"}
_YEAR_FIRST = r"^\d{4}\D"
#: ``date_format`` values that read numbers: epoch seconds / milliseconds (UTC), Excel serial days (local).
NUMERIC_FORMATS = ("epoch_s", "epoch_ms", "excel")
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "us")
#: Largest magnitude read per numeric format (about the year 5000; Excel's last day is 9999-12-31).
_NUMERIC_LIMIT = {"epoch_s": 1e11, "epoch_ms": 1e14, "excel": 2_958_466.0}
_CHINESE = (
    r"^(?P<y>\d{4})年(?P<mo>\d{1,2})月(?P<d>\d{1,2})日?\s*(?:(?P<ap>上午|下午|晚上|中午|凌晨|早上)?\s*"
    r"(?P<h>\d{1,2})[时点:](?:(?P<mi>\d{1,2})分?(?::?(?P<s>\d{1,2})秒?)?)?)?$"
)
_AFTERNOON = ("下午", "晚上", "中午")
_TZ_SUFFIX = r"\d:\d\d(:\d\d(\.\d+)?)?\s*(Z|z|UTC|GMT|[+-]\d\d(:?\d\d)?)$"
_TRUE = ("1", "true", "t", "yes", "y", "是", "在岗", "在职", "启用", "有效", "active")
_FALSE = ("0", "false", "f", "no", "n", "否", "离岗", "离职", "停用", "无效", "inactive")


def _arrow(values: pd.Series) -> pa.Array:
    return pa.array(values, type=pa.string())


def _np(array: pa.Array) -> np.ndarray:
    """A writable numpy copy of an Arrow array (nulls become None/NaN/NaT)."""
    return np.array(array.to_numpy(zero_copy_only=False))


def text_isin(values: pd.Series | np.ndarray, allowed: object) -> np.ndarray:
    """Whether each text is in ``allowed`` (any iterable of str), as a bool array; missing gives False.

    Arrow's hash look-up: fast for large ``allowed`` (pandas' string ``isin`` loops over it in Python).
    """
    arr = pa.array(values, type=pa.string(), from_pandas=True)
    value_set = pa.array(list(dict.fromkeys(allowed)), type=pa.string())
    return _np(pc.is_in(arr, value_set=value_set)).astype(bool)


def present_mask(values: pd.Series) -> np.ndarray:
    """Rows holding a value, i.e. not empty and not one of :data:`NULL_TOKENS`."""
    arr = pc.utf8_lower(_arrow(values))
    return ~_np(pc.is_in(arr, value_set=pa.array(NULL_TOKENS))).astype(bool)


def parse_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse decimal numbers.

    Returns
    -------
    numbers : numpy.ndarray of float64
        NaN where missing or unparseable.
    present, bad : numpy.ndarray of bool
        Has a value; has one that is not a finite number.
    """
    present = present_mask(values)
    arr = pc.if_else(pa.array(present), pc.utf8_normalize(_arrow(values), "NFKC"), None)
    try:
        numbers = np.array(_np(pc.cast(arr, pa.float64())), dtype=np.float64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        parsed = pd.to_numeric(pd.Series(_np(arr), dtype=object), errors="coerce")
        numbers = np.array(parsed, dtype=np.float64)
    bad = present & ~np.isfinite(numbers)
    numbers[~present | bad] = np.nan
    return numbers, present, bad


def parse_bools(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse yes/no texts (``true``/``false``, ``1``/``0``, ``是``/``否``, ``在岗``/``离岗`` …).

    Returns (values as bool, present, bad); missing and bad rows hold ``False``.
    """
    present = present_mask(values)
    arr = pc.utf8_lower(_arrow(values))
    yes = _np(pc.is_in(arr, value_set=pa.array(_TRUE))).astype(bool)
    no = _np(pc.is_in(arr, value_set=pa.array(_FALSE))).astype(bool)
    return yes, present, present & ~yes & ~no


@dataclasses.dataclass(frozen=True)
class ParsedTimes:
    """Times of one field.

    Attributes
    ----------
    utc : numpy.ndarray of datetime64[us]
        The instants in UTC (naive numpy values meaning UTC); NaT where missing or unparseable.
    present, bad : numpy.ndarray of bool
        Has a value; has one that could not be parsed.
    ambiguous, nonexistent : int
        Local times in a DST overlap (taken as the first occurrence) or gap (shifted forward).
    """

    utc: np.ndarray
    present: np.ndarray
    bad: np.ndarray
    ambiguous: int = 0
    nonexistent: int = 0


def parse_times(values: pd.Series, *, fmt: str | None, timezone: str) -> ParsedTimes:
    """Parse times and convert them to UTC (see the module docstring for the zone and DST rule).

    Parameters
    ----------
    values
        Stripped strings.
    fmt
        ``strptime`` format; ``None`` means ISO 8601, then :data:`FALLBACK_FORMATS`. Values that do not
        match ``fmt`` are retried as ISO 8601 (e.g. Excel datetime cells, read as ISO text).
    timezone
        IANA zone of naive times.
    """
    n = len(values)
    present = present_mask(values)
    arr = pc.utf8_normalize(_arrow(values), "NFKC")
    if fmt in NUMERIC_FORMATS:
        return _parse_numeric(values, present, fmt, timezone)
    if fmt is None or "年" not in fmt:
        arr = _chinese_to_iso(arr)
    aware = present & _np(pc.match_substring_regex(arr, _TZ_SUFFIX)).astype(bool)
    if fmt is not None and ("%z" in fmt or "%Z" in fmt):
        aware = present.copy()
    utc = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    if aware.any():
        utc[aware] = _parse_aware(_np(arr.filter(pa.array(aware))), fmt)
    naive_rows = present & ~aware
    ambiguous = nonexistent = 0
    if naive_rows.any():
        local = _parse_naive(arr.filter(pa.array(naive_rows)), fmt)
        converted, ambiguous, nonexistent = _localize(local, timezone)
        utc[naive_rows] = converted
    bad = present & np.isnat(utc)
    return ParsedTimes(utc, present, bad, ambiguous, nonexistent)


def _parse_aware(texts: np.ndarray, fmt: str | None) -> np.ndarray:
    series = pd.Series(texts, dtype=object)
    kwargs = {"format": fmt} if fmt and ("%z" in fmt or "%Z" in fmt) else {"format": "ISO8601"}
    parsed = pd.to_datetime(series, errors="coerce", utc=True, **kwargs)
    return parsed.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")


def _parse_naive(arr: pa.Array, fmt: str | None) -> np.ndarray:
    """Naive local times (datetime64[us], NaT where unparseable): ``fmt``, then ISO, then fallbacks."""
    out = np.full(len(arr), np.datetime64("NaT"), dtype="datetime64[us]")
    if fmt is not None:
        out = _strptime(arr, fmt)
    todo = np.isnat(out)
    if todo.any():
        series = pd.Series(_np(arr.filter(pa.array(todo))), dtype=object)
        iso = pd.to_datetime(series, format="ISO8601", errors="coerce")
        if iso.dt.tz is not None:  # cannot happen for texts without an offset; keep the wall time
            iso = iso.dt.tz_localize(None)
        out[todo] = iso.to_numpy(dtype="datetime64[us]")
    for candidate in () if fmt is not None else FALLBACK_FORMATS:
        shape = _FALLBACK_SHAPE.get(candidate, _YEAR_FIRST)
        todo = np.isnat(out) & _np(pc.match_substring_regex(arr, shape)).astype(bool)
        if not todo.any():
            continue
        out[todo] = _strptime(arr.filter(pa.array(todo)), candidate)
    return out


def _chinese_to_iso(arr: pa.Array) -> pa.Array:
    """``arr`` with the Chinese date forms (see the module docstring) rewritten as ISO 8601 text."""
    if not pc.any(pc.match_substring(arr, "年")).as_py():
        return arr
    parts = pc.extract_regex(arr, _CHINESE)
    hit = _np(pc.is_valid(parts)).astype(bool)
    if not hit.any():
        return arr
    texts = _np(arr).astype(object)
    for i, g in zip(np.flatnonzero(hit), parts.filter(pa.array(hit)).to_pylist(), strict=True):
        text = f"{g['y']}-{int(g['mo']):02d}-{int(g['d']):02d}"
        if g["h"]:
            hour = int(g["h"])
            if g["ap"] in _AFTERNOON and hour < 12:
                hour += 12
            elif g["ap"] in ("凌晨", "上午", "早上") and hour == 12:
                hour = 0
            text += f" {hour:02d}:{int(g['mi'] or 0):02d}:{int(g['s'] or 0):02d}"
        texts[i] = text
    return pa.array(texts, type=pa.string())


def _parse_numeric(values: pd.Series, present: np.ndarray, fmt: str, timezone: str) -> ParsedTimes:
    """Epoch seconds / milliseconds (UTC) or Excel serial days (local wall time in ``timezone``)."""
    numbers, _, bad = parse_numbers(values)
    utc = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[us]")
    ok = present & ~bad & (np.abs(np.nan_to_num(numbers)) < _NUMERIC_LIMIT[fmt])
    ambiguous = nonexistent = 0
    if fmt == "excel":
        local = _EXCEL_EPOCH + np.round(numbers[ok] * 86_400e6).astype(np.int64).astype("timedelta64[us]")
        utc[ok], ambiguous, nonexistent = _localize(local, timezone)
    else:
        scale = 1e6 if fmt == "epoch_s" else 1e3
        micros = np.round(numbers[ok] * scale).astype(np.int64)
        utc[ok] = micros.astype("datetime64[us]")
    return ParsedTimes(utc, present, present & np.isnat(utc), ambiguous, nonexistent)


def plausible_window(now: np.datetime64 | None = None) -> tuple[np.datetime64, np.datetime64]:
    """The default plausibility window of report times: 2000-01-01 … ``now`` + 1 day (UTC, datetime64[us])."""
    now = np.datetime64("now", "us") if now is None else np.datetime64(now, "us")
    return np.datetime64("2000-01-01T00:00:00", "us"), now + np.timedelta64(1, "D").astype("timedelta64[us]")


def outside_window(utc: np.ndarray, window: tuple[np.datetime64, np.datetime64]) -> np.ndarray:
    """Times (datetime64, UTC) before ``window[0]`` or after ``window[1]`` (NaT is never outside)."""
    utc = np.asarray(utc, dtype="datetime64[us]")
    low, high = (np.datetime64(w, "us") for w in window)
    return ~np.isnat(utc) & ((utc < low) | (utc > high))


def _strptime(arr: pa.Array, fmt: str) -> np.ndarray:
    """``strptime`` with Arrow (fast), with pandas for the rows where Arrow may have rolled over a date.

    Arrow (glibc) accepts 30 February and rolls it over to 1–2 March; such results land on day 1–3 of a
    month, so those rows are parsed by pandas, which rejects impossible dates (and is faster than checking
    them by formatting Arrow's result back to text). Texts Arrow rejects are parsed by pandas too (it also
    knows ``%f``).
    """
    parsed = pc.strptime(arr, format=fmt, unit="s", error_is_null=True)
    out = _np(parsed.cast(pa.timestamp("us"))).astype("datetime64[us]")
    day = _np(pc.fill_null(pc.day(parsed), 0))
    redo = np.isnat(out) | ((day >= 1) & (day <= 3))
    if redo.any():
        texts = pd.Series(_np(arr.filter(pa.array(redo))), dtype=object)
        out[redo] = pd.to_datetime(texts, format=fmt, errors="coerce").to_numpy(dtype="datetime64[us]")
    return out


def _localize(local: np.ndarray, timezone: str) -> tuple[np.ndarray, int, int]:
    """Local wall times in ``timezone`` → UTC (datetime64[us]), with the DST rule; counts of DST cases."""
    series = pd.Series(local)
    zoned = series.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    hit = (zoned.isna() & series.notna()).to_numpy()
    ambiguous = nonexistent = 0
    if hit.any():
        sub = series[hit]
        first = sub.dt.tz_localize(timezone, ambiguous=np.ones(len(sub), bool), nonexistent="shift_forward")
        second = sub.dt.tz_localize(timezone, ambiguous=np.zeros(len(sub), bool), nonexistent="shift_forward")
        ambiguous = int((first != second).sum())
        nonexistent = len(sub) - ambiguous
        zoned = zoned.astype(first.dtype)
        zoned[hit] = first
    return zoned.dt.tz_convert(None).to_numpy(dtype="datetime64[us]"), ambiguous, nonexistent

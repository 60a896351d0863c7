"""The plausibility window of report times as a mapping option and a command option (issue #25).

A window is two ends, each written as text:

- an absolute date or time (ISO 8601, ``"2000-01-01"``, ``"2025-03-01T08:00"``; no offset = UTC), or
- a time relative to the moment of the import: ``"now"``, ``"+1d"``, ``"-30d"``, ``"+12h"`` (units
  ``d`` days, ``h`` hours, ``m`` minutes).

In a mapping: ``[options] time_window = ["2000-01-01", "+1d"]`` (the default when none is given, see
:func:`cases.parsing.plausible_window`). On the command line: ``--time-window 2000-01-01,+1d``.
:func:`parse_window` checks the text once (when the mapping is loaded), :func:`resolve_window` turns it
into UTC times at the moment of the import (so ``+1d`` is always "tomorrow").
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["WindowError", "parse_window", "resolve_window", "window_option"]

_RELATIVE = re.compile(r"^(?P<sign>[+-])(?P<n>\d+(?:\.\d+)?)(?P<unit>[dhm])$")
_UNITS = {"d": "D", "h": "h", "m": "min"}


class WindowError(ValueError):
    """A time window that cannot be read (the message names where it came from)."""


def _end(text: str, now: pd.Timestamp) -> pd.Timestamp:
    text = text.strip()
    if text.lower() == "now":
        return now
    relative = _RELATIVE.match(text)
    if relative:
        step = pd.Timedelta(float(relative["n"]), unit=_UNITS[relative["unit"]])
        return now + step if relative["sign"] == "+" else now - step
    stamp = pd.Timestamp(text)
    if pd.isna(stamp):
        raise ValueError(text)
    return stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")


def parse_window(value: Any, origin: str = "time_window") -> tuple[str, str] | None:
    """``value`` (None, a list of two texts, or one text ``"start,end"``) checked: the two ends as text,
    or None. Raises :class:`WindowError` naming ``origin`` when an end cannot be read or start ≥ end."""
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else value
    if not isinstance(parts, list | tuple) or len(parts) != 2 or not all(isinstance(p, str) for p in parts):
        msg = f'{origin}: expected two times like ["2000-01-01", "+1d"], got {value!r}'
        raise WindowError(msg)
    window = (parts[0].strip(), parts[1].strip())
    try:
        start, end = resolve_window(window)
    except ValueError as exc:
        msg = f'{origin}: cannot read {value!r} (absolute ISO times, "now" or "+1d"/"-12h"/"+30m")'
        raise WindowError(msg) from exc
    if start >= end:
        msg = f"{origin}: the window {value!r} is empty (its start is not before its end)"
        raise WindowError(msg)
    return window


def resolve_window(window: tuple[str, str], now: Any = None) -> tuple[np.datetime64, np.datetime64]:
    """The two ends of ``window`` as naive UTC ``datetime64[us]``, relative ends counted from ``now``
    (default: this moment)."""
    moment = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    moment = moment.tz_convert("UTC") if moment.tzinfo else moment.tz_localize("UTC")
    start, end = (_end(str(text), moment) for text in window)
    return tuple(np.datetime64(t.tz_localize(None).to_datetime64(), "us") for t in (start, end))  # type: ignore[return-value]


def window_option(origin: str, value: Any) -> tuple[str, str] | None:
    """The mapping's ``[options] time_window`` checked; a :class:`cases.mapping.MappingError` if bad."""
    from cases.mapping import MappingError

    try:
        return parse_window(value, f"{origin}: options.time_window")
    except WindowError as exc:
        raise MappingError(str(exc)) from exc

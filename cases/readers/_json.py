"""Open311 GeoReport v2 ``requests.json``: a JSON array of request objects, values as text."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from cases.readers._base import ImportReadError


def _read_all(path: Path, compression: str | None) -> bytes:
    opener: Any = gzip.open if compression == "gzip" else open
    fh: BinaryIO
    with opener(path, "rb") as fh:
        return fh.read()


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def read_json(path: Path, compression: str | None, encoding: str | None) -> pd.DataFrame:
    """An Open311 ``requests.json``: an array of objects (or an object holding one such array)."""
    try:
        data = json.loads(_read_all(path, compression).decode(encoding or "utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        msg = f"{path}: not valid JSON ({exc})"
        raise ImportReadError(msg) from exc
    if isinstance(data, dict):
        arrays = [v for v in data.values() if isinstance(v, list)]
        data = arrays[0] if len(arrays) == 1 else data
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        msg = f"{path}: JSON must be an array of objects (Open311 GeoReport v2 requests.json)"
        raise ImportReadError(msg)
    columns: dict[str, None] = {}
    for item in data:
        columns.update(dict.fromkeys(item))
    text = {c: [_json_text(item.get(c)) for item in data] for c in columns}
    return pd.DataFrame(text, columns=list(columns), dtype=object)

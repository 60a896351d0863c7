"""The data-access layer of case photos: the ``case_photos`` rows (the image files live under the data
folder, never in the store; :mod:`services.photos` writes and reads them).

Like :mod:`cases.repository`, every read returns a DataFrame with its columns even when nothing matches,
times tz-aware UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.models import CasePhoto

__all__ = ["PHOTO_COLUMNS", "add_photo_row", "case_photo_rows", "photo_row"]

#: Columns of :func:`case_photo_rows` and :func:`photo_row`.
PHOTO_COLUMNS = (
    "photo_id",
    "case_id",
    "event_id",
    "file",
    "sha256",
    "content_type",
    "width",
    "height",
    "taken_at",
    "lat",
    "lon",
    "uploaded_by",
    "uploaded_at",
)
_P = CasePhoto.__table__


def _frame(rows: list[Any]) -> pd.DataFrame:
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(PHOTO_COLUMNS))
    for name in ("taken_at", "uploaded_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    frame["event_id"] = pd.array(frame["event_id"], dtype="Int64")
    return frame


def add_photo_row(
    engine: Engine,
    *,
    case_id: str,
    file: str,
    sha256: str,
    content_type: str,
    width: int,
    height: int,
    uploaded_by: str,
    uploaded_at: dt.datetime,
    event_id: int | None = None,
    taken_at: dt.datetime | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> int:
    """Insert one photo row; returns its ``photo_id``. The same file (``sha256``) on the same case is
    recorded once: the existing row's id is returned instead."""
    values = {
        "case_id": case_id, "event_id": event_id, "file": file, "sha256": sha256,
        "content_type": content_type, "width": width, "height": height, "taken_at": taken_at,
        "lat": lat, "lon": lon, "uploaded_by": uploaded_by, "uploaded_at": uploaded_at,
    }  # fmt: skip
    with engine.begin() as conn:
        existing = conn.execute(
            sa.select(_P.c.photo_id).where(_P.c.case_id == case_id, _P.c.sha256 == sha256)
        ).scalar_one_or_none()
        if existing is not None:
            return int(existing)
        return int(conn.execute(sa.insert(_P).values(**values)).inserted_primary_key[0])


def case_photo_rows(engine: Engine, case_id: str) -> pd.DataFrame:
    """The photos of one case in upload order (:data:`PHOTO_COLUMNS`)."""
    query = sa.select(*(_P.c[n] for n in PHOTO_COLUMNS)).where(_P.c.case_id == case_id)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(_P.c.photo_id)).all()
    return _frame(rows)


def photo_row(engine: Engine, photo_id: int) -> pd.DataFrame:
    """The photo ``photo_id`` as one row (empty when there is none)."""
    query = sa.select(*(_P.c[n] for n in PHOTO_COLUMNS)).where(_P.c.photo_id == int(photo_id))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return _frame(rows)

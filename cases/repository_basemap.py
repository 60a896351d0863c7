"""SQL of the base map layers (``basemap_features``): replace one file's features, read them back.

Geometry is little-endian 2-D WKB of WGS-84 lon/lat (:mod:`cases.basemap` writes it, simplified).
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.models import Area, BasemapFeature

#: Columns of :func:`basemap_features`, in order.
FEATURE_COLUMNS = ("feature_id", "kind", "subkind", "name", "geometry_wkb", "source_crs", "source_file")
_INSERT_CHUNK = 2_000


def replace_basemap_features(engine: Engine, source_file: str, rows: pd.DataFrame) -> int:
    """Delete the features stored from ``source_file`` and insert ``rows`` instead, in one transaction.

    ``rows`` has ``kind``, ``subkind``, ``name``, ``geometry_wkb`` and ``source_crs``. Returns how many
    stored features were replaced (deleted)."""
    table = BasemapFeature.__table__
    columns = ["kind", "subkind", "name", "geometry_wkb", "source_crs"]
    values = rows[columns].astype(object).where(rows[columns].notna(), None)
    records = [{**record, "source_file": source_file} for record in values.to_dict("records")]
    with engine.begin() as conn:
        deleted = conn.execute(sa.delete(table).where(table.c.source_file == source_file)).rowcount
        for start in range(0, len(records), _INSERT_CHUNK):
            conn.execute(sa.insert(table), records[start : start + _INSERT_CHUNK])
    return int(deleted or 0)


def basemap_features(engine: Engine, kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The stored features (:data:`FEATURE_COLUMNS`) ordered by id, only ``kinds`` when given."""
    table = BasemapFeature.__table__
    query = sa.select(*(table.c[c] for c in FEATURE_COLUMNS)).order_by(table.c.feature_id)
    if kinds is not None:
        query = query.where(table.c.kind.in_(kinds))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=list(FEATURE_COLUMNS))
    for column in ("subkind", "name"):  # missing text as None, not NaN
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def basemap_version(engine: Engine) -> tuple[int, int, int]:
    """(feature count, highest feature id, area count): changes whenever an import adds or replaces
    features or areas (the cache key of the drawn layers)."""
    table = BasemapFeature.__table__
    with engine.connect() as conn:
        count, top = conn.execute(sa.select(sa.func.count(), sa.func.max(table.c.feature_id))).one()
        areas = conn.execute(sa.select(sa.func.count()).select_from(Area.__table__)).scalar()
    return int(count or 0), int(top or 0), int(areas or 0)

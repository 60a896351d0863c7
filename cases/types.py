"""Column types shared by the SQL store.

Times are stored in UTC. SQLite has no time-zone type, so ``UTCDateTime`` writes naive UTC and reads back
tz-aware UTC on every backend; naive datetimes are refused on the way in (they would be ambiguous).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timestamp column that always holds UTC and always returns tz-aware ``datetime`` in UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if hasattr(value, "to_pydatetime"):  # pandas.Timestamp
            if value != value:  # NaT
                return None
            value = value.to_pydatetime()
        if not isinstance(value, dt.datetime):
            msg = f"expected a datetime, got {type(value).__name__}: {value!r}"
            raise TypeError(msg)
        if value.tzinfo is None:
            msg = f"naive datetime {value.isoformat()} refused: give a time zone (times are stored in UTC)"
            raise ValueError(msg)
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

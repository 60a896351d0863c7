"""SQL of the inspector's phone page (:mod:`services.field`): the stored addresses in a set of cells.

The address of a position is the nearest row of the city's address table (migration 0008); the service
reads the rows of the ring of cells around the position (by the ``cell`` column), never the whole table.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.models import Address
from cases.repository import chunks

__all__ = ["NEAR_ADDRESS_COLUMNS", "addresses_in_cells"]

NEAR_ADDRESS_COLUMNS = ("address_id", "name", "address", "kind", "lat", "lon", "cell")


def addresses_in_cells(engine: Engine, cells: Sequence[int]) -> pd.DataFrame:
    """The address rows (:data:`NEAR_ADDRESS_COLUMNS`) whose ``cell`` is one of ``cells``."""
    a = Address.__table__.c
    selected = [a[name] for name in NEAR_ADDRESS_COLUMNS]
    rows: list[tuple] = []
    with engine.connect() as conn:
        for chunk in chunks([int(x) for x in cells]):
            rows.extend(conn.execute(sa.select(*selected).where(a.cell.in_(chunk))).all())
    return pd.DataFrame(rows, columns=list(NEAR_ADDRESS_COLUMNS))

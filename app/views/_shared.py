"""Names other pages still import from here (kept while they move to services; not a page).

The planner pages' pieces live in :mod:`app.planner_widgets` (service context, cached service calls,
filter bar, cell history) and :mod:`app.cell_maps` (maps and downloads). ``TIMEZONE`` is the city
configuration's zone, read when imported (a page script imports it on every run).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from app.cell_maps import downloads, show_map, with_polygons
from app.context import case_frame
from services.study import category_table

__all__ = [
    "case_frame",
    "category_table",
    "downloads",
    "neglect_table",
    "show_map",
    "with_polygons",
]


def __getattr__(name: str) -> Any:
    if name == "TIMEZONE":
        from grid.config import load_city_config

        return load_city_config().timezone
    raise AttributeError(name)


def neglect_table(
    fine: pd.DataFrame, cells: np.ndarray, *, as_of: pd.Timestamp, never_days: int
) -> pd.DataFrame:
    """:func:`patrol.kpis.cell_neglect` in the city's zone (all never visited if ``fine`` is empty)."""
    from grid.config import load_city_config
    from patrol.kpis import cell_neglect

    timezone = load_city_config().timezone
    return cell_neglect(fine, cells, as_of=as_of, never_days=never_days, timezone=timezone)

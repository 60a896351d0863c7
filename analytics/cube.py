"""The case cube: counts of cases per H3 cell × period (day / ISO week / month) × category, zeros included.

Every later statistic (hot spots, recurrence, emerging patterns) reads a :class:`CaseCube`. The cell universe
is explicit (the grid of the study area, DESIGN.md spine §4): cells without a case are rows of zeros, and
cases outside the universe are dropped and counted. Periods are computed in the city's time zone
(default :data:`grid.config.DEFAULT_TIMEZONE`); weeks are ISO weeks (Monday–Sunday, pandas ``W-SUN``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.typing import ArrayLike

from analytics._validate import EmptySelectionError, check_choice, check_int
from cases.calendar import WorkingCalendar
from cases.models import CASE_SOURCES
from grid.cells import CELL_COL_NAME, cell_resolution, cells_to_parents, grid_disk
from grid.config import DEFAULT_TIMEZONE

__all__ = [
    "COUNT_COL_NAME",
    "DEFAULT_TIMEZONE",
    "PERIOD_COL_NAME",
    "PERIOD_FREQ",
    "CaseCube",
    "build_cube",
    "universe_from_cases",
]

COUNT_COL_NAME = "count"
PERIOD_COL_NAME = "period"
#: Period name → pandas frequency (ISO weeks run Monday to Sunday).
PERIOD_FREQ = {"day": "D", "week": "W-SUN", "month": "M"}
#: ``cases.location_flag`` of rows on a default geocode (see cases.importing.SUSPICIOUS_CLUSTER).
SUSPICIOUS_CLUSTER = "suspicious_cluster"


@dataclasses.dataclass(frozen=True)
class CaseCube:
    """Counts of cases per cell × period × category over an explicit cell universe.

    Attributes
    ----------
    counts : numpy.ndarray of int64, shape (n_cells, n_periods, n_categories)
        Number of cases; zeros included. With ``by_category=False`` there is one category, ``"count"``.
    cells : numpy.ndarray of int64, shape (n_cells,)
        The cell universe, sorted ascending, all at resolution ``res``.
    periods : pandas.PeriodIndex, shape (n_periods,)
        Consecutive periods (no gaps) in the city's zone.
    categories : tuple of str, length n_categories
        Category codes (or ``("count",)``).
    res : int
        H3 resolution of ``cells``.
    period : str
        ``"day"``, ``"week"`` or ``"month"``.
    timezone : str
        Zone the periods were computed in.
    n_cases : int
        Cases counted (``counts.sum()``).
    n_outside : int
        Selected cases whose cell is outside the universe (dropped).
    n_flagged : int
        Cases on a suspicious location cluster (a default geocode), excluded.
    calendar : cases.calendar.WorkingCalendar or None
        The city's working calendar (holiday features of the forecasts); ``None``: the Chinese calendar in
        ``timezone`` (:func:`cases.calendar.default_calendar`).    n_unlocated : int
        Selected cases without a location (``location_flag = "no_location"``, no cell): not mapped, not
        in ``counts``; set by the caller that knows them (the store's reader leaves them out).
    """

    counts: npt.NDArray[np.int64]
    cells: npt.NDArray[np.int64]
    periods: pd.PeriodIndex
    categories: tuple[str, ...]
    res: int
    period: str
    timezone: str
    n_cases: int
    n_outside: int = 0
    n_flagged: int = 0
    calendar: WorkingCalendar | None = None
    n_unlocated: int = 0

    @property
    def shape(self) -> tuple[int, int, int]:
        """(n_cells, n_periods, n_categories)."""
        return self.counts.shape  # type: ignore[return-value]

    def total(self) -> npt.NDArray[np.int64]:
        """Counts summed over categories, shape (n_cells, n_periods)."""
        return self.counts.sum(axis=2)

    def cell_totals(self) -> npt.NDArray[np.int64]:
        """Counts summed over periods and categories, shape (n_cells,)."""
        return self.counts.sum(axis=(1, 2))

    def select(self, categories: Sequence[str]) -> CaseCube:
        """The cube restricted to some of its categories (in the given order)."""
        missing = [c for c in categories if c not in self.categories]
        if missing:
            msg = f"categories {missing} are not in the cube; it has {list(self.categories)}"
            raise ValueError(msg)
        idx = [self.categories.index(c) for c in categories]
        counts = self.counts[:, :, idx]
        return dataclasses.replace(
            self, counts=counts, categories=tuple(categories), n_cases=int(counts.sum())
        )

    def to_parents(self, res: int) -> CaseCube:
        """The cube aggregated to the coarser resolution ``res`` (the universe becomes the parents)."""
        res = check_int(res, "res", low=0, high=self.res)
        parents = cells_to_parents(self.cells, res)
        universe, inverse = np.unique(parents, return_inverse=True)
        counts = np.zeros((universe.size, *self.counts.shape[1:]), dtype=np.int64)
        np.add.at(counts, inverse, self.counts)
        return dataclasses.replace(self, counts=counts, cells=universe, res=res)

    def to_frame(self) -> pd.DataFrame:
        """Long DataFrame indexed by (``cell``, ``period``), one int64 column per category, zeros included."""
        n_cells, n_periods, n_cat = self.counts.shape
        index = pd.MultiIndex.from_arrays(
            [np.repeat(self.cells, n_periods), np.tile(np.asarray(self.periods), n_cells)],
            names=[CELL_COL_NAME, PERIOD_COL_NAME],
        )
        index = index.set_levels(self.periods, level=1) if n_cells else index
        data = self.counts.reshape(n_cells * n_periods, n_cat)
        return pd.DataFrame(data, index=index, columns=list(self.categories))


def universe_from_cases(cases: pd.DataFrame, res: int, *, k: int = 1) -> npt.NDArray[np.int64]:
    """A cell universe without a grid: the cases' cells (at ``res``) and every cell within ``k`` rings.

    Prefer the city's grid (``cells.parquet``): this "k-ring hull" only approximates the study area, and a
    statistic's zeros then depend on where cases happened. Rows flagged ``suspicious_cluster`` are ignored.
    """
    frame = _drop_flagged(cases)[0]
    cells = cells_to_parents(_case_cells(frame), res)
    return np.unique(grid_disk(np.unique(cells), check_int(k, "k", low=0))["neighbour"].to_numpy())


def build_cube(
    cases: pd.DataFrame,
    cells: ArrayLike | pd.DataFrame,
    *,
    period: str = "week",
    timezone: str = DEFAULT_TIMEZONE,
    categories: Sequence[str] | None = None,
    category_table: pd.DataFrame | None = None,
    by_category: bool = False,
    sources: Sequence[str] | None = None,
    districts: Sequence[str] | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    calendar: WorkingCalendar | None = None,
) -> CaseCube:
    """Reduce cases to a cell × period (× category) count cube over an explicit cell universe.

    Parameters
    ----------
    cases
        The ``cases`` contract: ``cell`` (int64 H3, any resolution at least as fine as the universe's),
        ``reported_at`` (tz-aware; naive is refused), ``category_code``; ``source`` when filtering by
        source; ``location_flag`` (rows ``"suspicious_cluster"`` are excluded and counted).
    cells
        The cell universe: int64 H3 cells, or a DataFrame with a ``cell`` column (and ``district`` to
        filter by district). Its resolution is the cube's; cases are mapped to their parent at it.
    period
        ``"day"``, ``"week"`` (ISO, Monday–Sunday) or ``"month"``, computed in ``timezone``.
    categories
        Category codes, or class prefixes (e.g. ``"06"`` for every 06xxx code); default all.
    category_table
        Known codes (a ``code`` column, :func:`cases.categories.load_categories`); a requested code must be
        in it or among the cases' codes.
    by_category
        One count column per selected category (else one ``"count"`` column).
    sources, districts
        Keep only these sources / the universe cells of these districts.
    start, end
        Local dates (inclusive) bounding the cases and the period range; default the cases' range.
    calendar
        The city's working calendar, carried to the forecasts' holiday features (:attr:`CaseCube.calendar`).

    Returns
    -------
    CaseCube

    Raises
    ------
    ValueError
        Unknown period, source or category; a universe at mixed resolutions or coarser than the cases;
        :class:`~analytics._validate.EmptySelectionError` when no case is left after filtering.
    """
    period = check_choice(period, "period", PERIOD_FREQ)
    universe, district = _universe(cells)
    res = int(cell_resolution(universe[:1])[0])
    frame, n_flagged = _drop_flagged(cases)
    frame = _filter_sources(frame, sources)
    codes, frame = _filter_categories(frame, categories, category_table)
    if districts is not None:
        universe = _filter_districts(universe, district, districts)
    local = _local_times(frame, timezone)
    lo, hi = _bounds(start, end)
    keep = np.ones(len(frame), dtype=bool)
    if lo is not None:
        keep &= (local >= lo).to_numpy()
    if hi is not None:
        keep &= (local < hi + pd.Timedelta(days=1)).to_numpy()
    frame, local = frame.loc[keep], local[keep]
    if frame.empty:
        msg = (
            "empty selection: no case is left after the filters (categories, sources, dates, flagged rows); "
            "widen the filters"
        )
        raise EmptySelectionError(msg)
    case_cells = _case_cells(frame)
    case_res = cell_resolution(case_cells)
    if (case_res < res).any():
        msg = (
            f"resolution mismatch: some cases are at resolution {int(case_res.min())}, coarser than the "
            f"grid's {res}; build the grid at res <= {int(case_res.min())} (cells_to_parents)"
        )
        raise ValueError(msg)
    case_cells = cells_to_parents(case_cells, res)
    freq = PERIOD_FREQ[period]
    stamps = local.dt.to_period(freq)
    first = pd.Period(lo, freq) if lo is not None else stamps.min()
    last = pd.Period(hi, freq) if hi is not None else stamps.max()
    periods = pd.period_range(first, last, freq=freq)
    pos = np.searchsorted(universe, case_cells)
    inside = (pos < universe.size) & (universe[np.minimum(pos, universe.size - 1)] == case_cells)
    t_idx = (stamps.array.asi8 - first.ordinal).astype(np.int64)
    c_idx = pd.Categorical(frame["category_code"], categories=codes).codes.astype(np.int64)
    if not by_category:
        c_idx = np.zeros_like(c_idx)
    n_cat = len(codes) if by_category else 1
    shape = (universe.size, len(periods), n_cat)
    flat = np.ravel_multi_index((pos[inside], t_idx[inside], c_idx[inside]), shape)
    counts = np.bincount(flat, minlength=int(np.prod(shape))).astype(np.int64).reshape(shape)
    names = tuple(codes) if by_category else (COUNT_COL_NAME,)
    return CaseCube(
        counts,
        universe,
        periods,
        names,
        res,
        period,
        timezone,
        int(inside.sum()),
        int((~inside).sum()),
        n_flagged,
        calendar,
    )


# --- stages -----------------------------------------------------------------------------------------------


def _universe(
    cells: ArrayLike | pd.DataFrame,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_] | None]:
    district = None
    if isinstance(cells, pd.DataFrame):
        if CELL_COL_NAME not in cells.columns:
            msg = f"`cells` DataFrame needs a 'cell' column; it has {list(cells.columns)}"
            raise ValueError(msg)
        ordered = cells.sort_values(CELL_COL_NAME)
        arr = ordered[CELL_COL_NAME].to_numpy()
        district = ordered["district"].astype(str).to_numpy() if "district" in cells.columns else None
    else:
        arr = np.asarray(cells)
    if arr.dtype.kind not in "iu":
        msg = f"`cells` must be int64 H3 cells; got dtype {arr.dtype} (parse hex: strings_to_cells)"
        raise TypeError(msg)
    arr = arr.astype(np.uint64).view(np.int64) if arr.dtype.kind == "u" else arr.astype(np.int64)
    if arr.size == 0:
        msg = "`cells` (the cell universe) is empty"
        raise EmptySelectionError(msg)
    order = np.argsort(arr, kind="stable")
    arr, district = arr[order], (district[order] if district is not None else None)
    if (np.diff(arr) == 0).any():
        msg = "`cells` has duplicate cells; pass each cell of the universe once"
        raise ValueError(msg)
    resolutions = np.unique(cell_resolution(arr))
    if resolutions.size > 1:
        msg = f"resolution mismatch: `cells` mixes H3 resolutions {resolutions.tolist()}; use one resolution"
        raise ValueError(msg)
    return arr, district


def _drop_flagged(cases: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    missing = [c for c in (CELL_COL_NAME, "reported_at", "category_code") if c not in cases.columns]
    if missing:
        msg = f"`cases` lacks the columns {missing} of the cases contract; it has {list(cases.columns)}"
        raise ValueError(msg)
    frame = cases[cases[CELL_COL_NAME].notna()]
    if "location_flag" not in frame.columns:
        return frame, 0
    flagged = (frame["location_flag"] == SUSPICIOUS_CLUSTER).fillna(False).to_numpy(dtype=bool)
    return frame.loc[~flagged], int(flagged.sum())


def _case_cells(frame: pd.DataFrame) -> npt.NDArray[np.int64]:
    values = frame[CELL_COL_NAME].to_numpy()
    if values.dtype.kind == "u":
        return values.view(np.int64)
    return values.astype(np.int64)


def _filter_sources(frame: pd.DataFrame, sources: Sequence[str] | None) -> pd.DataFrame:
    if sources is None:
        return frame
    bad = [s for s in sources if s not in CASE_SOURCES]
    if bad:
        msg = f"`sources` has {bad} but is expected to be within {list(CASE_SOURCES)}"
        raise ValueError(msg)
    return frame.loc[frame["source"].isin(list(sources)).to_numpy()]


def _filter_categories(
    frame: pd.DataFrame, categories: Sequence[str] | None, table: pd.DataFrame | None
) -> tuple[list[str], pd.DataFrame]:
    present = pd.unique(frame["category_code"].dropna().astype(str))
    known = set(present.tolist())
    if table is not None:
        known |= set(table["code"].astype(str))
    if categories is None:
        return sorted(present.tolist()), frame
    if isinstance(categories, str):
        categories = [categories]
    chosen: list[str] = []
    for entry in categories:
        matches = (
            [entry] if entry in known else sorted(c for c in known if c.startswith(entry) and c != entry)
        )
        if not matches:
            example = ", ".join(sorted(known)[:8])
            msg = (
                f"category {entry!r} does not exist: it is neither a known code nor the prefix of one "
                f"(known codes include {example} …)"
            )
            raise ValueError(msg)
        chosen.extend(m for m in matches if m not in chosen)
    keep = frame["category_code"].astype(str).isin(chosen).to_numpy()
    return chosen, frame.loc[keep]


def _filter_districts(
    universe: npt.NDArray[np.int64], district: npt.NDArray[np.object_] | None, districts: Sequence[str]
) -> npt.NDArray[np.int64]:
    if district is None:
        msg = "filtering by `districts` needs `cells` as a DataFrame with a 'district' column"
        raise ValueError(msg)
    wanted = [str(d) for d in districts]
    unknown = sorted(set(wanted) - set(district.tolist()))
    if unknown:
        msg = f"`districts` {unknown} are not in the grid; it has {sorted(set(district.tolist()))}"
        raise ValueError(msg)
    return universe[np.isin(district, wanted)]


def _local_times(frame: pd.DataFrame, timezone: str) -> pd.Series:
    times = pd.to_datetime(frame["reported_at"], utc=False)
    if times.dt.tz is None:
        msg = "`cases['reported_at']` is naive: times must be tz-aware (stored in UTC)"
        raise ValueError(msg)
    return times.dt.tz_convert(timezone).dt.tz_localize(None)


def _bounds(
    start: str | dt.date | None, end: str | dt.date | None
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    lo = pd.Timestamp(start).normalize() if start is not None else None
    hi = pd.Timestamp(end).normalize() if end is not None else None
    if lo is not None and hi is not None and hi < lo:
        msg = f"`end` ({hi.date()}) is before `start` ({lo.date()})"
        raise ValueError(msg)
    return lo, hi

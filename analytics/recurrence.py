"""Recurring problems: per cell (× category), how often, how long in a row and since when problems recur.

A period is *active* for a cell when it has at least ``min_count`` cases. Over the last ``last`` periods of a
:class:`~analytics.cube.CaseCube` we count active periods, the longest run of consecutive active periods and
the current run (ending at the last period), and rank the chronic cells.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics._validate import EmptySelectionError, check_int
from analytics.cube import CaseCube
from grid.cells import CELL_COL_NAME

__all__ = ["RecurrenceResult", "recurrence", "run_lengths"]

IntArray = npt.NDArray[np.int64]


def run_lengths(active: npt.NDArray[np.bool_]) -> IntArray:
    """Length of the run of True ending at each position along the last axis (0 where False).

    Vectorised: cumulative count minus the count at the latest False.
    """
    a = np.asarray(active, dtype=bool)
    c = np.cumsum(a, axis=-1)
    reset = np.maximum.accumulate(np.where(a, 0, c), axis=-1)
    return (c - reset).astype(np.int64)


@dataclasses.dataclass(frozen=True)
class RecurrenceResult:
    """Recurrence statistics per cell × category over the last ``n_periods`` periods.

    Attributes
    ----------
    cells : int64, shape (n_cells,). categories : tuple of str, length n_categories.
    periods : pandas.PeriodIndex of the periods looked at, length n_periods.
    active_periods : int64, shape (n_cells, n_categories): periods with >= ``min_count`` cases.
    share : float64, same shape: active_periods / n_periods.
    longest_run : int64, same shape: longest run of consecutive active periods.
    current_run : int64, same shape: run of active periods ending at the last period (0 if it is quiet).
    cases : int64, same shape: cases in the periods looked at.
    min_count : int.
    """

    cells: IntArray
    categories: tuple[str, ...]
    periods: pd.PeriodIndex
    active_periods: IntArray
    share: npt.NDArray[np.float64]
    longest_run: IntArray
    current_run: IntArray
    cases: IntArray
    min_count: int

    def to_frame(self) -> pd.DataFrame:
        """Long frame, one row per (cell, category): the statistics plus ``last_period``."""
        n_cells, n_cat = self.active_periods.shape
        return pd.DataFrame(
            {
                CELL_COL_NAME: np.repeat(self.cells, n_cat),
                "category": np.tile(np.array(self.categories, dtype=object), n_cells),
                "cases": self.cases.reshape(-1),
                "active_periods": self.active_periods.reshape(-1),
                "n_periods": len(self.periods),
                "share": self.share.reshape(-1),
                "longest_run": self.longest_run.reshape(-1),
                "current_run": self.current_run.reshape(-1),
            }
        )

    def chronic(self, *, top: int | None = 20, min_share: float = 0.5) -> pd.DataFrame:
        """Chronic cells ranked: share of active periods, then current run, longest run and cases (desc).

        Rows with ``share < min_share`` are dropped; ``rank`` starts at 1; ``top=None`` keeps all.
        """
        frame = self.to_frame()
        frame = frame[frame["share"] >= min_share]
        frame = frame.sort_values(
            ["share", "current_run", "longest_run", "cases", CELL_COL_NAME],
            ascending=[False, False, False, False, True],
            kind="stable",
        )
        if top is not None:
            frame = frame.head(check_int(top, "top", low=1))
        return frame.reset_index(drop=True).assign(rank=lambda f: np.arange(1, len(f) + 1))


def recurrence(cube: CaseCube, *, last: int | None = None, min_count: int = 1) -> RecurrenceResult:
    """Recurring-problem statistics of a cube over its last ``last`` periods (default all).

    Parameters
    ----------
    cube
        Cell × period × category counts.
    last
        How many trailing periods to look at (1 .. n_periods).
    min_count
        Cases a period needs to count as active (>= 1).

    Returns
    -------
    RecurrenceResult

    Raises
    ------
    ValueError
        ``last`` outside 1 .. n_periods, ``min_count`` < 1; EmptySelectionError for a cube without cases.
    """
    n_periods = cube.counts.shape[1]
    last = n_periods if last is None else check_int(last, "last", low=1, high=n_periods)
    min_count = check_int(min_count, "min_count", low=1)
    counts = cube.counts[:, n_periods - last :, :]
    if counts.sum() == 0:
        msg = f"empty selection: no case in the last {last} period(s) of the cube"
        raise EmptySelectionError(msg)
    active = np.moveaxis(counts >= min_count, 1, -1)  # (cells, categories, periods)
    runs = run_lengths(active)
    n_active = active.sum(axis=-1).astype(np.int64)
    return RecurrenceResult(
        cube.cells,
        cube.categories,
        cube.periods[n_periods - last :],
        n_active,
        n_active / last,
        runs.max(axis=-1),
        runs[..., -1],
        counts.sum(axis=1).astype(np.int64),
        min_count,
    )

"""Discovery rates (主动发现率): patrol finds / all cases per cell, area, inspector or category.

:func:`discovery_rates` with patrol hours and km, finds per hour and per km and the expected problems; the
grouping helpers shared by the other effectiveness tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

#: Groupings of the discovery, missed and summary tables.
GROUPS = ("cell", "subdistrict", "district", "inspector", "category")


def _beat_owner(cells: pd.Series, beats: pd.DataFrame | None) -> npt.NDArray[np.object_]:
    """Inspector responsible for each cell (``beats``: ``cell``, ``inspector_id``; first one per cell)."""
    if beats is None:
        return np.full(len(cells), None, dtype=object)
    table = beats.dropna(subset=["inspector_id"]).drop_duplicates("cell").set_index("cell")["inspector_id"]
    return table.reindex(cells.to_numpy(dtype=np.int64)).to_numpy(dtype=object)


# ------------------------------------------------------------------------------------------ discovery
def discovery_rates(
    cases: pd.DataFrame,
    by: str,
    *,
    visits: pd.DataFrame | None = None,
    cells: pd.DataFrame | None = None,
    beats: pd.DataFrame | None = None,
    expected: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """主动发现率 and patrol productivity per group.

    Parameters
    ----------
    cases
        ``source``, ``cell``, ``category_code``, ``reported_by``.
    by
        ``"cell"``, ``"subdistrict"``, ``"district"`` (needs ``cells`` with that column), ``"category"``
        or ``"inspector"`` (a patrol find belongs to its reporter, any other case to the inspector of its
        cell's beat, ``beats``).
    visits
        :func:`cell_visits` of the same period: adds ``patrol_hours`` and ``patrol_km`` (for inspectors,
        their own; for areas, time spent in the area's cells; not defined per category) and
        ``finds_per_hour`` / ``finds_per_km``.
    cells
        ``cell`` and the area columns (``subdistrict``, ``district``).
    beats
        ``cell``, ``inspector_id`` (the responsible inspector of each cell).
    expected
        ``cell``, ``expected`` (expected problems per cell in the period, :func:`expected_problems`): adds
        ``expected`` per group and the shares ``expected_share`` and ``patrol_share``.

    Returns
    -------
    pandas.DataFrame
        One row per group (column named ``by``): ``cases`` and one count column per source (``patrol``,
        ``hotline``, ``wechat``, ``video``, ``other``), ``discovery_rate`` = patrol / cases (0–1),
        ``citizen_rate`` = (hotline + wechat) / cases, and the optional columns above.
    """
    if by not in GROUPS:
        msg = f"`by` was {by!r} but is expected to be in {list(GROUPS)}"
        raise ValueError(msg)
    source = cases["source"].to_numpy(dtype=object)
    key = _case_group(cases, by, cells, beats)
    frame = pd.DataFrame({by: key, "source": source}).dropna(subset=[by])
    counts = pd.crosstab(frame[by], frame["source"])
    for s in ("patrol", "hotline", "wechat", "video", "other"):
        if s not in counts.columns:
            counts[s] = 0
    out = counts[["patrol", "hotline", "wechat", "video", "other"]].astype(np.int64)
    out.insert(0, "cases", out.sum(axis=1))
    out["discovery_rate"] = out["patrol"] / out["cases"].where(out["cases"] > 0)
    out["citizen_rate"] = (out["hotline"] + out["wechat"]) / out["cases"].where(out["cases"] > 0)
    if visits is not None and by != "category":
        # sum per inspector or per cell first (a few thousand rows), then map cells to their group
        key = "inspector_id" if by == "inspector" else "cell"
        pre = visits.groupby(key, observed=True, sort=False)[["seconds", "length_m"]].sum()
        pre.index = pre.index.astype(str) if by == "inspector" else pre.index
        group = (
            pre.index.to_numpy()
            if by in ("inspector", "cell")
            else _cell_group(pre.index.to_series(), by, cells)
        )
        sums = pre.groupby(group).sum().rename(columns={"seconds": "s", "length_m": "m"})
        out = out.join(sums, how="outer")
        out["patrol_hours"] = out.pop("s").fillna(0.0) / 3600.0
        out["patrol_km"] = out.pop("m").fillna(0.0) / 1000.0
        count_cols = ["cases", "patrol", "hotline", "wechat", "video", "other"]
        out[count_cols] = out[count_cols].fillna(0).astype(np.int64)
        out["finds_per_hour"] = out["patrol"] / out["patrol_hours"].where(out["patrol_hours"] > 0)
        out["finds_per_km"] = out["patrol"] / out["patrol_km"].where(out["patrol_km"] > 0)
    if expected is not None and by != "category":
        ekey = (
            _cell_group(expected["cell"], by, cells)
            if by != "inspector"
            else _beat_owner(expected["cell"], beats)
        )
        exp = pd.Series(expected["expected"].to_numpy(dtype=np.float64)).groupby(ekey).sum()
        out["expected"] = exp.reindex(out.index).fillna(0.0)
        out["expected_share"] = out["expected"] / max(float(exp.sum()), 1e-12)
        if "patrol_hours" in out:
            out["patrol_share"] = out["patrol_hours"] / max(float(out["patrol_hours"].sum()), 1e-12)
    out.index.name = by
    return out.reset_index()


def _cell_group(cells_col: pd.Series, by: str, cells: pd.DataFrame | None) -> npt.NDArray[np.object_]:
    values = cells_col.to_numpy(dtype=np.int64)
    if by == "cell":
        return values
    if cells is None or by not in cells.columns:
        msg = f"grouping by {by!r} needs `cells` with a {by!r} column"
        raise ValueError(msg)
    table = cells.drop_duplicates("cell").set_index("cell")[by]
    return table.reindex(values).to_numpy(dtype=object)


def _case_group(
    cases: pd.DataFrame, by: str, cells: pd.DataFrame | None, beats: pd.DataFrame | None
) -> npt.NDArray[Any]:
    if by == "category":
        return cases["category_code"].to_numpy(dtype=object)
    if by == "inspector":
        patrol = cases["source"].to_numpy(dtype=object) == "patrol"
        owner = _beat_owner(cases["cell"], beats)
        return np.where(patrol, cases["reported_by"].to_numpy(dtype=object), owner)
    return _cell_group(cases["cell"], by, cells)

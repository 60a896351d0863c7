"""The manager's effectiveness table: discovery, misses, attribution, integrity and response per group."""

from __future__ import annotations

import numpy as np
import pandas as pd

from grid.config import DEFAULT_TIMEZONE
from patrol.effectiveness.attribution import DEFAULT_WINDOW_H, attribute_cases, missed_summary
from patrol.effectiveness.discovery import _case_group, discovery_rates
from patrol.effectiveness.response import response_summary, response_times


# ------------------------------------------------------------------------------------------- together
def effectiveness_table(
    cases: pd.DataFrame,
    visits: pd.DataFrame,
    by: str,
    *,
    attribution: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    cells: pd.DataFrame | None = None,
    beats: pd.DataFrame | None = None,
    expected: pd.DataFrame | None = None,
    track_check: pd.DataFrame | None = None,
    window_h: float = DEFAULT_WINDOW_H,
    k: int = 1,
    timezone: str = DEFAULT_TIMEZONE,
) -> pd.DataFrame:
    """One row per group with discovery, misses, attribution, integrity and response: the manager's table.

    Parameters are those of :func:`discovery_rates`, :func:`attribute_cases` (computed unless
    ``attribution`` is given, aligned with ``cases``), :func:`response_times` (``events``, optional) and
    :func:`reporter_track_check` (``track_check``, optional).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`discovery_rates`, then ``citizen_cases``, ``missed``, ``missed_share``
        (:func:`missed_summary`), ``attributed_share`` (patrol finds whose reporter's track was the nearest
        presence before the report), with ``track_check`` ``far_reports`` (patrol finds filed far from the
        reporter's track), and with ``events`` ``verify_n``, ``verify_on_time_rate``, ``verify_median_h``,
        ``check_n``, ``check_on_time_rate``, ``check_median_h`` (for inspectors: the steps they did).
    """
    att = attribution if attribution is not None else attribute_cases(cases, visits, window_h=window_h, k=k)
    out = discovery_rates(cases, by, visits=visits, cells=cells, beats=beats, expected=expected)
    miss = missed_summary(cases, att, by, cells=cells, beats=beats, timezone=timezone)
    out = out.merge(miss, on=by, how="outer")
    key = _case_group(cases, by, cells, beats)
    patrol = cases["source"].to_numpy(dtype=object) == "patrol"
    share = pd.Series(att["attributed"].to_numpy()[patrol]).groupby(key[patrol]).mean()
    out["attributed_share"] = out[by].map(share)
    by_case = pd.Series(key, index=cases["case_id"].to_numpy())
    if track_check is not None:
        group = track_check["reported_by"] if by == "inspector" else by_case.reindex(track_check["case_id"])
        flags = pd.Series(track_check["far_from_track"].to_numpy())
        far = flags.groupby(np.asarray(group, dtype=object)).sum()
        out["far_reports"] = out[by].map(far).fillna(0).astype(np.int64)
    if events is not None:
        resp = response_times(cases, events)
        group = resp["inspector_id"] if by == "inspector" else by_case.reindex(resp["case_id"]).to_numpy()
        summary = response_summary(resp.assign(_g=np.asarray(group, dtype=object)), by="_g")
        for step in ("verify", "check"):
            part = summary[summary["step"] == step].set_index("_g")
            out[f"{step}_n"] = out[by].map(part["n"]).fillna(0).astype(np.int64)
            out[f"{step}_on_time_rate"] = out[by].map(part["on_time_rate"])
            out[f"{step}_median_h"] = out[by].map(part["median_h"])
    return out.sort_values(by, kind="stable", ignore_index=True)

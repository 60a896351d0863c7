"""Who was there: cases joined with cell visits, and the problems the patrol walked past.

* :func:`attribute_cases` — for every case, the inspector last present in its cell (ring 0) and in its
  ``k``-ring within ``window_h`` hours before the report; one interval join (visits sorted by (cell, entry)
  with a running maximum of the exit time, queried by ``searchsorted``), no loop per case.
* :func:`missed_problems` / :func:`missed_summary` — citizen reports in cells an inspector passed through
  within ``window_h`` hours before the report.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from grid.cells import grid_disk
from grid.config import DEFAULT_TIMEZONE
from patrol.effectiveness.discovery import GROUPS, _beat_owner, _case_group
from patrol.effectiveness.visits import _MS, _NAT, _NS, _ns

#: Columns :func:`attribute_cases` returns (besides ``case_id``).
ATTRIBUTION_COLUMNS = (
    "cell_by",
    "cell_before_min",
    "near_by",
    "near_ring",
    "near_before_min",
    "reporter_before_min",
    "attributed",
)
#: Sources whose cases are "reported by citizens" (the denominator of the missed share).
CITIZEN_SOURCES = ("hotline", "wechat")
DEFAULT_WINDOW_H = 2.0


# ------------------------------------------------------------------------------------- interval join
def _time_unit(*arrays: npt.NDArray[np.int64], n_keys: int) -> tuple[int, int]:
    """(origin ns, unit ns) so that ``key * span + (t - origin) // unit`` fits in int64: ms if possible."""
    lo = min(int(a.min()) for a in arrays if len(a))
    hi = max(int(a.max()) for a in arrays if len(a))
    for unit in (_MS, _NS, 60 * _NS):
        if (n_keys + 1) * ((hi - lo) // unit + 2) < 2**62:
            return lo, unit
    msg = f"time range {hi - lo} ns with {n_keys} keys does not fit a 64-bit search key"
    raise OverflowError(msg)


class _Presence:
    """Visits indexed for "last presence before t" queries per key (a cell, or an inspector × cell).

    Visits are sorted by a combined int64 (key rank, entry time) value; ``best`` holds, at each position,
    the visit with the latest exit among the key's visits up to there (a running argmax, so overlapping
    visits of several inspectors in one cell are handled). A query (key, t) finds the last visit of the key
    entered at or before ``t`` by one ``searchsorted``; the presence time is ``min(latest exit, t)``. Keys
    are ranked by hashing (``pandas.factorize``), never sorted; times are in ms (see :func:`_time_unit`).
    """

    def __init__(self, key: npt.NDArray[np.int64], enter: npt.NDArray[np.int64],
                 exit_: npt.NDArray[np.int64], query_t: npt.NDArray[np.int64]) -> None:  # fmt: skip
        codes, uniques = pd.factorize(key)
        self.index = pd.Index(uniques)
        self.origin, self.unit = _time_unit(enter, exit_, query_t, n_keys=len(uniques))
        top = max(int(enter.max()), int(exit_.max()), int(query_t.max()))
        self.span = (top - self.origin) // self.unit + 2
        rank = codes.astype(np.int64)
        combined = rank * self.span + (enter - self.origin) // self.unit
        order = np.argsort(combined)
        self.combined = combined[order]
        rank = rank[order]
        # exits on the same combined scale: a running maximum then restarts with every key by itself
        ends = rank * self.span + (exit_[order] - self.origin) // self.unit
        running = np.maximum.accumulate(ends)
        self.best = order[np.maximum.accumulate(np.where(ends == running, np.arange(len(ends)), 0))]
        self.best_exit = self.origin + (running - rank * self.span) * self.unit

    def query(
        self, key: npt.NDArray[np.int64], t: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(visit index or -1, presence time ns or NaT-int) of the latest presence at or before ``t``."""
        rank = self.index.get_indexer(key).astype(np.int64)
        q = rank * self.span + (t - self.origin) // self.unit
        qo = np.argsort(q)  # sorted queries make the binary searches cache-friendly
        pos = np.empty(len(q), dtype=np.int64)
        pos[qo] = np.searchsorted(self.combined, q[qo], side="right") - 1
        ok = (rank >= 0) & (pos >= 0)
        ok[ok] = self.combined[pos[ok]] // self.span == rank[ok]
        visit = np.full(len(key), -1, dtype=np.int64)
        when = np.full(len(key), _NAT, dtype=np.int64)
        visit[ok] = self.best[pos[ok]]
        when[ok] = np.minimum(self.best_exit[pos[ok]], t[ok])
        return visit, when


def _rings(cells: npt.NDArray[np.int64], k: int) -> pd.DataFrame:
    """(cell, neighbour, ring) for every distinct cell and ring 0..k."""
    seen = pd.DataFrame({"cell": np.unique(cells)})
    seen["neighbour"] = seen["cell"]
    seen["ring"] = 0
    parts = [seen]
    for d in range(1, k + 1):
        disk = grid_disk(seen["cell"].unique(), d)
        inner = grid_disk(seen["cell"].unique(), d - 1)
        ring = disk.merge(inner, how="left", indicator=True)
        ring = ring[ring["_merge"] == "left_only"].drop(columns="_merge").assign(ring=d)
        parts.append(ring)
    return pd.concat(parts, ignore_index=True)


def attribute_cases(
    cases: pd.DataFrame,
    visits: pd.DataFrame,
    *,
    window_h: float = DEFAULT_WINDOW_H,
    k: int = 1,
) -> pd.DataFrame:
    """Which inspector was in each case's cell (and its ``k``-ring) in the hours before it was reported.

    Parameters
    ----------
    cases
        The ``cases`` contract: ``case_id``, ``cell`` (int64, the visits' resolution), ``reported_at``
        (tz-aware), ``source``, ``reported_by`` (inspector id of patrol finds).
    visits
        :func:`cell_visits` / :func:`visits_from_store` over a range covering the cases' windows.
    window_h
        Presence counts when it lies in ``[reported_at - window_h, reported_at]`` (hours, > 0).
    k
        Rings around the case's cell searched for ``near_*`` (0 = the cell only). Patrol reports are placed
        where the inspector stands, a few metres from the problem and possibly across a cell edge, so
        ``k = 1`` is the default.

    Returns
    -------
    pandas.DataFrame
        One row per case, in the order of ``cases``: ``case_id``, ``cell_by`` (the inspector last present
        in the case's cell within the window, else missing), ``cell_before_min`` (minutes from that
        presence to the report; 0 = there when reported), ``near_by``, ``near_ring`` (-1 = nobody),
        ``near_before_min`` (the same over the k-ring, the nearest ring with a presence first, then the
        latest), ``reporter_before_min`` (patrol finds: minutes since the reporter was within the k-ring,
        NaN when not within the window or not a patrol find) and ``attributed`` (patrol finds whose
        ``near_by`` is the reporter).
    """
    if not window_h > 0:
        msg = f"`window_h` must be > 0 hours; got {window_h}"
        raise ValueError(msg)
    if not isinstance(k, int | np.integer) or k < 0:
        msg = f"`k` must be an int >= 0 (rings); got {k!r}"
        raise ValueError(msg)
    n = len(cases)
    cell = cases["cell"].to_numpy(dtype=np.int64)
    t = _ns(cases["reported_at"])
    window = int(window_h * 3600 * _NS)
    out = pd.DataFrame({"case_id": cases["case_id"].to_numpy()})
    out["cell_by"] = pd.Series([None] * n, dtype=object)
    out["cell_before_min"] = np.nan
    out["near_by"] = pd.Series([None] * n, dtype=object)
    out["near_ring"] = -1
    out["near_before_min"] = np.nan
    out["reporter_before_min"] = np.nan
    out["attributed"] = False
    if n == 0 or len(visits) == 0:
        return out
    v_cell = visits["cell"].to_numpy(dtype=np.int64)
    enter, exit_ = _ns(visits["enter"]), _ns(visits["exit"])
    v_insp = pd.Categorical(visits["inspector_id"])
    names = np.asarray(v_insp.categories, dtype=object)
    v_code = v_insp.codes.astype(np.int64)

    # every (case, ring cell) pair, then the latest presence per pair
    rings = _rings(cell, k)
    pairs = pd.DataFrame({"case": np.arange(n), "cell": cell}).merge(rings, on="cell", how="inner")
    case_i = pairs["case"].to_numpy()
    q_cell = pairs["neighbour"].to_numpy(dtype=np.int64)
    q_t = t[case_i]
    index = _Presence(v_cell, enter, exit_, q_t)
    visit, when = index.query(q_cell, q_t)
    ok = (visit >= 0) & (when >= q_t - window)
    ring = pairs["ring"].to_numpy()
    before_min = (q_t - when) / (60 * _NS)
    # nearest ring first, then the latest presence: sort and keep the first valid pair per case
    sel = np.flatnonzero(ok)
    order = sel[np.lexsort((before_min[sel], ring[sel], case_i[sel]))]
    first = order[np.r_[True, case_i[order][1:] != case_i[order][:-1]]] if len(order) else order
    c = case_i[first]
    out.loc[c, "near_by"] = names[v_code[visit[first]]]
    out.loc[c, "near_ring"] = ring[first]
    out.loc[c, "near_before_min"] = before_min[first]
    in_cell = first[ring[first] == 0]
    out.loc[case_i[in_cell], "cell_by"] = names[v_code[visit[in_cell]]]
    out.loc[case_i[in_cell], "cell_before_min"] = before_min[in_cell]

    # patrol finds: was the reporter himself within the k-ring? (key = inspector × cell)
    patrol = (cases["source"].to_numpy(dtype=object) == "patrol") & cases["reported_by"].notna().to_numpy()
    reporter = cases["reported_by"].to_numpy(dtype=object)
    r_code = pd.Categorical(reporter[patrol], categories=names).codes.astype(np.int64)  # -1: no track
    full = np.full(n, -1, dtype=np.int64)
    full[np.flatnonzero(patrol)] = r_code
    p_pairs = np.flatnonzero(full[case_i] >= 0)
    if len(p_pairs):
        cell_rank, cells_u = pd.factorize(np.concatenate([v_cell, q_cell[p_pairs]]))
        v_key = v_code * len(cells_u) + cell_rank[: len(v_cell)]
        q_key = full[case_i[p_pairs]] * len(cells_u) + cell_rank[len(v_cell) :]
        own = _Presence(v_key, enter, exit_, q_t[p_pairs])
        o_visit, o_when = own.query(q_key, q_t[p_pairs])
        o_ok = (o_visit >= 0) & (o_when >= q_t[p_pairs] - window)
        o_min = np.where(o_ok, (q_t[p_pairs] - o_when) / (60 * _NS), np.inf)
        best = pd.Series(o_min).groupby(case_i[p_pairs]).min()
        best = best[np.isfinite(best.to_numpy())]
        out.loc[best.index.to_numpy(), "reporter_before_min"] = best.to_numpy()
    out["attributed"] = patrol & (out["near_by"].to_numpy(dtype=object) == reporter)
    return out


# --------------------------------------------------------------------------------------------- misses
def _local_hour(values: pd.Series, timezone: str) -> npt.NDArray[np.int64]:
    return pd.DatetimeIndex(values).tz_convert(timezone).hour.to_numpy().astype(np.int64)


def missed_problems(
    cases: pd.DataFrame,
    attribution: pd.DataFrame,
    *,
    sources: Sequence[str] = CITIZEN_SOURCES,
    window_h: float | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> pd.DataFrame:
    """Citizen reports in cells an inspector passed through shortly before: problems walked past.

    Parameters
    ----------
    cases, attribution
        The cases and :func:`attribute_cases` of them (same order).
    sources
        The citizen channels (default hotline and WeChat).
    window_h
        Narrower window than the attribution's (hours); default: the attribution's.

    Returns
    -------
    pandas.DataFrame
        One row per missed problem: ``case_id``, ``source``, ``cell``, ``category_code``, ``reported_at``,
        ``hour`` (local hour of the report), ``inspector_id`` (who passed last) and ``before_min``.
    """
    citizen = np.isin(cases["source"].to_numpy(dtype=object), list(sources))
    before = attribution["cell_before_min"].to_numpy(dtype=np.float64)
    hit = citizen & np.isfinite(before)
    if window_h is not None:
        hit &= before <= window_h * 60.0
    rows = cases[hit]
    return pd.DataFrame(
        {
            "case_id": rows["case_id"].to_numpy(),
            "source": rows["source"].to_numpy(),
            "cell": rows["cell"].to_numpy(dtype=np.int64),
            "category_code": rows["category_code"].to_numpy(),
            "reported_at": rows["reported_at"].to_numpy(),
            "hour": _local_hour(rows["reported_at"], timezone),
            "inspector_id": attribution["cell_by"].to_numpy(dtype=object)[hit],
            "before_min": before[hit],
        }
    )


def missed_summary(
    cases: pd.DataFrame,
    attribution: pd.DataFrame,
    by: str,
    *,
    cells: pd.DataFrame | None = None,
    beats: pd.DataFrame | None = None,
    sources: Sequence[str] = CITIZEN_SOURCES,
    window_h: float | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> pd.DataFrame:
    """Missed problems per group: ``citizen_cases``, ``missed`` and ``missed_share`` = missed / citizen.

    ``by`` is one of :data:`GROUPS` or ``"hour"`` (local hour of the report). For ``"inspector"``,
    ``missed`` counts the problems the inspector walked past and ``citizen_cases`` the citizen reports in
    their beat (``beats``: ``cell``, ``inspector_id``; NaN without ``beats``); other groups need ``cells``
    as in :func:`discovery_rates`.
    """
    if by not in (*GROUPS, "hour"):
        msg = f"`by` was {by!r} but is expected to be in {[*GROUPS, 'hour']}"
        raise ValueError(msg)
    citizen = np.isin(cases["source"].to_numpy(dtype=object), list(sources))
    before = attribution["cell_before_min"].to_numpy(dtype=np.float64)
    hit = citizen & np.isfinite(before)
    if window_h is not None:
        hit &= before <= window_h * 60.0
    if by == "hour":
        key = _local_hour(cases["reported_at"], timezone).astype(object)
    elif by == "inspector":
        key = _beat_owner(cases["cell"], beats)
    else:
        key = _case_group(cases, by, cells, beats)
    base = pd.Series(key[citizen]).dropna().value_counts()
    walker = attribution["cell_by"].to_numpy(dtype=object) if by == "inspector" else key
    count = pd.Series(walker[hit]).dropna().value_counts()
    out = pd.DataFrame({"citizen_cases": base, "missed": count}).fillna(0).astype(np.int64)
    share = out["missed"] / out["citizen_cases"].where(out["citizen_cases"] > 0)
    out["missed_share"] = share if not (by == "inspector" and beats is None) else np.nan
    out.index.name = by
    return out.sort_index().reset_index()

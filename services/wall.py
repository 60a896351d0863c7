"""The command centre's wall display (指挥大屏): today's intake, open and overdue work, inspectors, a map.

:func:`wall_summary` gathers what the wall shows at ``as_of`` (default now): today's reports by source
(受理), the open and the overdue cases by district and by department (with their names), each inspector's
last position today from the track store (none when the store has no points for today), and today's cases
with their location and status for the map. Open means not closed or cancelled; overdue means the
deadline clock runs (dispatched, or an extension / suspension request pending) and the deadline is past,
as the alerts count it (:data:`services.alerts.RUNNING`). A district-scoped caller sees their district.

A wall hangs in the command centre without anybody signed in: a display token (``gridpatrol wall-token``
prints a new one once and stores only its SHA-256 in ``<data dir>/wall-token.sha256``; or the city
configuration's ``wall_token_sha256``) makes :func:`display_actor` return a read-only ``wall`` actor, which
may call :func:`wall_summary` and nothing else (every other service checks its own roles).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import os
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from cases import repository, repository_wall
from services.context import Actor, ServiceContext
from services.errors import ServiceError
from services.queue_common import as_of_time, in_scope, locate

__all__ = [
    "TOKEN_FILE",
    "WALL_ACTOR",
    "WALL_ROLES",
    "WallRequest",
    "WallSummary",
    "display_actor",
    "new_display_token",
    "wall_summary",
]

#: Roles that may open the wall (``wall``: the display signed in by its token, read only).
WALL_ROLES = ("wall", "operator", "dispatcher", "supervisor", "manager", "admin")
#: The file (in the data folder) holding the SHA-256 of the display token.
TOKEN_FILE = "wall-token.sha256"
WALL_ACTOR = Actor(username="wall-display", role="wall")
OPEN_STATUSES = ("reported", "verified", "registered", "dispatched", "extension_requested",
                 "suspension_requested", "suspended", "resolved", "checked")  # fmt: skip
#: Statuses whose deadline clock runs (as :data:`services.alerts.RUNNING`).
RUNNING = ("dispatched", "extension_requested", "suspension_requested")
COUNT_COLUMNS = ("level", "code", "name", "open", "overdue")
POSITION_COLUMNS = ("inspector_id", "name", "lat", "lon", "at")
CASE_COLUMNS = ("case_id", "status", "source", "category_code", "district", "lat", "lon", "reported_at")


@dataclasses.dataclass(frozen=True)
class WallRequest:
    """The wall at ``as_of`` (None: now; a date: the end of that local day; a naive time is local)."""

    as_of: dt.datetime | dt.date | None = None


@dataclasses.dataclass(frozen=True)
class WallSummary:
    """What the wall shows (:func:`wall_summary`); ``to_frame()`` is the open / overdue counts table."""

    as_of: pd.Timestamp  #: local time of the figures
    intake: pd.DataFrame  #: today's reports: ``source``, ``cases`` (most first)
    by_district: pd.DataFrame  #: ``district``, ``name``, ``open``, ``overdue``
    by_department: pd.DataFrame  #: ``department``, ``name``, ``open``, ``overdue``
    positions: pd.DataFrame  #: each inspector's last fix today: :data:`POSITION_COLUMNS`
    cases: pd.DataFrame  #: today's cases for the map: :data:`CASE_COLUMNS` (local times)
    tracks_found: bool  #: the track store has points of today up to ``as_of``

    @property
    def day(self) -> dt.date:
        """The local day of the figures."""
        return self.as_of.date()

    @property
    def intake_total(self) -> int:
        """Cases reported today."""
        return int(self.intake["cases"].sum())

    @property
    def open_total(self) -> int:
        """Open cases (not closed or cancelled)."""
        return int(self.by_district["open"].sum())

    @property
    def overdue_total(self) -> int:
        """Open cases past their deadline with the deadline clock running."""
        return int(self.by_district["overdue"].sum())

    def to_frame(self) -> pd.DataFrame:
        """Open and overdue counts: one row per district then per department (:data:`COUNT_COLUMNS`)."""
        parts = [
            frame.rename(columns={key: "code"}).assign(level=key)[list(COUNT_COLUMNS)]
            for key, frame in (("district", self.by_district), ("department", self.by_department))
        ]
        return pd.concat(parts, ignore_index=True)


def wall_summary(ctx: ServiceContext, request: WallRequest = WallRequest()) -> WallSummary:
    """Today's intake, the open and overdue cases by district and department, inspectors, today's cases.

    Parameters
    ----------
    ctx
        The context; the caller must be one of :data:`WALL_ROLES` (the display token's actor included).
    request
        The time of the figures (:class:`WallRequest`).

    Returns
    -------
    WallSummary
        The figures; empty tables (with their columns) where nothing is open or reported.
    """
    from services.study import display_names

    ctx.require("open the wall display", *WALL_ROLES)
    tz = ctx.timezone
    now = as_of_time(request.as_of, tz)
    local = now.tz_convert(tz)
    start = local.normalize().tz_convert("UTC")
    names = display_names(ctx)
    today = in_scope(
        ctx, locate(ctx, _with_cells(repository_wall.cases_reported_between(ctx.engine, start, now)))
    )
    intake = today.groupby("source").size().rename("cases").sort_values(ascending=False, kind="stable")
    intake = intake.rename_axis("source").reset_index()
    open_ = repository_wall.open_cases(ctx.engine, OPEN_STATUSES, now)
    open_ = in_scope(ctx, locate(ctx, _with_cells(open_)))
    open_["overdue"] = open_["status"].isin(RUNNING) & (open_["deadline_at"] < now)
    by_district = _counts(open_, "district", names.areas)
    by_department = _counts(open_, "department", names.departments)
    positions, found = _positions(ctx, local)
    cases = today.assign(reported_at=today["reported_at"].dt.tz_convert(tz))[list(CASE_COLUMNS)]
    return WallSummary(local, intake, by_district, by_department, positions, cases, found)


def _with_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the resolution-10 cell of each located case that has none (entered without one)."""
    from grid.cells import latlng_to_cells

    missing = frame["cell"].isna().to_numpy() & frame[["lat", "lon"]].notna().all(axis=1).to_numpy()
    if not missing.any():
        return frame
    out = frame.copy()
    cells = latlng_to_cells(out["lat"].to_numpy(float)[missing], out["lon"].to_numpy(float)[missing], 10)
    known = out["cell"].astype("Int64")
    values = known.to_numpy(dtype=np.int64, na_value=0)
    values[missing] = np.asarray(cells, dtype=np.int64)
    out["cell"] = pd.arrays.IntegerArray(values, known.isna().to_numpy() & ~missing)
    return out


def _counts(open_: pd.DataFrame, key: str, names: dict[str, str]) -> pd.DataFrame:
    codes = open_[key].astype(object).where(open_[key].notna(), None)
    frame = pd.DataFrame({key: codes.fillna("").to_numpy(), "overdue": open_["overdue"].to_numpy(dtype=int)})
    out = (
        frame.groupby(key, sort=True).agg(open=("overdue", "size"), overdue=("overdue", "sum")).reset_index()
    )
    out.insert(1, "name", [names.get(c) or c for c in out[key]])
    out[key] = out[key].replace("", None)
    out = out.sort_values(["overdue", "open"], ascending=False, kind="stable").reset_index(drop=True)
    return out.astype({"open": "int64", "overdue": "int64"})


def _positions(ctx: ServiceContext, local: pd.Timestamp) -> tuple[pd.DataFrame, bool]:
    """Each inspector's last fix of the local day up to ``local`` (empty, False without points)."""
    from patrol.store import read_days

    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in POSITION_COLUMNS})
    root = ctx.tracks_root()
    if root is None:
        return empty, False
    points = read_days(root, local.date(), local.date())
    points = points[points["ts"] <= local.tz_convert("UTC")]
    if points.empty:
        return empty, False
    last = points.sort_values(["inspector_id", "ts"], kind="stable").groupby("inspector_id").tail(1)
    people = repository.inspectors(ctx.engine)
    if ctx.actor.district:
        people = people[people["district"] == ctx.actor.district]
        last = last[last["inspector_id"].isin(people["inspector_id"])]
    name = dict(zip(people["inspector_id"], people["name"], strict=True))
    out = pd.DataFrame(
        {
            "inspector_id": last["inspector_id"].to_numpy(),
            "name": [name.get(i) or i for i in last["inspector_id"]],
            "lat": last["lat"].to_numpy(dtype=float),
            "lon": last["lon"].to_numpy(dtype=float),
            "at": pd.to_datetime(last["ts"], utc=True).dt.tz_convert(local.tz).to_numpy(),
        }
    )
    return out.reset_index(drop=True), True


# ---- the display token ---------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _token_path(ctx: ServiceContext) -> Path:
    return Path(ctx.data_dir) / TOKEN_FILE


def stored_digest(ctx: ServiceContext) -> str | None:
    """The SHA-256 (hex) of the display token: the configuration's ``wall_token_sha256``, else the file's."""
    configured = getattr(ctx.config, "wall_token_sha256", None)
    if configured:
        return str(configured).strip().lower()
    path = _token_path(ctx)
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8").strip().lower()
    return text or None


def display_actor(ctx: ServiceContext, token: str | None) -> Actor | None:
    """The read-only wall actor when ``token`` is the display token; None otherwise (or when none is set)."""
    digest = stored_digest(ctx)
    if not token or not digest:
        return None
    return WALL_ACTOR if hmac.compare_digest(_digest(token), digest) else None


def new_display_token(ctx: ServiceContext) -> str:
    """A new display token (replacing the old one): its SHA-256 is stored, the token itself only returned.

    Raises :class:`ServiceError` ``wall_token_configured`` when the configuration fixes the digest.
    """
    ctx.require("create a wall display token", "admin")
    if getattr(ctx.config, "wall_token_sha256", None):
        raise ServiceError("wall_token_configured", "the city configuration sets wall_token_sha256")
    token = secrets.token_urlsafe(24)
    path = _token_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(_digest(token) + "\n")
    return token

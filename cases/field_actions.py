"""What a grid inspector does on site, restricted to the inspector's own cells.

The status changes themselves go through the lifecycle (:func:`cases.lifecycle.transition`: verify 核实,
check_pass / check_fail 核查; :func:`cases.lifecycle.report_case` for a new patrol find). This module adds
the scope: :func:`inspector_cells` gives the cells assigned to an inspector, :func:`case_in_cells` tests a
case against them, and :func:`record_action` / :func:`report_problem` refuse a case or a place outside
them before anything is written — so the app's restriction does not depend on which widgets it shows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

import numpy as np
from sqlalchemy.engine import Engine

from cases import repository
from cases.lifecycle import TransitionResult, allowed_actions, report_case, transition
from cases.repository_patrol import case_cell_status

__all__ = [
    "CASE_CELL_RES",
    "FieldActionError",
    "NewProblem",
    "case_in_cells",
    "inspector_actions",
    "inspector_cells",
    "record_action",
    "report_problem",
]

#: Resolution of the ``cell`` column of cases (DESIGN.md).
CASE_CELL_RES = 10


class FieldActionError(ValueError):
    """The action is outside the inspector's cells (unknown cases get the same error: no existence hint)."""


def inspector_cells(engine: Engine, inspector_id: str, start: dt.datetime, end: dt.datetime) -> np.ndarray:
    """Cells assigned to ``inspector_id`` at any time in ``[start, end)`` (tz-aware): int64, sorted
    (:func:`cases.repository.inspector_cells`)."""
    return repository.inspector_cells(engine, inspector_id, start, end)


def case_in_cells(engine: Engine, case_id: str, cells: np.ndarray) -> bool:
    """True when case ``case_id`` exists and its (res-10) ``cell`` is one of ``cells``."""
    found = case_cell_status(engine, case_id)
    cell = None if found is None else found[0]
    return cell is not None and bool(np.isin(np.int64(cell), np.asarray(cells, dtype=np.int64)))


def inspector_actions(status: str | None) -> list[str]:
    """Lifecycle actions an inspector may take on a case in ``status`` (``verify``, ``check_pass`` …)."""
    return allowed_actions(status, "inspector")


def record_action(
    engine: Engine,
    case_id: str,
    action: str,
    *,
    actor: str,
    cells: np.ndarray,
    note: str = "",
    at: dt.datetime | None = None,
) -> TransitionResult:
    """Apply the inspector's lifecycle ``action`` to ``case_id`` if the case lies in ``cells``.

    Raises
    ------
    FieldActionError
        The case is not in ``cells`` (or does not exist).
    cases.lifecycle.LifecycleError
        The lifecycle refuses the action (wrong status, concurrent change …).
    """
    if not case_in_cells(engine, case_id, cells):
        msg = f"case {case_id!r} is not in the cells assigned to {actor}"
        raise FieldActionError(msg)
    return transition(engine, case_id, action, actor, "inspector", at=at, note=note or None)


@dataclasses.dataclass(frozen=True)
class NewProblem:
    """A problem an inspector found: WGS-84 ``lat``/``lon``, a standard ``category_code`` and its row."""

    lat: float
    lon: float
    category_code: str
    category_standard: str | None
    kind: str | None
    description: str


def report_problem(
    engine: Engine,
    problem: NewProblem,
    *,
    inspector_id: str,
    allowed_cells: np.ndarray,
    at: dt.datetime | None = None,
) -> str:
    """File a patrol find as a new case (verified at once: an inspector's own report needs no 核实).

    Returns
    -------
    str
        The new case id (``P<yyyymmddHHMMSS>-<inspector>-<random>``).

    Raises
    ------
    FieldActionError
        The point is not a WGS-84 point or lies outside ``allowed_cells`` (res 10).
    """
    from grid.cells import latlng_to_cells

    if not (-90 <= problem.lat <= 90 and -180 <= problem.lon <= 180):
        msg = f"({problem.lat}, {problem.lon}) is not a WGS-84 latitude/longitude"
        raise FieldActionError(msg)
    cell = int(latlng_to_cells(np.array([problem.lat]), np.array([problem.lon]), CASE_CELL_RES)[0])
    if not np.isin(cell, np.asarray(allowed_cells, dtype=np.int64)):
        msg = f"({problem.lat:.6f}, {problem.lon:.6f}) is outside the cells assigned to {inspector_id}"
        raise FieldActionError(msg)
    at = at or dt.datetime.now(dt.UTC)
    case_id = f"P{at:%Y%m%d%H%M%S}-{inspector_id}-{secrets.token_hex(3)}"
    report_case(
        engine,
        case_id=case_id,
        source="patrol",
        category_code=problem.category_code,
        reported_at=at,
        actor=inspector_id,
        role="inspector",
        category_standard=problem.category_standard,
        kind=problem.kind,
        lat=problem.lat,
        lon=problem.lon,
        cell=cell,
        source_crs="wgs84",
        reported_by=inspector_id,
        description=problem.description,
    )
    return case_id

"""The KPI vocabulary and the scoring configuration: the groupings, rate and count columns of
:func:`analytics.kpi.kpi_table`, and the grades, department weights and deductions (扣分), inspector
weights and on-site time limits read from ``analytics/data/kpi_scoring.toml`` (:func:`load_scoring`).

No computation on cases lives here; :mod:`analytics.kpi` re-exports everything below.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

GROUPINGS = ("district", "subdistrict", "department", "inspector", "category")
#: Rates (fractions 0–1) of :func:`kpi_table`, each followed in the docstring table by its denominator.
RATE_COLUMNS = (
    "closure_rate",
    "on_time_closure_rate",
    "handling_rate",
    "on_time_handling_rate",
    "rework_rate",
    "extension_rate",
    "satisfaction_rate",
)
#: Counts of :func:`kpi_table` (integers).
COUNT_COLUMNS = (
    "cases",
    "should_close",
    "closed",
    "closed_on_time",
    "should_handle",
    "handled",
    "handled_on_time",
    "overdue",
    "reworked",
    "extended",
    "suspended",
    "callbacks",
    "satisfied",
    "mediated",  # closed by mediation (和谐调解结案): among ``closed``, reported separately
)
SCORING_FILE = Path(__file__).with_name("data") / "kpi_scoring.toml"


# ---- configuration ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Deduction:
    """One 扣分 rule: ``points`` per unit of KPI column ``count``, at most ``cap`` points."""

    name: str
    count: str
    points: float
    cap: float


@dataclass(frozen=True)
class Scoring:
    """Grades, department weights and deductions, inspector weights and time limits (see the TOML)."""

    grade_bounds: tuple[tuple[str, float], ...] = (("A", 90.0), ("B", 75.0), ("C", 60.0), ("D", 40.0))
    department_weights: dict[str, float] = field(
        default_factory=lambda: {"handling_rate": 0.4, "on_time_handling_rate": 0.6}
    )
    deductions: tuple[Deduction, ...] = ()
    inspector_weights: dict[str, float] = field(
        default_factory=lambda: {
            "valid_reports": 0.25,
            "on_time_verify_rate": 0.40,
            "on_time_check_rate": 0.35,
        }
    )
    verify_limit_hours: float = 1.0
    check_limit_hours: float = 4.0


def load_scoring(path: str | Path | None = None) -> Scoring:
    """Read a scoring TOML (default: the shipped ``analytics/data/kpi_scoring.toml``)."""
    path = Path(path) if path is not None else SCORING_FILE
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    bounds = tuple(sorted(((k, float(v)) for k, v in raw.get("grades", {}).items()), key=lambda kv: -kv[1]))
    dept = raw.get("department", {})
    insp = raw.get("inspector", {})
    deductions = tuple(
        Deduction(str(d["name"]), str(d["count"]), float(d["points"]), float(d.get("cap", np.inf)))
        for d in dept.get("deduction", [])
    )
    unknown = [d.count for d in deductions if d.count not in COUNT_COLUMNS]
    bad_weights = [k for k in dept.get("weights", {}) if k not in RATE_COLUMNS]
    if unknown or bad_weights:
        msg = f"{path}: unknown deduction counts {unknown} / weight rates {bad_weights}"
        raise ValueError(msg)
    default = Scoring()
    return Scoring(
        grade_bounds=bounds or default.grade_bounds,
        department_weights={k: float(v) for k, v in dept.get("weights", default.department_weights).items()},
        deductions=deductions,
        inspector_weights={k: float(v) for k, v in insp.get("weights", default.inspector_weights).items()},
        verify_limit_hours=float(insp.get("verify_limit_hours", default.verify_limit_hours)),
        check_limit_hours=float(insp.get("check_limit_hours", default.check_limit_hours)),
    )


def grades(score: Any, bounds: tuple[tuple[str, float], ...] = Scoring().grade_bounds) -> np.ndarray:
    """Grade letter of each score (A–E by default); NaN scores get ``""``."""
    s = np.asarray(score, dtype=float)
    out = np.full(s.shape, "E", dtype=object)
    for letter, bound in sorted(bounds, key=lambda kv: kv[1]):  # ascending: higher bounds overwrite
        out[s >= bound] = letter
    out[np.isnan(s)] = ""
    return out

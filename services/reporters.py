"""Citizen reporters (热心市民): who reported accepted problems, for the bureau's reward scheme.

:func:`active_reporters` counts, per reporter (their phone; the name where the report carried one), the
accepted problems they reported in a quarter (accepted: past on-site verification and not cancelled —
registered, dispatched … closed, or closed by mediation), most active first, with the case ids; the phone
is always masked (``138****5678``). :func:`reporters_csv` is the same table as a spreadsheet-safe CSV.
Supervisors, managers and administrators; a district-scoped user counts only their district's cases.
"""

from __future__ import annotations

import dataclasses
import re

import pandas as pd

from cases import repository_callbacks
from cases.csv_safe import csv_bytes
from cases.users import mask_phone
from services.callbacks import _with_district
from services.context import ServiceContext
from services.errors import ServiceError

__all__ = ["REPORTER_COLUMNS", "REPORTER_ROLES", "ReportersRequest", "ReportersResult", "active_reporters"]

#: Roles that may read the reporters' list.
REPORTER_ROLES = ("supervisor", "manager", "admin")
#: Columns of :attr:`ReportersResult.reporters`.
REPORTER_COLUMNS = ("rank", "reporter_phone", "name", "accepted", "first_report", "last_report", "case_ids")
_QUARTER = re.compile(r"^(\d{4})\s*[Qq]([1-4])$")


@dataclasses.dataclass(frozen=True)
class ReportersRequest:
    """``quarter``: ``"2025Q4"`` (local dates of the city's zone; None: every report); ``top``: how many."""

    quarter: str | None = None
    top: int = 20


@dataclasses.dataclass(frozen=True)
class ReportersResult:
    """The most active reporters (:data:`REPORTER_COLUMNS`), most accepted reports first."""

    request: ReportersRequest
    reporters: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.reporters.copy()

    def to_csv(self) -> bytes:
        """The table as UTF-8 CSV (with BOM, for Excel), formula-like texts defused."""
        return csv_bytes(self.reporters)


def _bounds(ctx: ServiceContext, quarter: str | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    if not quarter:
        return None, None
    match = _QUARTER.match(quarter.strip())
    if match is None:
        raise ServiceError(
            "bad_quarter", f"a quarter is written like 2025Q4, got {quarter!r}", quarter=quarter
        )
    year, q = int(match[1]), int(match[2])
    start = pd.Timestamp(year=year, month=3 * q - 2, day=1).tz_localize(ctx.timezone)
    return start.tz_convert("UTC"), (start + pd.DateOffset(months=3)).tz_convert("UTC")


def _name(cases: pd.DataFrame) -> pd.Series:
    first = cases["first_name"].fillna("").astype(str)
    last = cases["last_name"].fillna("").astype(str)
    return (last + first).str.strip().replace("", None)


def active_reporters(ctx: ServiceContext, request: ReportersRequest) -> ReportersResult:
    """The ``top`` reporters of accepted problems in ``quarter`` (module docstring).

    Raises
    ------
    NotAllowedError
        Not a supervisor, manager or administrator.
    ServiceError
        ``bad_quarter``.
    """
    actor = ctx.require("list the citizen reporters", *REPORTER_ROLES)
    lo, hi = _bounds(ctx, request.quarter)
    cases = repository_callbacks.reporter_cases(ctx.engine, lo, hi)
    if actor.district:
        cases = _with_district(ctx, cases)
        cases = cases[cases["district"] == actor.district]
    cases = cases.assign(name=_name(cases), reporter_phone=cases["reporter_phone"].astype(str).str.strip())
    grouped = (
        cases.groupby("reporter_phone", sort=False)
        .agg(
            name=("name", "first"),
            accepted=("case_id", "size"),
            first_report=("reported_at", "min"),
            last_report=("reported_at", "max"),
            case_ids=("case_id", lambda ids: ", ".join(sorted(ids))),
        )
        .reset_index()
    )
    grouped = grouped.sort_values(
        ["accepted", "last_report", "reporter_phone"], ascending=[False, False, True]
    )
    top = grouped.head(max(1, int(request.top))).reset_index(drop=True)
    top["reporter_phone"] = top["reporter_phone"].map(lambda p: mask_phone(p, None))
    top.insert(0, "rank", range(1, len(top) + 1))
    return ReportersResult(request, top[list(REPORTER_COLUMNS)])

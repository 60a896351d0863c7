"""Disposal time limits (处置时限) per category code and urgency, and the deadlines they give.

A rule says: cases of ``category_code`` with ``urgency`` must be handled within ``limit`` ``unit`` of
dispatch, where ``unit`` is ``working_hours``, ``working_days`` (counted on the working calendar, see
:mod:`cases.calendar`) or ``hours`` (round the clock, for urgent safety cases). ``category_code`` may be an
exact code (``06010``), a prefix ending in ``*`` (``01*`` = every 01xxx component matter) or ``*``;
``urgency`` is ``urgent`` (紧急), ``high`` (较急), ``normal`` (一般) or ``*``. The most specific rule wins:
exact code before longer prefixes before ``*``, and an exact urgency before ``*``.

Defaults follow DOMAIN.md §3.2 (typical local tables): 暴露垃圾 4 working hours, 道路不洁 2 working hours,
积存垃圾渣土 2 working days, 私搭乱建 15 working days (stop-work order within 4 working hours when high),
urgent cases 1 hour round the clock. A city loads its own table from CSV or TOML with
:func:`load_deadline_table`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cases.calendar import WorkingCalendar, default_calendar

URGENCIES = ("urgent", "high", "normal")
UNITS = ("working_hours", "working_days", "hours")
RULE_COLUMNS = ("category_code", "urgency", "limit", "unit")


@dataclass(frozen=True)
class DeadlineRule:
    """One time-limit rule (see the module docstring for the matching rules)."""

    category_code: str
    urgency: str
    limit: float
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            msg = (
                f"unit of rule {self.category_code}/{self.urgency} is {self.unit!r}, expected one of {UNITS}"
            )
            raise ValueError(msg)
        if self.urgency not in (*URGENCIES, "*"):
            msg = f"urgency {self.urgency!r} is not one of {(*URGENCIES, '*')}"
            raise ValueError(msg)
        if not self.limit > 0:
            msg = f"limit of rule {self.category_code}/{self.urgency} must be > 0, got {self.limit}"
            raise ValueError(msg)

    def specificity(self) -> tuple[int, int]:
        """Sort key: longer code match first, exact urgency before ``*``."""
        code = 100 if not self.category_code.endswith("*") else len(self.category_code) - 1
        return code, int(self.urgency != "*")

    def matches(self, code: str, urgency: str) -> bool:
        """Whether the rule applies to a case of ``code`` and ``urgency``."""
        c = self.category_code
        ok_code = code == c if not c.endswith("*") else code.startswith(c[:-1])
        return ok_code and self.urgency in ("*", urgency)


def _r(code: str, urgency: str, limit: float, unit: str) -> DeadlineRule:
    return DeadlineRule(code, urgency, limit, unit)


DEFAULT_RULES: tuple[DeadlineRule, ...] = (
    _r("*", "*", 1, "working_days"),
    _r("*", "high", 4, "working_hours"),
    _r("*", "urgent", 1, "hours"),
    _r("01*", "normal", 1, "working_days"),
    _r("01037", "normal", 3, "working_days"),
    _r("06001", "normal", 15, "working_days"),
    _r("06007", "normal", 1, "working_days"),
    _r("06010", "normal", 4, "working_hours"),
    _r("06011", "normal", 2, "working_days"),
    _r("06012", "normal", 2, "working_hours"),
    _r("06013", "normal", 3, "working_days"),
    _r("06017", "normal", 4, "working_hours"),
    _r("06027", "normal", 5, "working_days"),
    _r("06029", "normal", 1, "working_days"),
    _r("06036", "normal", 1, "working_days"),
    _r("06042", "normal", 4, "working_hours"),
    _r("06045", "normal", 5, "working_days"),
    _r("07001", "normal", 1, "working_days"),
    _r("07003", "normal", 5, "working_days"),
    _r("08004", "normal", 4, "working_hours"),
    _r("08005", "normal", 1, "working_days"),
    _r("09001", "normal", 2, "working_hours"),
    _r("09005", "normal", 4, "working_hours"),
    _r("09006", "normal", 2, "working_hours"),
    _r("09009", "normal", 2, "working_hours"),
    _r("09010", "normal", 4, "working_hours"),
    _r("10001", "normal", 4, "working_hours"),
    _r("10001", "high", 2, "hours"),
)


class DeadlineTable:
    """A set of :class:`DeadlineRule` with most-specific-first lookup."""

    def __init__(self, rules: tuple[DeadlineRule, ...] | list[DeadlineRule] = DEFAULT_RULES) -> None:
        self.rules = tuple(sorted(rules, key=lambda r: r.specificity(), reverse=True))

    def rule_for(self, code: str, urgency: str) -> DeadlineRule:
        """The rule that applies to one (code, urgency); ``LookupError`` when none does."""
        for rule in self.rules:
            if rule.matches(str(code), str(urgency)):
                return rule
        msg = f"no time-limit rule for category {code!r} with urgency {urgency!r} (add a '*' rule)"
        raise LookupError(msg)

    def limits(self, category_code: Any, urgency: Any) -> pd.DataFrame:
        """Per case: the matching rule's ``limit`` and ``unit`` (vectorised over unique pairs)."""
        frame = pd.DataFrame(
            {
                "c": np.asarray(category_code, dtype=object).astype(str),
                "u": pd.Series(np.asarray(urgency, dtype=object)).fillna("normal").astype(str),
            }
        )
        keys = frame.drop_duplicates().reset_index(drop=True)
        rules = [self.rule_for(c, u) for c, u in zip(keys["c"], keys["u"], strict=True)]
        keys["limit"] = [r.limit for r in rules]
        keys["unit"] = [r.unit for r in rules]
        return frame.merge(keys, on=["c", "u"], how="left")[["limit", "unit"]]

    def to_frame(self) -> pd.DataFrame:
        """The rules as a DataFrame with ``RULE_COLUMNS``."""
        return pd.DataFrame(
            [(r.category_code, r.urgency, r.limit, r.unit) for r in self.rules], columns=list(RULE_COLUMNS)
        )


def load_deadline_table(path: str | Path, *, extend_defaults: bool = True) -> DeadlineTable:
    """Read rules from CSV (columns ``category_code, urgency, limit, unit``) or TOML (``[[rule]]`` tables).

    With ``extend_defaults`` the file's rules are added to (and, being as specific, override) the defaults.
    """
    path = Path(path)
    if path.suffix.lower() == ".toml":
        with path.open("rb") as fh:
            raw = tomllib.load(fh).get("rule", [])
        rows = pd.DataFrame(raw)
    else:
        rows = pd.read_csv(path, dtype={"category_code": str, "urgency": str})
    missing = [c for c in RULE_COLUMNS if c not in rows.columns]
    if missing:
        msg = f"{path}: missing columns {missing}; expected {list(RULE_COLUMNS)}"
        raise ValueError(msg)
    rules = [
        DeadlineRule(str(r.category_code), str(r.urgency), float(r.limit), str(r.unit))
        for r in rows.itertuples(index=False)
    ]
    if extend_defaults:
        own = {(r.category_code, r.urgency) for r in rules}
        rules = [r for r in DEFAULT_RULES if (r.category_code, r.urgency) not in own] + rules
    return DeadlineTable(rules)


def deadlines_for(
    category_code: Any,
    urgency: Any,
    dispatched_at: Any,
    *,
    table: DeadlineTable | None = None,
    calendar: WorkingCalendar | None = None,
) -> Any:
    """Deadline (UTC) of each case: dispatch time plus its category's and urgency's time limit.

    Parameters
    ----------
    category_code, urgency
        Array-likes of the same length (urgency None → ``normal``).
    dispatched_at
        tz-aware dispatch times (Series, DatetimeIndex, Timestamp); NaT gives NaT.
    table, calendar
        Rules (default :data:`DEFAULT_RULES`) and working calendar (default
        :func:`cases.calendar.default_calendar`: 08:00–12:00, 13:30–17:30 in
        :data:`grid.config.DEFAULT_TIMEZONE`, Chinese holidays; a city passes
        :func:`cases.calendar.working_calendar` of its configuration).

    Returns
    -------
    Same type as ``dispatched_at``, tz-aware UTC.
    """
    table = table or DeadlineTable()
    cal = calendar or default_calendar()
    codes = np.atleast_1d(np.asarray(category_code, dtype=object))
    urg = np.broadcast_to(np.atleast_1d(np.asarray(urgency, dtype=object)), codes.shape)
    lim = table.limits(codes, urg)
    unit = lim["unit"].to_numpy()
    limit = lim["limit"].to_numpy(dtype=float)
    hours = np.where(unit == "working_days", limit * cal.hours_per_day, limit)
    return cal.add_working_time(dispatched_at, hours, wall_clock=unit == "hours")

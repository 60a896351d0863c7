"""Working calendar of a city-management office: working hours, weekends, holidays and make-up days.

A working day is a day ``chinese_calendar`` calls a workday (Monday–Friday except statutory holidays, plus
the make-up Saturdays/Sundays, 调休上班) — or, for a city configured with ``calendar.country = "none"``,
Monday–Friday — minus the city's extra holidays, plus its extra make-up days. :func:`working_calendar` builds
the calendar of a :class:`grid.config.CityConfig`; it is the one holiday wrapper of the project (the
forecast's holiday features and the simulator read it too). Working time is the union of the day's working
periods, by default 08:00–12:00 and 13:30–17:30 in the city's zone (:data:`grid.config.DEFAULT_TIMEZONE`;
8 working hours a day). Time limits (处置时限) are
counted in working time: ``add_working_time`` moves a UTC instant forward by so many working hours, and
``working_time_between`` measures working hours between two instants. ``wall_clock=True`` counts round the
clock instead (urgent safety cases). Everything is vectorised: the calendar is turned once into a sorted
table of working intervals in UTC nanoseconds with cumulative working seconds, then every query is a
``searchsorted``.

Working days are counted as ``days × hours_per_day`` working hours, so "3 working days" from Tuesday 10:00
ends Friday 10:00, and from a Friday 16:30 it ends the third working day after at 16:30.

Examples
--------
>>> import pandas as pd
>>> from grid.config import DEFAULT_TIMEZONE
>>> t = pd.Series(pd.to_datetime(["2025-03-07 16:30"]).tz_localize(DEFAULT_TIMEZONE).tz_convert("UTC"))
>>> add_working_time(t, 4).dt.tz_convert(DEFAULT_TIMEZONE).iloc[0].isoformat()
'2025-03-10T11:00:00+08:00'
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache
from typing import Any

import chinese_calendar
import numpy as np
import numpy.typing as npt
import pandas as pd

from grid.config import DEFAULT_TIMEZONE, CityConfig

_log = logging.getLogger(__name__)

DEFAULT_PERIODS: tuple[tuple[str, str], ...] = (("08:00", "12:00"), ("13:30", "17:30"))
_NS = 1_000_000_000
_PAD_DAYS = 40


class WorkingCalendar:
    """Working periods per day in a time zone, with a country's workdays and the city's own exceptions.

    Parameters
    ----------
    timezone
        IANA zone the working periods are expressed in.
    periods
        ``(start, end)`` local ``HH:MM`` pairs, sorted and non-overlapping.
    extra_holidays, extra_workdays
        Local dates to force off / on (a city's own closures or make-up working days).
    country
        ``"CN"``: statutory holidays and make-up days from ``chinese_calendar``; ``"none"``: Monday–Friday.

    Notes
    -----
    ``chinese_calendar`` covers 2004–2026 (version 1.11). Outside that range weekdays are working days and a
    ``UserWarning`` says so once per calendar.
    """

    def __init__(
        self,
        *,
        timezone: str = DEFAULT_TIMEZONE,
        periods: tuple[tuple[str, str], ...] = DEFAULT_PERIODS,
        extra_holidays: tuple[dt.date, ...] = (),
        extra_workdays: tuple[dt.date, ...] = (),
        country: str = "CN",
    ) -> None:
        if country not in ("CN", "none"):
            msg = f"country must be 'CN' or 'none', got {country!r}"
            raise ValueError(msg)
        self.timezone = timezone
        self.country = country
        self.periods = tuple((_minutes(a), _minutes(b)) for a, b in periods)
        if any(b <= a for a, b in self.periods) or any(
            self.periods[k + 1][0] < self.periods[k][1] for k in range(len(self.periods) - 1)
        ):
            msg = f"periods must be sorted, non-empty and non-overlapping, got {periods!r}"
            raise ValueError(msg)
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)
        self._range: tuple[dt.date, dt.date] | None = None
        self._starts = self._ends = self._cum = np.empty(0, dtype=np.int64)
        self._warned = False

    @property
    def hours_per_day(self) -> float:
        """Working hours in one working day."""
        return sum(b - a for a, b in self.periods) / 60.0

    def is_workday(self, day: dt.date, *, warn: bool = True) -> bool:
        """Whether a local date is a working day (holidays and make-up days included).

        ``warn=False``: no warning for a year the country table does not cover (features, simulations).
        """
        if day in self.extra_holidays:
            return False
        if day in self.extra_workdays:
            return True
        if self.country == "none":
            return day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if warn and not self._warned:
                # a log line for the administrator, not a warning per request: a deadline past the
                # library's last year is normal in December (the State Council publishes late)
                _log.warning(
                    "chinese_calendar has no holiday table for %s; Monday–Friday are used as working days "
                    "for that year (list that year's holidays in [calendar] extra_holidays/extra_workdays)",
                    day.year,
                )
                self._warned = True
            return day.weekday() < 5

    def workdays(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Working days from ``start`` to ``end`` inclusive."""
        n = (end - start).days + 1
        return [d for d in (start + dt.timedelta(days=k) for k in range(n)) if self.is_workday(d)]

    # ---- the interval table ----------------------------------------------------------------------
    def _ensure(self, lo_ns: int, hi_ns: int) -> None:
        lo = (pd.Timestamp(lo_ns, tz="UTC").tz_convert(self.timezone).date()) - dt.timedelta(days=2)
        hi = (pd.Timestamp(hi_ns, tz="UTC").tz_convert(self.timezone).date()) + dt.timedelta(days=2)
        if self._range is not None and self._range[0] <= lo and hi <= self._range[1]:
            return
        if self._range is not None:
            lo, hi = min(lo, self._range[0]), max(hi, self._range[1])
        days = np.array(self.workdays(lo, hi), dtype="datetime64[D]")
        offsets = np.array([m for p in self.periods for m in p], dtype="timedelta64[m]")
        local = (days[:, None] + offsets[None, :]).ravel()
        utc = pd.DatetimeIndex(local).tz_localize(self.timezone).tz_convert("UTC").as_unit("ns").asi8
        utc = utc.reshape(-1, 2) if len(utc) else np.empty((0, 2), dtype=np.int64)
        self._starts, self._ends = utc[:, 0].copy(), utc[:, 1].copy()
        lengths = self._ends - self._starts
        self._cum = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        self._range = (lo, hi)

    def _working_ns(self, t: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        i = np.searchsorted(self._starts, t, side="right") - 1
        i_c = np.clip(i, 0, len(self._starts) - 1)
        inside = np.clip(t - self._starts[i_c], 0, self._ends[i_c] - self._starts[i_c])
        return np.where(i >= 0, self._cum[i_c] + inside, 0)

    def _from_working_ns(self, w: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        cum_end = self._cum + (self._ends - self._starts)
        j = np.clip(np.searchsorted(cum_end, w, side="left"), 0, len(self._starts) - 1)
        return self._starts[j] + (w - self._cum[j])

    # ---- public, vectorised ----------------------------------------------------------------------
    def add_working_time(
        self, start_utc: Any, hours: Any = None, *, days: Any = None, wall_clock: Any = False
    ) -> Any:
        """``start_utc`` moved forward by working ``hours`` (or working ``days``); UTC, same shape/type.

        Parameters
        ----------
        start_utc
            tz-aware instants (Series, DatetimeIndex, Timestamp or array); NaT stays NaT.
        hours, days
            Amount of working time (scalar or array, ≥ 0); give exactly one. A day is
            :attr:`hours_per_day` working hours.
        wall_clock
            Bool (scalar or array): where true, add plain clock hours instead (urgent cases).
        """
        if (hours is None) == (days is None):
            msg = "give exactly one of hours= or days="
            raise TypeError(msg)
        amount_h = np.asarray(
            hours if hours is not None else np.asarray(days, float) * self.hours_per_day, dtype=float
        )
        if np.any(amount_h < 0):
            msg = "working time to add must be >= 0"
            raise ValueError(msg)
        t, wrap = _to_ns(start_utc)
        amount = np.broadcast_to(np.round(amount_h * 3600 * _NS).astype(np.int64), t.shape)
        wall = np.broadcast_to(np.asarray(wall_clock, dtype=bool), t.shape)
        nat = t == np.iinfo(np.int64).min
        out = t.copy()
        work = ~nat & ~wall & (amount > 0)
        if work.any():
            tw = t[work]
            span = int(amount[work].max()) // (int(self.hours_per_day * 3600) * _NS) + 1
            self._ensure(int(tw.min()), int(tw.max()) + (span * 7 // 5 + _PAD_DAYS) * 86_400 * _NS)
            out[work] = self._from_working_ns(self._working_ns(tw) + amount[work])
        clock = ~nat & wall
        out[clock] = t[clock] + amount[clock]
        return wrap(out)

    def working_time_between(self, a_utc: Any, b_utc: Any) -> npt.NDArray[np.float64]:
        """Working hours from ``a`` to ``b`` (negative when ``b`` is earlier; NaN where either is NaT)."""
        a, _ = _to_ns(a_utc)
        b, _ = _to_ns(b_utc)
        a, b = np.broadcast_arrays(a, b)
        bad = (a == np.iinfo(np.int64).min) | (b == np.iinfo(np.int64).min)
        out = np.full(a.shape, np.nan)
        if (~bad).any():
            self._ensure(int(min(a[~bad].min(), b[~bad].min())), int(max(a[~bad].max(), b[~bad].max())))
            out[~bad] = (self._working_ns(b[~bad]) - self._working_ns(a[~bad])) / (3600 * _NS)
        return out


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _to_ns(values: Any) -> tuple[npt.NDArray[np.int64], Any]:
    """int64 UTC nanoseconds of tz-aware times, and a function that wraps results back into that type."""
    if isinstance(values, pd.Series):
        idx = pd.DatetimeIndex(values)
        _check_aware(idx)
        index, name = values.index, values.name
        return idx.tz_convert("UTC").as_unit("ns").asi8.copy(), lambda ns: pd.Series(
            pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC"), index=index, name=name
        )
    if isinstance(values, pd.Timestamp | dt.datetime):
        ts = pd.Timestamp(values)
        _check_aware(pd.DatetimeIndex([ts]))
        return np.array([ts.tz_convert("UTC").as_unit("ns").value]), lambda ns: pd.Timestamp(
            int(ns[0]), tz="UTC"
        )
    idx = pd.DatetimeIndex(values)
    _check_aware(idx)
    return idx.tz_convert("UTC").as_unit("ns").asi8.copy(), lambda ns: pd.DatetimeIndex(
        ns.view("datetime64[ns]")
    ).tz_localize("UTC")


def _check_aware(idx: pd.DatetimeIndex) -> None:
    if idx.tz is None:
        msg = "naive times refused: give tz-aware times (UTC); working time needs an absolute instant"
        raise ValueError(msg)


def working_calendar(config: CityConfig) -> WorkingCalendar:
    """The working calendar of a city: ``config.calendar`` (country, extra holidays, make-up days, working
    periods) in ``config.timezone``. :meth:`grid.config.CityConfig.working_calendar` calls this.

    A new calendar per call (its interval table grows with use); keep it where it is reused.
    """
    cal = config.calendar
    return WorkingCalendar(
        timezone=config.timezone,
        periods=tuple((str(a), str(b)) for a, b in cal.working_periods),
        extra_holidays=tuple(cal.extra_holidays),
        extra_workdays=tuple(cal.extra_workdays),
        country=cal.country,
    )


@lru_cache(maxsize=8)
def default_calendar(timezone: str = DEFAULT_TIMEZONE) -> WorkingCalendar:
    """A shared :class:`WorkingCalendar` with the default periods and Chinese holidays for ``timezone`` (the
    library default when no city calendar is given; front-ends pass :func:`working_calendar`)."""
    return WorkingCalendar(timezone=timezone)


def add_working_time(
    start_utc: Any,
    hours: Any = None,
    *,
    days: Any = None,
    wall_clock: Any = False,
    calendar: WorkingCalendar | None = None,
) -> Any:
    """Module-level :meth:`WorkingCalendar.add_working_time` on the default calendar."""
    cal = calendar or default_calendar()
    return cal.add_working_time(start_utc, hours, days=days, wall_clock=wall_clock)


def working_time_between(
    a_utc: Any, b_utc: Any, *, calendar: WorkingCalendar | None = None
) -> npt.NDArray[np.float64]:
    """Module-level :meth:`WorkingCalendar.working_time_between` on the default calendar."""
    return (calendar or default_calendar()).working_time_between(a_utc, b_utc)

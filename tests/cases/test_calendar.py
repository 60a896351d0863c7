"""Working calendar and time-limit deadlines against hand-checked answers (2025 holiday table)."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest

from analytics._features import holiday_days
from cases.calendar import WorkingCalendar, add_working_time, working_calendar, working_time_between
from cases.deadlines import DeadlineRule, DeadlineTable, deadlines_for, load_deadline_table
from grid.config import DEFAULT_TIMEZONE, CalendarConfig, CityConfig, load_city_config

TZ = "Asia/Shanghai"


def local(*times: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(times)).tz_localize(TZ).tz_convert("UTC"))


def as_local(s: pd.Series) -> list[str]:
    return [t.strftime("%Y-%m-%d %H:%M") if pd.notna(t) else "NaT" for t in s.dt.tz_convert(TZ)]


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        ("2025-03-07 16:30", 4, "2025-03-10 11:00"),  # Friday → Monday
        ("2025-05-30 16:30", 4, "2025-06-03 11:00"),  # Monday 2 June is 端午节: Tuesday
        ("2025-09-30 16:30", 4, "2025-10-09 11:00"),  # National Day week (1–8 Oct) skipped
        ("2025-10-10 16:30", 4, "2025-10-11 11:00"),  # Saturday 11 Oct is a make-up working day
        ("2025-09-27 10:00", 2, "2025-09-28 10:00"),  # Saturday off, Sunday 28 Sep make-up day
        ("2025-03-07 18:00", 4, "2025-03-10 12:00"),  # starts after hours: counts from Monday 08:00
        ("2025-03-10 11:00", 2, "2025-03-10 14:30"),  # lunch break 12:00–13:30 not counted
        ("2025-03-10 11:00", 0, "2025-03-10 11:00"),
        ("2025-12-31 16:30", 4, "2026-01-04 11:00"),  # New Year 2026 (1–3 Jan); Sunday 4 Jan works
    ],
)
def test_add_working_hours_known_answers(start: str, hours: float, expected: str) -> None:
    assert as_local(add_working_time(local(start), hours)) == [expected]


def test_working_days_count_eight_hours_each() -> None:
    out = add_working_time(local("2025-03-04 10:00"), days=3)  # Tuesday
    assert as_local(out) == ["2025-03-07 10:00"]


def test_wall_clock_mode_and_nat() -> None:
    out = add_working_time(local("2025-10-01 23:30", None), [1, 4], wall_clock=[True, False])
    assert as_local(out) == ["2025-10-02 00:30", "NaT"]
    assert str(out.dt.tz) == "UTC"


def test_types_are_preserved() -> None:
    idx = pd.DatetimeIndex(local("2025-03-07 16:30"))
    out = add_working_time(idx, 4)
    assert isinstance(out, pd.DatetimeIndex)
    ts = add_working_time(idx[0], 4)
    assert isinstance(ts, pd.Timestamp)
    assert ts.tz_convert(TZ).strftime("%d %H:%M") == "10 11:00"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        add_working_time(pd.Series(pd.to_datetime(["2025-03-07 16:30"])), 4)


def test_working_time_between_is_the_inverse() -> None:
    rng = np.random.default_rng(0)
    start = pd.Series(
        local("2025-01-02 00:00").iloc[0] + pd.to_timedelta(rng.uniform(0, 300 * 24, 500), unit="h")
    )
    hours = rng.uniform(0.1, 200, 500)
    end = add_working_time(start, hours)
    back = working_time_between(start, end)
    # starting outside working time, the working clock starts at the next period
    np.testing.assert_allclose(back, hours, atol=1e-6)
    assert working_time_between(local("2025-10-10 17:00"), local("2025-10-13 09:00"))[0] == pytest.approx(9.5)


def test_outside_the_holiday_table_weekdays_work_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    cal = WorkingCalendar()
    with caplog.at_level("WARNING", logger="cases.calendar"):
        assert cal.is_workday(dt.date(2030, 1, 2))
    assert "Monday–Friday" in caplog.text
    assert not cal.is_workday(dt.date(2030, 1, 5))


def test_custom_periods() -> None:
    cal = WorkingCalendar(periods=(("08:30", "12:00"), ("13:30", "17:30")))
    assert cal.hours_per_day == 7.5
    assert as_local(cal.add_working_time(local("2025-03-07 16:30"), 4)) == ["2025-03-10 11:30"]


def test_deadlines_by_category_and_urgency() -> None:
    t = local(*["2025-03-07 16:30"] * 5)
    out = deadlines_for(
        ["06010", "06001", "01002", "01002", "99999"], ["normal", "normal", "urgent", None, "high"], t
    )
    assert as_local(out) == [
        "2025-03-10 11:00",  # 暴露垃圾 4 working hours
        "2025-03-28 16:30",  # 私搭乱建 15 working days
        "2025-03-07 17:30",  # urgent: 1 hour round the clock
        "2025-03-10 16:30",  # 01* components: 1 working day
        "2025-03-10 11:00",  # unknown code, high: 4 working hours
    ]


def test_most_specific_rule_wins() -> None:
    table = DeadlineTable(
        [
            DeadlineRule("*", "*", 2, "working_days"),
            DeadlineRule("06*", "*", 3, "hours"),
            DeadlineRule("06010", "*", 1, "hours"),
        ]
    )
    assert table.rule_for("06010", "normal").limit == 1
    assert table.rule_for("06012", "normal").unit == "hours"
    assert table.rule_for("07001", "urgent").unit == "working_days"


def test_load_table_from_csv_and_toml(tmp_path) -> None:
    csv = tmp_path / "limits.csv"
    csv.write_text("category_code,urgency,limit,unit\n06010,normal,1,working_days\n", encoding="utf-8")
    assert load_deadline_table(csv).rule_for("06010", "normal").unit == "working_days"
    toml = tmp_path / "limits.toml"
    toml.write_text(
        '[[rule]]\ncategory_code = "06010"\nurgency = "normal"\nlimit = 6\nunit = "working_hours"\n',
        encoding="utf-8",
    )
    table = load_deadline_table(toml)
    assert table.rule_for("06010", "normal").limit == 6
    assert table.rule_for("06001", "normal").limit == 15  # defaults kept
    with pytest.raises(ValueError, match="unit"):
        DeadlineRule("06010", "normal", 1, "weeks")


# ---- the city's calendar (grid.config → cases.calendar.working_calendar) ---------------------------------


def _city(**calendar: object) -> CityConfig:
    return CityConfig(calendar=CalendarConfig(**calendar))


def test_city_calendar_cn_is_the_default_calendar() -> None:
    cal = working_calendar(CityConfig())
    assert cal.timezone == DEFAULT_TIMEZONE
    assert not cal.is_workday(dt.date(2025, 10, 1))  # National Day
    assert cal.is_workday(dt.date(2025, 10, 11))  # Saturday make-up day
    assert cal.hours_per_day == 8
    assert working_calendar(CityConfig()).is_workday(dt.date(2025, 10, 11))


def test_country_none_is_monday_to_friday() -> None:
    cal = working_calendar(_city(country="none"))
    assert cal.is_workday(dt.date(2025, 10, 1))  # a Wednesday: no statutory holidays
    assert not cal.is_workday(dt.date(2025, 10, 11))  # a Saturday: no make-up days
    assert len(cal.workdays(dt.date(2025, 9, 29), dt.date(2025, 10, 12))) == 10


def test_extra_holiday_makes_a_weekday_non_working() -> None:
    day = dt.date(2025, 3, 12)  # a Wednesday
    assert working_calendar(CityConfig()).is_workday(day)
    for country in ("CN", "none"):
        cal = working_calendar(_city(country=country, extra_holidays=(day,)))
        assert not cal.is_workday(day)
        # 4 working hours from Tuesday 16:30 skip the whole Wednesday
        start = pd.Series(pd.to_datetime(["2025-03-11 16:30"]).tz_localize(TZ).tz_convert("UTC"))
        assert as_local(cal.add_working_time(start, 4)) == ["2025-03-13 11:00"]


def test_make_up_day_makes_a_saturday_working() -> None:
    day = dt.date(2025, 3, 15)  # a Saturday
    for country in ("CN", "none"):
        assert not working_calendar(_city(country=country)).is_workday(day)
        cal = working_calendar(_city(country=country, extra_workdays=(day,)))
        assert cal.is_workday(day)
        start = pd.Series(pd.to_datetime(["2025-03-14 16:30"]).tz_localize(TZ).tz_convert("UTC"))
        assert as_local(cal.add_working_time(start, 4)) == ["2025-03-15 11:00"]


def test_city_calendar_periods_and_zone_from_config() -> None:
    config = CityConfig(
        timezone="Europe/Berlin",
        calendar=CalendarConfig(country="none", working_periods=(("09:00", "17:00"),)),
    )
    cal = working_calendar(config)
    assert cal.timezone == "Europe/Berlin"
    assert cal.hours_per_day == 8
    start = pd.Timestamp("2025-03-14 16:00", tz="Europe/Berlin")  # a Friday
    assert cal.add_working_time(start, 2).tz_convert("Europe/Berlin") == pd.Timestamp(
        "2025-03-17 10:00", tz="Europe/Berlin"
    )


def test_city_calendar_from_the_configuration_file(tmp_path, monkeypatch) -> None:
    for key in ("TIMEZONE", "CALENDAR_COUNTRY", "CALENDAR_EXTRA_HOLIDAYS", "CALENDAR_EXTRA_WORKDAYS"):
        monkeypatch.delenv(f"GRIDPATROL_{key}", raising=False)
    file = tmp_path / "gridpatrol.toml"
    file.write_text(
        '[calendar]\ncountry = "none"\nextra_holidays = [2025-03-12]\nextra_workdays = ["2025-03-15"]\n',
        encoding="utf-8",
    )
    cal = working_calendar(load_city_config(file))
    assert not cal.is_workday(dt.date(2025, 3, 12))
    assert cal.is_workday(dt.date(2025, 3, 15))
    monkeypatch.setenv("GRIDPATROL_CALENDAR_EXTRA_HOLIDAYS", "2025-03-13")
    cal = working_calendar(load_city_config(file))
    assert cal.is_workday(dt.date(2025, 3, 12))
    assert not cal.is_workday(dt.date(2025, 3, 13))


def test_features_honour_the_city_calendar() -> None:
    weeks = pd.period_range("2025-03-10", periods=3, freq="W-SUN")  # 10–16, 17–23, 24–30 March
    assert holiday_days(weeks).tolist() == [0, 0, 0]
    extra = working_calendar(_city(extra_holidays=(dt.date(2025, 3, 19), dt.date(2025, 3, 22))))
    # the Saturday (22 March) is no weekday: only Wednesday 19 March counts
    assert holiday_days(weeks, calendar=extra).tolist() == [0, 1, 0]
    national_day = pd.period_range("2025-09-29", periods=2, freq="W-SUN")
    assert holiday_days(national_day).tolist() == [3, 3]  # 1–3 Oct, 6–8 Oct
    none = working_calendar(_city(country="none"))
    assert holiday_days(national_day, calendar=none).tolist() == [0, 0]
    # outside the country table's years: no holidays and no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert holiday_days(pd.period_range("2031-01-06", periods=1, freq="W-SUN")).tolist() == [0]

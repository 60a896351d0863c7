"""Charts over days in the page's language: the axis and the tooltip show dates as people of that
language write them (``12月1日`` / ``Dec 1``), never Vega-Lite's English month names in Chinese mode.

The dates are formatted by Vega-Lite's own time format with a pattern per language (:data:`DAY_FORMATS`),
so the time axis keeps its order and spacing (a year change stays in place).
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app.i18n import language

#: d3 time-format patterns of a day: axis label, tooltip.
DAY_FORMATS = {"zh": ("%-m月%-d日", "%Y年%-m月%-d日"), "en": ("%b %-d", "%-d %b %Y")}
#: Patterns of a month: axis label, tooltip.
MONTH_FORMATS = {"zh": ("%Y年%-m月", "%Y年%-m月"), "en": ("%b %Y", "%B %Y")}


def time_bars(
    frame: pd.DataFrame, x: str, y: str, *, x_title: str, y_title: str, height: int = 240, unit: str = "day"
) -> alt.Chart:
    """A bar chart of ``y`` over the days (``unit="day"``) or months (``"month"``) of ``x``, dates worded
    in the page's language."""
    axis_format, tip_format = (DAY_FORMATS if unit == "day" else MONTH_FORMATS)[language()]
    data = frame[[x, y]].copy()
    data[x] = pd.to_datetime(data[x])
    if getattr(data[x].dt, "tz", None) is not None:
        data[x] = data[x].dt.tz_localize(None)  # the wall-clock day: no shift to the browser's zone
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(f"{x}:T", title=x_title, axis=alt.Axis(format=axis_format, labelAngle=0)),
            y=alt.Y(f"{y}:Q", title=y_title),
            tooltip=[
                alt.Tooltip(f"{x}:T", title=x_title, format=tip_format),
                alt.Tooltip(f"{y}:Q", title=y_title, format=",.0f"),
            ],
        )
        .properties(height=height)
    )


def show_time_bars(frame: pd.DataFrame, x: str, y: str, *, x_title: str, y_title: str, **kwargs) -> None:
    """Draw :func:`time_bars` across the container's width."""
    st.altair_chart(time_bars(frame, x, y, x_title=x_title, y_title=y_title, **kwargs), width="stretch")

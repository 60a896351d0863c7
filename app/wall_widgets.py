"""The wall display's pieces (指挥大屏, ``app/views/wall.py``): big tiles, bars, tables and the live map.

Everything is drawn large for a 1920×1080 screen read from across the room. The HTML here is the page's own
layout; every text in it (names from the store included) is escaped. :func:`wall_context` decides who asks:
the signed-in user, else the display token of ``?display=`` (:func:`services.wall.display_actor`).
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import streamlit as st

from app.context import current_user, service_context
from app.i18n import t, word
from services.context import ServiceContext
from services.wall import WallSummary, display_actor

REFRESH_S = 60
TOP_DEPARTMENTS = 10
#: Status → dot colour on the map (RGB).
STATUS_COLOURS: dict[str, tuple[int, int, int]] = {
    "reported": (245, 130, 32),
    "verified": (245, 166, 35),
    "registered": (240, 200, 30),
    "dispatched": (41, 121, 255),
    "extension_requested": (123, 97, 255),
    "suspension_requested": (123, 97, 255),
    "suspended": (140, 140, 140),
    "resolved": (0, 170, 170),
    "checked": (0, 170, 170),
    "closed": (46, 160, 67),
    "cancelled": (170, 170, 170),
}
INSPECTOR_COLOUR = (220, 30, 60)
CSS = """
<style>
.gp-wall h1 {font-size: 44px; margin: 0;}
.gp-wall-sub {font-size: 22px; color: #555;}
.gp-tiles {display: flex; gap: 18px; margin: 10px 0 14px 0;}
.gp-tile {flex: 1; background: #0f2741; color: #fff; border-radius: 10px; padding: 12px 20px;}
.gp-tile .v {font-size: 72px; font-weight: 800; line-height: 1.1;}
.gp-tile .k {font-size: 24px; opacity: .85;}
.gp-tile.alarm {background: #8b1a1a;}
.gp-box h3 {font-size: 26px; margin: 6px 0;}
.gp-row {display: flex; justify-content: space-between; font-size: 24px; padding: 3px 4px;
         border-bottom: 1px solid #ddd;}
.gp-row .n {font-weight: 700;}
.gp-row .late {color: #b00020; font-weight: 800; margin-left: 14px;}
</style>
"""


def wall_context() -> ServiceContext | None:
    """The signed-in user's context, else the display token's read-only one, else None."""
    ctx = service_context()
    if current_user() is not None:
        return ctx
    actor = display_actor(ctx, st.query_params.get("display"))
    return ctx.as_actor(actor) if actor is not None else None


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _esc(value: Any) -> str:
    return html.escape(str(value))


def header(summary: WallSummary) -> None:
    """The title, the time of the figures and the refresh interval."""
    when = summary.as_of.strftime("%Y-%m-%d %H:%M")
    st.markdown(
        f'{CSS}<div class="gp-wall"><h1>{_esc(t("wall_title"))}</h1><div class="gp-wall-sub">'
        f"{_esc(t('wall_as_of', time=when, seconds=REFRESH_S))}</div></div>",
        unsafe_allow_html=True,
    )


def tiles(summary: WallSummary) -> None:
    """The four big numbers."""
    items = [
        (t("wall_intake_today"), summary.intake_total, False),
        (t("wall_open"), summary.open_total, False),
        (t("wall_overdue"), summary.overdue_total, summary.overdue_total > 0),
        (t("wall_inspectors_out"), len(summary.positions), False),
    ]
    cells = "".join(
        f'<div class="gp-tile{" alarm" if alarm else ""}"><div class="k">{_esc(k)}</div>'
        f'<div class="v">{v:,}</div></div>'
        for k, v, alarm in items
    )
    st.markdown(f'<div class="gp-tiles">{cells}</div>', unsafe_allow_html=True)


def _rows(title: str, rows: list[str]) -> None:
    st.markdown(f'<div class="gp-box"><h3>{_esc(title)}</h3>{"".join(rows)}</div>', unsafe_allow_html=True)


def sources(summary: WallSummary) -> None:
    """Today's reports by source (in words)."""
    if summary.intake.empty:
        st.info(t("wall_no_cases_today"))
        return
    rows = [
        f'<div class="gp-row"><span>{_esc(word(str(s)))}</span><span class="n">{int(n):,}</span></div>'
        for s, n in zip(summary.intake["source"], summary.intake["cases"], strict=True)
    ]
    _rows(t("wall_by_source"), rows)


def counts(frame: pd.DataFrame, title: str, top: int | None = None) -> None:
    """Open and overdue counts by district or department, by name (most overdue first)."""
    if frame.empty:
        st.info(t("wall_no_open"))
        return
    shown = frame.head(top) if top else frame
    rows = [
        f'<div class="gp-row"><span>{_esc(name or "–")}</span><span><span class="n">{int(o):,} '
        f'{_esc(t("wall_open_short"))}</span><span class="late">{int(late):,} '
        f"{_esc(t('wall_overdue_short'))}</span></span></div>"
        for name, o, late in zip(shown["name"], shown["open"], shown["overdue"], strict=True)
    ]
    _rows(title, rows)


def live_map(summary: WallSummary, height: int = 620) -> None:
    """Today's cases (coloured by status) and the inspectors' last positions over the city's geography."""
    import pydeck as pdk

    from app.hexmap import basemap_style
    from app.map_layers import deck_layers, fill_entries, geography_entries, session_geography, show_legend
    from app.maps import _to_display, display_crs

    cases = summary.cases.dropna(subset=["lat", "lon"])
    people = summary.positions.dropna(subset=["lat", "lon"])
    st.markdown(f'<div class="gp-box"><h3>{_esc(t("wall_map"))}</h3></div>', unsafe_allow_html=True)
    if cases.empty and people.empty:
        st.info(t("wall_no_cases_today"))
        return
    tiles = st.session_state.get("tiles", "none")

    def where(frame: pd.DataFrame) -> list[list[float]]:
        lat, lon = _to_display(frame["lat"].to_numpy(float), frame["lon"].to_numpy(float), tiles)
        return [[round(float(x), 6), round(float(y), 6)] for x, y in zip(lon, lat, strict=True)]

    geo = session_geography()
    under, over = deck_layers(geo, display_crs(tiles)) if geo is not None else ([], [])
    dots = pd.DataFrame(
        {
            "position": where(cases),
            "colour": [list(STATUS_COLOURS.get(str(s), (90, 90, 90))) for s in cases["status"]],
        }
    )
    marks = pd.DataFrame({"position": where(people)})
    layers = [
        *under,
        pdk.Layer("ScatterplotLayer", id="wall-cases", data=dots, get_position="position",
                  get_fill_color="colour", get_radius=9, radius_units="'pixels'", stroked=True,
                  get_line_color=[255, 255, 255], line_width_min_pixels=1),
        pdk.Layer("ScatterplotLayer", id="wall-inspectors", data=marks, get_position="position",
                  get_fill_color=list(INSPECTOR_COLOUR), get_radius=7, radius_units="'pixels'",
                  stroked=True, get_line_color=[0, 0, 0], line_width_min_pixels=2),
        *over,
    ]  # fmt: skip
    xy = pd.DataFrame([*dots["position"], *marks["position"]], columns=["lon", "lat"])
    view = pdk.ViewState(latitude=float(xy["lat"].mean()), longitude=float(xy["lon"].mean()), zoom=11.5)
    style = basemap_style(tiles)
    base = {"map_provider": "mapbox", "map_style": style} if style else {"map_provider": None}
    st.pydeck_chart(pdk.Deck(layers=layers, initial_view_state=view, **base), height=height)
    shown = sorted(set(cases["status"].astype(str)), key=list(STATUS_COLOURS).index)
    entries = fill_entries({word(s): _hex(STATUS_COLOURS[s]) for s in shown if s in STATUS_COLOURS})
    if not people.empty:
        entries += fill_entries({t("wall_inspector_dot"): _hex(INSPECTOR_COLOUR)})
    show_legend(entries + geography_entries(geo))

"""Folium maps of the patrol results (coverage, neglect, allocation gap, beats, routes, my grid).

Drawing only: each builder takes a service result's frame and returns a :class:`folium.Map`; the CLI writes
it with :func:`app.maps.standalone_html`, the pages show it. Tooltip labels are passed in (the pages
translate them, the CLI writes English). Every map has the city's geography under its cells (on a page:
the session's store) and a legend of its colours; the route map numbers its stops along the walk.
"""

from __future__ import annotations

import html
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from app.i18n import t, word
from app.map_layers import fill_entries, infer_cell_entries, ramp_entry
from app.maps import base_map, cells_layer, fit_to, points_layer, set_legend
from grid.cells import cells_to_polygons, cells_to_strings
from grid.cells import with_cell_polygons as with_polygons

#: under-patrolled red, balanced grey, over-patrolled blue, nothing expected nor patrolled white
GAP_COLOURS = {"under": "#d7301f", "balanced": "#bdbdbd", "over": "#2b8cbe", "idle": "#ffffff"}
#: 12 distinct colours (ColorBrewer Paired), cycled over the beats.
BEAT_COLOURS = np.array(
    ["#a6cee3", "#1f78b4", "#b2df8a", "#33a02c", "#fb9a99", "#e31a1c",
     "#fdbf6f", "#ff7f00", "#cab2d6", "#6a3d9a", "#ffff99", "#b15928"]
)  # fmt: skip
COVERAGE_PALETTE = np.array(["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"])
#: Where an empty map is centred (the demo city).
EMPTY_CENTRE = (32.0, 120.86)


def cells_map(
    table: pd.DataFrame,
    fill: pd.Series,
    tooltip: dict[str, str],
    *,
    tiles: str,
    name: str,
    zoom: int = 13,
    legend: list[dict[str, Any]] | None = None,
) -> folium.Map:
    """A map of ``table``'s cells (``cell`` plus the tooltip columns, shown as text) fitted to them, over
    the city's geography, with a legend (``legend``: the fill colours' meaning, default read from them)."""
    entries = legend if legend is not None else infer_cell_entries(fill)
    if table.empty:
        return set_legend(base_map(*EMPTY_CENTRE, tiles=tiles), entries)
    frame = with_polygons(table.assign(**{c: table[c].astype(str) for c in tooltip if c in table}))
    centre = frame.geometry.union_all().centroid
    m = base_map(centre.y, centre.x, zoom=zoom, tiles=tiles)
    cells_layer(frame, fill=fill.reset_index(drop=True), tooltip=tooltip, tiles=tiles, name=name).add_to(m)
    set_legend(m, entries)
    return fit_to(m, frame, tiles=tiles)


def coverage_map(cells: pd.DataFrame, *, tiles: str) -> folium.Map:
    """Patrol minutes per cell (:attr:`services.coverage.CoverageResult.cells`), log-scaled reds."""
    legend = [ramp_entry(t("map_patrol_minutes"), tuple(COVERAGE_PALETTE))]
    if cells.empty:
        return set_legend(base_map(*EMPTY_CENTRE, tiles=tiles), legend)
    minutes = cells["minutes"].to_numpy(dtype=np.float64)
    level = np.clip(np.log1p(minutes) / np.log1p(max(minutes.max(), 1.0)), 0, 1)
    index = np.minimum((level * COVERAGE_PALETTE.size).astype(int), COVERAGE_PALETTE.size - 1)
    shown = cells.assign(minutes=cells["minutes"].round(1), last_visit=cells["last_visit"].astype(str))
    tooltip = {"h3": "H3", "minutes": "minutes", "visits": "visits", "inspectors": "inspectors",
               "last_visit": "last visit (UTC)"}  # fmt: skip
    return cells_map(
        shown,
        pd.Series(COVERAGE_PALETTE[index]),
        tooltip,
        tiles=tiles,
        name="coverage",
        zoom=14,
        legend=legend,
    )


def neglect_map(neglect: pd.DataFrame, tooltip: dict[str, str], *, tiles: str) -> folium.Map:
    """Assigned cells: red when neglected, green otherwise."""
    shown = neglect.assign(days_since_visit=neglect["days_since_visit"].round(1))
    fill = neglect["neglected"].map({True: "#e31a1c", False: "#a1d99b"})
    legend = fill_entries({t("map_neglected"): "#e31a1c", t("map_visited"): "#a1d99b"})
    return cells_map(shown, fill, tooltip, tiles=tiles, name="neglect", legend=legend)


def gap_map(gap: pd.DataFrame, tooltip: dict[str, str], *, tiles: str) -> folium.Map:
    """The allocation gap (under / balanced / over-patrolled cells)."""
    shown = gap.drop(columns=["geometry"], errors="ignore").assign(
        expected=gap["expected"].round(2), patrol_minutes=gap["patrol_minutes"].round(1),
        gap=(gap["gap"] * 100).round(3),
    )  # fmt: skip
    fill = gap["status"].map(GAP_COLOURS).fillna("#cccccc")
    legend = fill_entries({word(status): colour for status, colour in GAP_COLOURS.items()})
    return cells_map(pd.DataFrame(shown), fill, tooltip, tiles=tiles, name="allocation-gap", legend=legend)


def beats_map(cells: pd.DataFrame, tooltip: dict[str, str], *, tiles: str) -> folium.Map:
    """The beats (:attr:`services.deployment.BeatsResult.cells`), one colour per beat."""
    shown = cells.assign(workload_min=cells["workload_min"].round(1))
    fill = pd.Series(BEAT_COLOURS[cells["beat"].to_numpy() % BEAT_COLOURS.size])
    legend = [{**ramp_entry("", tuple(BEAT_COLOURS[:6])), "label": t("map_beat"), "low": "", "high": ""}]
    return cells_map(shown, fill, tooltip, tiles=tiles, name="beats", legend=legend)


#: Colours of the route: the walk, an ordinary stop, a must-visit stop, the start and end.
ROUTE_COLOURS = {"walk": "#2b6cb0", "stop": "#2f855a", "must": "#c53030", "start": "#1a202c"}


def route_map(route: Any, *, tiles: str, timezone: str, geography: Any = "session") -> folium.Map:
    """The suggested route (:class:`patrol.routes.SuggestedRoute`) over the city's geography: the walk along
    the streets, a numbered marker per stop (red: must-visit), the start and end, and a legend."""
    import shapely

    from app.maps import display_crs
    from grid.coords import from_wgs84

    stops = route.stops
    m = base_map(
        float(stops["lat"].mean()), float(stops["lon"].mean()), zoom=15, tiles=tiles, geography=geography
    )
    xy = shapely.get_coordinates(route.path).copy()
    lat, lon = stops["lat"].to_numpy(dtype=np.float64), stops["lon"].to_numpy(dtype=np.float64)
    crs = display_crs(tiles)
    if crs != "wgs84":
        xy[:, 1], xy[:, 0] = from_wgs84(xy[:, 1], xy[:, 0], crs)
        lat, lon = from_wgs84(lat, lon, crs)
    if len(xy):
        folium.PolyLine([(y, x) for x, y in xy], color=ROUTE_COLOURS["walk"], weight=4, opacity=0.85).add_to(
            m
        )
    number = 0
    for i, r in enumerate(stops.itertuples()):  # tens of stops
        text = html.escape(f"{r.order}. {r.h3 or r.kind} — {r.arrival.tz_convert(timezone):%H:%M} — {r.why}")
        where = [float(lat[i]), float(lon[i])]
        if r.kind != "stop":
            colour = ROUTE_COLOURS["start"]
            folium.CircleMarker(
                where, radius=7, color=colour, fill=True, fill_opacity=0.9, tooltip=text
            ).add_to(m)
            continue
        number += 1
        colour = ROUTE_COLOURS["must"] if r.must_visit else ROUTE_COLOURS["stop"]
        badge = (
            f'<div class="gp-stop" style="background:{colour};color:#fff;border:2px solid #fff;'
            "border-radius:50%;width:22px;height:22px;line-height:18px;text-align:center;font:bold 12px "
            f'sans-serif;box-shadow:0 0 2px #000">{number}</div>'
        )
        icon = folium.DivIcon(html=badge, icon_size=(22, 22), icon_anchor=(11, 11), class_name="gp-stop-icon")
        folium.Marker(where, icon=icon, tooltip=text).add_to(m)
    legend = [
        {"shape": "line", "colour": ROUTE_COLOURS["walk"], "stroke": ROUTE_COLOURS["walk"], "width": 4,
         "label": t("map_route_walk")},
        *fill_entries({t("map_route_stop"): ROUTE_COLOURS["stop"], t("map_route_must"): ROUTE_COLOURS["must"],
                       t("map_route_start"): ROUTE_COLOURS["start"]}),
    ]  # fmt: skip
    set_legend(m, legend)
    if len(xy):
        m.fit_bounds(
            [[float(xy[:, 1].min()), float(xy[:, 0].min())], [float(xy[:, 1].max()), float(xy[:, 0].max())]]
        )
    return m


def my_grid_map(
    cells: np.ndarray,
    tasks: pd.DataFrame,
    neglect: pd.DataFrame | None,
    labels: dict[str, str],
    *,
    tiles: str,
) -> folium.Map:
    """An inspector's cells (orange when neglected) and open tasks (red: verify, purple: check)."""
    polygons = cells_to_polygons(cells)
    polygons.insert(1, "h3", cells_to_strings(cells))
    fill = pd.Series("#9ecae1", index=polygons.index)
    polygons["days_since_visit"] = "?"
    if neglect is not None:
        polygons["days_since_visit"] = neglect["days_since_visit"].round(1).astype(str).to_numpy()
        fill[neglect["neglected"].to_numpy()] = "#fd8d3c"
    centre = polygons.geometry.union_all().centroid
    m = base_map(centre.y, centre.x, zoom=14, tiles=tiles)
    tooltip = {"h3": "H3", "days_since_visit": labels["days_since_visit"]}
    cells_layer(polygons, fill=fill, tooltip=tooltip, tiles=tiles, name="my_cells", fill_opacity=0.35).add_to(
        m
    )
    located = tasks.dropna(subset=["lat", "lon"])
    if len(located):
        points = gpd.GeoDataFrame(
            located.assign(deadline=located["deadline_at"].dt.strftime("%m-%d %H:%M").fillna("")),
            geometry=gpd.points_from_xy(located["lon"], located["lat"]),
            crs=4326,
        )
        names = ("case_id", "task", "category", "deadline", "description")
        points_layer(
            points,
            fill=points["status"].map({"reported": "#e31a1c", "resolved": "#6a3d9a"}),
            tooltip={name: labels[name] for name in names},
            tiles=tiles,
            name="tasks",
        ).add_to(m)
    tasks_legend = {t("map_my_cells"): "#9ecae1", t("map_neglected"): "#fd8d3c",
                    t("map_task_verify"): "#e31a1c", t("map_task_check"): "#6a3d9a"}  # fmt: skip
    set_legend(m, fill_entries(tasks_legend))
    return fit_to(m, polygons, tiles=tiles)

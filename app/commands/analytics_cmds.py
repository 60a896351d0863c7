"""``gridpatrol hotspots``, ``recurring`` and ``emerging``: the case analytics on the command line.

Each command reads the cases of the database (or of ``--cases FILE``, imported into a throw-away SQLite
database so the main one is never touched), builds a :class:`analytics.cube.CaseCube` over an explicit cell
universe (the cells of the stored areas, else the k-ring hull of the cases) and writes one row per cell to
``--out`` (CSV, GeoJSON, GeoParquet or a standalone HTML map, by suffix). The H3 id is written as a hex string
in ``h3`` (int64 ids do not survive JSON readers).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from app.commands._common import exit_on

OUT_SUFFIXES = (".csv", ".geojson", ".parquet", ".html")


class AnalysisError(Exception):
    """A user-facing failure of an analytics command (message printed, exit code 1)."""


def cases_from_file(path: Path, mapping: str | None, read: Callable[[Any], Any] | None = None) -> Any:
    """Import ``path`` into a temporary SQLite database and read its cases back with ``read(engine)``.

    ``read`` defaults to :func:`cases.store.load_case_frame`; the main database is never touched.
    """
    import tempfile

    from cases.db import init_db, make_engine
    from cases.importing import ImportReadError, import_cases
    from cases.mapping import MappingError, load_mapping

    try:
        loaded = load_mapping(mapping) if mapping else None
    except MappingError as exc:
        raise AnalysisError(str(exc)) from exc
    from cases.store import load_case_frame

    with tempfile.TemporaryDirectory(prefix="gridpatrol-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 't.db'}")
        try:
            init_db(engine)
            try:
                report = import_cases(path, engine, mapping=loaded)
            except ImportReadError as exc:
                raise AnalysisError(f"cannot read {path}: {exc}") from exc
            click.echo(report.summary(), err=True)
            return (read or load_case_frame)(engine)
        finally:
            engine.dispose()


def _selection(opts: dict[str, Any]) -> tuple[Any, Any, str]:
    """(cases, cell universe, description of the universe) for the options of a command."""
    from analytics.cube import universe_from_cases

    if opts["cases_file"] is not None:
        cases = cases_from_file(opts["cases_file"], opts["mapping"])
        areas = None
    else:
        if opts["mapping"] is not None:
            raise AnalysisError("--mapping is only used with --cases FILE")
        from cases.areas import load_areas
        from cases.db import init_db, make_engine
        from cases.store import load_case_frame

        engine = make_engine(click.get_current_context().find_root().obj["db_url"])
        try:
            init_db(engine)
            cases = load_case_frame(engine)
            areas = load_areas(engine)
        finally:
            engine.dispose()
    if cases.empty:
        raise AnalysisError("empty selection: there are no located cases to analyse (import cases first)")
    res, k = opts["res"], opts["k"]
    if areas is not None and len(areas):
        from grid.build import cells_from_polygons

        grid = cells_from_polygons(areas, res=res)
        universe = grid["cell"].to_numpy()
        return cases, universe, f"{len(universe):,} cells of the {len(areas)} stored area(s) at res {res}"
    universe = universe_from_cases(cases, res, k=k)
    return cases, universe, (
        f"{len(universe):,} cells at res {res}: the cases' cells and {k} ring(s) around them "
        f"(no areas stored)"
    )  # fmt: skip


def _cube(opts: dict[str, Any], *, by_category: bool = False):
    from analytics.cube import build_cube
    from cases.categories import load_categories

    cases, universe, described = _selection(opts)
    click.echo(f"universe: {described}")
    cube = build_cube(
        cases,
        universe,
        period=opts["period"],
        timezone=opts["timezone"],
        categories=list(opts["category"]) or None,
        category_table=load_categories(),
        by_category=by_category,
        start=opts["start"].date() if opts["start"] else None,
        end=opts["end"].date() if opts["end"] else None,
    )
    click.echo(
        f"cube: {cube.n_cases:,} case(s) over {len(cube.cells):,} cells × {len(cube.periods)} "
        f"{cube.period}(s) ({cube.periods[0]} … {cube.periods[-1]}); {cube.n_outside:,} outside the "
        f"universe, {cube.n_flagged:,} on a suspicious location cluster excluded"
    )
    return cube


def source_options() -> list[Callable[[Callable[..., None]], Callable[..., None]]]:
    """The options that choose the cases and the cube (``--cases``, ``--mapping``, ``--res``, ``--period``),
    shared by the analytics and forecast commands."""
    return [
        click.option(
            "--cases",
            "cases_file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            help="Analyse this cases file (imported into a temporary database) instead of the database.",
        ),
        click.option(
            "--mapping",
            default=None,
            help="Mapping (TOML path or shipped name) of the --cases file.",
        ),
        click.option(
            "--res", type=click.IntRange(0, 10), default=10, show_default=True, help="H3 resolution."
        ),
        click.option(
            "--period",
            type=click.Choice(["day", "week", "month"]),
            default="week",
            show_default=True,
            help="Time step (ISO weeks, Monday–Sunday), in the city's zone.",
        ),
    ]


def _analysis_options(func: Callable[..., None]) -> Callable[..., None]:
    """The options every analytics command shares."""
    options = [
        *source_options(),
        click.option(
            "--k", type=click.IntRange(min=1), default=1, show_default=True, help="Neighbourhood in rings."
        ),
        click.option(
            "--category",
            multiple=True,
            help="Category code or class prefix (e.g. 06); repeatable. Default: every category.",
        ),
        click.option(
            "--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (city zone)."
        ),
        click.option(
            "--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day, inclusive."
        ),
        click.option("--timezone", envvar="GRIDPATROL_TIMEZONE", default="Asia/Shanghai", show_default=True),
        click.option(
            "--out",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="Output by suffix: .csv, .geojson, .parquet (GeoParquet) or .html (map). "
            "Default: print the top cells.",
        ),
        click.option(
            "--tiles",
            envvar="GRIDPATROL_TILES",
            default="osm",
            show_default=True,
            help="Base map of the HTML map (osm, gaode, tianditu, none).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _guard(func: Callable[..., None]) -> Callable[..., None]:
    """Check ``--out``'s suffix first; turn data errors into ``error: …`` and exit code 1 (no traceback)."""

    @functools.wraps(func)
    def wrapper(**opts: Any) -> None:
        out = opts["out"]
        if out is not None and out.suffix.lower() not in OUT_SUFFIXES:
            click.echo(f"error: --out must end in {', '.join(OUT_SUFFIXES)}; got {out.name}", err=True)
            sys.exit(2)
        exit_on(AnalysisError, ValueError)(func)(
            **opts
        )  # EmptySelectionError, TooFewPeriodsError: ValueErrors

    return wrapper


def _write(
    frame: Any,
    out: Path | None,
    *,
    colour: Callable[[Any], Any],
    tooltip: dict[str, str],
    map_rows: Callable[[Any], Any],
    name: str,
    tiles: str,
    sort_by: list[str],
    ascending: list[bool],
    show: list[str],
) -> None:
    """Write ``frame`` (one row per cell, with ``cell``) to ``out``, or print its top rows."""
    import pandas as pd

    from grid.cells import cells_to_polygons, cells_to_strings

    frame = frame.copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(str)
    frame.insert(0, "h3", cells_to_strings(frame["cell"].to_numpy()))
    if out is None:
        top = frame.sort_values(sort_by, ascending=ascending, kind="stable").head(20)
        click.echo(top[["h3", *show]].to_string(index=False))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        frame.drop(columns="cell").to_csv(out, index=False)
        click.echo(f"wrote {len(frame):,} cells to {out}")
        return
    polygons = cells_to_polygons(frame["cell"].to_numpy()).set_index("cell").geometry
    import geopandas as gpd

    cells = gpd.GeoDataFrame(
        frame.drop(columns="cell"),
        geometry=polygons.reindex(frame["cell"]).to_numpy(),
        crs="EPSG:4326",
    )
    if suffix == ".geojson":
        out.write_text(cells.to_json(drop_id=True), encoding="utf-8")
    elif suffix == ".parquet":
        cells.to_parquet(out, index=False)
    else:
        shown = cells[map_rows(cells).to_numpy()]
        out.write_text(_html(shown, colour, tooltip, name, tiles), encoding="utf-8")
        click.echo(f"wrote a map of {len(shown):,} cells to {out}")
        return
    click.echo(f"wrote {len(frame):,} cells to {out}")


def _html(cells, colour: Callable[[Any], Any], tooltip: dict[str, str], name: str, tiles: str) -> str:
    from app.maps import base_map, cells_layer, standalone_html

    if len(cells) == 0:
        return standalone_html(base_map(32.0, 120.86, tiles=tiles))
    centroid = cells.geometry.union_all().centroid
    m = base_map(centroid.y, centroid.x, zoom=14, tiles=tiles)
    frame = cells.copy()
    for column in tooltip:
        if frame[column].dtype.kind == "f":
            frame[column] = frame[column].round(3)
    cells_layer(frame, fill=colour(frame), tooltip=tooltip, tiles=tiles, name=name).add_to(m)
    return standalone_html(m)


@click.command(name="hotspots")
@_analysis_options
@click.option(
    "--areas",
    "areas_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the hot-spot areas (touching hot cells, most cases first) to this CSV.",
)
@click.option(
    "--min-area-cells",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Smallest hot-spot area listed, in cells.",
)
@_guard
def hotspots_cmd(**opts: Any) -> None:
    """Hot and cold spots of case counts: Getis-Ord Gi* (FDR-corrected classes) and Local Moran's I.

    Counts are summed over the selected periods and categories; rows carry h3, count, gi_z, gi_p, gi_q,
    gi_class (hot_99 … cold_99) and lisa_quadrant / lisa_cluster / lisa_p (analytic). The hot cells that
    touch form hot-spot areas, each with its trend (its share of the cases per period rising, falling or
    steady, from 4 periods on); the largest are printed, and --areas writes them all.

    Example: gridpatrol hotspots --category 06 --from 2026-01-01 --to 2026-03-31 --out hotspots.html
    """
    from analytics.areas import MIN_TREND_PERIODS, area_trends, hotspot_areas
    from analytics.hotspots import cube_hotspots, local_moran
    from analytics.weights import disk_weights
    from app.maps import GI_CLASS_COLOURS
    from grid.cells import cells_to_strings

    cube = _cube(opts)
    weights = disk_weights(cube.cells, opts["k"])
    gi = cube_hotspots(cube, k=opts["k"], weights=weights)
    lisa = local_moran(gi.values, weights, permutations=0)
    frame = gi.to_frame().assign(
        count=gi.values.astype("int64"), lisa_quadrant=lisa.quadrant, lisa_cluster=lisa.cluster, lisa_p=lisa.p
    )
    counts = frame["gi_class"].value_counts()
    click.echo(", ".join(f"{name} {counts.get(name, 0):,}" for name in GI_CLASS_COLOURS))
    areas = hotspot_areas(gi, min_cells=opts["min_area_cells"])
    if cube.counts.shape[1] >= MIN_TREND_PERIODS:
        areas = area_trends(areas, cube)
    click.echo(f"hot-spot areas of >= {opts['min_area_cells']} cells: {len(areas):,}")
    for row in areas.head(5).itertuples():
        trend = f", {row.trend} (τ {row.trend_tau:+.2f})" if "trend" in areas.columns else ""
        click.echo(
            f"  {row.area}. {row.n_cells} cells, {row.count:,.0f} cases, peak {row.h3} "
            f"(z {row.peak_z:.1f}) near {row.lat:.5f}, {row.lon:.5f}{trend}"
        )
    if opts["areas_out"] is not None:
        opts["areas_out"].parent.mkdir(parents=True, exist_ok=True)
        cells = areas["cells"].map(lambda c: " ".join(cells_to_strings(c)))
        areas.assign(cells=cells).drop(columns="peak_cell").to_csv(opts["areas_out"], index=False)
        click.echo(f"wrote {len(areas):,} areas to {opts['areas_out']}")
    _write(
        frame,
        opts["out"],
        colour=lambda f: f["gi_class"].map(GI_CLASS_COLOURS),
        tooltip={
            "h3": "H3",
            "count": "cases",
            "gi_z": "Gi* z",
            "gi_p": "p",
            "gi_class": "class",
            "lisa_cluster": "LISA",
        },
        map_rows=lambda f: (f["count"] > 0) | (f["gi_class"] != "not_significant"),
        name="hotspots",
        tiles=opts["tiles"],
        sort_by=["gi_z"],
        ascending=[False],
        show=["count", "gi_z", "gi_p", "gi_q", "gi_class", "lisa_cluster"],
    )


@click.command(name="recurring")
@_analysis_options
@click.option(
    "--last", type=click.IntRange(min=1), default=None, help="Look at the last N periods (default all)."
)
@click.option(
    "--min-count",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Cases a period needs to count as active.",
)
@click.option(
    "--min-share",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Keep cells active in at least this share of the periods.",
)
@click.option("--by-category", is_flag=True, help="One row per cell and category.")
@_guard
def recurring_cmd(**opts: Any) -> None:
    """Recurring problems: per cell, active periods, longest and current run of active periods, ranked.

    Rows (cells with at least one active period) carry h3, rank, cases, active_periods, n_periods, share,
    longest_run, current_run (and category with --by-category).

    Example: gridpatrol recurring --period week --last 12 --min-share 0.5 --out chronic.csv
    """
    from analytics.recurrence import recurrence

    cube = _cube(opts, by_category=opts["by_category"])
    last = opts["last"]
    if last is not None and last > len(cube.periods):
        raise AnalysisError(f"--last {last} exceeds the {len(cube.periods)} {cube.period}(s) selected")
    result = recurrence(cube, last=last, min_count=opts["min_count"])
    frame = result.chronic(top=None, min_share=opts["min_share"])
    frame = frame[frame["active_periods"] > 0].reset_index(drop=True)
    frame["rank"] = range(1, len(frame) + 1)
    if not opts["by_category"]:
        frame = frame.drop(columns="category")
    frame = frame[["cell", "rank", *[c for c in frame.columns if c not in ("cell", "rank")]]]
    click.echo(f"{len(frame):,} recurring cell(s) over {len(result.periods)} {cube.period}(s)")
    _write(
        frame,
        opts["out"],
        colour=_run_colours,
        tooltip={
            "h3": "H3",
            "rank": "rank",
            "cases": "cases",
            "active_periods": "active periods",
            "longest_run": "longest run",
            "current_run": "current run",
        },
        map_rows=lambda f: f["active_periods"] > 0,
        name="recurring",
        tiles=opts["tiles"],
        sort_by=["rank"],
        ascending=[True],
        show=[c for c in frame.columns if c != "cell"],
    )


def _run_colours(frame):
    import numpy as np
    import pandas as pd

    palette = np.array(["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"])
    level = np.minimum((frame["share"].to_numpy(dtype=float) * len(palette)).astype(int), len(palette) - 1)
    return pd.Series(palette[level], index=frame.index)


def _pattern_colours(frame):
    """Fill colour of each emerging pattern (hot reds, cold blues, no pattern grey)."""
    colours = {
        "new": ("#fcbba1", "#c6dbef"),
        "consecutive": ("#fc9272", "#9ecae1"),
        "intensifying": ("#a50f15", "#08519c"),
        "persistent": ("#de2d26", "#3182bd"),
        "diminishing": ("#fb6a4a", "#6baed6"),
        "sporadic": ("#fdd0a2", "#deebf7"),
        "oscillating": ("#fdae6b", "#bcbddc"),
        "historical": ("#bdbdbd", "#d9d9d9"),
    }

    def one(pattern: str) -> str:
        if pattern == "no_pattern":
            return "#eeeeee"
        kind, _, side = pattern.partition("_")
        hot, cold = colours[kind]
        return hot if side.startswith("hot") else cold

    return frame["pattern"].map(one)


@click.command(name="emerging")
@_analysis_options
@click.option(
    "--time-step",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Temporal neighbourhood: the current and this many previous periods.",
)
@_guard
def emerging_cmd(**opts: Any) -> None:
    """Emerging hot spots: space-time Gi* per period, a Mann–Kendall trend per cell, ArcGIS Pro patterns.

    Needs at least 10 periods and 60 cases. Rows carry h3, count, pattern (new_hot_spot …
    historical_cold_spot, no_pattern), trend_tau, trend_z, trend_p, hot_periods, cold_periods and the final
    period's gi_z, gi_p.

    Example: gridpatrol emerging --period week --from 2026-01-01 --to 2026-06-30 --out emerging.html
    """
    from analytics.emerging import PATTERNS, emerging_hotspots

    cube = _cube(opts)
    result = emerging_hotspots(cube, k=opts["k"], time_step=opts["time_step"])
    frame = result.to_frame()
    counts = frame["pattern"].value_counts()
    click.echo(", ".join(f"{name} {counts[name]:,}" for name in PATTERNS if counts.get(name, 0)))
    _write(
        frame,
        opts["out"],
        colour=_pattern_colours,
        tooltip={
            "h3": "H3",
            "count": "cases",
            "pattern": "pattern",
            "trend_z": "trend z",
            "trend_p": "trend p",
            "hot_periods": "hot periods",
        },
        map_rows=lambda f: (f["count"] > 0) | (f["pattern"] != "no_pattern"),
        name="emerging",
        tiles=opts["tiles"],
        sort_by=["gi_z"],
        ascending=[False],
        show=["count", "pattern", "trend_tau", "trend_p", "hot_periods", "gi_z"],
    )


COMMANDS = [hotspots_cmd, recurring_cmd, emerging_cmd]

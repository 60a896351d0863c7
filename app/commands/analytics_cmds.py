"""``gridpatrol hotspots``, ``recurring`` and ``emerging``: the case analytics on the command line.

Each command parses its options into a request, calls one service function (:mod:`services.analysis`) and
writes the result's table to ``--out`` (CSV, GeoJSON, GeoParquet or a standalone HTML map, by suffix; the
H3 id as a hex string in ``h3``: int64 ids do not survive JSON readers). The cell universe, the defaults
(``--res``, ``--period``, ``--k``) and the time zone come from the service and the city configuration
(``gridpatrol.toml``). ``--cases FILE`` imports the file into a throw-away SQLite store (the main one is
never touched) and runs the same service on it.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from app.commands._common import exit_on

OUT_SUFFIXES = (".csv", ".geojson", ".parquet", ".html")
#: ``--target`` choices (:data:`analytics.exposure.TARGETS`, spelled out to keep the CLI's start light).
TARGET_CHOICES = ("reported", "citizen", "estimated")


class AnalysisError(Exception):
    """A user-facing failure of an analytics command (message printed, exit code 1)."""


def _errors() -> tuple[type[Exception], ...]:
    """What an analytics command reports as ``error: …`` (exit 1): bad requests and data, an old schema."""
    from cases.db import SchemaOutOfDateError
    from services.errors import ServiceError

    # ValueError: EmptySelectionError, TooFewPeriodsError, an unknown category, a bad configuration value
    return (AnalysisError, ServiceError, ValueError, SchemaOutOfDateError)


def _import_file(path: Path, mapping: str | None, engine: Any) -> None:
    """Import the cases file ``path`` into the (throw-away) store of ``engine``."""
    from cases.db import init_db
    from cases.importing import ImportReadError, import_cases
    from cases.mapping import MappingError, load_mapping

    try:
        loaded = load_mapping(mapping) if mapping else None
    except MappingError as exc:
        raise AnalysisError(str(exc)) from exc
    init_db(engine)  # a new temporary store, not the city's
    try:
        report = import_cases(path, engine, mapping=loaded)
    except ImportReadError as exc:
        raise AnalysisError(f"cannot read {path}: {exc}") from exc
    click.echo(report.summary(), err=True)


@contextlib.contextmanager
def _temporary_store(path: Path, mapping: str | None) -> Iterator[Any]:
    """An engine on a temporary SQLite store holding the cases of ``path`` (deleted afterwards)."""
    import tempfile

    from cases.db import make_engine

    with tempfile.TemporaryDirectory(prefix="gridpatrol-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 't.db'}")
        try:
            _import_file(path, mapping, engine)
            yield engine
        finally:
            engine.dispose()


def cases_from_file(path: Path, mapping: str | None, read: Callable[[Any], Any] | None = None) -> Any:
    """Import ``path`` into a temporary SQLite database and read its cases back with ``read(engine)``.

    ``read`` defaults to :func:`cases.repository.cases_frame`; the main database is never touched.
    """
    from cases.repository import cases_frame

    with _temporary_store(path, mapping) as engine:
        return (read or cases_frame)(engine)


@contextlib.contextmanager
def service_context(opts: dict[str, Any]) -> Iterator[Any]:
    """The :class:`services.context.ServiceContext` of a command: the configured store (``--db-url``) or,
    with ``--cases FILE``, a throw-away store holding the file; the city configuration, with ``--timezone``
    over it when given. The command runs as the system."""
    from grid.config import load_city_config
    from services.context import open_context

    config = load_city_config()
    if opts.get("timezone"):
        config = config.replace(timezone=opts["timezone"])
    if opts.get("cases_file") is not None:
        with _temporary_store(opts["cases_file"], opts.get("mapping")) as engine:
            yield open_context(engine=engine, config=config)
        return
    if opts.get("mapping") is not None:
        raise AnalysisError("--mapping is only used with --cases FILE")
    # read-only: a store without the current schema is refused ("run `gridpatrol init`")
    ctx = open_context(click.get_current_context().find_root().obj["db_url"], config=config)
    try:
        yield ctx
    finally:
        ctx.engine.dispose()


def filters_from(opts: dict[str, Any]) -> Any:
    """The :class:`services.study.AnalysisFilters` of a command's options (``None``: the city's default)."""
    from services.study import AnalysisFilters

    start, end = opts.get("start"), opts.get("end")
    return AnalysisFilters(
        resolution=opts.get("res"),
        period=opts.get("period"),
        categories=tuple(opts.get("category") or ()),
        sources=tuple(opts.get("source") or ()),
        start=start.date() if start else None,
        end=end.date() if end else None,
    )


def echo_study(result: Any) -> None:
    """Print the universe (and the cube) a result was computed over."""
    click.echo(f"universe: {result.study.describe()}")
    cube = getattr(result, "cube", None)
    if cube is not None:
        click.echo(f"cube: {cube.describe()}")


def source_options() -> list[Callable[[Callable[..., None]], Callable[..., None]]]:
    """The options that choose the cases and the grain (``--cases``, ``--mapping``, ``--res``, ``--period``,
    ``--category``, ``--source``, ``--from``, ``--to``, ``--timezone``), shared with the forecast commands."""
    return [
        click.option(
            "--cases",
            "cases_file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            help="Analyse this cases file (imported into a temporary database) instead of the database.",
        ),
        click.option(
            "--mapping", default=None, help="Mapping (TOML path or shipped name) of the --cases file."
        ),
        click.option(
            "--res",
            type=click.IntRange(0, 10),
            default=None,
            help="H3 resolution. Default: analysis.resolution of the city configuration.",
        ),
        click.option(
            "--period",
            type=click.Choice(["day", "week", "month"]),
            default=None,
            help="Time step (ISO weeks, Monday–Sunday) in the city's zone. Default: analysis.period.",
        ),
        click.option(
            "--category",
            multiple=True,
            help="Category code or class prefix (e.g. 06); repeatable. Default: every category.",
        ),
        click.option(
            "--source", multiple=True, help="Case source (hotline, patrol, …); repeatable. Default: all."
        ),
        click.option(
            "--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (city zone)."
        ),
        click.option(
            "--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day, inclusive."
        ),
        click.option(
            "--timezone", default=None, help="Override the city configuration's time zone for this run."
        ),
    ]


def target_option() -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``--target``: what an analysis counts (issue #24), shared with the forecast commands."""
    return click.option(
        "--target",
        type=click.Choice(TARGET_CHOICES),
        default=None,
        help="What is counted: reported (every case, patrol finds included; the default), citizen (patrol "
        "finds left out) or estimated (citizen reports and patrol finds per patrol-hour of presence from the "
        "tracks: docs/concepts/exposure.md).",
    )


def _analysis_options(func: Callable[..., None]) -> Callable[..., None]:
    """The options every analytics command shares."""
    options = [
        *source_options(),
        click.option(
            "--k",
            type=click.IntRange(min=1),
            default=None,
            help="Neighbourhood in rings. Default: analysis.hotspot_k.",
        ),
        click.option(
            "--out",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="Output by suffix: .csv, .geojson, .parquet (GeoParquet) or .html (map). "
            "Default: print the top cells.",
        ),
        click.option(
            "--tiles",
            default=None,
            help="Base map of the HTML map (osm, gaode, tianditu, none). Default: tiles.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def guard(func: Callable[..., None]) -> Callable[..., None]:
    """Check ``--out``'s suffix first; turn data errors into ``error: …`` and exit code 1 (no traceback)."""

    @functools.wraps(func)
    def wrapper(**opts: Any) -> None:
        out = opts.get("out")
        if out is not None and out.suffix.lower() not in OUT_SUFFIXES:
            click.echo(f"error: --out must end in {', '.join(OUT_SUFFIXES)}; got {out.name}", err=True)
            sys.exit(2)
        exit_on(*_errors())(func)(**opts)

    return wrapper


def write_cells(
    frame: Any,
    out: Path | None,
    *,
    colour: Callable[[Any], Any],
    tooltip: dict[str, str],
    map_rows: Callable[[Any], Any],
    name: str,
    tiles: str,
    show: list[str],
) -> None:
    """Write ``frame`` (a service table: ``cell``, ``h3``, …, in the order shown) to ``out``, or print its
    first 20 rows."""
    from grid.cells import cells_to_polygons

    if out is None:
        click.echo(frame.head(20)[["h3", *show]].to_string(index=False))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        from cases.csv_safe import write_csv

        write_csv(frame.drop(columns="cell"), out)
        click.echo(f"wrote {len(frame):,} cells to {out}")
        return
    polygons = cells_to_polygons(frame["cell"].to_numpy()).set_index("cell").geometry
    import geopandas as gpd

    cells = gpd.GeoDataFrame(
        frame.drop(columns="cell"), geometry=polygons.reindex(frame["cell"]).to_numpy(), crs="EPSG:4326"
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
    try:  # folium is in the [web] extra
        from app.maps import base_map, cells_layer, standalone_html
    except ImportError as exc:
        raise AnalysisError(str(exc)) from exc

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
@target_option()
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
@guard
def hotspots_cmd(**opts: Any) -> None:
    """Hot and cold spots of case counts: Getis-Ord Gi* (FDR-corrected classes) and Local Moran's I.

    Counts are summed over the selected periods and categories; rows (sorted by gi_z, hottest first) carry
    h3, count, gi_z, gi_p, gi_q, gi_class (hot_99 … cold_99) and lisa_quadrant / lisa_cluster / lisa_p
    (analytic). The hot cells that touch form hot-spot areas, each with its trend (its share of the cases
    per period rising, falling or steady, from 4 periods on); the largest are printed, and --areas writes
    them all.

    Example: gridpatrol hotspots --category 06 --from 2026-01-01 --to 2026-03-31 --out hotspots.html
    """
    from app.palette import GI_CLASS_COLOURS
    from services.analysis import HotspotRequest, hotspots

    request = HotspotRequest(
        filters_from(opts), k=opts["k"], min_area_cells=opts["min_area_cells"], target=opts["target"]
    )
    with service_context(opts) as ctx:
        result = hotspots(ctx, request)
        tiles = opts["tiles"] or ctx.config.tiles
    echo_study(result)
    click.echo(", ".join(f"{name} {count:,}" for name, count in result.class_counts().items()))
    areas = result.areas
    click.echo(f"hot-spot areas of >= {opts['min_area_cells']} cells: {len(areas):,}")
    for row in areas.head(5).itertuples():
        trend = f", {row.trend} (τ {row.trend_tau:+.2f})" if "trend" in areas.columns else ""
        click.echo(
            f"  {row.area}. {row.n_cells} cells, {row.count:,.0f} cases, peak {row.h3} "
            f"(z {row.peak_z:.1f}) near {row.lat:.5f}, {row.lon:.5f}{trend}"
        )
    if opts["areas_out"] is not None:
        opts["areas_out"].parent.mkdir(parents=True, exist_ok=True)
        from cases.csv_safe import write_csv

        write_csv(result.areas_frame(), opts["areas_out"])
        click.echo(f"wrote {len(areas):,} areas to {opts['areas_out']}")
    write_cells(
        result.to_frame(),
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
        tiles=tiles,
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
@guard
def recurring_cmd(**opts: Any) -> None:
    """Recurring problems: per cell, active periods, longest and current run of active periods, ranked.

    Rows (cells with at least one active period) carry h3, rank, cases, active_periods, n_periods, share,
    longest_run, current_run (and category with --by-category).

    Example: gridpatrol recurring --period week --last 12 --min-share 0.5 --out chronic.csv
    """
    from services.analysis import RecurringRequest, recurring

    request = RecurringRequest(
        filters_from(opts),
        last=opts["last"],
        min_count=opts["min_count"],
        min_share=opts["min_share"],
        by_category=opts["by_category"],
    )
    with service_context(opts) as ctx:
        result = recurring(ctx, request)
        tiles = opts["tiles"] or ctx.config.tiles
    echo_study(result)
    frame = result.to_frame()
    click.echo(f"{len(frame):,} recurring cell(s) over {result.n_periods} {result.cube.period}(s)")
    write_cells(
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
        tiles=tiles,
        show=[c for c in frame.columns if c not in ("cell", "h3")],
    )


def _run_colours(frame):
    import numpy as np
    import pandas as pd

    palette = np.array(["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"])
    level = np.minimum((frame["share"].to_numpy(dtype=float) * len(palette)).astype(int), len(palette) - 1)
    return pd.Series(palette[level], index=frame.index)


def _pattern_colours(frame):
    """Fill colour of each emerging pattern (hot reds, cold blues, no pattern grey)."""
    from app.palette import PATTERN_COLOURS

    return frame["pattern"].map(PATTERN_COLOURS).fillna("#eeeeee")


@click.command(name="emerging")
@_analysis_options
@click.option(
    "--time-step",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Temporal neighbourhood: the current and this many previous periods.",
)
@guard
def emerging_cmd(**opts: Any) -> None:
    """Emerging hot spots: space-time Gi* per period, a Mann–Kendall trend per cell, ArcGIS Pro patterns.

    Needs at least 10 periods and 60 cases. Rows (by pattern, then the final period's gi_z) carry h3,
    count, pattern (new_hot_spot … historical_cold_spot, no_pattern), trend_tau, trend_z, trend_p,
    hot_periods, cold_periods and the final period's gi_z, gi_p.

    Example: gridpatrol emerging --period week --from 2026-01-01 --to 2026-06-30 --out emerging.html
    """
    from services.analysis import EmergingRequest, emerging

    request = EmergingRequest(filters_from(opts), k=opts["k"], time_step=opts["time_step"])
    with service_context(opts) as ctx:
        result = emerging(ctx, request)
        tiles = opts["tiles"] or ctx.config.tiles
    echo_study(result)
    click.echo(", ".join(f"{name} {count:,}" for name, count in result.pattern_counts().items()))
    write_cells(
        result.to_frame(),
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
        tiles=tiles,
        show=["count", "pattern", "trend_tau", "trend_p", "hot_periods", "gi_z"],
    )


COMMANDS = [hotspots_cmd, recurring_cmd, emerging_cmd]

"""``gridpatrol effectiveness``: inspectors' tracks joined with the cases of a date range.

Reads the cases, their events, the assignments and the areas from the database and the tracks from the track
store (reduced to cell visits day by day, optionally cached), then writes one row per inspector, subdistrict,
district, category or cell (:func:`patrol.effectiveness.effectiveness_table`) and, with ``--gap-out``, the
allocation-gap map (expected problems vs patrol minutes per cell).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

TABLE_SUFFIXES = (".csv", ".parquet")
GAP_SUFFIXES = (".geojson", ".parquet", ".csv", ".html")


def _read_store(url: str | None) -> dict[str, Any]:
    """Cases, case events, assignments and areas of the database (times tz-aware UTC)."""
    import numpy as np
    import pandas as pd
    import sqlalchemy as sa

    from cases.areas import load_areas
    from cases.db import init_db, make_engine
    from cases.models import Assignment, Case, CaseEvent

    def frame(conn: Any, table: Any, columns: tuple[str, ...], times: tuple[str, ...]) -> pd.DataFrame:
        rows = conn.execute(sa.select(*(table.c[c] for c in columns))).all()
        out = pd.DataFrame(rows, columns=list(columns)) if rows else pd.DataFrame(columns=list(columns))
        for c in times:
            out[c] = pd.to_datetime(out[c], utc=True)
        return out

    engine = make_engine(url)
    try:
        init_db(engine)
        with engine.connect() as conn:
            cases = frame(
                conn, Case.__table__,
                ("case_id", "source", "category_code", "lat", "lon", "cell", "reported_at", "reported_by",
                 "location_flag"),
                ("reported_at",),
            )  # fmt: skip
            events = frame(
                conn, CaseEvent.__table__, ("case_id", "at", "from_status", "to_status", "actor"), ("at",)
            )  # fmt: skip
            beats = frame(
                conn, Assignment.__table__, ("inspector_id", "cell", "valid_from", "valid_to"),
                ("valid_from", "valid_to"),
            )  # fmt: skip
        areas = load_areas(engine)
    finally:
        engine.dispose()
    cases = cases[cases["cell"].notna()].copy()
    cases["cell"] = cases["cell"].to_numpy(dtype=np.int64)
    if "location_flag" in cases:
        cases = cases[cases["location_flag"].ne("suspicious_cluster").fillna(True)]
    beats["cell"] = beats["cell"].to_numpy(dtype=np.int64)
    return {"cases": cases.reset_index(drop=True), "events": events, "beats": beats, "areas": areas}


@click.command(name="effectiveness")
@click.option(
    "--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day (city zone)."
)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day, inclusive.")
@click.option(
    "--by",
    type=click.Choice(["inspector", "subdistrict", "district", "category", "cell"]),
    default="inspector",
    show_default=True,
    help="One row per this group.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The table: .csv or .parquet.",
)
@click.option(
    "--gap-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the allocation-gap map: .geojson, .parquet (GeoParquet), .csv or .html.",
)
@click.option(
    "--window-h",
    type=click.FloatRange(min=0, min_open=True),
    default=2.0,
    show_default=True,
    help="An inspector's pass counts within this many hours before a report.",
)
@click.option("--k", type=click.IntRange(min=0), default=1, show_default=True, help="Rings around a case.")
@click.option(
    "--tracks",
    "tracks_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Track store (day=YYYY-MM-DD/ folders)  [default: <data dir>/tracks].",
)
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep each day's cell visits here (reduced once until the day's track file changes).",
)
@click.option(
    "--model",
    default="baseline_mean",
    show_default=True,
    help="Forecast model of the expected problems (analytics.forecast; 'auto' runs a backtest).",
)
@click.option("--timezone", envvar="GRIDPATROL_TIMEZONE", default="Asia/Shanghai", show_default=True)
@click.option("--tiles", default="osm", show_default=True, help="Base map of an HTML gap map.")
def effectiveness_cmd(
    start: Any,
    end: Any,
    by: str,
    out: Path,
    gap_out: Path | None,
    window_h: float,
    k: int,
    tracks_dir: Path | None,
    cache_dir: Path | None,
    model: str,
    timezone: str,
    tiles: str,
) -> None:
    """Patrol effectiveness: discovery rate (主动发现率), problems walked past, attribution, response.

    Example: gridpatrol effectiveness --from 2025-03-03 --to 2025-03-09 --by inspector --out eff.csv
    """
    import datetime as dt

    import numpy as np
    import pandas as pd

    from cases.db import data_dir
    from patrol import effectiveness as eff

    if out.suffix.lower() not in TABLE_SUFFIXES:
        click.echo(f"error: --out must end in {', '.join(TABLE_SUFFIXES)}; got {out.name}", err=True)
        sys.exit(2)
    if gap_out is not None and gap_out.suffix.lower() not in GAP_SUFFIXES:
        click.echo(f"error: --gap-out must end in {', '.join(GAP_SUFFIXES)}; got {gap_out.name}", err=True)
        sys.exit(2)
    first, last = start.date(), end.date()
    store = _read_store(click.get_current_context().find_root().obj["db_url"])
    all_cases = store["cases"]
    local = pd.DatetimeIndex(all_cases["reported_at"]).tz_convert(timezone).date
    cases = all_cases[(local >= first) & (local <= last)].reset_index(drop=True)
    if cases.empty:
        click.echo(f"error: no located case reported between {first} and {last}", err=True)
        sys.exit(1)
    root = tracks_dir or data_dir() / "tracks"
    # a report early in the morning looks back into the previous day
    lookback = dt.timedelta(days=int(np.ceil(window_h / 24.0)))
    visits = eff.visits_from_store(root, first - lookback, last, timezone=timezone, cache_dir=cache_dir)
    in_range = pd.DatetimeIndex(visits["enter"]).tz_convert(timezone).date >= first
    cells = _cells(store["areas"], cases, visits)
    beats = store["beats"][["cell", "inspector_id"]] if len(store["beats"]) else None
    expected, source = eff.expected_problems(all_cases, cells["cell"].to_numpy(), first, last, model=model,
                                             timezone=timezone)  # fmt: skip
    attribution = eff.attribute_cases(cases, visits, window_h=window_h, k=k)
    table = eff.effectiveness_table(
        cases, visits[in_range], by, attribution=attribution, events=store["events"], cells=cells,
        beats=beats, expected=expected, track_check=eff.reporter_track_check(cases, root, timezone=timezone),
        timezone=timezone,
    )  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    if by == "cell":
        from grid.cells import cells_to_strings

        table.insert(1, "h3", cells_to_strings(table["cell"].to_numpy(dtype=np.int64)))
    if out.suffix.lower() == ".csv":
        table.to_csv(out, index=False)
    else:
        table.to_parquet(out, index=False)
    n_patrol = int((cases["source"] == "patrol").sum())
    missed = int(table["missed"].sum())
    click.echo(
        f"{len(cases):,} cases {first} … {last}: {n_patrol:,} found by patrol "
        f"({n_patrol / len(cases):.1%}), {missed:,} citizen reports walked past within {window_h:g} h; "
        f"{len(visits):,} cell visits; expected problems from {source}"
    )
    click.echo(f"wrote {len(table):,} {by} rows to {out}")
    if gap_out is not None:
        gap = eff.allocation_gap(visits[in_range], expected, cells=cells["cell"].to_numpy())
        _write_gap(gap, gap_out, tiles)
        click.echo(
            f"wrote the allocation gap of {len(gap):,} cells to {gap_out} "
            f"(patrol time to move: {eff.allocation_index(gap):.1%})"
        )


def _cells(areas: Any, cases: Any, visits: Any) -> Any:
    """The cell universe with its areas: the stored areas' cells, else the cells of the cases and visits."""
    import numpy as np
    import pandas as pd

    if len(areas):
        from grid.build import cells_from_polygons

        grid = cells_from_polygons(areas, res=10)
        return pd.DataFrame(grid[["cell", "district", "subdistrict"]])
    seen = [cases["cell"].to_numpy(np.int64), visits["cell"].to_numpy(np.int64)]
    universe = np.unique(np.concatenate(seen))
    return pd.DataFrame({"cell": universe, "district": None, "subdistrict": None})


def _write_gap(gap: Any, path: Path, tiles: str) -> None:
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        gap.drop(columns="geometry").to_csv(path, index=False)
    elif suffix == ".parquet":
        gap.to_parquet(path)
    elif suffix == ".geojson":
        finite = gap["minutes_per_expected"].where(np.isfinite(gap["minutes_per_expected"]))
        gap.assign(cell=gap["h3"], minutes_per_expected=finite).to_file(path, driver="GeoJSON")
    else:
        path.write_text(_gap_html(gap, tiles), encoding="utf-8")


def _gap_html(gap: Any, tiles: str) -> str:
    from app.maps import base_map, cells_layer, standalone_html

    centroid = gap.geometry.union_all().centroid
    m = base_map(centroid.y, centroid.x, zoom=13, tiles=tiles)
    colours = {"under": "#d7301f", "balanced": "#fdd49e", "over": "#2b8cbe", "idle": "#f0f0f0"}
    fill = gap["status"].map(colours)
    frame = gap.assign(expected=gap["expected"].round(2), patrol_minutes=gap["patrol_minutes"].round(1),
                       gap=(gap["gap"] * 100).round(3))  # fmt: skip
    tooltip = {"h3": "H3", "expected": "expected problems", "patrol_minutes": "patrol minutes",
               "gap": "gap (points of share)", "status": "status"}  # fmt: skip
    cells_layer(frame.drop(columns=["minutes_per_expected"]), fill=fill, tooltip=tooltip, tiles=tiles,
                name="allocation gap").add_to(m)  # fmt: skip
    return standalone_html(m)


COMMANDS = [effectiveness_cmd]

"""``gridpatrol kpi``: the command centre's KPIs per district, subdistrict, department, inspector or category.

Reads the cases and their event history from the database (or ``--cases FILE``, imported into a throw-away
SQLite database with ``--mapping``, as the analytics commands do; a file has no history, so rework and
extension counts are 0) and writes one row per group (:func:`analytics.kpi.kpi_table`): the group column,
the rates as fractions 0–1 and the counts behind them. ``--by department`` adds the 综合评价 score and grade,
``--by inspector`` the inspector KPIs (valid reports, on-time 核实 / 核查, weighted score). Districts and
subdistricts come from ``--cells`` (a cells table with ``cell``, ``district``, ``subdistrict``) or else from
the area polygons stored in the database; inspectors from the stored assignments.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

GROUPS = ("district", "subdistrict", "department", "inspector", "category")
OUT_SUFFIXES = (".csv", ".parquet")


class KpiError(Exception):
    """A user-facing failure (message printed, exit code 1)."""


def _from_file(path: Path, mapping: str | None) -> Any:
    """Import ``path`` into a temporary SQLite database; return its lifecycle frame."""
    from app.commands.analytics_cmds import AnalysisError, cases_from_file
    from cases.lifecycle import load_lifecycle_frame

    try:
        return cases_from_file(path, mapping, read=load_lifecycle_frame)
    except AnalysisError as exc:
        raise KpiError(str(exc)) from exc


def _assignments(engine: Any) -> Any:
    import pandas as pd
    import sqlalchemy as sa

    from cases.models import Assignment

    a = Assignment.__table__.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(a.inspector_id, a.cell, a.valid_from, a.valid_to)).all()
    frame = pd.DataFrame(rows, columns=["inspector_id", "cell", "valid_from", "valid_to"])
    return frame.astype({"cell": "int64"}) if len(frame) else frame


def _load(opts: dict[str, Any], by: str) -> tuple[Any, Any]:
    """(cases with the grouping column, events or None)."""
    from analytics.kpi import attach_areas, attach_areas_from_polygons, attach_inspectors

    engine = None
    if opts["cases_file"] is not None:
        cases, events = _from_file(opts["cases_file"], opts["mapping"]), None
    else:
        if opts["mapping"] is not None:
            raise KpiError("--mapping is only used with --cases FILE")
        from cases.db import init_db, make_engine
        from cases.lifecycle import load_events, load_lifecycle_frame

        engine = make_engine(click.get_current_context().find_root().obj["db_url"])
        init_db(engine)
        cases, events = load_lifecycle_frame(engine), load_events(engine)
    try:
        if cases.empty:
            raise KpiError("there are no cases to evaluate (import cases first)")
        if by in ("district", "subdistrict"):
            if opts["cells"] is not None:
                import pandas as pd

                cases = attach_areas(cases, pd.read_parquet(opts["cells"]))
            elif engine is not None:
                from cases.areas import load_areas

                cases = attach_areas_from_polygons(cases, load_areas(engine))
            if by not in cases or cases[by].isna().all():
                raise KpiError(f"--by {by} needs --cells FILE or {by} areas in the database (import areas)")
        if by == "inspector":
            cases = attach_inspectors(cases, _assignments(engine) if engine is not None else None)
    finally:
        if engine is not None:
            engine.dispose()
    return cases, events


@click.command(name="kpi")
@click.option(
    "--cases",
    "cases_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Evaluate this cases file (imported into a temporary database) instead of the database.",
)
@click.option("--mapping", default=None, help="Mapping (TOML path or shipped name) of the --cases file.")
@click.option("--by", "by", type=click.Choice(GROUPS), default="department", show_default=True)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First filing day.")
@click.option(
    "--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last filing day, inclusive."
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    default=None,
    help="Evaluate as of this local time (default: the end of --to, else the latest step in the data).",
)
@click.option("--timezone", envvar="GRIDPATROL_TIMEZONE", default="Asia/Shanghai", show_default=True)
@click.option(
    "--cells",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Cells table (Parquet: cell, district, subdistrict) for --by district/subdistrict.",
)
@click.option(
    "--scoring",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Scoring TOML (grades, weights, deductions); default analytics/data/kpi_scoring.toml.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output .csv or .parquet (default: print the table).",
)
def kpi_cmd(**opts: Any) -> None:
    """KPIs of the cases filed from --from to --to: closure, on-time closure, handling, rework, extension,
    satisfaction (fractions 0–1) with the counts behind them, mean and p90 handling hours.

    Example: gridpatrol kpi --by department --from 2025-01-01 --to 2025-01-31 --out january.csv
    """
    out = opts["out"]
    if out is not None and out.suffix.lower() not in OUT_SUFFIXES:
        click.echo(f"error: --out must end in {', '.join(OUT_SUFFIXES)}; got {out.name}", err=True)
        sys.exit(2)
    try:
        table = _table(opts)
    except (KpiError, ValueError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if out is None:
        click.echo(table.to_string(index=False, max_rows=60))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        table.to_csv(out, index=False)
    else:
        table.to_parquet(out, index=False)
    click.echo(f"wrote {len(table):,} {opts['by']} row(s) to {out}")


def _table(opts: dict[str, Any]) -> Any:
    from analytics.kpi import department_scores, inspector_kpis, kpi_table, load_scoring

    by = opts["by"]
    cases, events = _load(opts, by)
    window = {
        "start": opts["start"].date() if opts["start"] else None,
        "end": opts["end"].date() if opts["end"] else None,
        "as_of": opts["as_of"],
        "timezone": opts["timezone"],
    }
    table = kpi_table(cases, events, by=by, **window)
    scoring = load_scoring(opts["scoring"])
    if by == "department":
        table = department_scores(table, scoring)
    if by == "inspector" and events is not None:
        people = inspector_kpis(cases, events, scoring=scoring, **window).rename(
            columns={"score": "inspector_score", "grade": "inspector_grade"}
        )
        table = table.merge(people, on="inspector", how="outer").fillna({"cases": 0})
    total = table["should_close"].sum()
    click.echo(
        f"{len(table):,} {by} group(s), {int(table['cases'].sum()):,} filed case(s), {int(total):,} due",
        err=True,
    )
    return table


COMMANDS = [kpi_cmd]

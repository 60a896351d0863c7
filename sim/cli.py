"""``gridpatrol demo-data``: write the demo city's files and load them into the store."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import click


@click.command(name="demo-data")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed (same seed, same bytes).")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=365,
    show_default=True,
    help="Days to simulate (counted back from the end date, or forward from --start).",
)
@click.option(
    "--end-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last simulated day, the demo's 'today' with open work in every queue  [default: today in the "
    "city's time zone].",
)
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="First simulated day instead of --end-date (e.g. 2025-01-01 for the calendar year 2025).",
)
@click.option("--cases-per-day", type=click.FloatRange(min=1), default=600.0, show_default=True)
@click.option("--inspectors", "n_inspectors", type=click.IntRange(min=1), default=80, show_default=True)
@click.option("--area-km2", type=click.FloatRange(min=1), default=100.0, show_default=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder, replaced if it exists  [default: <data dir>/geo/demo, where coverage and "
    "effectiveness find the tracks].",
)
@click.option("--no-load", is_flag=True, help="Only write the files; do not import them into the database.")
@click.option(
    "--users-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File the demo users' generated passwords are appended to  [default: <data dir>/demo-users.txt].",
)
def demo_data(
    seed: int,
    days: int,
    end_date: dt.datetime | None,
    start: dt.datetime | None,
    cases_per_day: float,
    n_inspectors: int,
    area_km2: float,
    out_dir: Path | None,
    no_load: bool,
    users_file: Path | None,
) -> None:
    """Simulate a Nantong-like demo city (geography, inspectors, cases, GPS tracks, ground truth).

    The last day is today (or --end-date) unless --start is given; on that day every queue has open work.
    The same seed and the same dates give the same files.

    Example: gridpatrol demo-data --days 30 --end-date 2026-03-31
    """
    import shutil

    from cases.db import data_dir
    from sim.config import DemoConfig, first_day
    from sim.run import simulate

    if start is not None and end_date is not None:
        raise click.UsageError("give either --start or --end-date, not both")
    out_dir = out_dir or data_dir() / "geo" / "demo"
    cfg = DemoConfig(
        seed=seed,
        days=days,
        start=start.date() if start is not None else first_day(days, end_date.date() if end_date else None),
        cases_per_day=cases_per_day,
        n_inspectors=n_inspectors,
        area_km2=area_km2,
    )
    if out_dir.exists():
        shutil.rmtree(out_dir)
    t0 = time.perf_counter()
    city = simulate(cfg, out_dir)
    r = city.rates
    click.echo(
        f"wrote {out_dir} in {time.perf_counter() - t0:.1f} s: {len(city.cases):,} cases, "
        f"{sum(city.tracks.points_per_day.values()):,} track points, {len(city.people.inspectors)} "
        f"inspectors; closure {r['closure_rate']:.1%}, on time {r['on_time_rate']:.1%}, "
        f"satisfaction {r['satisfaction_rate']:.1%}"
    )
    if no_load:
        return
    from cases.db import init_db, make_engine
    from sim.load import load_demo

    root = click.get_current_context().find_root()
    db_url = root.obj.get("db_url") if isinstance(root.obj, dict) else None
    engine = make_engine(db_url)
    init_db(engine)
    users_file = users_file or data_dir() / "demo-users.txt"
    reports = load_demo(out_dir, engine, users_file=users_file)
    users = reports.pop("users")
    for name, report in reports.items():
        click.echo(f"{name}: {report.summary()}")
    click.echo(f"created {len(users)} demo user(s)")
    if users_file.exists():
        click.echo(f"demo users and passwords ({users_file}):")
        click.echo(users_file.read_text(encoding="utf-8").rstrip())


if __name__ == "__main__":
    demo_data()

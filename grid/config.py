"""The city configuration: one ``gridpatrol.toml`` in the data folder, every value overridable by environment.

Everything that differs between cities or deployments (the city's name, its time zone and working
calendar, the deadline, routing and KPI-scoring tables, the map tiles, the analysis defaults, the patrol
visit targets and the forecast model behind routes and beats, the session timeout) is read here, once, by
:func:`load_city_config`. No other module names a time zone: library functions take ``timezone=`` and
default to :data:`DEFAULT_TIMEZONE`; front-ends pass ``config.timezone``.

Resolution order for each value: the environment variable (``GRIDPATROL_`` + the dotted key upper-cased
with ``.`` → ``_``, e.g. ``GRIDPATROL_TIMEZONE``, ``GRIDPATROL_PATROL_HOT_SHARE``), then the file
(``<data dir>/gridpatrol.toml``, or ``GRIDPATROL_CONFIG``), then the defaults below.

Example file (what ``gridpatrol init`` writes)::

    city_name = "Demo City"
    timezone = "Asia/Shanghai"
    tiles = "osm"

    [calendar]
    country = "CN"
    extra_holidays = ["2025-10-09"]
    extra_workdays = []

    [patrol]
    hot_share = 0.10
    hot_visits_per_week = 5
    base_visits_per_week = 1

    [alerts]
    near_share = 0.8      # a case is flagged "near" once 80 % of its working time limit is used
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tomllib
import types
import typing
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: The one place a default zone is named (the demo city and Chinese cities).
DEFAULT_TIMEZONE = "Asia/Shanghai"
DATA_DIR_ENV = "GRIDPATROL_DATA_DIR"
CONFIG_ENV = "GRIDPATROL_CONFIG"
ENV_PREFIX = "GRIDPATROL_"
CONFIG_FILE = "gridpatrol.toml"


class ConfigError(ValueError):
    """A bad value in the city configuration (names the file or variable, the key and the value)."""


@dataclasses.dataclass(frozen=True)
class CalendarConfig:
    """The working calendar: country holidays plus the city's own holidays and make-up working days."""

    country: str = "CN"  #: ``CN``: statutory holidays from ``chinese_calendar``; ``none``: weekends only
    working_periods: tuple[tuple[str, str], ...] = (("08:00", "12:00"), ("13:30", "17:30"))
    extra_holidays: tuple[dt.date, ...] = ()
    extra_workdays: tuple[dt.date, ...] = ()  #: make-up days (调休上班) the country table does not know


@dataclasses.dataclass(frozen=True)
class AnalysisConfig:
    """Defaults of the planner's analyses (hot spots, recurring, emerging, forecast)."""

    resolution: int = 9  #: H3 resolution of the analysis maps (the store keeps resolution 10)
    period: str = "week"  #: ``day``, ``week`` or ``month``
    hotspot_k: int = 1  #: neighbourhood rings of Gi*
    alpha: float = 0.05  #: false-discovery rate of Gi* and Mann–Kendall
    permutations: int = 0  #: 0: analytical p-values


@dataclasses.dataclass(frozen=True)
class PatrolConfig:
    """Patrol targets behind beats and routes, and the forecast model that supplies their demand."""

    hot_share: float = 0.10  #: share of cells (by forecast demand) that get ``hot_visits_per_week``
    hot_visits_per_week: float = 5.0
    base_visits_per_week: float = 1.0
    forecast_model: str = "baseline_ma4"  #: a name of :data:`analytics.forecast.MODELS`
    never_visited_days: int = 28  #: a cell not entered for this many days counts as neglected


@dataclasses.dataclass(frozen=True)
class AlertsConfig:
    """Deadline alerts of the queues and the daily digest."""

    near_share: float = 0.8  #: a case is ``near`` once this share of its working time limit has elapsed


@dataclasses.dataclass(frozen=True)
class IntakeConfig:
    """The operator's intake form: which earlier cases count as possible duplicates of a new call."""

    duplicate_radius_m: float = 100.0  #: same category within this distance (metres) ...
    duplicate_window_hours: float = 72.0  #: ... reported within this many hours before the call


@dataclasses.dataclass(frozen=True)
class CityConfig:
    """The city configuration (see the module docstring). Build it with :func:`load_city_config`."""

    city_name: str = "GridPatrol demo city"
    timezone: str = DEFAULT_TIMEZONE
    store_resolution: int = 10  #: H3 resolution cases and tracks are indexed at
    tiles: str = "osm"  #: map tile provider (``none`` offline)
    deadline_table: str = ""  #: CSV of time limits; empty: the shipped table
    routing_table: str = ""  #: CSV of routing rules; empty: the shipped table
    kpi_scoring: str = ""  #: TOML of KPI scoring; empty: the shipped table
    session_idle_minutes: int = 30  #: the app signs a user out after this long without a page run
    callback_reopen: bool = True  #: a callback that finds the reporter unsatisfied reopens the case (返工)
    calendar: CalendarConfig = dataclasses.field(default_factory=CalendarConfig)
    analysis: AnalysisConfig = dataclasses.field(default_factory=AnalysisConfig)
    patrol: PatrolConfig = dataclasses.field(default_factory=PatrolConfig)
    alerts: AlertsConfig = dataclasses.field(default_factory=AlertsConfig)
    intake: IntakeConfig = dataclasses.field(default_factory=IntakeConfig)
    source: str = ""  #: the file the values came from ("" = defaults and environment only)

    def replace(self, **changes: Any) -> CityConfig:
        """A copy with top-level fields changed (tests, per-request overrides)."""
        return dataclasses.replace(self, **changes)


def data_dir() -> Path:
    """The data directory (``GRIDPATROL_DATA_DIR`` or ``./data``), created if missing."""
    path = Path(os.environ.get(DATA_DIR_ENV, "data"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_path() -> Path:
    """Where the configuration file is: ``GRIDPATROL_CONFIG``, else ``<data dir>/gridpatrol.toml``."""
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else data_dir() / CONFIG_FILE


def load_city_config(path: str | Path | None = None) -> CityConfig:
    """Read the city configuration: environment over the file over the defaults.

    Parameters
    ----------
    path
        The TOML file; default :func:`config_path`. A missing file is not an error (defaults apply).

    Raises
    ------
    ConfigError
        An unknown key, a value of the wrong type, an unknown time zone; the message names the file or the
        environment variable.
    """
    file = Path(path) if path is not None else config_path()
    raw: dict[str, Any] = {}
    if file.is_file():
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
    config = _build(CityConfig, raw, origin=str(file), prefix="")
    config = dataclasses.replace(config, source=str(file) if file.is_file() else "")
    _check(config)
    return config


def _build(cls: type, raw: dict[str, Any], *, origin: str, prefix: str) -> Any:
    """An instance of the dataclass ``cls`` from ``raw`` (a TOML table) with environment overrides."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.name != "source"}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ConfigError(f"{origin}: unknown key {prefix}{unknown[0]} (known: {', '.join(sorted(names))})")
    values: dict[str, Any] = {}
    for name in names:
        hint = hints[name]
        key = f"{prefix}{name}"
        if dataclasses.is_dataclass(hint):
            table = raw.get(name, {})
            if not isinstance(table, dict):
                raise ConfigError(f"{origin}: {key} must be a table, got {table!r}")
            values[name] = _build(hint, table, origin=origin, prefix=f"{key}.")
            continue
        env_name = ENV_PREFIX + key.upper().replace(".", "_")
        if env_name in os.environ:
            values[name] = _convert(os.environ[env_name], hint, where=f"environment variable {env_name}")
        elif name in raw:
            values[name] = _convert(raw[name], hint, where=f"{origin}: {key}")
    return cls(**values)


def _convert(value: Any, hint: Any, *, where: str) -> Any:
    """``value`` (TOML value or environment text) as the field type ``hint``."""
    origin = typing.get_origin(hint)
    try:
        if hint is str:
            return str(value)
        if hint is bool:
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
        if hint is int:
            if isinstance(value, bool):
                raise TypeError
            return int(value)
        if hint is float:
            return float(value)
        if origin is tuple:
            items = [s.strip() for s in value.split(",") if s.strip()] if isinstance(value, str) else value
            inner = typing.get_args(hint)[0]
            if inner is dt.date:
                return tuple(v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)) for v in items)
            if typing.get_origin(inner) is tuple:  # working periods: "08:00-12:00,13:30-17:30"
                return tuple(tuple(v.split("-")) if isinstance(v, str) else tuple(v) for v in items)
            return tuple(items)
        if isinstance(hint, types.UnionType):
            return value
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: cannot read {value!r} as {getattr(hint, '__name__', hint)}") from exc
    return value


def _check(config: CityConfig) -> None:
    """Values that parse but make no sense."""
    where = config.source or "configuration"
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{where}: timezone {config.timezone!r} is not an IANA time zone") from exc
    if config.analysis.period not in ("day", "week", "month"):
        raise ConfigError(
            f"{where}: analysis.period must be day, week or month, got {config.analysis.period!r}"
        )
    for name, res in (
        ("store_resolution", config.store_resolution),
        ("analysis.resolution", config.analysis.resolution),
    ):
        if not 0 <= res <= 15:
            raise ConfigError(f"{where}: {name} must be an H3 resolution 0–15, got {res}")
    if not 0 <= config.patrol.hot_share <= 1:
        raise ConfigError(f"{where}: patrol.hot_share must be in [0, 1], got {config.patrol.hot_share}")
    if not 0 < config.alerts.near_share <= 1:
        raise ConfigError(f"{where}: alerts.near_share must be in (0, 1], got {config.alerts.near_share}")
    if config.intake.duplicate_radius_m <= 0 or config.intake.duplicate_window_hours <= 0:
        raise ConfigError(f"{where}: intake.duplicate_radius_m and duplicate_window_hours must be > 0")
    if config.calendar.country not in ("CN", "none"):
        raise ConfigError(f"{where}: calendar.country must be CN or none, got {config.calendar.country!r}")
    if config.session_idle_minutes <= 0:
        raise ConfigError(
            f"{where}: session_idle_minutes must be positive, got {config.session_idle_minutes}"
        )


def config_text(config: CityConfig | None = None) -> str:
    """The TOML text of ``config`` (default: the defaults), with a comment per section: what ``gridpatrol
    init`` writes."""
    config = config or CityConfig()
    lines = [
        "# GridPatrol city configuration. Every value can be overridden by an environment variable:",
        "# GRIDPATROL_ + the key upper-cased, sections joined by _",
        "# (GRIDPATROL_TIMEZONE, GRIDPATROL_PATROL_HOT_SHARE).",
    ]
    lines += _table_lines(config, skip_tables=True)
    for name in ("calendar", "analysis", "patrol", "alerts", "intake"):
        lines += ["", f"[{name}]", *_table_lines(getattr(config, name), skip_tables=False)]
    return "\n".join(lines) + "\n"


def _table_lines(obj: Any, *, skip_tables: bool) -> list[str]:
    lines = []
    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        if field.name == "source" or (skip_tables and dataclasses.is_dataclass(value)):
            continue
        lines.append(f"{field.name} = {_toml_value(value)}")
    return lines


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_default_config(path: str | Path | None = None, *, overwrite: bool = False) -> Path | None:
    """Write the default configuration to ``path`` (default :func:`config_path`) unless it exists.

    Returns the path written, or ``None`` when a file was already there (a city's edits are never lost).
    """
    file = Path(path) if path is not None else config_path()
    if file.exists() and not overwrite:
        return None
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(config_text(), encoding="utf-8")
    return file

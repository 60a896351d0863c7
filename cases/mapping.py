"""Mappings from a source file's columns and values to GridPatrol's fields (TOML files users write).

A mapping file has four optional tables::

    [columns]            # field = "source column"
    case_id = "CASE_ENQUIRY_ID"
    category = "TYPE"    # ``category`` is an alias of ``category_code``
    [options]
    timezone = "America/New_York"   # zone of times written without an offset (default: DEFAULT_TIMEZONE)
    crs = "wgs84"                   # wgs84 | gcj02 | bd09 | "EPSG:4528" | a PROJ string (pyproj)
    date_format = "%m/%d/%Y %I:%M:%S %p"  # strptime format of every time field (default: ISO 8601 / inferred)
    date_formats = { closed_at = "%Y-%m-%d" }  # per-field formats, win over date_format
    encoding = "gb18030"            # text encoding (default: detected)
    delimiter = ","                 # CSV delimiter (default: detected)
    sheet = "Sheet1"                # xlsx sheet (default: the first)
    strict = ["closed_before_reported"]   # field-level reasons that quarantine the row again (or true: all)
    departments = ["DPW", "DOT"]    # the city's departments: others are emptied (unknown_department)
    [values.source]      # value map of one field: source value = GridPatrol value
    "Constituent Call" = "hotline"
    "*" = "other"        # default for values not listed; without it they are quarantined (unmapped_value)
    [defaults]           # constants for fields the source lacks or leaves empty
    category_standard = "Boston 311 TYPE"

A field not listed under ``[columns]`` is read from a column of the same name (case-insensitive), so a file
that already uses GridPatrol's field names needs no mapping at all. Shipped mappings live in
``cases/mappings/<name>.toml`` and are loaded by name (``boston311``, ``open311``, ``sf311``, ``nyc311``).
Coordinates: ``lat``/``lon``, or ``x``/``y`` (easting/northing of a projected ``crs``); a case without them
but with an ``address`` is placed through the city's address table (:mod:`cases.case_geocode`).
"""

from __future__ import annotations

import codecs
import dataclasses
import tomllib
import zoneinfo
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cases.models import CASE_KINDS, CASE_SOURCES, COORDINATE_SYSTEMS
from cases.time_window import window_option
from grid.config import DEFAULT_TIMEZONE

__all__ = [
    "ASSIGNMENT_FIELDS",
    "CASE_FIELDS",
    "DEFAULT_TIMEZONE",
    "FIELD_ALIASES",
    "INSPECTOR_FIELDS",
    "Mapped",
    "Mapping",
    "MappingError",
    "apply_mapping",
    "column_warnings",
    "load_mapping",
    "shipped_mappings",
]

MAPPINGS_DIR = Path(__file__).with_name("mappings")

#: Field kinds: how the text of a field is parsed.
TEXT, TIME, NUMBER, BOOL, CELL = "text", "time", "number", "bool", "cell"

#: Fields of the ``cases`` contract a file may supply, and their kinds (cell and source_crs are derived).
CASE_FIELDS: dict[str, str] = {
    "case_id": TEXT,
    "source": TEXT,
    "category_code": TEXT,
    "category_standard": TEXT,
    "kind": TEXT,
    "lat": NUMBER,
    "lon": NUMBER,
    "x": NUMBER,  # easting / northing of a projected crs: alternatives to lon / lat
    "y": NUMBER,
    "address": TEXT,
    "reported_at": TIME,
    "registered_at": TIME,
    "dispatched_at": TIME,
    "department": TEXT,
    "deadline_at": TIME,
    "resolved_at": TIME,
    "verified_at": TIME,
    "closed_at": TIME,
    "status": TEXT,
    "urgency": TEXT,
    "reported_by": TEXT,
    "reporter_phone": TEXT,
    "description": TEXT,
    "satisfaction": NUMBER,
}
INSPECTOR_FIELDS: dict[str, str] = {"inspector_id": TEXT, "name": TEXT, "district": TEXT, "active": BOOL}
ASSIGNMENT_FIELDS: dict[str, str] = {"inspector_id": TEXT, "cell": CELL, "valid_from": TIME, "valid_to": TIME}
ALL_FIELDS: dict[str, str] = {**CASE_FIELDS, **INSPECTOR_FIELDS, **ASSIGNMENT_FIELDS}
#: Other names accepted for a field, in a mapping's keys and as column names.
FIELD_ALIASES: dict[str, str] = {"category": "category_code"}
#: Allowed targets of value maps (and defaults) for fields with a closed vocabulary.
CLOSED_VOCABULARIES: dict[str, tuple[str, ...]] = {"source": CASE_SOURCES, "kind": CASE_KINDS}

_TABLES = ("columns", "options", "values", "defaults")
_OPTIONS = (
    "timezone",
    "crs",
    "date_format",
    "date_formats",
    "encoding",
    "delimiter",
    "sheet",
    "strict",
    "departments",
    "time_window",
)
_STRING = pd.ArrowDtype(pa.string())


class MappingError(ValueError):
    """A mapping file is invalid; the message names the file and the key."""


@dataclasses.dataclass(frozen=True)
class Mapping:
    """A validated mapping (see the module docstring for the TOML shape).

    Attributes
    ----------
    origin : str
        Where it came from (file path or ``"<default>"``), for messages.
    columns : dict of str to str
        Field → source column (aliases resolved).
    values : dict of str to dict of str to str
        Field → {source value → GridPatrol value}; key ``"*"`` is the default for unlisted values.
    defaults : dict of str to str
        Field → constant used where the field is absent or empty.
    timezone : str
        IANA zone of times without an offset.
    crs : str
        Coordinate system of ``lat``/``lon`` (or ``y``/``x``): ``wgs84``, ``gcj02``, ``bd09``, an EPSG
        code or a PROJ string (:func:`grid.coords.check_crs`).
    date_format : str or None
        ``strptime`` format of every time field; ``None`` means ISO 8601, else pandas' inference.
    date_formats : dict of str to str
        Per-field formats (win over ``date_format``).
    encoding, delimiter, sheet : str or None
        Reader overrides (``None`` = detect / first sheet).
    strict : frozenset of str
        Field-level reasons (:data:`cases.validation.FIELD_LEVEL_REASONS`) that quarantine the row instead
        of emptying the field.
    departments : tuple of str or None
        The city's departments; a ``department`` outside them is a field defect (``unknown_department``).
    """

    origin: str = "<default>"
    columns: dict[str, str] = dataclasses.field(default_factory=dict)
    values: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    defaults: dict[str, str] = dataclasses.field(default_factory=dict)
    timezone: str = DEFAULT_TIMEZONE
    crs: str = "wgs84"
    date_format: str | None = None
    date_formats: dict[str, str] = dataclasses.field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    strict: frozenset[str] = frozenset()
    departments: tuple[str, ...] | None = None
    time_window: tuple[str, str] | None = None  #: plausible report times (:mod:`cases.time_window`)

    def format_of(self, field: str) -> str | None:
        """The ``strptime`` format of time ``field`` (per-field format, else ``date_format``)."""
        return self.date_formats.get(field, self.date_format)

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "<dict>") -> Mapping:
        """Validate a parsed TOML document (see the module docstring); raise :class:`MappingError`."""
        _check_keys(origin, "", data, _TABLES, "table")
        columns = _parse_columns(origin, data.get("columns", {}))
        options = data.get("options", {})
        _check_table(origin, "options", options)
        _check_keys(origin, "options", options, _OPTIONS, "option")
        values = _parse_values(origin, data.get("values", {}))
        defaults = _parse_defaults(origin, data.get("defaults", {}))
        date_formats = options.get("date_formats", {})
        _check_table(origin, "options.date_formats", date_formats)
        date_formats = {_field(origin, "options.date_formats", k, TIME): v for k, v in date_formats.items()}
        for key in ("date_format", "encoding", "delimiter", "sheet", "timezone", "crs"):
            _check_str(origin, f"options.{key}", options.get(key))
        for key, fmt in date_formats.items():
            _check_str(origin, f"options.date_formats.{key}", fmt)
        return cls(
            origin=origin,
            columns=columns,
            values=values,
            defaults=defaults,
            timezone=_check_timezone(origin, options.get("timezone", DEFAULT_TIMEZONE)),
            crs=_check_crs(origin, options.get("crs", "wgs84")),
            date_format=options.get("date_format"),
            date_formats=date_formats,
            encoding=_check_encoding(origin, options.get("encoding")),
            delimiter=_check_delimiter(origin, options.get("delimiter")),
            sheet=options.get("sheet"),
            strict=parse_strict(options.get("strict", ()), origin),
            departments=_check_departments(origin, options.get("departments")),
            time_window=window_option(origin, options.get("time_window")),
        )


def shipped_mappings() -> list[str]:
    """Names of the mappings shipped in ``cases/mappings``."""
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.toml"))


def load_mapping(name_or_path: str | Path) -> Mapping:
    """Load and validate a mapping: a TOML file's path, or the name of a shipped mapping.

    Parameters
    ----------
    name_or_path
        A path to a ``.toml`` file, or a name from :func:`shipped_mappings` (e.g. ``"boston311"``).

    Raises
    ------
    MappingError
        The file does not exist, is not valid TOML, or holds an unknown table, field, option, coordinate
        system, time zone, encoding, or a value-map target outside a field's vocabulary. The message names
        the file and the key.
    """
    path = Path(name_or_path)
    if not path.is_file():
        if path.suffix == ".toml" or len(path.parts) > 1:
            msg = f"mapping file {path} does not exist"
            raise MappingError(msg)
        path = MAPPINGS_DIR / f"{name_or_path}.toml"
        if not path.is_file():
            msg = (
                f"no mapping {str(name_or_path)!r}: not a file and not a shipped mapping "
                f"(shipped: {', '.join(shipped_mappings())})"
            )
            raise MappingError(msg)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path}: not valid TOML ({exc})"
        raise MappingError(msg) from exc
    return Mapping.from_dict(data, origin=str(path))


# --- validation of the TOML document ----------------------------------------------------------------------


def _check_table(origin: str, where: str, value: Any) -> None:
    if not isinstance(value, dict):
        msg = f"{origin}: [{where}] must be a table, got {type(value).__name__}"
        raise MappingError(msg)


def _check_keys(origin: str, where: str, table: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    for key in table:
        if key not in allowed:
            place = f" in [{where}]" if where else ""
            msg = f"{origin}: unknown {what} {key!r}{place} (expected one of: {', '.join(allowed)})"
            raise MappingError(msg)


def _check_str(origin: str, key: str, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        msg = f"{origin}: {key} must be a string, got {value!r}"
        raise MappingError(msg)


def _field(origin: str, where: str, key: str, kind: str | None = None) -> str:
    field = FIELD_ALIASES.get(key, key)
    if field not in ALL_FIELDS or (kind is not None and ALL_FIELDS[field] != kind):
        known = [f for f, k in ALL_FIELDS.items() if kind is None or k == kind]
        msg = f"{origin}: unknown field {key!r} in [{where}] (known fields: {', '.join(known)})"
        raise MappingError(msg)
    return field


def _parse_columns(origin: str, table: Any) -> dict[str, str]:
    _check_table(origin, "columns", table)
    out: dict[str, str] = {}
    for key, column in table.items():
        field = _field(origin, "columns", key)
        if not isinstance(column, str) or not column:
            msg = f"{origin}: [columns] {key} must name a source column (a non-empty string), got {column!r}"
            raise MappingError(msg)
        if field in out:
            msg = f"{origin}: [columns] maps {field} twice ({key!r} is an alias of {field!r})"
            raise MappingError(msg)
        out[field] = column
    return out


def _check_target(origin: str, where: str, field: str, target: Any) -> str:
    if isinstance(target, bool | int | float):
        target = str(target).lower() if isinstance(target, bool) else str(target)
    if not isinstance(target, str):
        msg = f"{origin}: [{where}] values must be strings, got {target!r}"
        raise MappingError(msg)
    allowed = CLOSED_VOCABULARIES.get(field)
    if allowed is not None and target not in allowed:
        msg = f"{origin}: [{where}] maps to {target!r}, but {field} must be one of: {', '.join(allowed)}"
        raise MappingError(msg)
    return target


def _parse_values(origin: str, table: Any) -> dict[str, dict[str, str]]:
    _check_table(origin, "values", table)
    out: dict[str, dict[str, str]] = {}
    for key, value_map in table.items():
        field = _field(origin, "values", key)
        _check_table(origin, f"values.{key}", value_map)
        out[field] = {
            str(src): _check_target(origin, f"values.{key}", field, dst) for src, dst in value_map.items()
        }
    return out


def _parse_defaults(origin: str, table: Any) -> dict[str, str]:
    _check_table(origin, "defaults", table)
    return {
        _field(origin, "defaults", key): _check_target(origin, "defaults", _field(origin, "defaults", key), v)
        for key, v in table.items()
    }


def _check_timezone(origin: str, name: Any) -> str:
    _check_str(origin, "options.timezone", name)
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"{origin}: options.timezone {name!r} is not an IANA time zone (e.g. {DEFAULT_TIMEZONE!r})"
        raise MappingError(msg) from exc
    return str(name)


def _check_crs(origin: str, name: Any) -> str:
    from grid.coords import check_crs

    try:
        return check_crs(name)
    except ValueError as exc:
        msg = (
            f"{origin}: options.crs {name!r} is not one of: {', '.join(COORDINATE_SYSTEMS)}, "
            "an EPSG code ('EPSG:4528') or a PROJ string"
        )
        raise MappingError(msg) from exc


def parse_strict(value: Any, origin: str = "strict") -> frozenset[str]:
    """The strict reasons of ``value``: ``true`` (every field-level reason), ``false``, or a list of them."""
    from cases.validation import FIELD_LEVEL_REASONS

    if value is True:
        return frozenset(FIELD_LEVEL_REASONS)
    if value is False or value is None:
        return frozenset()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple | set | frozenset) or not all(isinstance(v, str) for v in items):
        msg = f"{origin}: options.strict must be true, false or a list of reasons, got {value!r}"
        raise MappingError(msg)
    unknown = [v for v in items if v not in FIELD_LEVEL_REASONS]
    if unknown:
        msg = (
            f"{origin}: options.strict has {', '.join(map(repr, unknown))}, not a field-level reason "
            f"(one of: {', '.join(FIELD_LEVEL_REASONS)})"
        )
        raise MappingError(msg)
    return frozenset(items)


def _check_departments(origin: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        msg = f"{origin}: options.departments must be a list of department names, got {value!r}"
        raise MappingError(msg)
    return tuple(v.strip() for v in value)


def _check_encoding(origin: str, name: Any) -> str | None:
    if name is None:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError as exc:
        msg = f"{origin}: options.encoding {name!r} is not a known text encoding (e.g. 'gb18030', 'utf-8')"
        raise MappingError(msg) from exc


def _check_delimiter(origin: str, value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) != 1):
        msg = f"{origin}: options.delimiter must be one character, got {value!r}"
        raise MappingError(msg)
    return value


# --- applying a mapping to a chunk ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Mapped:
    """A chunk translated to GridPatrol fields.

    Attributes
    ----------
    values : pandas.DataFrame
        One column per requested field (Arrow strings, stripped, ``""`` where empty or absent), value maps
        and defaults applied.
    sources : dict of str to str
        Field → source column it was read from (absent fields are missing).
    unmapped : dict of str to numpy.ndarray of bool
        Field → rows whose non-empty value its value map does not cover (no ``"*"`` default).
    original : dict of str to pandas.Series
        Field → the stripped value before the value map (for messages).
    """

    values: pd.DataFrame
    sources: dict[str, str]
    unmapped: dict[str, np.ndarray]
    original: dict[str, pd.Series]


def resolve_columns(mapping: Mapping, columns: list[str] | tuple[str, ...], fields: dict[str, str]) -> dict:
    """Field → source column for ``fields``: the mapping's ``[columns]``, else a same-named column.

    A mapped column missing from the file maps to ``None``; a field with neither is left out.
    """
    by_name = {c.strip().lower(): c for c in reversed(columns)}
    out: dict[str, str | None] = {}
    for field in fields:
        if field in mapping.columns:
            out[field] = mapping.columns[field] if mapping.columns[field] in columns else None
            continue
        names = [field] + [alias for alias, target in FIELD_ALIASES.items() if target == field]
        found = [by_name[n] for n in names if n in by_name]
        if found:
            out[field] = found[0]
    return out


def column_warnings(
    columns: tuple[str, ...], mapping: Mapping, fields: dict[str, str], *, given: bool
) -> list[str]:
    """Warnings about the header: mapped columns the file lacks; unused columns when no mapping was given."""
    out = []
    resolved = resolve_columns(mapping, columns, fields)
    for field, column in mapping.columns.items():
        if field not in fields:
            out.append(f"{mapping.origin} maps {field}, which this import does not use (column {column!r})")
        elif resolved.get(field) is None:
            out.append(f"{mapping.origin} maps {field} to column {column!r}, which is not in the file")
    if not given:
        unused = [c for c in columns if c not in set(resolved.values())]
        if unused:
            out.append(f"columns not imported (no field of that name): {', '.join(unused)}")
    return out


def apply_mapping(frame: pd.DataFrame, mapping: Mapping, fields: dict[str, str]) -> Mapped:
    """Rename, strip, default and value-map the columns of ``frame`` into ``fields`` (vectorised, Arrow)."""
    resolved = resolve_columns(mapping, list(frame.columns), fields)
    n = len(frame)
    empty = pd.Series(pa.array([""] * n, type=pa.string()), dtype=_STRING)
    out: dict[str, pd.Series] = {}
    unmapped: dict[str, np.ndarray] = {}
    original: dict[str, pd.Series] = {}
    for field in fields:
        column = resolved.get(field)
        values = frame[column].str.strip().reset_index(drop=True) if column else empty
        if field in mapping.values:
            original[field] = values
            values, unmapped[field] = _value_map(values, mapping.values[field])
        if field in mapping.defaults:  # a GridPatrol value: fills what the source left empty
            arr = pa.array(values, type=pa.string())
            blank = pc.equal(arr, "").to_numpy(zero_copy_only=False)
            if field in unmapped:
                blank = blank & ~unmapped[field]
            values = pd.Series(pc.if_else(pa.array(blank), mapping.defaults[field], arr), dtype=_STRING)
        out[field] = values.astype(_STRING)
    sources = {f: c for f, c in resolved.items() if c is not None}
    return Mapped(pd.DataFrame(out, index=pd.RangeIndex(n)), sources, unmapped, original)


def _value_map(values: pd.Series, value_map: dict[str, str]) -> tuple[pd.Series, np.ndarray]:
    keys = [k for k in value_map if k != "*"]
    arr = pa.array(values, type=pa.string())
    index = pc.index_in(arr, value_set=pa.array(keys, type=pa.string()))
    mapped = pc.take(pa.array([value_map[k] for k in keys], type=pa.string()), index)
    found = pc.is_valid(index).to_numpy(zero_copy_only=False)
    blank = pc.equal(arr, "").to_numpy(zero_copy_only=False)
    missing = ~found & ~blank
    if "*" in value_map:
        mapped = pc.if_else(pa.array(missing), value_map["*"], mapped)
        missing = np.zeros(len(values), dtype=bool)
    mapped = pc.fill_null(mapped, "")
    return pd.Series(mapped, dtype=_STRING), missing

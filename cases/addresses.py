"""The city's address / POI table: normalising address text and importing the table from CSV/xlsx.

:func:`normalize_address` gives the matching key of an address as people write it (pure, no I/O):

* full-width digits, letters and punctuation → half-width (NFKC), latin lower-cased;
* traditional and variant characters of address suffixes: 號 → 号, 衖 → 弄, 棟/栋/座/号楼/#楼 → 幢, 樓 → 楼;
* Chinese numerals of house, lane, building, unit and room numbers → Arabic digits
  (十二号 → 12号, 一百零五弄 → 105弄, 三幢 → 3幢); ``12#`` → ``12号``;
* English (case folded above): street types abbreviated (street → st, road → rd, avenue → ave, boulevard →
  blvd …), directions (north → n, northeast → ne …), ordinal words (first → 1st … tenth → 10th);
* spaces and punctuation removed (路/街/巷/弄/号 are kept: they are part of the address), except that a gap
  between two numbers becomes ``/`` (``18 1st Ave`` → ``18/1stave``, not the ``181stave`` of 181st Ave).

:func:`import_addresses` reads a table (columns ``address`` (required), ``name`` (POI or building,
optional), ``lat``/``lon`` or ``y``/``x`` (required), optional ``kind`` = address | poi; default poi when a
name is given, else address; optional ``aliases``: other spellings of the same place separated by ``;``,
``|``, ``；`` or ``、``, each stored as one more row on the same point, the table having no aliases
column) through the same readers, mapping and quarantine as the case import: the
mapping's ``crs`` (wgs84, gcj02, bd09, an EPSG code) converts the points to WGS-84 (:mod:`grid.coords`).
A row without an address or coordinates is quarantined ``missing_field``; an unparseable number
``unparseable_number``; a point out of range ``coordinate_out_of_range`` (here row-level); a point outside
the stored areas ``outside_city_area``; text too long ``value_too_long``. A row whose normalised address and
name are stored already (or appeared earlier in the file) is a duplicate: importing a file twice adds
nothing. Each file is one transaction with its ``import_batches`` and ``quarantine`` rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy.engine import Connection, Engine

from cases import bulk, readers, repository_addresses
from cases.case_coords import check_coordinates
from cases.mapping import NUMBER, TEXT, Mapped, Mapping, apply_mapping, column_warnings
from cases.models import ADDRESS_KINDS, Address
from cases.parsing import parse_numbers, present_mask
from cases.readers import iter_chunks, open_table
from cases.report import QUARANTINE_COLUMNS, ImportReport
from cases.validation import FIELD_LEVEL_REASONS, CityArea, Problems, check_lengths, malformed_frame

__all__ = ["ADDRESS_FIELDS", "bigrams", "chinese_number", "import_addresses", "normalize_address"]

#: Fields an address table may supply (mapping ``[columns]`` keys).
ADDRESS_FIELDS: dict[str, str] = {
    "name": TEXT,
    "address": TEXT,
    "kind": TEXT,
    "lat": NUMBER,
    "lon": NUMBER,
    "x": NUMBER,
    "y": NUMBER,
    "aliases": TEXT,
}
#: Separators of the ``aliases`` column (commas are not: an address may hold one).
ALIAS_SEPARATORS = r"[;|；、]"

_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL = "零〇○一二两三四五六七八九十百千"
#: Suffixes after which a Chinese numeral is a number (house, lane, building, unit, floor, room).
_NUMBERED = r"(?=号|弄|幢|单元|室|层|楼|组|栋|座|支弄)"
_NUMBER_RE = re.compile(f"([{_NUMERAL}]+){_NUMBERED}")
_VARIANTS = (
    ("號", "号"),
    ("衖", "弄"),
    ("樓", "楼"),
    ("棟", "幢"),
    ("号楼", "幢"),
    ("#楼", "幢"),
    ("栋", "幢"),
    ("座", "幢"),
)
_HASH_RE = re.compile(r"(\d)#")
_ENGLISH = {
    "street": "st",
    "str": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "place": "pl",
    "court": "ct",
    "square": "sq",
    "highway": "hwy",
    "terrace": "ter",
    "parkway": "pkwy",
    "circle": "cir",
    "alley": "aly",
    "plaza": "plz",
    "expressway": "expy",
    "freeway": "fwy",
    "boul": "blvd",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
    "first": "1st",
    "second": "2nd",
    "third": "3rd",
    "fourth": "4th",
    "fifth": "5th",
    "sixth": "6th",
    "seventh": "7th",
    "eighth": "8th",
    "ninth": "9th",
    "tenth": "10th",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}
_WORD_RE = re.compile(r"[a-z]+")
_PUNCT_RE = re.compile(r"[^\w/]+|_+", re.UNICODE)
_NUMBER_GAP_RE = re.compile(r"(?<=\d)[\W_]+(?=\d)", re.UNICODE)


def chinese_number(text: str) -> int:
    """The value of a Chinese numeral: ``十二`` → 12, ``二十三`` → 23, ``一百零五`` → 105, ``一二`` → 12."""
    if all(c in _DIGITS for c in text):
        return int("".join(str(_DIGITS[c]) for c in text))
    total, digit = 0, 0
    for c in text:
        if c in _DIGITS:
            digit = _DIGITS[c]
        else:
            total += (digit or 1) * _UNITS[c]
            digit = 0
    return total + digit


def normalize_address(text: object) -> str:
    """The matching key of an address (see the module docstring); ``""`` for an empty value."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    out = unicodedata.normalize("NFKC", str(text)).lower()
    for old, new in _VARIANTS:
        out = out.replace(old, new)
    out = _HASH_RE.sub(r"\1号", out)
    out = _NUMBER_RE.sub(lambda m: str(chinese_number(m.group(1))), out)
    out = _WORD_RE.sub(lambda m: _ENGLISH.get(m.group(0), m.group(0)), out)
    return _PUNCT_RE.sub("", _NUMBER_GAP_RE.sub("/", out))


def bigrams(text: str) -> set[str]:
    """Character bigrams of a normalised text (the text itself when shorter than two characters)."""
    return {text[i : i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def import_addresses(path: str | Path, engine: Engine, *, mapping: Mapping | None = None) -> ImportReport:
    """Import an address / POI table (CSV/xlsx/JSON) into ``addresses``; see the module docstring.

    Returns an :class:`~cases.report.ImportReport` (``kind="addresses"``); raises
    :class:`~cases.readers.ImportReadError` when the file cannot be read at all.
    """
    given = mapping is not None
    mapping = mapping or Mapping()
    source = open_table(path, encoding=mapping.encoding, delimiter=mapping.delimiter, sheet=mapping.sheet)
    report = ImportReport(kind="addresses", file=str(path))
    report.warnings.extend(column_warnings(source.columns, mapping, ADDRESS_FIELDS, given=given))
    started = dt.datetime.now(dt.UTC)
    quarantine: list[pd.DataFrame] = []
    seen: set[tuple[str, str]] = set()
    alias_count = 0
    with engine.begin() as conn:
        batch_id = bulk.begin_batch(conn, "addresses", str(path), source.sha256, started)
        area = CityArea.from_store(conn)
        for chunk in iter_chunks(source, chunksize=readers.CHUNK_ROWS):
            report.read += len(chunk.frame) + len(chunk.malformed)
            mapped = apply_mapping(chunk.frame, mapping, ADDRESS_FIELDS)
            problems, rows = _check(mapped, mapping, area, str(path))
            quarantine.append(problems.to_frame(str(path), chunk.line, chunk.frame))
            quarantine.append(malformed_frame(str(path), chunk.malformed))
            keys = list(zip(rows["normalized"], rows["name"].fillna(""), strict=True))
            stored = repository_addresses.stored_keys(conn, sorted({k[0] for k in keys}))
            new = np.zeros(len(keys), dtype=bool)
            for i, key in enumerate(keys):
                if key not in stored and key not in seen:
                    seen.add(key)
                    new[i] = True
            rows["source_file"] = Path(path).name
            aliases = _alias_rows(rows.pop("aliases"), rows, seen, conn)
            bulk.insert_frame(conn, Address.__table__, rows.loc[new].reset_index(drop=True))
            bulk.insert_frame(conn, Address.__table__, aliases)
            report.imported += int(new.sum())
            report.duplicates += int((~new).sum())
            alias_count += len(aliases)
        if alias_count:
            report.warnings.append(f"{alias_count} alias row(s) added (other spellings of imported places)")
        frames = [q for q in quarantine if len(q)]
        if frames:
            report.quarantine = pd.concat(frames, ignore_index=True).reindex(columns=list(QUARANTINE_COLUMNS))
        report.quarantined = len(report.quarantine)
        bulk.write_quarantine(conn, batch_id, report.quarantine)
        bulk.finish_batch(conn, batch_id, report)
        report.batch_id = batch_id
        report.check()
    return report


@dataclasses.dataclass
class _CoordContext:
    """The part of :class:`cases.case_rules.CaseContext` the coordinate checks read."""

    mapping: Mapping
    area: CityArea | None
    center: tuple[float, float] | None = None

    def is_strict(self, reason: str) -> bool:  # every coordinate problem rejects an address row
        return reason in FIELD_LEVEL_REASONS


def _check(
    mapped: Mapped, mapping: Mapping, area: CityArea | None, file: str
) -> tuple[Problems, pd.DataFrame]:
    values = mapped.values
    sources = mapped.sources
    if {"x", "y"} <= set(sources) and not {"lat", "lon"} & set(sources):
        values = values.assign(lat=values["y"], lon=values["x"])
        sources = {**sources, "lat": sources["y"], "lon": sources["x"]}
    problems = Problems(len(values))
    for field in ("address", "lat", "lon"):
        missing = ~present_mask(values[field])
        why = "is required" if field in sources else f"is required, but the file has no column {field!r}"
        problems.add(missing, "missing_field", field, values[field], why)
    numbers = {}
    for field in ("lat", "lon"):
        numbers[field], _, bad = parse_numbers(values[field])
        problems.add(bad, "unparseable_number", field, values[field], "is not a number")
    limits = {c.name: c.type.length for c in Address.__table__.columns if getattr(c.type, "length", None)}
    check_lengths(problems, values, {k: v for k, v in limits.items() if k in ("name", "address")})
    lat, lon = check_coordinates(problems, values, numbers, _CoordContext(mapping, area))  # type: ignore[arg-type]
    idx = np.flatnonzero(problems.ok & np.isfinite(lat) & np.isfinite(lon))
    problems.add(
        problems.ok & ~(np.isfinite(lat) & np.isfinite(lon)),
        "missing_field",
        "lat",
        values["lat"],
        "gives no usable point",
    )
    address = _texts(values["address"], idx)
    name = _texts(values["name"], idx)
    kind_raw = [str(k).strip().lower() for k in _texts(values["kind"], idx).fillna("")]
    kind = [
        k if k in ADDRESS_KINDS else ("poi" if n is not None and not pd.isna(n) else "address")
        for k, n in zip(kind_raw, name, strict=True)
    ]
    from grid.cells import latlng_to_cells

    rows = pd.DataFrame(
        {
            "name": name.to_numpy(dtype=object),
            "address": address.to_numpy(dtype=object),
            "normalized": [normalize_address(a) for a in address],
            "kind": kind,
            "lat": lat[idx],
            "lon": lon[idx],
            "cell": latlng_to_cells(lat[idx], lon[idx], 10) if len(idx) else np.array([], np.int64),
            "source_crs": mapping.crs,
            "aliases": _texts(values["aliases"], idx).to_numpy(dtype=object),
        },
        index=idx,
    )
    return problems, rows


def _alias_rows(
    aliases: pd.Series, rows: pd.DataFrame, seen: set[tuple[str, str]], conn: Connection
) -> pd.DataFrame:
    """One more row per alias of ``rows`` (same name, kind and point), except keys stored or seen already."""
    given = aliases.dropna()
    if given.empty:
        return rows.iloc[:0]
    spelled = given.astype(str).str.split(ALIAS_SEPARATORS, regex=True).explode().str.strip()
    spelled = spelled[spelled != ""]
    out = rows.loc[spelled.index].assign(address=spelled.to_numpy(dtype=object))
    out["normalized"] = [normalize_address(a) for a in out["address"]]
    keys = list(zip(out["normalized"], out["name"].fillna(""), strict=True))
    stored = repository_addresses.stored_keys(conn, sorted({k[0] for k in keys}))
    new = np.zeros(len(keys), dtype=bool)
    for i, key in enumerate(keys):
        if key[0] and key not in stored and key not in seen:
            seen.add(key)
            new[i] = True
    return out.loc[new].reset_index(drop=True) if new.any() else rows.iloc[:0]


def _texts(values: pd.Series, idx: np.ndarray) -> pd.Series:
    arr = pa.array(values, type=pa.string()).take(pa.array(idx, type=pa.int64()))
    out = pd.Series(arr.to_pylist(), index=idx, dtype=object)
    return out.where(out != "", None)

"""Locate imported cases that have an address but no coordinates, through the city's address table.

Used by :func:`cases.importing.import_cases` when the file supplies an ``address`` column and the store holds
an address table (``gridpatrol import addresses``). The table is read once per import (:meth:`AddressIndex.
from_store`: one query, a few columns; ~60 bytes per address) and each chunk is matched in memory, without
a query per row: the chunk's distinct address texts are looked up with ``pandas.Index.get_indexer`` in

1. ``address_exact``: the text as written (stripped) equals a stored address or POI name;
2. ``address_normalized``: its :func:`cases.addresses.normalize_address` key equals a stored key (of an
   address, a POI name or an alias), also after removing a leading province / city / district / county
   (``江苏省南通市崇川区人民路12号`` → ``人民路12号``) when the full key has no match.

The match kind is stored in ``cases.location_flag`` (no migration: the column takes short codes, and the
spatial analyses exclude only ``no_location`` and ``suspicious_cluster``); the point, in WGS-84, and its
``cell`` are the table's. An address found in neither way leaves the case ``no_location``: never dropped.
Where one key names several stored rows, an ``address`` row wins over a ``poi`` row, then the first stored.
Keys are normalised once per distinct text per import (a cache shared by the chunks).
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cases.addresses import normalize_address
from cases.models import Address

__all__ = ["ADDRESS_EXACT", "ADDRESS_NORMALIZED", "MATCH_FLAGS", "AddressIndex", "GeocodeCounts"]

#: ``cases.location_flag`` of a case placed by the exact text of its address.
ADDRESS_EXACT = "address_exact"
#: ``cases.location_flag`` of a case placed by the normalised text of its address.
ADDRESS_NORMALIZED = "address_normalized"
MATCH_FLAGS = (ADDRESS_EXACT, ADDRESS_NORMALIZED)
#: A leading administrative prefix of a normalised key (province, city, district, county, banner).
_PREFIX_RE = re.compile(r"^(?:[^\d省]{1,8}省)?(?:[^\d市]{1,8}市)?(?:[^\d区县旗]{1,8}[区县旗])?")
_STRING = pd.ArrowDtype(pa.string())
_COLUMNS = ("address", "name", "normalized", "kind", "lat", "lon", "cell")


@dataclasses.dataclass
class GeocodeCounts:
    """Rows placed by each match kind and rows whose address was not found (over the whole import)."""

    exact: int = 0
    normalized: int = 0
    unmatched: int = 0

    def warning(self) -> str | None:
        """A line for the import report, or None when no row needed the address table."""
        if not (self.exact or self.normalized or self.unmatched):
            return None
        return (
            f"{self.exact + self.normalized:,} case(s) located by their address ({self.exact:,} exact, "
            f"{self.normalized:,} normalised; location_flag 'address_exact' / 'address_normalized'); "
            f"{self.unmatched:,} address(es) not in the address table: imported without a location"
        )


@dataclasses.dataclass
class AddressIndex:
    """The address table in memory: unique exact texts and normalised keys → position in the points."""

    exact: pd.Index
    exact_at: np.ndarray
    normalized: pd.Index
    normalized_at: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    cell: np.ndarray
    counts: GeocodeCounts = dataclasses.field(default_factory=GeocodeCounts)
    _keys: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_store(cls, conn: Connection) -> AddressIndex | None:
        """Read the address table (None when it is empty)."""
        a = Address.__table__.c
        query = sa.select(a.address, a.name, a.normalized, a.kind, a.lat, a.lon, a.cell).order_by(
            (a.kind != "address"), a.address_id
        )
        table = pd.DataFrame(conn.execute(query).all(), columns=list(_COLUMNS))
        if table.empty:
            return None
        return cls.from_frame(table)

    @classmethod
    def from_frame(cls, table: pd.DataFrame) -> AddressIndex:
        """From rows in priority order, with columns ``address``, ``name``, ``normalized``, ``lat``, ``lon``,
        ``cell``."""
        n = len(table)
        at = np.arange(n)
        names = table["name"].where(table["name"].notna(), None)
        named = np.flatnonzero(names.notna().to_numpy())
        exact_text = pd.concat(
            [table["address"].astype(str).str.strip(), names.iloc[named].astype(str).str.strip()],
            ignore_index=True,
        )
        keys = pd.concat(
            [table["normalized"].astype(str), pd.Series([normalize_address(v) for v in names.iloc[named]])],
            ignore_index=True,
        )
        positions = np.concatenate([at, named])
        exact, exact_at = _unique(exact_text, positions)
        normalized, normalized_at = _unique(keys, positions)
        return cls(
            exact,
            exact_at,
            normalized,
            normalized_at,
            table["lat"].to_numpy(dtype=np.float64),
            table["lon"].to_numpy(dtype=np.float64),
            table["cell"].to_numpy(dtype=np.int64),
        )

    def match(self, texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Position in the points (-1: none) and match flag (1 exact, 2 normalised, 0 none) of each text."""
        codes, distinct = pd.factorize(texts)
        pos = _lookup(self.exact, self.exact_at, list(distinct))
        kind = np.where(pos >= 0, 1, 0)
        missing = np.flatnonzero(pos < 0)
        if len(missing):
            keys = [self._key(distinct[i]) for i in missing]
            found = _lookup(self.normalized, self.normalized_at, keys)
            retry = np.flatnonzero(found < 0)
            if len(retry):
                stripped = [_PREFIX_RE.sub("", keys[i]) for i in retry]
                found[retry] = _lookup(self.normalized, self.normalized_at, stripped)
            pos[missing] = found
            kind[missing] = np.where(found >= 0, 2, 0)
        return pos[codes], kind[codes]

    def locate(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """``rows`` (typed case rows) with the cases without a location but with an address placed.

        Returns the rows (a new frame when any was placed) and a bool mask of the placed rows.
        """
        lat = rows["lat"].to_numpy(dtype=np.float64, na_value=np.nan)
        todo = ~np.isfinite(lat) & rows["address"].notna().to_numpy()
        placed = np.zeros(len(rows), dtype=bool)
        if not todo.any():
            return rows, placed
        texts = rows["address"].to_numpy(dtype=object)[todo]
        pos, kind = self.match(texts.astype(str))
        self.counts.exact += int((kind == 1).sum())
        self.counts.normalized += int((kind == 2).sum())
        self.counts.unmatched += int((kind == 0).sum())
        hit = pos >= 0
        if not hit.any():
            return rows, placed
        placed[np.flatnonzero(todo)[hit]] = True
        out = rows.copy()
        new_lat, new_lon = lat.copy(), rows["lon"].to_numpy(dtype=np.float64, na_value=np.nan).copy()
        new_lat[placed], new_lon[placed] = self.lat[pos[hit]], self.lon[pos[hit]]
        cell = pd.array(rows["cell"], dtype="Int64").to_numpy(dtype=np.int64, na_value=0)
        cell[placed] = self.cell[pos[hit]]
        located = np.isfinite(new_lat)
        out["lat"], out["lon"] = new_lat, new_lon
        out["cell"] = cell if located.all() else pd.arrays.IntegerArray(cell, ~located)
        flags = rows["location_flag"].to_numpy(dtype=object, na_value=None)
        flags[placed] = np.where(kind[hit] == 1, ADDRESS_EXACT, ADDRESS_NORMALIZED)
        out["location_flag"] = pd.Series(pa.array(flags, type=pa.string()), dtype=_STRING, index=rows.index)
        return out, placed

    def _key(self, text: str) -> str:
        key = self._keys.get(text)
        if key is None:
            key = self._keys[text] = normalize_address(text)
        return key


def _unique(values: pd.Series, positions: np.ndarray) -> tuple[pd.Index, np.ndarray]:
    """The first occurrence of each non-empty value (rows come in priority order) and its position."""
    keep = (~values.duplicated(keep="first") & (values != "")).to_numpy()
    return pd.Index(values[keep].to_numpy(dtype=object)), positions[keep]


def _lookup(index: pd.Index, at: np.ndarray, keys: list[str]) -> np.ndarray:
    found = index.get_indexer(pd.Index(keys, dtype=object))
    return np.where(found >= 0, at[found.clip(min=0)], -1) if len(at) else np.full(len(keys), -1)

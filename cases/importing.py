"""Import cases from CSV / xlsx / Open311 JSON into the store, losing nothing.

Every input row ends in exactly one of: imported (a new ``cases`` row), duplicate (its ``case_id`` is
stored already or appeared earlier in the file) or quarantined (a ``quarantine`` row with a stable reason
code, see :mod:`cases.validation`). ``read == imported + duplicates + quarantined`` is checked before the
transaction commits. Rows on a suspicious location cluster (e.g. a city-hall default geocode) are imported
with ``location_flag = "suspicious_cluster"`` and counted as ``flagged``. A valid case with a bad optional
field is imported with that field empty and a field defect (``ImportReport.defects``; the reasons' levels are
in :mod:`cases.validation`); a case without a usable location gets ``location_flag = "no_location"``,
unless its ``address`` is in the city's address table (:mod:`cases.case_geocode`: the match kind goes to
``location_flag``, ``address_exact`` or ``address_normalized``).

Pipeline per chunk of :data:`cases.readers.CHUNK_ROWS` rows, all vectorised: read as text
(:mod:`cases.readers`) → apply the mapping (:mod:`cases.mapping`) → parse and check
(:mod:`cases.case_rules`) → convert for the driver (:func:`cases.bulk.prepare_rows`) → split new /
duplicate against the store → bulk insert (:mod:`cases.bulk`). Into a table that held no case when the import
began, only ids whose hash an earlier chunk of the file had are looked up in the store (:class:`_SeenIds`);
otherwise every id of a chunk is. The steps up to the conversion need no
database and run in a helper thread up to :data:`READ_AHEAD` chunks ahead, while the calling thread, the
only one that touches the connection, writes the previous chunk (SQLite and the Arrow/numpy kernels release
the GIL, so the two overlap on two cores). Chunks are written in file order, so a ``case_id`` repeated in a
later chunk is still a duplicate of its first valid occurrence. The whole file is one transaction: a
failure anywhere, in either thread, leaves the database as it was. A large file is loaded into SQLite with a
rollback journal when no other connection has the database open (:func:`cases.bulk.bulk_journal`, as
crash-safe as WAL), with the secondary indexes rebuilt at the end (:func:`cases.bulk.deferred_indexes`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import itertools
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cases import bulk, readers
from cases.case_geocode import AddressIndex
from cases.case_rules import NO_LOCATION, CaseContext, CheckedCases, check_cases
from cases.categories import load_categories
from cases.mapping import (
    CASE_FIELDS,
    Mapping,
    apply_mapping,
    column_warnings,
    parse_strict,
    resolve_columns,
)
from cases.models import Case
from cases.parsing import text_isin
from cases.readers import Chunk, ImportReadError, TableSource, iter_chunks, open_table
from cases.report import QUARANTINE_COLUMNS, ImportReport
from cases.time_window import resolve_window
from cases.validation import DEFECT_PREFIX, CityArea, malformed_frame, suspicious_points

__all__ = ["NO_LOCATION", "ON_DUPLICATE", "SUSPICIOUS_CLUSTER", "ImportReadError", "import_cases"]

ON_DUPLICATE = ("skip", "update")
#: ``cases.location_flag`` of rows on a suspicious location cluster.
SUSPICIOUS_CLUSTER = "suspicious_cluster"
_CASES = Case.__table__
#: Chunks read, checked and converted ahead of the one being written (each one holds CHUNK_ROWS rows).
READ_AHEAD = 1
_T = TypeVar("_T")


def import_cases(
    path: str | Path,
    engine: Engine,
    *,
    mapping: Mapping | None = None,
    on_duplicate: str = "skip",
    categories: str | Path | pd.DataFrame | None = None,
    strict: bool | tuple[str, ...] | list[str] | frozenset[str] = (),
    time_window: tuple[dt.datetime | np.datetime64, dt.datetime | np.datetime64] | None = None,
) -> ImportReport:
    """Import the cases of one file into the store (one transaction).

    Parameters
    ----------
    path
        CSV (any encoding, ``.gz`` ok), ``.xlsx`` or Open311 ``requests.json``.
    engine
        The database, migrated (``cases.db.init_db``).
    mapping
        Column and value mapping (:func:`cases.mapping.load_mapping`). Default: the file's columns carry
        GridPatrol's field names (``case_id``, ``category_code`` or ``category``, ``lat``, ``lon``,
        ``reported_at`` …), times are ISO 8601 in the mapping's zone
        (default :data:`grid.config.DEFAULT_TIMEZONE`), coordinates WGS-84. Required: ``case_id``,
        ``reported_at``, ``category_code``; without ``lat``/``lon`` a case is imported with
        ``location_flag = "no_location"``; an empty ``source`` becomes ``"other"``.
    on_duplicate
        ``"skip"`` keeps a stored case as it is; ``"update"`` overwrites the fields the file supplies where
        they differ (counted in ``updated``, and in ``duplicates``). A ``case_id`` repeated within the file
        is always a duplicate of its first valid occurrence.
    categories
        The city's category table (path, or a frame with a ``code`` column). When given, codes outside it
        are quarantined (``unknown_category``) and empty ``category_standard``/``kind`` are filled from it.
    strict
        Field-level reasons (:data:`cases.validation.FIELD_LEVEL_REASONS`) that quarantine the row instead
        of emptying the field (``True``: all of them), on top of the mapping's ``[options] strict``.
    time_window
        Plausible report times (UTC, naive or aware): ``reported_at`` outside is quarantined, other times
        outside are field defects (``implausible_time``). Default 2000-01-01 … now + 1 day.

    Returns
    -------
    ImportReport
        Counts, the quarantined rows and warnings (clusters, DST rule applications, repeated ids,
        unused columns); ``batch_id`` is the ``import_batches`` row.

    Raises
    ------
    ImportReadError
        The file cannot be read as a table at all (missing, empty, binary, undecodable, bad JSON/xlsx).
    ValueError
        ``on_duplicate`` is not ``"skip"`` or ``"update"``.

    Notes
    -----
    * Times: a naive local time in a DST overlap is taken as its first (daylight-time) occurrence, one in a
      DST gap is shifted forward; both are counted in a warning (:mod:`cases.parsing`).
    * Locations: converted to WGS-84 from the mapping's ``crs`` (also an EPSG code or PROJ string, with
      ``x``/``y`` columns), indexed at H3 resolution 10. With areas in the store, points outside their
      union (+200 m) are quarantined; a point that fits the city only when swapped is ``lat_lon_swapped``
      (:mod:`cases.case_coords`).
    * Field defects: a bad optional field is emptied and listed in ``ImportReport.defects`` (level of each
      reason: :mod:`cases.validation`); ``strict`` quarantines the row instead.
    * Clusters: the rule and its justification are in :func:`cases.validation.suspicious_points`.
    * Speed: about 21–27 µs of CPU per row on SQLite, spread over two threads (reading/checking overlaps
      the writing); the index rebuild (~6 µs per row) and the commit (~1.5–2.5 µs per row with the
      rollback journal of :func:`cases.bulk.bulk_journal`, 3.5–5.5 µs in WAL) run after the last chunk.
      See ``benchmarks/bench_import.py``.
    """
    if on_duplicate not in ON_DUPLICATE:
        msg = f"`on_duplicate` was {on_duplicate!r} but is expected to be one of {list(ON_DUPLICATE)}"
        raise ValueError(msg)
    strict_reasons = parse_strict(strict, "import_cases(strict=...)")
    given = mapping is not None
    mapping = mapping or Mapping()
    table = categories if isinstance(categories, pd.DataFrame) or categories is None else None
    table = load_categories(categories) if table is None and categories is not None else table
    source = open_table(path, encoding=mapping.encoding, delimiter=mapping.delimiter, sheet=mapping.sheet)
    report = ImportReport(kind="cases", file=str(path))
    report.warnings.extend(source.warnings)
    report.warnings.extend(_column_warnings(source, mapping, given))
    started = dt.datetime.now(dt.UTC)
    with (
        engine.connect() as conn,
        bulk.bulk_journal(conn, source.lines - 1),
        conn.begin(),
        bulk.fast_writes(conn),
    ):
        ctx = CaseContext(str(path), mapping, table, CityArea.from_store(conn), strict=strict_reasons)
        ctx.time_window = None if time_window is None else _utc_window(time_window)
        ctx.time_window = ctx.time_window or (mapping.time_window and resolve_window(mapping.time_window))
        batch_id = bulk.begin_batch(conn, "cases", str(path), source.sha256, started)
        # after the batch row: on SQLite this transaction holds the write lock, no other import adds cases;
        # on PostgreSQL a concurrent import of the same ids fails on the primary key (as it always did)
        fresh = conn.execute(sa.select(_CASES.c.case_id).limit(1)).first() is None
        addresses = _addresses(conn, source, mapping)
        run = _Run(conn, ctx, batch_id, on_duplicate, fresh, by_address=addresses is not None)
        dialect = conn.dialect.name
        seen = _SeenIds()
        with bulk.deferred_indexes(conn, _CASES, source.lines - 1):
            prepared = (
                _prepare(chunk, ctx, dialect, seen, addresses)
                for chunk in iter_chunks(source, chunksize=readers.CHUNK_ROWS)
            )
            with contextlib.closing(_ahead(prepared, READ_AHEAD)) as chunks:
                for chunk in chunks:
                    run.add_chunk(chunk, report)
            run.finish(report)
        located = addresses.counts.warning() if addresses is not None else None
        report.warnings.extend([located] if located else [])
        stored = report.quarantine
        if len(report.defects):
            defects = report.defects.assign(reason=DEFECT_PREFIX + report.defects["reason"].astype(str))
            stored = pd.concat([stored, defects], ignore_index=True) if len(stored) else defects
        bulk.write_quarantine(conn, run.batch_id, stored)
        bulk.finish_batch(conn, run.batch_id, report)
        report.batch_id = run.batch_id
        report.check()
    return report


@dataclasses.dataclass(frozen=True)
class _Prepared:
    """A chunk checked and converted, ready to be written (built without the database).

    ``repeat`` marks rows (of ``checked.rows``) whose ``case_id`` appeared earlier in the chunk, ``keys``
    holds the chunk's distinct ids in order and ``seen`` (bool, shape (len(keys),)) those whose hash a
    checked row of an earlier chunk had (see :class:`_SeenIds`); ``points`` holds the distinct (lat, lon)
    of the rows, with columns ``lat``, ``lon``, ``rows``, and ``point`` each row's position in it.
    ``defects`` holds the field defects of the checked rows (with ``_row``, the row's position in the
    chunk), ``defective`` (bool, aligned with ``checked.rows``) the rows that carry one.
    """

    chunk: Chunk
    checked: CheckedCases
    rows: bulk.PreparedRows
    quarantine: list[pd.DataFrame]
    repeat: np.ndarray
    keys: list[str]
    seen: np.ndarray
    points: pd.DataFrame
    point: np.ndarray
    defects: pd.DataFrame
    defective: np.ndarray


def _prepare(
    chunk: Chunk, ctx: CaseContext, dialect: str, seen: _SeenIds, addresses: AddressIndex | None = None
) -> _Prepared:
    """Map, check, locate by address and convert one chunk (no database access: runs in the read-ahead
    thread, in file order). Rows placed by their address are left out of the cluster points."""
    checked = check_cases(apply_mapping(chunk.frame, ctx.mapping, CASE_FIELDS), ctx)
    placed = np.zeros(len(checked.rows), dtype=bool)
    if addresses is not None:
        located, placed = addresses.locate(checked.rows)
        provided = set(checked.provided) | {"lat", "lon", "cell", "location_flag"}
        provided_cols = tuple(c for c in checked.rows.columns if c in provided)
        checked = dataclasses.replace(checked, rows=located, provided=provided_cols)
    quarantine = [checked.problems.to_frame(ctx.file, chunk.line, chunk.frame)]
    if len(chunk.malformed):
        quarantine.append(malformed_frame(ctx.file, chunk.malformed))
    rows = checked.rows
    ids = rows["case_id"]
    repeat = ids.duplicated(keep="first").to_numpy()
    keys = pa.array(ids[~repeat], type=pa.string()).to_pylist()
    earlier = seen.check_and_add(keys)
    point, points = _distinct_points(np.where(placed, np.nan, rows["lat"].to_numpy()), rows["lon"].to_numpy())
    points["rows"] = np.bincount(point[point >= 0], minlength=len(points))
    prepared = bulk.prepare_rows(dialect, rows)
    problems = checked.problems
    defects = problems.defects_frame(ctx.file, chunk.line, with_rows=True)
    defective = problems.defective[rows.index.to_numpy()]
    return _Prepared(
        chunk, checked, prepared, quarantine, repeat, keys, earlier, points, point, defects, defective
    )


def _distinct_points(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """Each point's position among the distinct exact (lat, lon) pairs, and those pairs.

    Returns codes (int64, shape (n,), -1 where a coordinate is NaN) and a frame with columns ``lat``,
    ``lon`` in order of first appearance. One hash pass over the pairs packed as complex numbers (exact:
    the parts are the float64 values themselves), about twice as fast as a two-key groupby.
    """
    pairs = np.empty(len(lat), dtype=np.complex128)
    pairs.real, pairs.imag = lat, lon
    codes, distinct = pd.factorize(pairs)
    return codes.astype(np.int64), pd.DataFrame({"lat": distinct.real, "lon": distinct.imag})


class _SeenIds:
    """The hashes of the case ids of the checked rows of the chunks so far, to spot repeated ids.

    Used by the read-ahead thread only, on the chunks in file order. Python's own 64-bit ``str`` hash
    (computed in C, ~0.1 µs per id; salted per process, which does not matter within one import). A hit
    may be a hash collision (about n²/2⁶⁵ for n ids: 3·10⁻⁸ for 10⁶) and is confirmed in the store; a
    miss is certain. Into a table that held no case when the import began, every row stored so far is a
    checked row of an earlier chunk, so only the hits need a store look-up: one index search per repeated
    id instead of one per row (1M rows: 1.0–1.3 s → 0.1 s of CPU in the writing thread, for ~0.3 s here).
    Memory: 8 bytes per id (one sorted array, re-merged with each chunk's ids by ``numpy.insert``).
    """

    def __init__(self) -> None:
        self.hashes = np.empty(0, dtype=np.int64)

    def check_and_add(self, keys: list[str]) -> np.ndarray:
        """Whether each of ``keys`` (distinct ids) hashes like an id added before, then add them.

        Returns a bool array of shape (len(keys),).
        """
        hashes = np.fromiter(map(hash, keys), dtype=np.int64, count=len(keys))
        order = np.argsort(hashes)
        ordered = hashes[order]
        at = np.searchsorted(self.hashes, ordered)  # sorted queries: a cache-friendly walk, ~2x faster
        hit = np.zeros(len(keys), dtype=bool)
        if len(self.hashes):
            hit[order] = self.hashes[at.clip(max=len(self.hashes) - 1)] == ordered
        self.hashes = np.insert(self.hashes, at, ordered)
        return hit


def _ahead(items: Iterator[_T], depth: int) -> Iterator[_T]:
    """Yield ``items`` in order while a helper thread computes up to ``depth`` of them ahead.

    The helper only iterates ``items``; an exception there is raised here, in the consumer, at the item
    where it happened. Closing this generator (use :func:`contextlib.closing`, so that an exception in the
    consumer closes it at once) stops the helper and waits for it, so that no work outlives the import.
    """
    results: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: tuple) -> bool:
        while not stop.is_set():
            try:
                results.put(item, timeout=0.05)
            except queue.Full:
                continue
            return True
        return False

    def work() -> None:
        try:
            with contextlib.closing(items) if hasattr(items, "close") else contextlib.nullcontext():
                for item in items:
                    if not offer((item, None, False)):
                        return
            offer((None, None, True))
        except BaseException as exc:  # handed over, raised in the consumer
            offer((None, exc, False))

    helper = threading.Thread(target=work, name="gridpatrol-import-read-ahead", daemon=True)
    helper.start()
    try:
        while True:
            item, error, done = results.get()
            if error is not None:
                raise error
            if done:
                return
            yield item
    finally:
        stop.set()
        helper.join()


@dataclasses.dataclass
class _Run:
    """State of one import across chunks (used by the thread that owns the connection only)."""

    conn: Connection
    ctx: CaseContext
    batch_id: int
    on_duplicate: str
    #: The table held no case when the import began: only ids flagged by :class:`_SeenIds` can be stored.
    fresh: bool = False
    #: Cases are also placed by address: ``location_flag`` is set by the import, as the other columns.
    by_address: bool = False
    points: list[pd.DataFrame] = dataclasses.field(default_factory=list)
    quarantine: list[pd.DataFrame] = dataclasses.field(default_factory=list)
    defects: list[pd.DataFrame] = dataclasses.field(default_factory=list)
    repeated: int = 0
    repeated_example: str | None = None
    blank: int = 0

    def add_chunk(self, prepared: _Prepared, report: ImportReport) -> None:
        """De-duplicate and write one prepared chunk; update the counts of ``report``."""
        chunk, checked = prepared.chunk, prepared.checked
        report.read += len(chunk.frame) + len(chunk.malformed)
        self.blank += chunk.blank
        self.quarantine.extend(prepared.quarantine)
        rows = checked.rows
        new, earlier, stored = self._classify(prepared)
        if earlier.any():
            self.repeated += int(earlier.sum())
            first = np.flatnonzero(earlier)[0]
            self.repeated_example = self.repeated_example or (
                f"line {chunk.line[rows.index[first]]} (case_id {rows['case_id'].iloc[first]!r})"
            )
        inserted = prepared.rows.subset(new)
        insert_rows(self.conn, inserted, {"import_batch": self.batch_id, "version": 1})
        report.imported += len(inserted)
        report.duplicates += int((~new).sum())
        if self.on_duplicate == "update" and stored.any():
            report.updated += self._update(rows.loc[stored], checked.provided)
        if len(prepared.defects):
            kept = new | stored if self.on_duplicate == "update" else new
            at = prepared.defects["_row"].isin(rows.index[kept])
            self.defects.append(prepared.defects.loc[at.to_numpy()].drop(columns="_row"))
            report.defective += int((prepared.defective & new).sum())
        located = prepared.point >= 0  # NaN coordinates form no point
        counts = np.bincount(prepared.point[located], weights=new[located], minlength=len(prepared.points))
        self.points.append(prepared.points.assign(new=counts.astype(np.int64)))

    def _classify(self, prepared: _Prepared) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Masks: new rows, repeats of an earlier row of this file, and cases stored before this import."""
        ids, in_chunk = prepared.checked.rows["case_id"], prepared.repeat
        keys = list(itertools.compress(prepared.keys, prepared.seen)) if self.fresh else prepared.keys
        found = bulk.fetch_existing(self.conn, _CASES, keys, ["import_batch"])
        in_store = text_isin(ids, found.index)
        this_file = np.zeros(len(ids), dtype=bool)
        if in_store.any():
            this_file = in_store & (ids.map(found["import_batch"]) == self.batch_id).to_numpy()
        earlier = in_chunk | this_file
        return ~in_store & ~in_chunk, earlier, in_store & ~earlier

    def _update(self, rows: pd.DataFrame, provided: tuple[str, ...]) -> int:
        skip = ("case_id",) if self.by_address else ("case_id", "location_flag")
        columns = [c for c in provided if c not in skip]
        extra: dict = {"import_batch": self.batch_id}
        if "lat" in columns and "lon" in columns and not self.by_address:
            # keep a stored location flag unless the location itself changes (re-flagged in finish())
            moved = sa.or_(
                _CASES.c.lat.is_distinct_from(sa.bindparam("b_lat")),
                _CASES.c.lon.is_distinct_from(sa.bindparam("b_lon")),
            )
            extra["location_flag"] = sa.case(
                (sa.bindparam("b_lat").is_(None), NO_LOCATION), (moved, None), else_=_CASES.c.location_flag
            )
        return bulk.update_changed(self.conn, _CASES, rows[["case_id", *columns]], columns, extra)

    def finish(self, report: ImportReport) -> None:
        """Flag suspicious clusters, gather the quarantine and the warnings."""
        self._flag_clusters(report)
        frames = [q for q in self.quarantine if len(q)]
        quarantine = pd.concat(frames, ignore_index=True) if frames else report.quarantine
        report.quarantine = quarantine.reindex(columns=list(QUARANTINE_COLUMNS))
        report.quarantined = len(report.quarantine)
        defects = [d for d in self.defects if len(d)]
        if defects:
            report.defects = pd.concat(defects, ignore_index=True).reindex(columns=list(QUARANTINE_COLUMNS))
        if self.repeated:
            report.warnings.append(
                f"{self.repeated} row(s) repeat a case_id that appears earlier in the file, e.g. "
                f"{self.repeated_example}: the first valid occurrence was kept, the rest count as duplicates"
            )
        if self.ctx.ambiguous or self.ctx.nonexistent:
            report.warnings.append(
                f"{self.ctx.ambiguous} local time(s) fell in a daylight-saving overlap and were taken as the "
                f"first (daylight-time) occurrence; {self.ctx.nonexistent} fell in a daylight-saving gap "
                f"and were shifted forward ({self.ctx.mapping.timezone})"
            )
        if self.blank:
            report.warnings.append(f"{self.blank} empty row(s) skipped (not counted as read)")

    def _flag_clusters(self, report: ImportReport) -> None:
        if not self.points:
            return
        every = pd.concat(self.points, ignore_index=True)
        codes, points = _distinct_points(every["lat"].to_numpy(), every["lon"].to_numpy())
        for column in ("rows", "new"):
            points[column] = np.bincount(codes, weights=every[column], minlength=len(points)).astype(np.int64)
        total = int(points["rows"].sum())
        for hit in suspicious_points(points, total).itertuples():
            flagged = self.conn.execute(
                sa.update(_CASES)
                .where(
                    _CASES.c.import_batch == self.batch_id,
                    _CASES.c.lat == hit.lat,
                    _CASES.c.lon == hit.lon,
                    _CASES.c.location_flag.is_(None),  # not the rows placed by their address
                )
                .values(location_flag=SUSPICIOUS_CLUSTER)
            ).rowcount
            report.flagged += int(hit.new)
            report.warnings.append(
                f"suspicious location cluster: {hit.rows:,} of {total:,} located rows ({hit.share:.1%}) "
                f"sit on "
                f"exactly ({hit.lat}, {hit.lon}) (WGS-84), {hit.median_factor:,.0f}x the median point, "
                f"likely a default geocode; {flagged:,} row(s) of this import carry location_flag="
                f"'{SUSPICIOUS_CLUSTER}' (exclude them from spatial analysis)"
            )


def insert_rows(conn: Connection, rows: bulk.PreparedRows, constants: dict) -> None:
    """Insert checked case rows (a module-level seam, so tests can make the write fail midway)."""
    bulk.insert_prepared(conn, _CASES, rows, constants)


def _addresses(conn: Connection, source: TableSource, mapping: Mapping) -> AddressIndex | None:
    """The address table when the file has an ``address`` column (None without one, or an empty table)."""
    if resolve_columns(mapping, source.columns, CASE_FIELDS).get("address") is None:
        return None
    return AddressIndex.from_store(conn)


def _column_warnings(source: TableSource, mapping: Mapping, given: bool) -> list[str]:
    out = column_warnings(source.columns, mapping, CASE_FIELDS, given=given)
    if source.header_line != 1:
        out.append(f"header found on row {source.header_line}; the rows above it were skipped")
    return out


def _utc_window(window: tuple) -> tuple[np.datetime64, np.datetime64]:
    """``(start, end)`` as naive UTC datetime64[us] (aware values are converted, naive ones taken as UTC)."""
    out = []
    for value in window:
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp
        out.append(np.datetime64(stamp.to_datetime64(), "us"))
    return out[0], out[1]

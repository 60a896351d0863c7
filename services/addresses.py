"""The city's address / POI table: import it (administrator) and look addresses up (intake, Open311).

:func:`lookup_address` normalises the text (:func:`cases.addresses.normalize_address`) and ranks the
stored addresses: ``exact`` (normalised address or POI name equal), then ``contains`` (the stored address or
name contains the query, or the query contains the stored address, e.g. with the city and district in
front), then ``similar`` (sharing character bigrams; Dice coefficient ≥ :data:`MIN_SIMILARITY`). Within a
kind, the higher bigram similarity first. Each candidate carries WGS-84 ``lat``/``lon``, its ``cell`` and
the district and subdistrict it lies in (:func:`place_names`, from the stored areas).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from services.context import ServiceContext
from services.errors import ServiceError
from services.imports import ImportResult

__all__ = [
    "AUTO_MIN_SIMILARITY",
    "LOOKUP_ROLES",
    "MIN_SIMILARITY",
    "AddressCandidates",
    "AddressImportRequest",
    "AddressQuery",
    "import_addresses",
    "lookup_address",
    "place_names",
]

IMPORT_ROLES = ("admin",)
#: Roles that locate reports by address (the operator's intake form; API keys act as operators).
LOOKUP_ROLES = ("operator", "dispatcher", "supervisor", "inspector", "admin")
#: Lowest bigram similarity (Dice) of a ``similar`` candidate.
MIN_SIMILARITY = 0.3
#: Lowest similarity of a ``similar`` candidate that places a report by itself (``located``).
AUTO_MIN_SIMILARITY = 0.6
_MATCH_ORDER = {"exact": 0, "contains": 1, "similar": 2}
CANDIDATE_COLUMNS = (
    "address_id",
    "name",
    "address",
    "kind",
    "match",
    "score",
    "lat",
    "lon",
    "cell",
    "district",
    "district_name",
    "subdistrict",
    "subdistrict_name",
)
#: Seconds the stored areas are reused for place names (areas change only on import).
AREA_TTL_S = 300.0
_AREA_CACHE: dict[str, tuple[float, Any]] = {}
_AREA_LOCK = threading.Lock()


@dataclasses.dataclass(frozen=True)
class AddressImportRequest:
    """An address / POI file (CSV, xlsx) and its mapping (TOML path or shipped name; ``[options] crs``)."""

    path: Path
    mapping: str | None = None
    quarantine_out: Path | None = None
    write_quarantine: bool = True


@dataclasses.dataclass(frozen=True)
class AddressQuery:
    """Text typed by the operator (or an Open311 ``address_string``) and how many candidates to return."""

    text: str
    limit: int = 10


@dataclasses.dataclass(frozen=True)
class AddressCandidates:
    """The ranked candidates (:data:`CANDIDATE_COLUMNS`; best first) of ``query``."""

    query: str
    normalized: str
    candidates: pd.DataFrame

    @property
    def best(self) -> pd.Series | None:
        """The first candidate, or None."""
        return None if self.candidates.empty else self.candidates.iloc[0]

    @property
    def located(self) -> pd.Series | None:
        """The first candidate if it is good enough to place a report without a person choosing: an exact or
        contains match, or a similar one of at least :data:`AUTO_MIN_SIMILARITY`; else None."""
        best = self.best
        if best is None or (best["match"] == "similar" and best["score"] < AUTO_MIN_SIMILARITY):
            return None
        return best

    def to_frame(self) -> pd.DataFrame:
        return self.candidates.copy()


def import_addresses(ctx: ServiceContext, request: AddressImportRequest) -> ImportResult:
    """Import the city's address / POI table (administrator); re-importing a file adds nothing.

    Raises
    ------
    ServiceError
        ``bad_mapping``, ``unreadable`` (the file cannot be read at all; bad rows are quarantined).
    """
    from cases.addresses import import_addresses as run
    from cases.mapping import Mapping, MappingError, load_mapping
    from cases.readers import ImportReadError

    ctx.require("import addresses", *IMPORT_ROLES)
    try:
        mapping = load_mapping(request.mapping) if request.mapping else Mapping(timezone=ctx.timezone)
    except (MappingError, OSError) as exc:
        raise ServiceError(
            "bad_mapping", f"mapping {request.mapping}: {exc}", mapping=request.mapping
        ) from exc
    try:
        report = run(request.path, ctx.engine, mapping=mapping)
    except ImportReadError as exc:
        raise ServiceError(
            "unreadable", f"cannot read {request.path}: {exc}", path=str(request.path)
        ) from exc
    written = None
    if report.quarantined and request.write_quarantine:
        name = f"{Path(report.file).name}.addresses.quarantine.csv"
        written = request.quarantine_out or ctx.data_dir / "quarantine" / name
        report.write_quarantine(written)
    return ImportResult(report, written)


def lookup_address(ctx: ServiceContext, query: AddressQuery) -> AddressCandidates:
    """Candidates for an address or POI name, best first (see the module docstring).

    Raises
    ------
    NotAllowedError
        The caller's role does not locate reports.
    ServiceError
        ``bad_request``: an empty text or a limit outside 1–100.
    """
    from cases import repository_addresses
    from cases.addresses import bigrams, normalize_address

    ctx.require("look up an address", *LOOKUP_ROLES)
    if not 1 <= query.limit <= 100:
        raise ServiceError("bad_request", f"limit must be 1–100, got {query.limit}")
    raw = (query.text or "").strip()
    normalized = normalize_address(raw)
    if not normalized:
        raise ServiceError("bad_request", "type an address or a place name")
    grams = sorted(bigrams(normalized))
    found = repository_addresses.address_candidates(ctx.engine, normalized, raw, grams[:12], query.limit)
    if found.empty:
        return AddressCandidates(raw, normalized, pd.DataFrame(columns=list(CANDIDATE_COLUMNS)))
    wanted = set(grams)
    score = []
    for text, name in zip(found["normalized"], found["name"], strict=True):
        best = 0.0
        for other in (text, normalize_address(name)):
            have = bigrams(other) if other else set()
            if have:
                best = max(best, 2 * len(wanted & have) / (len(wanted) + len(have)))
        score.append(best)
    found["score"] = np.round(score, 3)
    found = found[(found["match"] != "similar") | (found["score"] >= MIN_SIMILARITY)]
    found = found.assign(_order=found["match"].map(_MATCH_ORDER))
    found = found.sort_values(["_order", "score", "address_id"], ascending=[True, False, True])
    top = found.head(query.limit).reset_index(drop=True)
    placed = place_names(ctx, top[["lat", "lon", "cell"]])
    out = pd.concat([top, placed.drop(columns=["lat", "lon", "cell"])], axis=1)
    return AddressCandidates(raw, normalized, out.reindex(columns=list(CANDIDATE_COLUMNS)))


def _areas(ctx: ServiceContext) -> Any:
    """The stored areas (:func:`cases.repository.load_areas`), reused for :data:`AREA_TTL_S` seconds."""
    from cases import repository

    url = str(ctx.engine.url)
    with _AREA_LOCK:
        hit = _AREA_CACHE.get(url)
        if hit is not None and time.monotonic() - hit[0] < AREA_TTL_S:
            return hit[1]
    areas = repository.load_areas(ctx.engine)
    with _AREA_LOCK:
        _AREA_CACHE[url] = (time.monotonic(), areas)
    return areas


def place_names(ctx: ServiceContext, points: pd.DataFrame) -> pd.DataFrame:
    """``points`` (``lat``, ``lon``, ``cell``) with ``district``, ``district_name``, ``subdistrict``,
    ``subdistrict_name`` from the stored areas (None where no area covers the point)."""
    from analytics.kpi import attach_areas_from_polygons

    out = points.reset_index(drop=True).copy()
    areas = _areas(ctx)
    located = attach_areas_from_polygons(out, areas) if len(out) else out
    names = (
        {} if areas is None or len(areas) == 0 else dict(zip(areas["area_id"], areas["name"], strict=True))
    )
    for level in ("district", "subdistrict"):
        ids = located[level] if level in located else pd.Series([None] * len(out))
        ids = [None if v is None or pd.isna(v) else str(v) for v in ids]
        out[level] = ids
        out[f"{level}_name"] = [names.get(v) if v else None for v in ids]
    return out

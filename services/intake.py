"""Intake (受理登记): the operator registers a hotline call or a walk-in, or merges it into an earlier case.

:func:`preview_intake` shows, before anything is saved, what the call would become: its location (typed
WGS-84 or GCJ-02 coordinates converted with :mod:`grid.coords`, else the address looked up in the city's
address table, :func:`services.addresses.lookup_address`), its cell, district and subdistrict, the department
the routing rules would send it to (as :func:`services.cases.suggest_department` does for a stored case), the
deadline it would get if dispatched at the report time (the deadline table on the working calendar) with the
time limits of its category per urgency, and the possible duplicates: cases of the same category within
``intake.duplicate_radius_m`` reported in the ``intake.duplicate_window_hours`` before the call (not
cancelled), with their status and distance. Candidates are read by the ring of cells around the call's cell
(:func:`grid.cells.grid_disk`) through the ``(cell, reported_at)`` index, never by reading every case.

:func:`register_intake` files the call as a new case (``RX<yyyymmdd><nnnn>``, the day in the city's zone)
through :func:`services.cases.report`, after the same row checks a file import applies
(:func:`cases.case_rules.check_cases`: known category, plausible phone, coordinates in range and in the
city; a field-level problem is refused here, not emptied). :func:`merge_intake` records the call against an
existing case (``case_merges``: who called, when, what they said) without a second case and without a status
change. Roles: operator (and admin, who files as an operator).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from services import intake_rules as rules
from services.context import Actor, ServiceContext
from services.errors import NotAllowedError, ServiceError

__all__ = [
    "INTAKE_ROLES",
    "IntakeDraft",
    "IntakeOptions",
    "IntakePreview",
    "IntakeResult",
    "MergeRequest",
    "MergeResult",
    "intake_options",
    "merge_intake",
    "preview_intake",
    "register_intake",
]

INTAKE_ROLES = ("operator", "admin")
INTAKE_CRS = ("wgs84", "gcj02")
INTAKE_SOURCES = ("hotline", "wechat", "video", "other")
#: Prefix of the ids of cases registered at intake (``RX20260302`` + 4 digits).
ID_PREFIX = "RX"
DUPLICATE_COLUMNS = rules.DUPLICATE_COLUMNS


@dataclasses.dataclass(frozen=True)
class IntakeDraft:
    """A call as the operator typed it. Location: ``lat``/``lon`` in ``crs`` (``wgs84`` | ``gcj02``), else
    ``address`` (looked up). ``reported_at``: when the call came in (default now)."""

    category_code: str
    description: str
    lat: float | None = None
    lon: float | None = None
    crs: str = "wgs84"
    address: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    urgency: str | None = None
    source: str = "hotline"
    reported_at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True)
class MergeRequest:
    """Record ``draft`` (the caller, the phone, what they said) against ``existing_case_id``."""

    existing_case_id: str
    draft: IntakeDraft


@dataclasses.dataclass(frozen=True)
class IntakePreview:
    """What the draft would become (see the module docstring).

    ``located_by``: ``coordinates`` or ``address``; ``address_match``: the address row used (or None).
    ``deadline_at``: the deadline if dispatched at ``reported_at``; ``time_limits``: per urgency the
    ``limit``, ``unit`` and ``deadline_at``; ``duplicates``: :data:`DUPLICATE_COLUMNS`, nearest first.
    """

    draft: IntakeDraft
    reported_at: dt.datetime
    lat: float
    lon: float
    cell: int
    located_by: str
    address_match: dict[str, Any] | None
    category_name: str | None
    category_standard: str | None
    kind: str | None
    district: str | None
    district_name: str | None
    subdistrict: str | None
    subdistrict_name: str | None
    department: str | None
    department_name: str | None
    urgency: str
    deadline_at: dt.datetime | None
    time_limits: pd.DataFrame
    duplicates: pd.DataFrame
    address: str | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row: the resolved location, areas, department and deadline."""
        names = ("lat", "lon", "cell", "located_by", "district_name", "subdistrict_name", "department")
        row = {n: getattr(self, n) for n in names}
        row |= {"deadline_at": self.deadline_at, "duplicates": len(self.duplicates)}
        return pd.DataFrame([row])


@dataclasses.dataclass(frozen=True)
class IntakeResult:
    """The case filed (``case``: one row) and the preview it was filed from."""

    case_id: str
    case: pd.DataFrame
    preview: IntakePreview

    def to_frame(self) -> pd.DataFrame:
        return self.case.copy()


@dataclasses.dataclass(frozen=True)
class MergeResult:
    """The existing case (unchanged) and every call merged into it, oldest first."""

    case: pd.DataFrame
    merges: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.merges.copy()


@dataclasses.dataclass(frozen=True)
class IntakeOptions:
    """What the intake form offers: the city's centre (WGS-84, None without areas), the category table,
    the urgencies, the sources and the duplicate rule (radius, window)."""

    centre: tuple[float, float] | None
    categories: pd.DataFrame
    urgencies: tuple[str, ...]
    sources: tuple[str, ...]
    duplicate_radius_m: float
    duplicate_window_hours: float

    def to_frame(self) -> pd.DataFrame:
        return self.categories.copy()


def intake_options(ctx: ServiceContext) -> IntakeOptions:
    """The choices of the intake form (operator, admin)."""
    from cases.deadlines import URGENCIES

    _require(ctx, "open the intake form")
    area = rules.city_area(ctx)
    centre = None
    if area is not None:
        point = area.geometry.centroid
        centre = (float(point.y), float(point.x))
    return IntakeOptions(
        centre=centre,
        categories=rules.categories(),
        urgencies=tuple(reversed(URGENCIES)),
        sources=INTAKE_SOURCES,
        duplicate_radius_m=float(ctx.config.intake.duplicate_radius_m),
        duplicate_window_hours=float(ctx.config.intake.duplicate_window_hours),
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _check_draft(draft: IntakeDraft) -> None:
    from cases.deadlines import URGENCIES

    if draft.crs not in INTAKE_CRS:
        raise ServiceError("bad_request", f"crs must be one of {', '.join(INTAKE_CRS)}, got {draft.crs!r}")
    if draft.source not in INTAKE_SOURCES:
        raise ServiceError("bad_request", f"source must be one of {', '.join(INTAKE_SOURCES)}")
    if draft.urgency and draft.urgency not in URGENCIES:
        raise ServiceError("bad_request", f"urgency must be one of {', '.join(URGENCIES)}")
    if not (draft.description or "").strip():
        raise ServiceError("description_required", "describe the problem")
    if draft.reported_at is not None and draft.reported_at.tzinfo is None:
        raise ServiceError("bad_request", "reported_at must be tz-aware")
    if len(draft.reporter_name or "") > 200:
        raise ServiceError("value_too_long", "reporter_name is longer than 200 characters")


def _checked_row(
    ctx: ServiceContext,
    draft: IntakeDraft,
    lat: Any,
    lon: Any,
    crs: str,
    at: dt.datetime,
    *,
    located: bool = True,
) -> pd.Series:
    """The draft as one case row through the import's checks, strict: every problem is refused (a
    location is required unless ``located`` is False)."""
    from cases.case_rules import CaseContext, check_cases
    from cases.mapping import CASE_FIELDS, Mapping, apply_mapping
    from cases.validation import FIELD_LEVEL_REASONS

    values = {
        "case_id": "intake",
        "source": draft.source,
        "category_code": (draft.category_code or "").strip(),
        "lat": "" if lat is None else repr(float(lat)),
        "lon": "" if lon is None else repr(float(lon)),
        "reported_at": at.isoformat(),
        "urgency": draft.urgency or "",
        "address": draft.address or "",
        "description": draft.description or "",
        "reporter_phone": (draft.reporter_phone or "").strip(),
    }
    frame = pd.DataFrame({k: pd.Series([v], dtype="string[pyarrow]") for k, v in values.items()})
    checks = CaseContext(
        file="intake",
        mapping=Mapping(timezone="UTC", crs=crs),
        categories=rules.categories(),
        area=rules.city_area(ctx),
        strict=frozenset(FIELD_LEVEL_REASONS) - (set() if located else {"missing_field"}),
    )
    checked = check_cases(apply_mapping(frame, checks.mapping, CASE_FIELDS), checks)
    if not checked.problems.ok[0]:
        problem = checked.problems.to_frame("intake", np.array([1]), frame).iloc[0]
        reason, field = str(problem["reason"]), problem["field"]
        raise ServiceError(reason, f"{field}: {problem['detail']}", field=field)
    return checked.rows.iloc[0]


def _locate(ctx: ServiceContext, draft: IntakeDraft) -> tuple[Any, Any, str, str, dict | None]:
    """(lat, lon, crs, located_by, address row) of the draft: its coordinates, else its address."""
    if draft.lat is not None and draft.lon is not None:
        return draft.lat, draft.lon, draft.crs, "coordinates", None
    if not (draft.address or "").strip():
        raise ServiceError("location_required", "give a location: a map click, coordinates or an address")
    from services.addresses import AddressQuery, lookup_address

    best = lookup_address(ctx, AddressQuery(draft.address or "", limit=1)).located
    if best is None:
        raise ServiceError("address_not_found", f"no address like {draft.address!r}", address=draft.address)
    return float(best["lat"]), float(best["lon"]), "wgs84", "address", best.to_dict()


def _require(ctx: ServiceContext, operation: str) -> Actor:
    return ctx.require(operation, *INTAKE_ROLES)


def preview_intake(ctx: ServiceContext, draft: IntakeDraft) -> IntakePreview:
    """What the draft would become, before anything is saved (see the module docstring).

    Raises
    ------
    NotAllowedError
        The caller is not an operator (or admin).
    ServiceError
        ``location_required``, ``address_not_found``, ``description_required``, ``bad_request``, or the
        import's reason code of the first failing check (``unknown_category``, ``invalid_phone``,
        ``coordinate_out_of_range``, ``outside_city_area`` …; ``params['field']`` names the field).
    """
    from cases import repository_people
    from services.addresses import place_names

    actor = _require(ctx, "preview an intake")
    _check_draft(draft)
    at = (draft.reported_at or _now()).astimezone(dt.UTC)
    lat, lon, crs, located_by, match = _locate(ctx, draft)
    row = _checked_row(ctx, draft, lat, lon, crs, at)
    w_lat, w_lon, cell = float(row["lat"]), float(row["lon"]), int(row["cell"])
    places = place_names(ctx, pd.DataFrame({"lat": [w_lat], "lon": [w_lon], "cell": [cell]})).iloc[0]
    if actor.district and places["district"] != actor.district:
        raise NotAllowedError("register a call outside their district", actor.role)
    code = str(row["category_code"])
    category = rules.categories().set_index("code").loc[code]
    department = rules.department(ctx, code, row["kind"], places["district"])
    departments = repository_people.departments(ctx.engine)
    names = dict(zip(departments["department_id"], departments["name"], strict=True))
    limits = rules.time_limits(ctx, code, at)
    urgency = draft.urgency or "normal"
    due = limits.loc[limits["urgency"] == urgency, "deadline_at"].iloc[0]
    return IntakePreview(
        draft=draft,
        reported_at=at,
        lat=w_lat,
        lon=w_lon,
        cell=cell,
        located_by=located_by,
        address_match=match,
        category_name=category.get("name_zh"),
        category_standard=None if pd.isna(row["category_standard"]) else str(row["category_standard"]),
        kind=None if pd.isna(row["kind"]) else str(row["kind"]),
        district=places["district"],
        district_name=places["district_name"],
        subdistrict=places["subdistrict"],
        subdistrict_name=places["subdistrict_name"],
        department=department,
        department_name=names.get(department) if department else None,
        urgency=urgency,
        deadline_at=None if pd.isna(due) else pd.Timestamp(due).to_pydatetime(),
        time_limits=limits,
        duplicates=rules.duplicates(ctx, code, w_lat, w_lon, cell, at),
        address=(draft.address or "").strip() or (match["address"] if match else None),
    )


def _next_id(ctx: ServiceContext, at: dt.datetime) -> str:
    from zoneinfo import ZoneInfo

    from cases import repository_addresses

    prefix = f"{ID_PREFIX}{at.astimezone(ZoneInfo(ctx.timezone)):%Y%m%d}"
    last = repository_addresses.last_case_id(ctx.engine, prefix)
    tail = last[len(prefix) :] if last else ""
    number = int(tail) + 1 if tail.isdigit() else 1
    return f"{prefix}{number:04d}"


def register_intake(ctx: ServiceContext, draft: IntakeDraft) -> IntakeResult:
    """File the call as a new case (status ``reported``, to be verified on site); see the module docstring.

    Raises what :func:`preview_intake` raises, and :class:`NotAllowedError` for other roles.
    """
    from services.cases import CaseReport, report

    actor = _require(ctx, "register a call")
    preview = preview_intake(ctx, draft)
    fields: dict[str, Any] = {
        "description": draft.description.strip(),
        "urgency": preview.urgency,
        "reporter_phone": (draft.reporter_phone or "").strip() or None,
        "address": preview.address,
        "category_standard": preview.category_standard,
        "kind": preview.kind,
        "cell": preview.cell,
        "source_crs": draft.crs if preview.located_by == "coordinates" else "wgs84",
    }
    # an administrator files as an operator (the lifecycle lets inspectors and operators report)
    filer = ctx if actor.role != "admin" else ctx.as_actor(dataclasses.replace(actor, role="operator"))
    for _attempt in range(5):  # two operators saving in the same instant: take the next number
        case_id = _next_id(ctx, preview.reported_at)
        try:
            done = report(
                filer,
                CaseReport(
                    case_id=case_id,
                    source=draft.source,
                    category_code=draft.category_code.strip(),
                    reported_at=preview.reported_at,
                    lat=preview.lat,
                    lon=preview.lon,
                    fields=fields,
                ),
            )
        except ServiceError as exc:
            if exc.code != "case_exists":
                raise
            continue
        return IntakeResult(case_id, done.to_frame(), preview)
    raise ServiceError("case_exists", "could not allocate a new case id; try again")


def merge_intake(ctx: ServiceContext, request: MergeRequest) -> MergeResult:
    """Record the call against an existing case instead of filing a second one; the case is unchanged.

    Raises
    ------
    NotAllowedError
        Other roles; a district-scoped operator merging into another district's case.
    ServiceError
        ``case_not_found``, ``invalid_phone``, ``description_required``.
    """
    from cases import repository_addresses, repository_people
    from services.addresses import place_names

    actor = _require(ctx, "merge a call into a case")
    draft = request.draft
    _check_draft(dataclasses.replace(draft, crs="wgs84"))
    case = repository_people.case_record(ctx.engine, request.existing_case_id)
    if case.empty:
        raise ServiceError(
            "case_not_found",
            f"case {request.existing_case_id!r} does not exist",
            case_id=request.existing_case_id,
        )
    if actor.district:
        located = place_names(ctx, case[["lat", "lon", "cell"]])
        if located["district"].iloc[0] != actor.district:
            raise NotAllowedError("merge into a case of another district", actor.role)
    at = (draft.reported_at or _now()).astimezone(dt.UTC)
    phone_only = dataclasses.replace(draft, category_code=str(case["category_code"].iloc[0]), address=None)
    _checked_row(ctx, phone_only, None, None, "wgs84", at, located=False)  # phone and text checks
    repository_addresses.insert_merge(
        ctx.engine,
        case_id=request.existing_case_id,
        at=at,
        actor=actor.username,
        reporter_name=(draft.reporter_name or "").strip() or None,
        reporter_phone=(draft.reporter_phone or "").strip() or None,
        description=draft.description.strip(),
    )
    merges = repository_addresses.case_merges(ctx.engine, request.existing_case_id)
    return MergeResult(repository_people.case_record(ctx.engine, request.existing_case_id), merges)

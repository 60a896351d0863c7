"""SQL schema of the store (SQLAlchemy 2 declarative models).

Column names follow the data contracts in ``DESIGN.md``: every time is UTC (``UTCDateTime``), every location
is WGS-84 ``lat``/``lon`` with its res-10 H3 ``cell`` (int64), and the coordinate system the source used is
recorded in ``source_crs``. Case history is append-only (``case_events``). Geometry of areas is stored as WKB
in WGS-84 so the same schema works on SQLite and PostgreSQL without spatial extensions.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cases.types import UTCDateTime

CASE_SOURCES = ("hotline", "patrol", "wechat", "video", "other")
CASE_KINDS = ("component", "event")
AREA_LEVELS = ("city", "district", "subdistrict", "community", "unit_grid")
COORDINATE_SYSTEMS = ("wgs84", "gcj02", "bd09")
#: Columns of the ``cases`` data contract (DESIGN.md), in order.
CASE_CONTRACT_COLUMNS = (
    "case_id",
    "source",
    "category_code",
    "category_standard",
    "kind",
    "lat",
    "lon",
    "cell",
    "reported_at",
    "registered_at",
    "dispatched_at",
    "department",
    "deadline_at",
    "resolved_at",
    "verified_at",
    "closed_at",
    "status",
    "urgency",
    "reported_by",
    "reporter_phone",
    "description",
    "satisfaction",
)
ROLES = ("inspector", "operator", "dispatcher", "department", "supervisor", "planner", "manager", "admin")


class Base(DeclarativeBase):
    """Declarative base with a naming convention so Alembic migrations name constraints stably."""

    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Department(Base):
    """A department that handles cases (城管, 环卫, 园林, 市政 …)."""

    __tablename__ = "departments"
    department_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    district: Mapped[str | None] = mapped_column(sa.String(64))


class Area(Base):
    """An area: district → subdistrict (街道) → community (社区) → unit grid (单元网格); WGS-84 WKB."""

    __tablename__ = "areas"
    __table_args__ = (sa.CheckConstraint(_in("level", AREA_LEVELS), name="level"),)
    area_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    level: Mapped[str] = mapped_column(sa.String(16), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    parent_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    geometry_wkb: Mapped[bytes] = mapped_column(sa.LargeBinary)
    area_m2: Mapped[float] = mapped_column(sa.Float)
    source_crs: Mapped[str] = mapped_column(sa.String(8))
    source_file: Mapped[str | None] = mapped_column(sa.String(500))


ADDRESS_KINDS = ("address", "poi")


class Address(Base):
    """An address or point of interest of the city's address table (migration 0008); WGS-84 with its cell.

    ``normalized`` is :func:`cases.addresses.normalize_address` of ``address`` (matching key)."""

    __tablename__ = "addresses"
    __table_args__ = (sa.CheckConstraint(_in("kind", ADDRESS_KINDS), name="kind"),)
    address_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(500))
    normalized: Mapped[str] = mapped_column(sa.String(500), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    lat: Mapped[float] = mapped_column(sa.Float)
    lon: Mapped[float] = mapped_column(sa.Float)
    cell: Mapped[int] = mapped_column(sa.BigInteger)
    source_crs: Mapped[str] = mapped_column(sa.String(64))
    source_file: Mapped[str | None] = mapped_column(sa.String(500), index=True)


class CaseMerge(Base):
    """A call merged into an existing case instead of a second case (migration 0008); no status change."""

    __tablename__ = "case_merges"
    merge_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.case_id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str | None] = mapped_column(sa.String(64))
    reporter_name: Mapped[str | None] = mapped_column(sa.String(200))
    reporter_phone: Mapped[str | None] = mapped_column(sa.String(32))
    description: Mapped[str | None] = mapped_column(sa.Text)


#: Kinds of base map features (:mod:`cases.basemap`), drawn under the cells in this order.
BASEMAP_KINDS = ("green", "water", "railway", "street", "other")


class BasemapFeature(Base):
    """A base map feature (street, water, green, railway …) drawn under every map; WGS-84 WKB, simplified.

    ``source_file`` is the file's name: importing the same file again replaces its features."""

    __tablename__ = "basemap_features"
    __table_args__ = (sa.CheckConstraint(_in("kind", BASEMAP_KINDS), name="kind"),)
    feature_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(sa.String(16), index=True)
    subkind: Mapped[str | None] = mapped_column(sa.String(32))  #: e.g. ``primary``, ``residential``
    name: Mapped[str | None] = mapped_column(sa.String(200))
    geometry_wkb: Mapped[bytes] = mapped_column(sa.LargeBinary)
    source_crs: Mapped[str] = mapped_column(sa.String(8))
    source_file: Mapped[str] = mapped_column(sa.String(500), index=True)


class Inspector(Base):
    """A grid inspector (城管监督员)."""

    __tablename__ = "inspectors"
    inspector_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    district: Mapped[str | None] = mapped_column(sa.String(64))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)


class Assignment(Base):
    """Inspector ↔ H3 cell over time; ``valid_to`` NULL means still valid."""

    __tablename__ = "assignments"
    __table_args__ = (
        sa.UniqueConstraint("inspector_id", "cell", "valid_from", name="uq_assignment"),
        sa.Index("ix_assignments_cell", "cell"),
    )
    assignment_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    inspector_id: Mapped[str] = mapped_column(sa.ForeignKey("inspectors.inspector_id"), index=True)
    cell: Mapped[int] = mapped_column(sa.BigInteger)
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Case(Base):
    """One case (案件), as in the ``cases`` data contract of DESIGN.md."""

    __tablename__ = "cases"
    __table_args__ = (
        sa.CheckConstraint(_in("source", CASE_SOURCES), name="source"),
        sa.CheckConstraint(f"kind IS NULL OR {_in('kind', CASE_KINDS)}", name="kind"),
        sa.CheckConstraint("lat IS NULL OR (lat >= -90 AND lat <= 90)", name="lat"),
        sa.CheckConstraint("lon IS NULL OR (lon >= -180 AND lon <= 180)", name="lon"),
        sa.Index("ix_cases_cell_reported", "cell", "reported_at"),
    )
    case_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(16))
    category_code: Mapped[str] = mapped_column(sa.String(64), index=True)
    category_standard: Mapped[str | None] = mapped_column(sa.String(64))
    kind: Mapped[str | None] = mapped_column(sa.String(16))
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)
    cell: Mapped[int | None] = mapped_column(sa.BigInteger)
    source_crs: Mapped[str] = mapped_column(sa.String(8), default="wgs84")
    location_flag: Mapped[str | None] = mapped_column(sa.String(64))
    address: Mapped[str | None] = mapped_column(sa.Text)
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    registered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    department: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    urgency: Mapped[str | None] = mapped_column(sa.String(16))
    reported_by: Mapped[str | None] = mapped_column(sa.String(64))
    reporter_phone: Mapped[str | None] = mapped_column(sa.String(32))
    description: Mapped[str | None] = mapped_column(sa.Text)
    satisfaction: Mapped[float | None] = mapped_column(sa.Float)
    suspended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # 挂账 approved; NULL = not parked
    import_batch: Mapped[int | None] = mapped_column(sa.ForeignKey("import_batches.batch_id"))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it as a class attribute


class CaseEvent(Base):
    """Append-only history of status changes of a case."""

    __tablename__ = "case_events"
    event_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.case_id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    from_status: Mapped[str | None] = mapped_column(sa.String(32))
    to_status: Mapped[str] = mapped_column(sa.String(32))
    actor: Mapped[str | None] = mapped_column(sa.String(64))
    note: Mapped[str | None] = mapped_column(sa.Text)
    action: Mapped[str | None] = mapped_column(sa.String(32))  # cases.lifecycle action; NULL in older rows
    role: Mapped[str | None] = mapped_column(sa.String(16))  # role the actor acted in
    deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # deadline set/requested


class CasePhoto(Base):
    """A photo of a case (migration 0007): the file lives under the data folder (``file``, relative), never
    in the store; only the capture time and GPS position survive the re-encoding, as columns."""

    __tablename__ = "case_photos"
    photo_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.case_id"), index=True)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case_events.event_id"))
    file: Mapped[str] = mapped_column(sa.String(500))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content_type: Mapped[str] = mapped_column(sa.String(64))
    width: Mapped[int] = mapped_column(sa.Integer)
    height: Mapped[int] = mapped_column(sa.Integer)
    taken_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)
    uploaded_by: Mapped[str] = mapped_column(sa.String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CaseCallback(Base):
    """A callback (回访) to the reporter of a closed case: reached or not, satisfied or not (0007)."""

    __tablename__ = "case_callbacks"
    callback_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.case_id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    operator: Mapped[str] = mapped_column(sa.String(64))
    reached: Mapped[bool] = mapped_column(sa.Boolean)
    satisfied: Mapped[bool | None] = mapped_column(sa.Boolean)
    note: Mapped[str | None] = mapped_column(sa.Text)


class CaseMediation(Base):
    """A case closed by mediation (和谐调解): the parties and their agreement (migration 0007)."""

    __tablename__ = "case_mediations"
    mediation_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.case_id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    parties: Mapped[str] = mapped_column(sa.Text)
    agreement: Mapped[str] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(64))


class User(Base):
    """An application user with a hashed password and one role."""

    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(_in("role", ROLES), name="role"),)
    user_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16))
    inspector_id: Mapped[str | None] = mapped_column(sa.ForeignKey("inspectors.inspector_id"))
    department: Mapped[str | None] = mapped_column(sa.String(200))
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: False: the account may not log in and a signed-in session ends on its next page run (migration 0004)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    #: area_id of the district a district-scoped user (二级平台) works in; None: city-wide (migration 0006)
    district: Mapped[str | None] = mapped_column(sa.String(64))


class WebSession(Base):
    """A browser sign-in: only the SHA-256 of its token is stored; it ends at ``expires_at``, after the idle
    timeout since ``last_seen_at``, at ``revoked_at``, or when the user's ``role`` is no longer the one it
    began with (migration 0006)."""

    __tablename__ = "web_sessions"
    session_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.user_id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str | None] = mapped_column(sa.String(500))


class ImportBatch(Base):
    """One run of an importer over one file, with the counts that must add up (read = imported + dup + q)."""

    __tablename__ = "import_batches"
    batch_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    source_file: Mapped[str] = mapped_column(sa.String(500))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    rows_read: Mapped[int] = mapped_column(sa.Integer, default=0)
    rows_imported: Mapped[int] = mapped_column(sa.Integer, default=0)
    rows_duplicate: Mapped[int] = mapped_column(sa.Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(sa.Integer, default=0)
    rows_flagged: Mapped[int] = mapped_column(sa.Integer, default=0)


class QuarantineRow(Base):
    """An input row that was not imported, with where it came from and why."""

    __tablename__ = "quarantine"
    quarantine_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("import_batches.batch_id"), index=True)
    source_file: Mapped[str] = mapped_column(sa.String(500))
    line: Mapped[int] = mapped_column(sa.Integer)
    field: Mapped[str | None] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.String(64))
    detail: Mapped[str | None] = mapped_column(sa.Text)
    raw: Mapped[str | None] = mapped_column(sa.Text)


class ApiKey(Base):
    """A key of an HTTP client (a WeChat mini-program, a web form, video analytics): only its SHA-256 is
    stored; ``source`` is the case source its reports get; a revoked key (``revoked_at`` set) is refused."""

    __tablename__ = "api_keys"
    __table_args__ = (
        sa.CheckConstraint(_in("source", CASE_SOURCES), name="source"),
        sa.CheckConstraint(_in("role", ROLES), name="role"),
    )
    key_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    source: Mapped[str] = mapped_column(sa.String(16))
    role: Mapped[str] = mapped_column(sa.String(16))
    rate_per_minute: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ApiRequest(Base):
    """What an Open311 POST carried besides the case: the token, the key, the device and account, the
    reporter's name and e-mail (PII; the phone is the case's ``reporter_phone``) and the media URL."""

    __tablename__ = "api_requests"
    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.case_id"), unique=True)
    key_id: Mapped[int] = mapped_column(sa.ForeignKey("api_keys.key_id"), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    device_id: Mapped[str | None] = mapped_column(sa.String(200))
    account_id: Mapped[str | None] = mapped_column(sa.String(200))
    first_name: Mapped[str | None] = mapped_column(sa.String(200))
    last_name: Mapped[str | None] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    media_url: Mapped[str | None] = mapped_column(sa.String(2000))
    media_file: Mapped[str | None] = mapped_column(
        sa.String(500)
    )  #: an uploaded photo, under the data folder


class ApiToken(Base):
    """A signed-in device's bearer token (the field API): only its SHA-256 is stored; it acts as the user
    ``user_id`` (re-read on every request), until ``expires_at`` or ``revoked_at``."""

    __tablename__ = "api_tokens"
    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.user_id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ApiIdempotency(Base):
    """The answer to a write sent with an idempotency key, so that a retried request is answered again
    instead of applied again (per user; ``request_sha256`` tells a retry from a different request)."""

    __tablename__ = "api_idempotency"
    username: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(sa.String(64))
    response: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

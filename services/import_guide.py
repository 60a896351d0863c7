"""What each import expects (columns, a template file to fill in) and the latest imports, for the Data page.

:func:`import_template` lists the columns an import kind reads (the importers' own field tables:
:data:`cases.mapping.CASE_FIELDS`, :data:`cases.addresses.ADDRESS_FIELDS` …), which are required, their
type, and a template file (CSV with one example row; GeoJSON with one square for areas and unit grids).
:func:`recent_imports` gives the latest import batches with UTC times (for the page to show locally).
"""

from __future__ import annotations

import dataclasses
import io
import json

import pandas as pd

from services.context import ServiceContext
from services.errors import ServiceError

__all__ = [
    "TEMPLATE_KINDS",
    "ImportTemplate",
    "RecentImports",
    "TemplateRequest",
    "import_template",
    "recent_imports",
]

GUIDE_ROLES = ("admin",)
#: Import kinds with a template: the Data page's kinds and ``gridpatrol import tracks``.
TEMPLATE_KINDS = ("cases", "inspectors", "assignments", "areas", "unit_grids", "addresses", "tracks")
TEMPLATE_COLUMNS = ("column", "required", "type", "example")
_CASE_EXAMPLE = {
    "case_id": "C-0001",
    "source": "hotline",
    "category_code": "06010",
    "lat": "32.0100",
    "lon": "120.8600",
    "address": "人民路12号",
    "reported_at": "2024-03-05 08:30:00",
    "department": "城管局",
    "status": "open",
    "description": "井盖缺失",
}
_EXAMPLES = {
    "cases": _CASE_EXAMPLE,
    "inspectors": {"inspector_id": "I-001", "name": "张三", "district": "320602", "active": "true"},
    "assignments": {"inspector_id": "I-001", "cell": "8a309a6c4d47fff", "valid_from": "2024-03-01"},
    "addresses": {
        "name": "",
        "address": "人民路12号",
        "lat": "32.0100",
        "lon": "120.8600",
        "aliases": "人民路十二号",
    },
    "tracks": {"inspector_id": "I-001", "ts": "2024-03-05 08:30:00", "lat": "32.0100", "lon": "120.8600"},
}
_REQUIRED = {
    "inspectors": ("inspector_id", "name"),
    "assignments": ("inspector_id", "cell", "valid_from"),
    "addresses": ("address", "lat", "lon"),
    "tracks": ("inspector_id", "ts", "lat", "lon"),
}


@dataclasses.dataclass(frozen=True)
class TemplateRequest:
    """An import kind (one of :data:`TEMPLATE_KINDS`)."""

    kind: str


@dataclasses.dataclass(frozen=True)
class ImportTemplate:
    """The columns of an import kind and a template file (``file_name``, ``content`` UTF-8 bytes)."""

    kind: str
    columns: pd.DataFrame
    file_name: str
    content: bytes

    def to_frame(self) -> pd.DataFrame:
        """One row per column: ``column``, ``required`` (bool), ``type`` (text, time, number …) and
        ``example``."""
        return self.columns.copy()


@dataclasses.dataclass(frozen=True)
class RecentImports:
    """The latest import batches, newest first (``finished_at`` UTC)."""

    imports: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """``kind``, ``source_file``, ``finished_at``, ``rows_read``, ``rows_imported``, ``rows_duplicate``,
        ``rows_quarantined``."""
        return self.imports.copy()


def import_template(ctx: ServiceContext, request: TemplateRequest) -> ImportTemplate:
    """The expected columns and a template file of one import kind (administrator).

    Raises
    ------
    ServiceError
        ``bad_request``: an unknown kind.
    """
    ctx.require("read import templates", *GUIDE_ROLES)
    if request.kind not in TEMPLATE_KINDS:
        raise ServiceError("bad_request", f"import kind must be one of {', '.join(TEMPLATE_KINDS)}")
    if request.kind in ("areas", "unit_grids"):
        return _polygon_template(request.kind)
    fields = _fields(request.kind)
    example = _EXAMPLES[request.kind]
    from cases.case_rules import REQUIRED_FIELDS

    required = REQUIRED_FIELDS if request.kind == "cases" else _REQUIRED[request.kind]
    columns = pd.DataFrame(
        {
            "column": list(fields),
            "required": [f in required for f in fields],
            "type": list(fields.values()),
            "example": [example.get(f, "") for f in fields],
        }
    )
    buffer = io.StringIO()
    pd.DataFrame([[example.get(f, "") for f in fields]], columns=list(fields)).to_csv(buffer, index=False)
    content = buffer.getvalue().encode("utf-8-sig")  # with a BOM: Excel opens the Chinese text correctly
    return ImportTemplate(request.kind, columns, f"gridpatrol_{request.kind}_template.csv", content)


def recent_imports(ctx: ServiceContext, limit: int = 10) -> RecentImports:
    """The ``limit`` latest import batches (administrator)."""
    from cases import repository_people

    ctx.require("read the import history", *GUIDE_ROLES)
    frame = repository_people.recent_imports(ctx.engine, limit)
    frame["finished_at"] = pd.to_datetime(frame["finished_at"], utc=True)
    return RecentImports(frame)


def _fields(kind: str) -> dict[str, str]:
    from cases.addresses import ADDRESS_FIELDS
    from cases.mapping import ASSIGNMENT_FIELDS, CASE_FIELDS, INSPECTOR_FIELDS

    if kind == "tracks":
        return {
            "inspector_id": "text",
            "ts": "time",
            "lat": "number",
            "lon": "number",
            "accuracy_m": "number",
        }
    table = {
        "cases": CASE_FIELDS,
        "inspectors": INSPECTOR_FIELDS,
        "assignments": ASSIGNMENT_FIELDS,
        "addresses": ADDRESS_FIELDS,
    }[kind]
    return {f: k for f, k in table.items() if f not in ("x", "y")}  # x/y: a projected crs's alternative


def _polygon_template(kind: str) -> ImportTemplate:
    code = "320613001002003" if kind == "unit_grids" else "320602"
    parent = "320613001002" if kind == "unit_grids" else "320600"
    ring = [[120.86, 32.0], [120.861, 32.0], [120.861, 32.001], [120.86, 32.001], [120.86, 32.0]]
    feature = {
        "type": "Feature",
        "properties": {"code": code, "name": "示例", "parent": parent},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    columns = pd.DataFrame(
        {
            "column": ["code", "name", "parent", "geometry"],
            "required": [True, False, False, True],
            "type": ["text", "text", "text", "polygon"],
            "example": [code, "示例", parent, "Polygon / MultiPolygon"],
        }
    )
    content = json.dumps({"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False, indent=1)
    return ImportTemplate(kind, columns, f"gridpatrol_{kind}_template.geojson", content.encode("utf-8"))

"""Responses in the two formats of GeoReport v2: XML (the spec's default) and JSON.

Lists are written as repeated child elements named by :data:`ITEM_TAGS` (``services`` → ``service`` …),
booleans as ``true``/``false``, ``None`` as an empty element (JSON ``null``). Characters XML 1.0 cannot
carry (control characters in a citizen's text) are dropped from XML output.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from fastapi.responses import Response

FORMATS = ("xml", "json")
MEDIA_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
#: Child element of each list.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
}
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any, tag: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item, key)
    elif isinstance(value, list):
        child = ITEM_TAGS.get(tag, "item")
        for item in value:
            _fill(ET.SubElement(element, child), item, child)
    elif value is not None:
        element.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    """``value`` as an XML document whose root element is ``root``."""
    element = ET.Element(root)
    _fill(element, value, root)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def to_json(value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    # "<", ">", "&" only occur inside JSON strings: \u escapes keep a pasted response harmless in HTML
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode("utf-8")


def respond(fmt: str, root: str, value: Any, status: int = 200) -> Response:
    """A response of ``value`` in ``fmt``; XML under the element ``root`` (JSON: the value itself)."""
    body = to_json(value) if fmt == "json" else to_xml(root, value)
    return Response(body, status_code=status, media_type=MEDIA_TYPES[fmt], headers=_HEADERS)


def errors(fmt: str, status: int, description: str) -> Response:
    """The spec's error list: ``[{code, description}]`` (XML ``<errors><error>…``)."""
    return respond(fmt, "errors", [{"code": status, "description": description}], status)


def format_of(path: str) -> str:
    """The format a path asks for: under ``/open311/`` XML (the spec's default) unless it ends in ``.json``;
    JSON everywhere else (the field API, the docs)."""
    return "xml" if path.startswith("/open311/") and not path.endswith(".json") else "json"

"""The "use my position" button: the browser's geolocation through a tiny local Streamlit component.

The component is the static page ``app/static/geolocation/index.html`` (no build step, no CDN), declared
with :func:`streamlit.components.v1.declare_component`. A tap asks the browser for one fix; the value
returned is ``{"lat", "lon", "accuracy", "at"}`` (WGS-84 degrees, metres, epoch ms) or ``{"error",
"message", "at"}`` (``denied``, ``unavailable``, ``timeout``). Browsers locate only on ``https://`` or
``localhost``; AppTest does not run components, so the button then returns None.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit.components.v1 as components

from app.i18n import t

FOLDER = Path(__file__).resolve().parent / "static" / "geolocation"
_COMPONENT = components.declare_component("gridpatrol_geolocation", path=str(FOLDER))


def position_button(key: str) -> dict[str, Any] | None:
    """Draw the button; the last fix (or failure) the browser sent, or None before the first tap."""
    value = _COMPONENT(
        label=t("fp_use_position"),
        waiting=t("fp_locating"),
        unavailable=t("fp_no_geolocation"),
        key=key,
        default=None,
    )
    return value if isinstance(value, dict) else None


def fix_of(value: dict[str, Any] | None) -> tuple[float, float, float | None] | None:
    """``(lat, lon, accuracy)`` of a successful fix, else None."""
    if not value or "lat" not in value or "lon" not in value:
        return None
    try:
        lat, lon = float(value["lat"]), float(value["lon"])
    except (TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    accuracy = value.get("accuracy")
    return lat, lon, None if accuracy is None else float(accuracy)

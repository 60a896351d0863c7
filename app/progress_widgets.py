"""Slow service calls with a progress bar: the step being computed, in the page's language.

:func:`run_with_progress` calls ``service(ctx, request, progress=…)`` (a service that answers from the
precomputed cache reports no step and the bar never shows) and keeps the answer for five minutes per
(database, configuration, caller, request), so a rerun that changes nothing computes nothing. A
:class:`services.errors.ServiceError` is shown in words and the page stops (:func:`run_or_stop`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from app.context import db_key, service_context
from app.i18n import TEXT, error_text, t
from services.errors import ServiceError

#: Seconds an answer is kept; answers kept at most.
TTL_S, MAX_ENTRIES = 300.0, 16
_KEPT: dict[str, tuple[float, Any]] = {}
_LOCK = threading.Lock()


def _step_words(step: str) -> str:
    return t(f"step_{step}") if f"step_{step}" in TEXT else t("step_other")


def run_with_progress(service: Callable[..., Any], request: Any) -> Any:
    """``service(ctx, request, progress=…)`` for the signed-in user, a progress bar showing its steps."""
    ctx = service_context()
    key = repr((service.__module__, service.__name__, db_key(), ctx.config, ctx.actor, request))
    now = time.monotonic()
    with _LOCK:
        hit = _KEPT.get(key)
    if hit is not None and now - hit[0] < TTL_S:
        return hit[1]
    slot = st.empty()

    def update(step: str, fraction: float) -> None:
        text = t("progress_step", step=_step_words(step), percent=f"{fraction:.0%}")
        slot.progress(min(max(fraction, 0.0), 1.0), text=text)

    try:
        value = service(ctx, request, progress=update)
    finally:
        slot.empty()
    with _LOCK:
        if len(_KEPT) >= MAX_ENTRIES:
            _KEPT.pop(next(iter(_KEPT)))
        _KEPT[key] = (time.monotonic(), value)
    return value


def run_or_stop(service: Callable[..., Any], request: Any, *, level: str = "warning") -> Any:
    """:func:`run_with_progress`; a :class:`ServiceError` is said in words and the page stops."""
    try:
        return run_with_progress(service, request)
    except ServiceError as exc:
        getattr(st, level)(error_text(exc))
        st.stop()
        raise  # unreachable: st.stop() raises

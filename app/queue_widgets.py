"""Widgets of the command centre's queue pages (dispatch, department, approvals) and the alerts digest.

Each page parses its input here, calls one service (:mod:`services.queues`, :mod:`services.alerts`,
:func:`services.cases.act`) and draws the result; the role and district checks are the services'.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from app.context import current_user
from app.i18n import ROLE_LABELS, error_text, label, t, worded
from app.safe_text import safe_t
from app.tables import localize, names, show_table
from cases.csv_safe import write_csv
from cases.lifecycle import TRANSITIONS
from services.cases import CaseAction, act
from services.context import ServiceContext
from services.errors import ServiceError
from services.queues import QueueRequest, districts

#: Service columns shown under a ``queue_`` key (their words are in app/texts/queues.py).
RENAMED = (
    "dispatched_at", "hours_left", "elapsed_share", "alert", "stage", "suggested_department", "inspector",
    "request", "requested_at", "requested_by", "reason", "requested_deadline", "near", "oldest_overdue_case",
    "oldest_overdue_deadline", "max_hours_overdue", "ok", "message", "at", "actor", "role", "note",
    "from_status", "to_status",
)  # fmt: skip
#: Coded columns and the prefix of their words (a categorical column is shown in words).
CODED = {"stage": "queue_stage_", "alert": "queue_alert_", "request": "queue_request_"}
ALERT_COLOURS = {"ok": [46, 160, 67, 200], "near": [245, 159, 0, 220], "overdue": [214, 39, 40, 230]}
SAFE_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def shown(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` of a service table ready for :func:`app.tables.show_table`: coded values as words,
    suggested departments by name, headers under their ``queue_`` keys."""
    out = frame[[c for c in columns if c in frame.columns]].copy()
    for name, prefix in CODED.items():
        if name in out:
            out[name] = pd.Categorical([None if pd.isna(v) else f"{prefix}{v}" for v in out[name]])
    if "suggested_department" in out:
        known = names().departments
        out["suggested_department"] = [
            known.get(v, v) if isinstance(v, str) else None for v in out["suggested_department"]
        ]
    if "deadline_at" in out and "to_status" in out:
        out = out.rename(columns={"deadline_at": "queue_event_deadline"})
    return out.rename(columns={c: f"queue_{c}" for c in RENAMED if c in out})


def run_or_stop(service: Callable[[ServiceContext, Any], Any], ctx: ServiceContext, request: Any) -> Any:
    """``service(ctx, request)``; a refusal or failure is shown (no traceback) and the page stops."""
    try:
        return service(ctx, request)
    except ServiceError as exc:
        st.error(error_text(exc))
        st.stop()
        raise  # unreachable: st.stop() raises


def _as_of(day: dt.date, timezone: str) -> dt.date | None:
    return None if day >= pd.Timestamp.now(tz=timezone).date() else day


def filters(ctx: ServiceContext, key: str, statuses: Sequence[str] = (), **extra: Any) -> QueueRequest:
    """District, categories, statuses, sort order and the day the time limits are computed for."""
    known, areas = names(), districts(ctx)
    with st.expander(t("q_filters")):
        left, right = st.columns(2)
        district = left.selectbox(
            t("q_district"),
            [None, *areas],
            format_func=worded(lambda d: t("q_all") if d is None else areas.get(d, d)),
            key=f"{key}_district",
        )
        sort = right.radio(
            t("q_sort"), ["deadline", "reported"], format_func=worded(lambda s: t(f"q_sort_{s}")),
            horizontal=True, key=f"{key}_sort",
        )  # fmt: skip
        categories = left.multiselect(
            t("q_categories"), sorted(known.categories),
            format_func=worded(lambda c: f"{c} {known.categories.get(c, '')}"), key=f"{key}_categories",
        )  # fmt: skip
        chosen = right.multiselect(
            t("q_statuses"), list(statuses), format_func=worded(), key=f"{key}_statuses"
        )
        today = pd.Timestamp.now(tz=ctx.timezone).date()
        day = left.date_input(t("q_as_of"), value=today, max_value=today, key=f"{key}_as_of")
    return QueueRequest(
        as_of=_as_of(day, ctx.timezone), district=district, categories=tuple(categories),
        statuses=tuple(chosen), sort=sort, **extra,
    )  # fmt: skip


def alert_metrics(
    table: pd.DataFrame, first: tuple[str, int] | None = None, *, total: str = "q_table"
) -> None:
    """Counts: the rows (under the text ``total``), near and overdue (and one more of the page's own)."""
    tiles = [(t(total), len(table))]
    if first is not None:
        tiles.append(first)
    tiles += [
        (t("q_near"), int((table["alert"] == "near").sum())),
        (t("q_overdue"), int((table["alert"] == "overdue").sum())),
    ]
    for column, (text, value) in zip(st.columns(len(tiles)), tiles, strict=True):
        column.metric(text, f"{value:,}")


def queue_table(table: pd.DataFrame, columns: Sequence[str], key: str) -> list[str]:
    """The queue in words with row selection; returns the case ids of the ticked rows."""
    frame = shown(table, columns)
    event = st.dataframe(
        frame, hide_index=True, width="stretch", column_config=localize(frame), key=key,
        on_select="rerun", selection_mode="multi-row",
    )  # fmt: skip
    rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    return [str(table["case_id"].iloc[i]) for i in rows if i < len(table)]


def pick_cases(table: pd.DataFrame, ticked: list[str], key: str) -> list[str]:
    """The ticked rows plus the cases chosen in a list (what the keyboard and tests use)."""
    label = dict(zip(table["case_id"], table["category"], strict=True))
    picked = st.multiselect(
        t("q_pick"), list(table["case_id"]), format_func=lambda c: f"{c} · {label.get(c, '')}", key=key
    )
    return list(dict.fromkeys([*ticked, *picked]))


def case_links(case_ids: Sequence[str]) -> None:
    """Links to the case page of each case (ids that are not plain ids are left out)."""
    links = [f"[{c}](case?case={urllib.parse.quote(c)})" for c in case_ids[:20] if SAFE_ID.match(c)]
    if links:
        st.markdown(f"{t('q_open_case')}: " + " · ".join(links))  # markdown-safe: SAFE_ID ids


def queue_map(table: pd.DataFrame, key: str) -> None:
    """The queue's cases as points coloured by alert level (deck.gl, no base map needed)."""
    from app.hexmap import basemap_style, view_of
    from app.maps import _to_display

    located = table.dropna(subset=["lat", "lon"])
    if located.empty:
        st.info(t("q_no_location"))
        return
    tiles = st.session_state.get("tiles", "none")
    lat, lon = _to_display(located["lat"].to_numpy(float), located["lon"].to_numpy(float), tiles)
    points = pd.DataFrame(
        {"lat": np.round(lat, 6), "lon": np.round(lon, 6), "case": located["case_id"].astype(str).to_numpy(),
         "colour": [ALERT_COLOURS.get(a, ALERT_COLOURS["ok"]) for a in located["alert"]]}
    )  # fmt: skip
    layer = pdk.Layer(
        "ScatterplotLayer", points, get_position=["lon", "lat"], get_fill_color="colour",
        get_radius=40, radius_min_pixels=4, pickable=True, id=f"{key}-points",
    )  # fmt: skip
    style = basemap_style(tiles)
    base = {"map_provider": "mapbox", "map_style": style} if style else {"map_provider": None}
    deck = pdk.Deck(layers=[layer], initial_view_state=view_of(lat, lon), tooltip={"text": "{case}"}, **base)
    st.pydeck_chart(deck, height=480, key=key)
    st.caption(t("q_map_note"))


def role_actions(statuses: Sequence[str]) -> list[str]:
    """The lifecycle actions the signed-in role may take from one of ``statuses``."""
    user = current_user()
    role = user.role if user is not None else None
    return [a for a, spec in TRANSITIONS.items() if role in spec.roles and set(spec.sources) & set(statuses)]


def bulk_form(ctx: ServiceContext, table: pd.DataFrame, case_ids: list[str], key: str) -> None:
    """One action for the chosen cases (a dispatch goes to each case's suggested department or to one
    department); each case's outcome is listed."""
    from services.queues import BulkRequest, bulk_act

    st.caption(t("q_selected", n=len(case_ids)))
    chosen = table[table["case_id"].isin(case_ids)]
    actions = role_actions(chosen["status"].unique().tolist())
    if not case_ids or not actions:
        if case_ids:
            st.info(t("q_no_actions"))
        return
    known = names().departments
    with st.form(f"{key}_form"):
        action = st.radio(
            t("q_action"), actions, format_func=worded(lambda a: t(f"q_act_{a}")), horizontal=True
        )
        department = st.selectbox(
            t("q_department"), [None, *sorted(known)],
            format_func=worded(lambda d: t("q_suggested") if d is None else known.get(d, d)),
        )  # fmt: skip
        note = st.text_input(t("note"), max_chars=500)
        submitted = st.form_submit_button(t("q_run"), type="primary")
    if not submitted:
        return
    request = BulkRequest(tuple(case_ids), action, department=department, note=note or None)
    done = run_or_stop(bulk_act, ctx, request)
    st.success(safe_t("q_bulk_done", done=done.done, failed=done.failed))
    outcome = done.to_frame()
    outcome["message"] = [
        None if ok else error_text(ServiceError(code, message))
        for ok, code, message in zip(outcome["ok"], outcome["code"], outcome["message"], strict=True)
    ]
    show_table(shown(outcome, ["case_id", "ok", "status", "message"]), key=f"{key}_outcome")


def act_on(ctx: ServiceContext, request: CaseAction, photos: tuple[Any, ...] = ()) -> bool:
    """One lifecycle action (:func:`services.cases.act`; with ``photos``, :class:`services.photos.PhotoUpload`
    evidence of it: :func:`services.photos.act_with_photos`); the outcome is shown. True when done."""
    try:
        if photos:
            from services.photos import act_with_photos

            done = act_with_photos(ctx, request, tuple(photos))
        else:
            done = act(ctx, request)
    except ServiceError as exc:
        st.error(error_text(exc))
        return False
    st.success(safe_t("q_done", case=request.case_id, status=worded()(done.status)))
    return True


def history(events: pd.DataFrame, key: str) -> None:
    """A case's events, oldest first."""
    columns = ["at", "from_status", "to_status", "actor", "role", "note", "deadline_at"]
    frame = shown(events, columns)
    for name in ("queue_from_status", "queue_to_status"):
        frame[name] = pd.Categorical(frame[name].astype(object))
    frame["queue_role"] = [label(ROLE_LABELS, r) if isinstance(r, str) else r for r in frame["queue_role"]]
    show_table(frame, key=key)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV (text cells defused), UTF-8 with a BOM so that Excel reads the Chinese."""
    buffer = io.StringIO()
    write_csv(frame, buffer)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")

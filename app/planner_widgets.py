"""What the planner pages share: cached service calls for the signed-in user
(:func:`app.context.service_context`), the filter bar and the clicked cell's history.

A page parses its widgets into a request, calls one service function through :func:`run` and draws the
result; the defaults, the cell universe, the time zone and the model are the service's. :func:`run` caches a
result per (database, city configuration, role, request), so a rerun that changes nothing computes nothing
and a changed ``gridpatrol.toml`` is never answered from a stale entry.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from app.context import db_key, service_context
from app.i18n import error_text, language, t, word, worded
from app.safe_text import safe_t
from grid.cells import strings_to_cells
from grid.config import CityConfig
from services.context import ServiceContext
from services.errors import ServiceError
from services.study import AnalysisFilters, CellHistoryRequest, PlannerOptions, cell_history, planner_options


@st.cache_data(ttl=300, max_entries=64, show_spinner=False)
def _cached(
    module: str, name: str, key: str, config: CityConfig, role: str, request: Any, _ctx: ServiceContext
) -> Any:
    del key, config, role  # the cache key with ``request``
    service = getattr(importlib.import_module(module), name)
    return service(_ctx) if request is None else service(_ctx, request)


def run(service: Callable[..., Any], request: Any = None) -> Any:
    """``service(ctx, request)`` (or ``service(ctx)``) for the signed-in user, cached."""
    ctx = service_context()
    return _cached(service.__module__, service.__name__, db_key(), ctx.config, ctx.actor.role, request, ctx)


def options_or_stop() -> PlannerOptions:
    """The filter bar's options; a "no cases" note and the end of the page when the store has none."""
    try:
        return run(planner_options)
    except ServiceError as exc:
        if exc.code == "no_cases":
            st.info(t("no_cases"))
        else:
            st.warning(error_text(exc))
        st.stop()
        raise  # unreachable: st.stop() raises


def run_or_stop(service: Callable[..., Any], request: Any) -> Any:
    """:func:`run`, with a failure of the request (an empty selection, too few periods, an unknown
    category …) said in words as a warning and the page stopped: no traceback."""
    try:
        return run(service, request)
    except ServiceError as exc:
        st.warning(error_text(exc))
        st.stop()
        raise


def _class_names(classes: dict[str, str]) -> dict[str, str]:
    """The filter's category classes named in the page's language (the service names them in Chinese)."""
    if language() != "en":
        return classes
    from services.study import category_table

    english = category_table().drop_duplicates("class_code").set_index("class_code")["class_name_en"]
    named = {code: english.get(code) for code in classes}
    return {code: str(named[code]) if pd.notna(named[code]) else name for code, name in classes.items()}


def filter_bar(options: PlannerOptions) -> AnalysisFilters:
    """Draw the filter widgets (three columns; defaults from the city configuration) and return the choice."""
    left, middle, right = st.columns(3)
    resolutions = list(options.resolutions)
    res = left.selectbox(t("resolution"), resolutions, index=resolutions.index(options.resolution))
    period = left.selectbox(t("period"), list(options.periods), format_func=worded())
    classes = _class_names(options.classes)
    picked = middle.multiselect(
        t("category_class"), list(classes), format_func=lambda c: f"{c} {classes.get(c, '')}"
    )
    sources = middle.multiselect(t("source"), list(options.sources), format_func=worded())
    first, last = options.first_day, options.last_day
    span = right.date_input(t("date_range"), value=(first, last), min_value=first, max_value=last)
    right.caption(safe_t("data_end", last=last))
    start, end = (span[0], span[-1]) if isinstance(span, tuple | list) and span else (first, last)
    return AnalysisFilters(int(res), str(period), tuple(picked), tuple(sources), start, end)


def target_select(container: Any = st, *, key: str = "analysis_target") -> str:
    """The analysis target select box (issue #24): ``reported`` (default), ``citizen`` or ``estimated``; a
    page passes the choice as its request's ``target`` (:mod:`services.exposure`)."""
    from services.exposure import TARGETS

    choice = container.selectbox(
        t("xp_target"),
        list(TARGETS),
        format_func=worded(lambda code: word(f"xp_target_{code}")),
        help=t("xp_target_help"),
        key=key,
    )
    if choice == "estimated":
        container.caption(t("xp_target_note"))
    return str(choice)


def pick_cell(table: pd.DataFrame, clicked: str | None, *, key: str) -> int | None:
    """The cell whose history to show: the clicked one (an H3 string), else one picked from ``table.h3``."""
    options = list(table["h3"].head(200))
    if clicked is not None:
        if clicked not in options:
            options.insert(0, clicked)
        st.session_state[key] = clicked
    if not options:
        return None
    choice = st.selectbox(t("cell_history_pick"), options, key=key)
    return int(strings_to_cells([choice])[0]) if choice else None


def cell_history_panel(
    table: pd.DataFrame, clicked: str | None, filters: AnalysisFilters, *, key: str
) -> None:
    """The picked cell's cases per period over the filters' range (a bar chart) and its cases (a table)."""
    cell = pick_cell(table, clicked, key=key)
    if cell is None:
        return
    history = run(cell_history, CellHistoryRequest(cell, filters))
    st.subheader(t("cell_history", cell=history.h3))
    chart = history.counts.rename(columns={"period_start": t("period"), "cases": t("cases")})
    st.bar_chart(chart, x=t("period"), y=t("cases"), height=220)
    from app.tables import show_table

    show_table(history.cases, timezone=service_context().timezone)


def study_caption(result: Any) -> None:
    """Say which cell universe the result covers (the stored areas' cells, or the cases' hull)."""
    study = result.study
    key = "universe_areas" if study.kind == "areas" else "universe_hull"
    st.caption(safe_t(key, n=f"{study.n_cells:,}", areas=study.n_areas, res=study.res, rings=study.rings))

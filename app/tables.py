"""Result tables in words: translated headers and class names, formatted numbers, local times.

:func:`show_table` is how a page shows a service's table: the frame keeps its column names (downloads and
tests read them), the headers are set through ``column_config`` in the page's language, coded values
(``hot_99``, ``intensifying_hot_spot``, ``closed``, ``patrol`` …) become words, rates are shown as
percentages, counts with thousands separators, p-values with three significant digits (scientific
notation below 0.001), and times in
the city's zone without an offset. The internal ``cell`` id is hidden when the ``h3`` string is there.
Categories (codes or the table's Chinese names) are shown by name in the page's language. A missing
value is shown as "–", never as ``None``, ``NaT``, ``nan`` or ``Infinity`` (:func:`displayable`).
The data themselves are not changed: the grid's column configuration does the wording (a select column
shows each code's words), so the table a page shows is still the table the CLI writes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app.context import city_config, db_key, service_context
from app.i18n import label, language, t, word, worded
from app.labels import CODED_COLUMNS, COLUMN_LABELS, DEDUCTION_LABELS
from services.study import DisplayNames, display_names

#: Columns holding p-values.
P_COLUMNS = frozenset({"gi_p", "gi_q", "gi_p_sim", "lisa_p", "trend_p", "moran_p", "p", "p_value"})
#: Columns holding a fraction 0–1 shown as a percentage (besides ``*_rate`` and ``*_share``).
PERCENT_COLUMNS = frozenset({"share", "deviation", "coverage_share", "gap"})
#: Columns holding a code the store (or the category table) has a name for: column → which names.
NAMED_COLUMNS = {
    "department": "departments",
    "district": "areas",
    "subdistrict": "areas",
    "community": "areas",
    "category": "categories",
    "category_code": "categories",
    "category_name": "categories",
}
#: What a missing value is shown as.
MISSING = "–"
#: Texts that are a missing value written out (a frame made with ``astype(str)``).
MISSING_TEXTS = frozenset({"nan", "NaN", "None", "NaT", "<NA>", "inf", "-inf", "Infinity", "-Infinity"})


@st.cache_data(ttl=300, max_entries=4, show_spinner=False)
def _names(key: str) -> DisplayNames:
    del key  # the cache key: one entry per database
    return display_names(service_context())


def names() -> DisplayNames:
    """The department, area and category names of the store (cached 5 minutes)."""
    return _names(db_key())


def category_names(table: pd.DataFrame, level: str = "name") -> pd.Series:
    """The ``name`` (or ``class_name``) of each row of a category table in the page's language: the
    ``_en`` column in English mode (Chinese where it is empty), else the ``_zh`` one."""
    chinese = table[f"{level}_zh"]
    english = f"{level}_en"
    return table[english].fillna(chinese) if language() == "en" and english in table else chinese


def category_words(known: DisplayNames) -> Callable[[Any], str]:
    """A category (a code, or a name of the category table) in the page's language: its name (English
    in English mode, when the table has one), else the value itself."""
    english = language() == "en"
    by_name = {
        zh: known.categories_en[code] for code, zh in known.categories.items() if code in known.categories_en
    }

    def words(value: Any) -> str:
        if not isinstance(value, str):
            return str(value)
        if value in known.categories:
            return (known.categories_en.get(value) if english else None) or known.categories[value]
        if english and value in by_name:
            return by_name[value]
        return word(value)

    return words


def column_label(name: str) -> str:
    """The header of column ``name`` in the page's language (the name itself when it has none)."""
    if name in COLUMN_LABELS:
        return label(COLUMN_LABELS, name)
    if name.startswith("deduct_"):
        return t("deduction", rule=label(DEDUCTION_LABELS, name.removeprefix("deduct_")))
    return name


def value_label(code: Any) -> Any:
    """A coded value in words (itself when it has no words)."""
    return word(code) if isinstance(code, str) else code


def p_value(p: float) -> str:
    """A p-value as people read it: "< 0.001", else three decimals; "–" when missing."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def percent(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage ("–" when missing or not finite)."""
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:.{digits}%}"


def _is_percent(name: str) -> bool:
    return name in PERCENT_COLUMNS or name.endswith(("_rate", "_share"))


def _choices(column: pd.Series, header: str, words: Callable[[Any], str]) -> Any:
    """A read-only select column: the codes stay in the data, the grid shows each one's words."""
    options = [v for v in column.dropna().unique().tolist() if isinstance(v, str)]
    return st.column_config.SelectboxColumn(header, options=options, format_func=worded(words))


def localize(frame: pd.DataFrame, timezone: str | None = None) -> dict[str, Any]:
    """The column config that shows ``frame`` in words: translated headers; coded values (classes,
    statuses, sources, models), departments and areas by name; rates as percentages, counts with
    separators, p-values with three significant digits (scientific below 0.001), times in the city's zone
    without an offset. The data themselves are not changed (the CLI writes the same table)."""
    config: dict[str, Any] = {}
    known = names() if any(c in frame.columns for c in NAMED_COLUMNS) else None
    for name in frame.columns:
        column = frame[name]
        header = column_label(str(name))
        text = column.dtype == object or pd.api.types.is_string_dtype(column)
        if name in NAMED_COLUMNS and text and known is not None:
            if NAMED_COLUMNS[name] == "categories":
                config[name] = _choices(column, header, category_words(known))
            else:
                lookup = getattr(known, NAMED_COLUMNS[name])
                config[name] = _choices(column, header, lambda v, lookup=lookup: lookup.get(v) or word(v))
        elif (name in CODED_COLUMNS and text) or isinstance(column.dtype, pd.CategoricalDtype):
            config[name] = _choices(column.astype(object), header, word)
        elif name in P_COLUMNS and pd.api.types.is_numeric_dtype(column):
            config[name] = st.column_config.NumberColumn(header, format="%.3g")
        elif pd.api.types.is_datetime64_any_dtype(column):
            when = st.column_config.DatetimeColumn(header, format="YYYY-MM-DD HH:mm", timezone=timezone)
            config[name] = when
        elif pd.api.types.is_bool_dtype(column):
            config[name] = st.column_config.CheckboxColumn(header)
        elif pd.api.types.is_numeric_dtype(column) and _is_percent(str(name)):
            config[name] = st.column_config.NumberColumn(header, format="percent")
        elif pd.api.types.is_integer_dtype(column):
            config[name] = st.column_config.NumberColumn(header, format="localized")
        elif pd.api.types.is_float_dtype(column):
            config[name] = st.column_config.NumberColumn(header, format="%.2f")
        else:
            config[name] = st.column_config.Column(header)
    if "cell" in frame.columns and "h3" in frame.columns:
        config["cell"] = None  # the internal id: the H3 string says the same
    return config


def _texty(column: pd.Series) -> bool:
    return column.dtype == object or pd.api.types.is_string_dtype(column)


def _written_missing(value: Any) -> bool:
    return isinstance(value, str) and value in MISSING_TEXTS


def displayable(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with what reads as a missing value made missing (shown as :data:`MISSING`): infinite
    numbers and missing values written out as text (``"nan"``, ``"None"``, ``"NaT"`` …). The frame
    itself when there is none (no copy)."""
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    infinite = [c for c in floats if frame[c].isin([np.inf, -np.inf]).any()]
    texts = [c for c in frame.columns if _texty(frame[c]) and any(map(_written_missing, frame[c].unique()))]
    if not infinite and not texts:
        return frame
    out = frame.copy()
    for name in infinite:
        out[name] = out[name].where(~out[name].isin([np.inf, -np.inf]))
    for name in texts:
        values = out[name]
        if isinstance(values.dtype, pd.CategoricalDtype):  # keep the categories (a select column)
            drop = [c for c in values.cat.categories if _written_missing(c)]
            out[name] = values.cat.remove_categories(drop)
        else:
            out[name] = values.astype(object).map(lambda v: None if _written_missing(v) else v)
    return out


def show_table(
    frame: pd.DataFrame, *, timezone: str | None = None, key: str | None = None, height: int | None = None
) -> None:
    """``st.dataframe`` of ``frame`` in words (:func:`localize`); a missing value shows as "–"."""
    shown = displayable(frame)
    config = localize(shown, timezone or city_config().timezone)
    kwargs: dict[str, Any] = {"key": key} if key else {}
    if height is not None:
        kwargs["height"] = height
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config, placeholder=MISSING, **kwargs)


def metric_label(code: str) -> str:
    """A class name for a metric tile (``hot_99`` → 热点（99% 置信）)."""
    return str(value_label(code))


__all__ = [
    "category_words", "column_label", "displayable", "localize", "metric_label", "p_value", "percent",
    "show_table",
]  # fmt: skip

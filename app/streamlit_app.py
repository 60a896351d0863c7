"""GridPatrol home page: what the database holds (``streamlit run app/streamlit_app.py``).

A thin page: it calls the store's read helpers and draws; no analysis happens here.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from cases.db import database_url, init_db, make_engine
from cases.models import ImportBatch
from cases.store import table_counts

TEXT = {
    "en": {
        "title": "GridPatrol",
        "tagline": "Grid city management: cells, cases, patrols and hotspots.",
        "holds": "What the database holds",
        "imports": "Recent imports",
        "none": "Nothing imported yet. Try: `gridpatrol import cases FILE --mapping boston311`.",
        "db": "Database",
    },
    "zh": {
        "title": "GridPatrol 网格巡查",
        "tagline": "网格化城市管理：网格、案件、巡查与热点。",
        "holds": "数据库现有数据",
        "imports": "最近导入",
        "none": "尚未导入数据。示例：`gridpatrol import cases FILE --mapping boston311`。",
        "db": "数据库",
    },
}
TABLE_LABELS = {
    "en": {},
    "zh": {
        "cases": "案件",
        "case_events": "案件流转记录",
        "inspectors": "监督员",
        "assignments": "网格分配",
        "areas": "行政区域",
        "departments": "处置部门",
        "users": "用户",
    },
}


@st.cache_resource
def _engine(url: str) -> sa.Engine:
    engine = make_engine(url)
    init_db(engine)
    return engine


@st.cache_data(ttl=30)
def _counts(url: str) -> dict[str, int]:
    return table_counts(_engine(url))


@st.cache_data(ttl=30)
def _recent_imports(url: str) -> pd.DataFrame:
    columns = [
        ImportBatch.kind,
        ImportBatch.source_file,
        ImportBatch.finished_at,
        ImportBatch.rows_read,
        ImportBatch.rows_imported,
        ImportBatch.rows_duplicate,
        ImportBatch.rows_quarantined,
    ]
    query = sa.select(*columns).order_by(ImportBatch.batch_id.desc()).limit(20)
    with _engine(url).connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=[c.key for c in columns])


def main() -> None:
    st.set_page_config(page_title="GridPatrol", layout="wide")
    lang = st.sidebar.radio("Language / 语言", ["zh", "en"], format_func={"zh": "中文", "en": "English"}.get)
    text = TEXT[lang]
    st.title(text["title"])
    st.caption(text["tagline"])
    st.subheader(text["holds"])
    url = database_url()
    counts = _counts(url)
    labels = TABLE_LABELS[lang]
    for column, (table, count) in zip(st.columns(len(counts)), counts.items(), strict=True):
        column.metric(labels.get(table, table), f"{count:,}")
    st.subheader(text["imports"])
    imports = _recent_imports(url)
    if imports.empty:
        st.info(text["none"])
    else:
        st.dataframe(imports, hide_index=True, use_container_width=True)
    shown = sa.engine.make_url(url).render_as_string(hide_password=True)
    st.caption(f"{text['db']}: {shown}")


main()

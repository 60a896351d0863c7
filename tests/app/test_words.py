"""Words, not codes: every page on the 60-day demo city, in Chinese and in English, shows no untranslated
snake_case token (a class, a status, a column name …) in a header, a label, a message or a coded table
column, and no English sentence in Chinese mode.

Allowed: H3 ids (hex, no underscore), text in code spans (`gridpatrol import areas`), file paths and URLs,
ids and free text typed by people (case ids, descriptions, addresses, usernames).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import use_data_copy

APP = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")
PASSWORD = "demo-password-1"  # conftest's users
PAGES = (
    "home", "hotspots", "recurring", "emerging", "forecast", "my_grid", "dashboard", "deployment", "coverage",
    "data",
)  # fmt: skip
SNAKE = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")
#: Three English words in a row (a sentence or a phrase) in Chinese mode.
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,']+[A-Za-z]{2,}){2,}")
#: A lowercase English word in a Chinese header or label.
WORD = re.compile(r"\b[a-z]{3,}\b")
#: Code spans, paths and URLs: what may stay as it is.
VERBATIM = re.compile(r"`[^`]*`|\S*[/\\]\S*")
#: Table columns whose values are ids or text people typed (not codes to translate).
FREE_COLUMNS = frozenset(
    {"case_id", "case_ids", "description", "address", "note", "username", "inspector_id", "inspector", "name",
     "source_file", "h3", "peak_h3", "reporter_phone", "sha256", "file", "path", "error", "reason"}
)  # fmt: skip
WIDGETS = (
    "selectbox", "multiselect", "radio", "date_input", "number_input", "slider", "text_input", "button",
)  # fmt: skip


def _headers(frame_element) -> list[str]:
    """The headers a data grid shows: each column's configured label, else its name (hidden ones left out)."""
    config = json.loads(frame_element.proto.columns or "{}")
    frame = frame_element.value
    shown = []
    for name in frame.columns:
        conf = config.get(str(name), config.get(f"_pos:{list(frame.columns).index(name)}"))
        if conf is not None and conf.get("hidden"):
            continue
        shown.append(str((conf or {}).get("label") or name))
    return shown


def _coded_values(frame_element) -> list[str]:
    """The words a select column shows for its codes, and the text of the other text columns."""
    config = json.loads(frame_element.proto.columns or "{}")
    frame = frame_element.value
    values: list[str] = []
    for name in frame.columns:
        options = ((config.get(str(name)) or {}).get("type_config") or {}).get("options")
        if options:
            values.extend(str(o.get("label", o.get("value"))) for o in options if isinstance(o, dict))
            continue
        text = frame[name].dtype == object or pd.api.types.is_string_dtype(frame[name])
        if str(name) in FREE_COLUMNS or not text:
            continue
        values.extend(str(v) for v in frame[name].dropna().unique()[:200])
    return values


def _shown(at: AppTest) -> dict[str, list[str]]:
    """What the page says: labels and headers (``labels``) and messages (``texts``)."""
    labels = [m.label for m in at.metric] + [str(m.value) for m in at.metric]
    for kind in WIDGETS:
        labels += [str(w.label) for w in getattr(at, kind)]
    for kind in ("selectbox", "multiselect", "radio"):
        labels += [str(o) for w in getattr(at, kind) for o in w.options]
    for frame in at.dataframe:
        labels += _headers(frame)
    texts = [str(e.value) for kind in ("title", "header", "subheader", "caption", "info", "warning", "error",
                                       "success", "markdown") for e in getattr(at, kind)]  # fmt: skip
    values = [v for frame in at.dataframe for v in _coded_values(frame)]
    return {"labels": labels, "texts": texts, "values": values}


def _strip(text: str) -> str:
    return VERBATIM.sub(" ", text)


def _untranslated(shown: dict[str, list[str]], lang: str) -> list[str]:
    found = []
    for where, items in shown.items():
        for item in items:
            plain = _strip(item)
            found += [f"{where}: {token!r} in {item[:80]!r}" for token in SNAKE.findall(plain)]
            if lang == "zh":
                english = [m.group(0) for m in ENGLISH.finditer(plain)]
                if where == "labels":
                    english += WORD.findall(plain)
                found += [f"{where}: English {e!r} in {item[:80]!r}" for e in english]
    return found


@pytest.fixture
def demo_city(_demo60_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_data_copy(_demo60_dir, tmp_path / "data", monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_speak_words_not_codes(demo_city: Path, lang: str) -> None:
    at = AppTest.from_file(APP, default_timeout=240).run()
    at.text_input[0].input("admin1")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    at.run()
    at.sidebar.radio[0].set_value(lang).run()
    problems = []
    for page in PAGES:
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        problems += [f"{page}: {p}" for p in _untranslated(_shown(at), lang)]
    at.switch_page("views/my_grid.py").run()
    at.button(key="suggest_route").click().run()  # the route's stops and why each is on it
    assert not at.exception, [e.value for e in at.exception]
    problems += [f"route: {p}" for p in _untranslated(_shown(at), lang)]
    assert not problems, "\n".join(problems)

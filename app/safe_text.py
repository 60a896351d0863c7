"""Data shown as text inside Markdown (issue #25: Markdown injection).

``st.success``, ``st.info``, ``st.warning``, ``st.error``, ``st.markdown``, ``st.caption`` and ``st.toast``
render their text as Markdown (with Streamlit's extras: ``:red[…]`` colours, ``:material/…:`` icons,
``$…$`` formulas). A data value embedded in such a text — a case id, a status, a CSV header, a citizen's
description, a file name — is therefore markup: ``![x](http://host/x.png)`` in a case id would make every
viewer's browser fetch from that host. Every such value goes through :func:`md` (or the whole sentence
through :func:`safe_t`), which backslash-escapes the characters that start Markdown (CommonMark lets any
ASCII punctuation be escaped; the reader sees the character itself) and folds line breaks, so the value
is shown as the text it is and can neither start a block nor a link, an image, an HTML tag, a colour or a
formula. Plain punctuation (``.``, ``,``, ``/``, ``-`` inside a word) is left alone.

``app.i18n.error_text`` escapes the parameters of a service error the same way.
tests/app/test_safe_text.py scans app/ for the Markdown calls and fails on a data value not passed
through these helpers.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re

from app.i18n import t

__all__ = ["md", "safe_t"]

#: Characters that start Markdown (links, images, emphasis, code, HTML, entities, Streamlit's ``:red[…]``,
#: ``:icon:``, ``$formula$``, ``http://`` and e-mail autolinks, tables, strikethrough, headings).
_ACTIVE = re.compile(r"([\\`*_{}\[\]()!|<>~$:@&#])")
_LEADING = re.compile(r"^(\s*)([-+=>.])")  # a list, rule or quote at the start of the value
_WWW = re.compile(r"(?i)\b(www)\.")  # a ``www.`` autolink
_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def md(value: object) -> str:
    """``value`` as Markdown text that renders as exactly its characters (line breaks become spaces)."""
    text = _BREAKS.sub(" ", "" if value is None else str(value))
    text = _ACTIVE.sub(r"\\\1", text)
    return _WWW.sub(r"\1\\.", _LEADING.sub(r"\1\\\2", text))


def _safe(value: object) -> object:
    """Numbers and times as they are (they carry no markup, and keep format specs such as ``{n:,}``
    working); anything else through :func:`md`."""
    if isinstance(value, numbers.Number | dt.date | dt.time | dt.timedelta) and not isinstance(value, bool):
        return value
    return md(value)


def safe_t(key: str, **values: object) -> str:
    """:func:`app.i18n.t` with every text value escaped by :func:`md` (the translated sentence keeps its
    own Markdown, the data in it is text; numbers and times are kept for the sentence's format specs)."""
    return t(key, **{name: _safe(value) for name, value in values.items()})

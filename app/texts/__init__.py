"""Per-feature words, merged into :mod:`app.i18n` and :mod:`app.labels`.

Each module here (one per feature: ``intake``, ``queues`` …) may define ``TEXT`` (page texts for ``t``),
``COLUMNS`` (column headers for :data:`app.labels.COLUMN_LABELS`) and ``VALUES`` (coded values for
:data:`app.labels.VALUE_LABELS`), each ``{key: {"zh": …, "en": …}}``. A key defined twice is an error, so
that two features cannot silently give one key two meanings.
"""

from __future__ import annotations

import importlib
import pkgutil

Words = dict[str, dict[str, str]]


def merged(name: str, base: Words | None = None) -> Words:
    """The ``name`` tables (``TEXT``, ``COLUMNS`` or ``VALUES``) of every module here, merged (and with
    ``base`` first). Raises ``ValueError`` on a key defined twice."""
    out: Words = dict(base or {})
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        table = getattr(importlib.import_module(f"{__name__}.{info.name}"), name, {})
        twice = set(out) & set(table)
        if twice:
            raise ValueError(f"app.texts.{info.name}.{name} defines keys defined elsewhere: {sorted(twice)}")
        out.update(table)
    return out

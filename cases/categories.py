"""Case category tables: the shipped standard codes, or a city's own table (CSV/xlsx with a ``code`` column).

The shipped table ``cases/data/categories.csv`` (DOMAIN.md §2.3–2.4) holds:

* GB/T 47678.5-2026 matters: every listed code of the event classes 06 市容环境, 07 宣传广告, 08 施工管理,
  09 街面秩序 and 10 其他事项 (the numbering gaps are the standard's, as transcribed), and the component-
  derived matters listed there (``<部件>异常``): all manhole covers 01001–01023 and the other listed items of
  classes 01–05;
* GB/T 30428.2-2013 codes of the project's compact table (§2.4). These are *inferred* from a production
  system whose codes equal GB/T 47678.5's small codes; 0117 绿地脏乱 and the component 0102 污水井盖 are
  unverified ([R] in DOMAIN.md).

Every row also has English names (``name_en``, ``class_name_en``: the project's translations, for the
English interface; the standards name in Chinese only).

Codes are unique across the whole table (4-digit GB/T 30428.2, 5-digit GB/T 47678.5), so a case's
``category_code`` alone finds its row.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cases.readers import ImportReadError, iter_chunks, open_table

__all__ = ["CATEGORY_COLUMNS", "SHIPPED_CATEGORIES", "load_categories"]

SHIPPED_CATEGORIES = Path(__file__).with_name("data") / "categories.csv"
#: Columns of the shipped table.
CATEGORY_COLUMNS = (
    "standard", "code", "name_zh", "class_code", "class_name_zh", "kind", "name_en", "class_name_en",
)  # fmt: skip


def load_categories(path: str | Path | None = None) -> pd.DataFrame:
    """Load a category table, every value a string (codes keep their leading zeros).

    Parameters
    ----------
    path
        A city's table (CSV in any encoding, or xlsx) with at least a ``code`` column (matched
        case-insensitively; other columns are kept, ``standard`` and ``kind`` are used to fill cases'
        ``category_standard``/``kind``). Default: the shipped standard table (:data:`CATEGORY_COLUMNS`).

    Returns
    -------
    pandas.DataFrame
        One row per category, object dtype, stripped; column ``code`` always present.

    Raises
    ------
    cases.readers.ImportReadError
        The file cannot be read or has no ``code`` column.
    """
    source = open_table(SHIPPED_CATEGORIES if path is None else path)
    frames = [chunk.frame for chunk in iter_chunks(source)]
    table = pd.concat(frames, ignore_index=True).astype(object) if frames else pd.DataFrame()
    table = table.rename(columns=lambda c: str(c).strip().lower() if str(c).strip().lower() == "code" else c)
    if "code" not in table.columns:
        msg = f"{source.path}: a category table needs a 'code' column (columns: {', '.join(table.columns)})"
        raise ImportReadError(msg)
    return table.apply(lambda s: s.str.strip())

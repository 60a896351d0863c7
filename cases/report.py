"""What an import did: counts that add up, the quarantined rows with their reasons, warnings.

Every importer returns an ``ImportReport``. The invariant ``read == imported + duplicates + quarantined``
holds for every report (``flagged`` and ``defective`` rows are subsets of ``imported``);
``ImportReport.check`` enforces it so that an importer that loses a row fails loudly instead of silently.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

QUARANTINE_COLUMNS = ("file", "line", "field", "reason", "detail", "raw")
#: ``outcome`` of a row of the quarantine CSV: not imported, or imported with one field emptied.
QUARANTINED, FIELD_EMPTIED = "quarantined", "imported, field emptied"


@dataclasses.dataclass
class ImportReport:
    """Outcome of importing one file.

    Attributes
    ----------
    kind : str
        What was imported: ``cases``, ``inspectors``, ``assignments``, ``areas`` …
    file : str
        The input file as given.
    read, imported, duplicates, quarantined : int
        Row counts; ``read == imported + duplicates + quarantined``.
    flagged : int
        Imported rows that carry a data-quality flag (e.g. a suspicious location cluster).
    defective : int
        Imported rows with at least one field defect (a bad optional field imported empty).
    updated : int
        Duplicates whose stored row was updated (``on_duplicate="update"``); part of ``duplicates``.
    quarantine : pandas.DataFrame
        One row per quarantined input row, columns ``file``, ``line`` (1-based line of the data row in the
        file, the header being line 1 for CSV), ``field``, ``reason`` (a stable snake_case code), ``detail``
        (human-readable), ``raw`` (the row as the source had it, JSON).
    defects : pandas.DataFrame
        One row per field defect of an imported (or updated) row, same columns as ``quarantine``; ``raw``
        is the field's value as the source had it (the row itself was imported, with that field empty).
    warnings : list of str
        Things the user should know that did not stop the import.
    batch_id : int or None
        The ``import_batches`` row recording this run.
    """

    kind: str
    file: str
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    quarantined: int = 0
    flagged: int = 0
    updated: int = 0
    defective: int = 0
    quarantine: pd.DataFrame = dataclasses.field(
        default_factory=lambda: pd.DataFrame(columns=list(QUARANTINE_COLUMNS))
    )
    defects: pd.DataFrame = dataclasses.field(
        default_factory=lambda: pd.DataFrame(columns=list(QUARANTINE_COLUMNS))
    )
    warnings: list[str] = dataclasses.field(default_factory=list)
    batch_id: int | None = None

    def check(self) -> ImportReport:
        """Raise ``RuntimeError`` if the counts do not add up (an importer bug, never a data problem)."""
        if self.read != self.imported + self.duplicates + self.quarantined:
            msg = (
                f"{self.file}: counts do not add up: read {self.read} != imported {self.imported} "
                f"+ duplicates {self.duplicates} + quarantined {self.quarantined}"
            )
            raise RuntimeError(msg)
        if self.defective > self.imported:
            msg = f"{self.file}: {self.defective} rows with field defects but only {self.imported} imported"
            raise RuntimeError(msg)
        if len(self.quarantine) != self.quarantined:
            msg = f"{self.file}: {self.quarantined} quarantined but {len(self.quarantine)} quarantine rows"
            raise RuntimeError(msg)
        return self

    def summary(self) -> str:
        """The one-line summary the CLI prints: ``read N, imported K, duplicates D, quarantined Q``, and
        ``; K imported, of which F with field defects`` when some imported rows had a field emptied."""
        line = (
            f"{self.file}: read {self.read}, imported {self.imported}, duplicates {self.duplicates}, "
            f"quarantined {self.quarantined}"
        )
        if self.flagged:
            line += f" (flagged {self.flagged})"
        if self.defective:
            line += f"; {self.imported} imported, of which {self.defective} with field defects"
        return line

    def reasons(self) -> pd.Series:
        """Quarantined row counts by reason, largest first."""
        return self.quarantine["reason"].value_counts()

    def defect_reasons(self) -> pd.Series:
        """Field defect counts by ``reason field`` (``closed_before_reported closed_at`` …), largest first."""
        if self.defects.empty:
            return pd.Series(dtype=np.int64)
        return (self.defects["reason"].astype(str) + " " + self.defects["field"].astype(str)).value_counts()

    def write_quarantine(self, path: str | Path) -> Path:
        """Write the quarantined rows and the field defects as UTF-8 CSV (BOM included, so Excel shows
        Chinese), with a first column ``outcome``: ``quarantined`` (the row was not imported) or
        ``imported, field emptied`` (a field defect); return the path."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        frames = [self.quarantine.assign(outcome=QUARANTINED)]
        if len(self.defects):
            frames.append(self.defects.assign(outcome=FIELD_EMPTIED))
        table = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        table = table.reindex(columns=["outcome", *QUARANTINE_COLUMNS])
        from cases.csv_safe import write_csv

        write_csv(table, out, encoding="utf-8-sig")
        return out

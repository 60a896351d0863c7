"""Every report of the command line works on a core install (no ``[web]``, ``[dask]``, ``[api]`` …).

The commands run on the 60-day demo city with every optional module made uninstalled (the launcher of
``tests/test_packaging.py``); each writes its table and tries none of those modules.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.test_packaging import LAUNCHER, OPTIONAL_MODULES

COMMANDS = {
    "recurring": ["recurring", "--res", "9", "--period", "week"],
    "forecast": ["forecast", "--res", "9", "--period", "week"],
    "kpi": ["kpi", "--by", "department"],
    "coverage": ["coverage", "--from", "2025-02-10", "--to", "2025-02-12"],
    "neglect": ["neglect", "--as-of", "2025-02-12"],
    "effectiveness": ["effectiveness", "--from", "2025-02-10", "--to", "2025-02-12"],
    "beats": ["beats", "--inspectors", "4"],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_reports_work_without_any_extra(name: str, demo60: Path, tmp_path: Path) -> None:
    out = tmp_path / f"{name}.csv"
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, ",".join(OPTIONAL_MODULES), *COMMANDS[name], "--out", str(out)],
        cwd=tmp_path,
        env={**os.environ, "GRIDPATROL_DATA_DIR": str(demo60)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.rstrip().endswith("blocked:"), done.stderr  # not even tried
    assert len(pd.read_csv(out)) > 0

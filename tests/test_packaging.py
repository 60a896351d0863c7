"""One distribution with extras: the core (``pip install gridpatrol``) pulls neither the web front-end nor
Dask, and the command line's analyses work without them; the licence files ship with the package."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
#: Modules of the extras; the core must neither need nor import them.
OPTIONAL_MODULES = ("streamlit", "streamlit_folium", "folium", "branca", "pydeck", "altair", "dask",
                    "distributed", "psycopg", "fastapi", "uvicorn")  # fmt: skip

#: Runs ``gridpatrol ARGS`` with every optional module made uninstalled: importing one raises ImportError,
#: as in a fresh ``pip install .`` without extras. Each attempt is listed on stderr after ``blocked:``.
LAUNCHER = textwrap.dedent(
    """
    import atexit, sys

    BLOCKED = set(sys.argv[1].split(","))
    tried = []

    class Uninstalled:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                tried.append(name)
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Uninstalled())
    atexit.register(lambda: print("blocked:", ",".join(sorted(set(tried))), file=sys.stderr))
    from app.cli import main

    main(sys.argv[2:], prog_name="gridpatrol")
    """
)


def _name(requirement: str) -> str:
    """The normalised project name of a requirement (``streamlit_folium>=0.22`` → ``streamlit-folium``)."""
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_core_dependencies_have_no_front_end_and_no_dask() -> None:
    core = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert not core & {"streamlit", "streamlit-folium", "folium", "pydeck", "altair", "dask", "distributed"}
    assert not core & {"psycopg", "fastapi", "uvicorn"}
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {"web", "api", "dask", "postgres", "dev", "all"} <= set(extras)
    assert {_name(r) for r in extras["web"]} >= {"streamlit", "streamlit-folium", "folium", "pydeck"}
    assert {_name(r) for r in extras["dask"]} == {"dask"}
    assert {_name(r) for r in extras["postgres"]} == {"psycopg"}
    assert {_name(r) for r in extras["api"]} >= {"fastapi", "uvicorn"}
    assert extras["all"] == ["gridpatrol[web,api,dask,postgres]"]


def test_the_lock_pins_every_extra() -> None:
    """``make install`` installs everything from requirements.lock: every extra's packages are pinned."""
    lock = (REPO / "requirements.lock").read_text(encoding="utf-8")
    pinned = {m.lower() for m in re.findall(r"^([A-Za-z0-9_.-]+)==", lock, flags=re.MULTILINE)}
    wanted = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    for name, requirements in PYPROJECT["project"]["optional-dependencies"].items():
        wanted |= {_name(r) for r in requirements if not r.startswith("gridpatrol[")}
        assert name  # every extra is compiled (`make lock`: --all-extras)
    assert wanted <= pinned, sorted(wanted - pinned)
    assert "--all-extras" in lock.splitlines()[1]


def test_licences_ship_with_the_package() -> None:
    project = PYPROJECT["project"]
    assert project["license"] == "MIT"
    assert set(project["license-files"]) == {"LICENSE", "NOTICE", "LICENSES/*"}
    assert "MIT License" in (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in (REPO / "LICENSES" / "Apache-2.0.txt").read_text(encoding="utf-8")
    notice = (REPO / "NOTICE").read_text(encoding="utf-8")
    for module in sorted((REPO / "grid").glob("_h3_*.py")):
        assert f"grid/{module.name}" in notice
        assert "NOTICE" in module.read_text(encoding="utf-8").split('"""')[1], module.name


def _boston_cases(path: Path) -> None:
    """240 cases in the Boston 311 export's layout (``--mapping boston311``): background and one busy cell."""
    rng = np.random.default_rng(3)
    n_bg, n_hot = 160, 80
    lat = np.concatenate([42.355 + rng.uniform(-0.006, 0.006, n_bg), 42.3551 + rng.uniform(0, 1e-4, n_hot)])
    lon = np.concatenate([-71.06 + rng.uniform(-0.008, 0.008, n_bg), -71.0601 + rng.uniform(0, 1e-4, n_hot)])
    opened = pd.Timestamp("2015-03-02") + pd.to_timedelta(rng.uniform(0, 8 * 7 * 24, n_bg + n_hot), unit="h")
    pd.DataFrame(
        {
            "CASE_ENQUIRY_ID": np.arange(101000000, 101000000 + n_bg + n_hot),
            "OPEN_DT": opened.strftime("%m/%d/%Y %I:%M:%S %p"),
            "TARGET_DT": "",
            "CLOSED_DT": "",
            "TYPE": rng.choice(
                ["Request for Pothole Repair", "Missed Trash/Recycling/Yard Waste/Bulk Item"], 240
            ),
            "Department": "PWDx",
            "Source": "Constituent Call",
            "CASE_STATUS": "Open",
            "LATITUDE": lat,
            "LONGITUDE": lon,
            "CASE_TITLE": "test",
            "Location": "",
        }
    ).to_csv(path, index=False)


@pytest.mark.slow
def test_hotspots_from_a_file_without_any_extra(tmp_path: Path) -> None:
    """``gridpatrol hotspots --cases F --mapping M`` with streamlit, folium, pydeck, Dask, psycopg … all
    uninstalled: it works and tries none of them; an HTML map says which extra it needs."""
    cases = tmp_path / "cases.csv"
    _boston_cases(cases)
    env = {**os.environ, "GRIDPATROL_DATA_DIR": str(tmp_path / "data")}
    env.pop("GRIDPATROL_DB_URL", None)
    blocked = ",".join(OPTIONAL_MODULES)

    def gridpatrol(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", LAUNCHER, blocked, *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    out = tmp_path / "hot.csv"
    done = gridpatrol("hotspots", "--cases", str(cases), "--mapping", "boston311", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.rstrip().endswith("blocked:"), done.stderr  # not even tried
    frame = pd.read_csv(out, dtype={"h3": str})
    assert {"h3", "count", "gi_z", "gi_class"} <= set(frame.columns)
    assert frame["count"].sum() == 240
    assert frame["gi_class"].str.startswith("hot_").any()

    html = gridpatrol("hotspots", "--cases", str(cases), "--mapping", "boston311", "--out", "hot.html")
    assert html.returncode == 1, html.stdout + html.stderr
    assert "pip install 'gridpatrol[web]'" in html.stderr
    assert "Traceback" not in html.stderr
    assert not (tmp_path / "hot.html").exists()

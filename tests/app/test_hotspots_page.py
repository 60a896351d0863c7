"""The planner's hot-spot page: a planted cluster comes out hot; other roles are refused."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.models import Case
from grid.cells import latlng_to_cells

XSS = "<img src=x onerror=alert(1)>"


def _plant_cases(engine: Engine) -> None:
    rng = np.random.default_rng(3)
    start = dt.datetime(2025, 3, 3, 1, tzinfo=dt.UTC)
    background = 300
    cluster = 120
    lat = np.concatenate([rng.uniform(31.99, 32.03, background), 32.01 + rng.normal(0, 0.0004, cluster)])
    lon = np.concatenate([rng.uniform(120.84, 120.88, background), 120.86 + rng.normal(0, 0.0004, cluster)])
    cells = latlng_to_cells(lat, lon, 10)
    days = rng.integers(0, 84, lat.size)
    rows = [
        {
            "case_id": f"C{i}",
            "source": "hotline",
            "category_code": "06010",
            "lat": float(lat[i]),
            "lon": float(lon[i]),
            "cell": int(cells[i]),
            "reported_at": start + dt.timedelta(days=int(days[i]), minutes=i),
            "description": XSS,
            "version": 1,
        }
        for i in range(lat.size)
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(Case), rows)


#: The hot-99 class as the Chinese page shows it.
HOT_99 = "热点（99% 置信）"


def test_planner_sees_the_planted_cluster_as_hot(app_db: Engine, login) -> None:
    _plant_cases(app_db)
    at = login("planner")
    at.switch_page("views/hotspots.py").run()
    assert not at.exception
    metrics = {m.label: int(m.value.replace(",", "")) for m in at.metric}
    assert metrics[HOT_99] >= 1  # the class in words
    areas, table = at.dataframe[0].value, at.dataframe[1].value
    busiest = table.loc[table["count"].idxmax()]
    # the hot-spot areas: the planted cluster (120 cases) is the first, peaking in a hot-99 cell
    assert areas.iloc[0]["area"] == 1
    assert areas.iloc[0]["n_cells"] >= 3
    assert areas.iloc[0]["count"] >= 100
    assert table.set_index("h3").loc[areas.iloc[0]["h3"], "gi_class"] == "hot_99"
    assert "cells" not in areas.columns
    # its cases are spread evenly over the 12 weeks: its share of the cases neither rises nor falls
    assert areas.iloc[0]["trend"] == "steady"
    assert -0.5 < areas.iloc[0]["trend_tau"] < 0.5
    assert busiest["count"] >= 50  # the planted cluster
    assert busiest["gi_class"] == "hot_99"
    assert table.iloc[0]["gi_class"] == "hot_99"  # sorted by z
    # The map: one deck.gl layer of cell ids, the planted cluster's cell filled with the hot-99 colour.
    (chart,) = at.get("deck_gl_json_chart")
    (layer,) = json.loads(chart.proto.json)["layers"]
    assert layer["@@type"] == "H3HexagonLayer"
    colours = {row["h3"]: row["fill"][:3] for row in layer["data"]}
    assert colours[busiest["h3"]] == [0xD6, 0x2F, 0x27]
    shown = table.loc[(table["count"] > 0) | (table["gi_class"] != "not_significant"), "h3"]
    assert set(shown) <= set(colours)  # the table shows the top 200 rows, the map every cell with cases


def test_an_empty_database_says_so(app_db: Engine, login) -> None:
    at = login("manager")
    at.switch_page("views/hotspots.py").run()
    assert not at.exception
    assert at.info[0].value == "数据库中还没有带位置的案件。"


def test_an_inspector_cannot_open_the_page(app_db: Engine, login) -> None:
    _plant_cases(app_db)
    at = login("inspector")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/hotspots.py")  # not in the inspector's navigation at all
    assert not at.exception

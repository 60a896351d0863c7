"""cases.routing_rules: components to the owner first, events to the territory first, unknowns flagged."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cases.routing_rules import RoutingRule, RoutingTable, load_routing_table, route_cases
from sim.config import DEFAULT_CATEGORY_MIX, DEFAULT_DEPARTMENTS

DISTRICTS = ("320602", "320611", "320612")


def test_shipped_table_routes_the_demo_city_as_the_simulator_does() -> None:
    """The simulator sends every case to ``<district>-<key>`` with the key of its category (sim/run.py)."""
    departments = [f"{d}-{k}" for d in DISTRICTS for k, _ in DEFAULT_DEPARTMENTS]
    rows = [
        (code, kind, d, f"{d}-{key}") for code, _, kind, key, _ in DEFAULT_CATEGORY_MIX for d in DISTRICTS
    ]
    frame = pd.DataFrame(rows, columns=["code", "kind", "district", "expected"])
    routed = route_cases(frame["code"], frame["kind"], frame["district"], departments)
    assert routed["route_flag"].isna().all()
    assert (routed["department"].to_numpy() == frame["expected"].to_numpy()).all()
    components = frame["kind"].eq("component").to_numpy()
    assert set(routed["via"][components]) == {"owner"}
    assert set(routed["via"][~components]) == {"territory"}


def test_owner_first_for_components_territory_first_for_events() -> None:
    table = RoutingTable([RoutingRule("01*", "component", "SW", "CG"), RoutingRule("*", "event", "SZ", "CG")])
    # the owner is a city-wide department (水务局 "SW"): a component goes there, not to the district's 城管
    out = route_cases(
        ["01002", "06010"], ["component", "event"], ["D1", "D1"], ["SW", "D1-CG", "D1-SZ"], table=table
    )
    assert out["department"].tolist() == ["SW", "D1-CG"]
    assert out["via"].tolist() == ["owner", "territory"]
    # no owner department at all: the component falls back to the territory; the event to the owner
    out = route_cases(
        ["01002", "06010"], ["component", "event"], ["D1", "D1"], ["D1-CG", "D1-SZ"], table=table
    )
    assert out["department"].tolist() == ["D1-CG", "D1-CG"]
    out = route_cases(["06010"], ["event"], ["D2"], ["D2-SZ"], table=table)
    assert (out["department"].iloc[0], out["via"].iloc[0]) == ("D2-SZ", "owner")


def test_unknown_routes_are_flagged_not_guessed() -> None:
    table = RoutingTable([RoutingRule("06*", "event", None, "HW")])
    out = route_cases(
        ["06010", "09009", "06010", "06010"],
        ["event", "event", "event", None],
        ["D1", "D1", "D9", None],
        ["D1-HW"],
        table=table,
    )
    assert out["department"].tolist()[0] == "D1-HW"
    assert out["department"].isna().tolist() == [False, True, True, True]
    assert out["route_flag"].tolist()[1:] == ["no_rule", "no_department", "no_district"]


def test_load_routing_table_from_csv_and_toml(tmp_path: Path) -> None:
    shipped = load_routing_table()
    assert shipped.rule_for("06010", "event").territory == "HW"
    assert shipped.rule_for("01999", "component").owner == "SZ"  # 01* prefix
    assert shipped.rule_for("99999", "event").territory == "CG"  # the catch-all
    toml = tmp_path / "r.toml"
    toml.write_text(
        '[[rule]]\ncategory_code = "*"\nkind = "*"\nowner = ""\nterritory = "CG"\n', encoding="utf-8"
    )
    assert load_routing_table(toml).rule_for("x", "component").candidates("component") == (
        ("territory", "CG"),
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("category_code,kind,owner,territory\n*,thing,,CG\n", encoding="utf-8")
    with pytest.raises(ValueError, match="kind must be"):
        load_routing_table(bad)

"""Case files with only an address: located through the city's address table (issue #22, "Addresses").

A test city table of 10 Chinese and 10 English addresses (one with aliases) and 100 case rows that write
them in 5 styles each; ≥ 95 % land on the right point, the rest are ``no_location`` (never dropped).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.addresses import import_addresses, normalize_address
from cases.case_geocode import ADDRESS_EXACT, ADDRESS_NORMALIZED
from cases.importing import import_cases
from cases.models import Address, Case

#: (address, Chinese-numeral spelling, lat, lon) of the Chinese half of the table.
CHINESE = [
    ("人民路12号", "人民路十二号"),
    ("青年路5号", "青年路五号"),
    ("工农路3幢", "工农路三幢"),
    ("城山路108号", "城山路一百零八号"),
    ("濠河路23号", "濠河路二十三号"),
    ("南大街7号", "南大街七号"),
    ("钟秀路15弄", "钟秀路十五弄"),
    ("文峰路9号", "文峰路九号"),
    ("崇川路1号", "崇川路一号"),
    ("世纪大道200号", "世纪大道二百号"),
]
#: (address as in the table, spelled with abbreviations) of the English half.
ENGLISH = [
    ("1200 Market Street", "1200 Market St"),
    ("55 North Point Avenue", "55 N Point Ave"),
    ("300 Mission Boulevard", "300 Mission Blvd"),
    ("18 First Avenue", "18 1st Ave"),
    ("742 Evergreen Terrace", "742 Evergreen Ter"),
    ("10 Downing Road", "10 Downing Rd"),
    ("9 Ocean Drive", "9 Ocean Dr"),
    ("400 Pine Lane", "400 Pine Ln"),
    ("77 Union Square", "77 Union Sq"),
    ("5 Golden Gate Highway", "5 Golden Gate Hwy"),
]
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _styles_chinese(address: str, numerals: str) -> list[str]:
    return [
        address,  # as in the table
        address.translate(_FULL_WIDTH),  # full-width digits
        numerals,  # Chinese numerals
        re.sub(r"(\d+)", r" \1 ", address).replace("号", "號"),  # spaces around the number, traditional 號
        "江苏省南通市崇川区" + address,  # province, city and district in front
    ]


def _styles_english(address: str, short: str) -> list[str]:
    return [address, address.upper(), short, f"{short.lower()}., ", f"#{short.upper()}."]


@pytest.fixture
def city(tmp_path: Path, store_engine: Engine) -> dict[str, tuple[float, float]]:
    """The address table imported; returns address → (lat, lon)."""
    rows, points = [], {}
    for k, (address, _) in enumerate(CHINESE):
        points[address] = (32.0 + k * 0.003, 120.85 + k * 0.002)
    for k, (address, _) in enumerate(ENGLISH):
        points[address] = (37.75 + k * 0.003, -122.45 + k * 0.002)
    for address, (lat, lon) in points.items():
        aliases = "Twelve Hundred Market; Market Plaza 1200" if address == "1200 Market Street" else ""
        rows.append({"address": address, "lat": lat, "lon": lon, "aliases": aliases})
    path = tmp_path / "addresses.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    report = import_addresses(path, store_engine)
    assert (report.read, report.imported, report.quarantined) == (20, 20, 0)
    assert any("2 alias row(s)" in w for w in report.warnings)
    return points


def _case_file(path: Path, addresses: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["case_id", "category", "reported_at", "address"])
        for i, address in enumerate(addresses):
            writer.writerow([f"A{i:03d}", "06010", "2024-03-05 08:00:00", address])
    return path


def _stored(engine: Engine) -> pd.DataFrame:
    c = Case.__table__.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(c.case_id, c.lat, c.lon, c.cell, c.location_flag, c.address)).all()
    return pd.DataFrame(rows, columns=["case_id", "lat", "lon", "cell", "flag", "address"]).set_index(
        "case_id"
    )


def test_100_addresses_in_5_styles(tmp_path: Path, store_engine: Engine, city: dict) -> None:
    written, truth = [], []
    for address, numerals in CHINESE:
        for text in _styles_chinese(address, numerals):
            written.append(text)
            truth.append(city[address])
    for address, short in ENGLISH:
        for text in _styles_english(address, short):
            written.append(text)
            truth.append(city[address])
    assert len(written) == 100
    unknown = ["不存在路99号", "999 Nowhere Street"]
    report = import_cases(_case_file(tmp_path / "cases.csv", written + unknown), store_engine)
    assert (report.read, report.imported, report.quarantined) == (102, 102, 0)
    stored = _stored(store_engine)
    lat, lon = stored["lat"].to_numpy(dtype=float), stored["lon"].to_numpy(dtype=float)
    expected = np.array(truth + [(np.nan, np.nan)] * 2)
    right = np.isclose(lat, expected[:, 0], atol=1e-9) & np.isclose(lon, expected[:, 1], atol=1e-9)
    assert right[:100].mean() >= 0.95
    flags = stored["flag"].to_numpy(dtype=object)
    # every case is stored: on its point with the match kind, or without a location; never elsewhere
    assert set(flags[~right]) <= {"no_location"}
    assert np.isnan(lat[~right]).all()
    assert set(flags[right]) <= {ADDRESS_EXACT, ADDRESS_NORMALIZED}
    assert stored["cell"].notna().to_numpy().tolist() == right.tolist()
    assert (flags[0:100:5] == ADDRESS_EXACT).all()  # style 1 is the table's own text
    assert any("not in the address table" in w for w in report.warnings)


def test_aliases_are_rows_on_the_same_point(tmp_path: Path, store_engine: Engine, city: dict) -> None:
    with store_engine.connect() as conn:
        a = Address.__table__.c
        rows = conn.execute(sa.select(a.normalized, a.lat, a.lon)).all()
    points = {key: (la, lo) for key, la, lo in rows}
    assert points[normalize_address("Twelve Hundred Market")] == city["1200 Market Street"]
    report = import_cases(
        _case_file(tmp_path / "c.csv", ["market plaza 1200", "TWELVE HUNDRED MARKET"]), store_engine
    )
    assert report.imported == 2
    stored = _stored(store_engine)
    assert stored[["lat", "lon"]].apply(tuple, axis=1).tolist() == [city["1200 Market Street"]] * 2
    assert stored["flag"].tolist() == [ADDRESS_NORMALIZED] * 2


def test_english_normalisation_known_answers() -> None:
    same = [
        ("1200 Market Street", "1200 MARKET ST."),
        ("55 North Point Avenue", "55 n. point ave"),
        ("18 First Avenue", "18 1st Av"),
        ("300 Mission Boulevard", "300 mission blvd,"),
        ("742 Evergreen Terrace", "742 Evergreen Ter"),
    ]
    for a, b in same:
        assert normalize_address(a) == normalize_address(b), (a, b)
    assert normalize_address("18 1st Ave") != normalize_address("181st Ave")  # a gap between numbers stays


def test_without_an_address_table_every_case_is_kept_without_a_location(
    tmp_path: Path, store_engine: Engine
) -> None:
    report = import_cases(_case_file(tmp_path / "c.csv", ["人民路12号", "1200 Market Street"]), store_engine)
    assert report.imported == 2
    assert _stored(store_engine)["flag"].tolist() == ["no_location"] * 2


def test_update_places_a_case_when_the_table_arrives(tmp_path: Path, store_engine: Engine) -> None:
    path = _case_file(tmp_path / "c.csv", ["人民路12号"])
    import_cases(path, store_engine)
    table = tmp_path / "a.csv"
    table.write_text("address,lat,lon\n人民路12号,32.01,120.86\n", encoding="utf-8")
    import_addresses(table, store_engine)
    report = import_cases(path, store_engine, on_duplicate="update")
    assert report.updated == 1
    stored = _stored(store_engine).iloc[0]
    assert (stored["lat"], stored["lon"], stored["flag"]) == (32.01, 120.86, ADDRESS_EXACT)


def test_coordinates_first_and_address_points_are_no_cluster(tmp_path: Path, store_engine: Engine) -> None:
    """Rows with coordinates keep them; 120 rows on one table address are not a default-geocode cluster."""
    table = tmp_path / "a.csv"
    table.write_text("address,lat,lon\n人民路12号,32.01,120.86\n", encoding="utf-8")
    import_addresses(table, store_engine)
    lines = ["case_id,category,reported_at,lat,lon,address"]
    lines += [f"L{i},06010,2024-03-05 08:00:00,{32.0 + i * 1e-3:.4f},120.87,人民路12号" for i in range(100)]
    lines += [f"P{i},06010,2024-03-05 08:00:00,,,人民路12号" for i in range(120)]
    path = tmp_path / "c.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_cases(path, store_engine)
    assert (report.imported, report.flagged) == (220, 0)
    stored = _stored(store_engine)
    assert stored.filter(like="L", axis=0)["flag"].isna().all()  # their own coordinates, not the table's
    placed = stored.filter(like="P", axis=0)
    assert (placed["flag"] == ADDRESS_EXACT).all()
    assert (placed["lat"] == 32.01).all()

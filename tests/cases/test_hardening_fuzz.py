"""Fuzz (hypothesis): arbitrary CSV bytes through the case importer never raise a traceback, and
``read == imported + duplicates + quarantined`` always holds (issue #25)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from cases.db import init_db, make_engine
from cases.importing import ImportReadError, import_cases

HEADER = b"case_id,reported_at,category_code,lat,lon,description\n"
ROW = "A{i},2025-01-02 08:00,road,31.23,121.47,desc {i}\n"
#: Pieces that stress quoting, line ends and encodings.
PIECES = [
    b'"',
    b'""',
    b",",
    b"\n",
    b"\r\n",
    b"\r",
    b"x",
    b" ",
    "路边有垃圾".encode(),
    "路边有垃圾".encode("gbk"),
    b"\xff",
    b"\xe4\xb8",
    b"2025-01-02 08:00",
    b"=HYPERLINK(1)",
    b"\t",
]
_COUNTER = itertools.count()


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
    init_db(engine)
    yield engine
    engine.dispose()


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    rows = []
    for i in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            rows.append(ROW.format(i=i).encode())
        else:
            rows.append(b"".join(draw(st.lists(st.sampled_from(PIECES), max_size=12))))
    return HEADER + b"".join(rows)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=csv_bytes())
def test_csv_bytes_never_crash_and_the_counts_add_up(
    data: bytes, fuzz_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = Path(tmp_path_factory.getbasetemp()) / f"fuzz_{next(_COUNTER)}.csv"
    path.write_bytes(data)
    with fuzz_engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM cases")).scalar_one()
    try:
        report = import_cases(path, fuzz_engine)
    except ImportReadError as exc:
        message = str(exc)
        assert str(path) in message, message
        assert "\n" not in message
        return
    assert report.read == report.imported + report.duplicates + report.quarantined
    assert len(report.quarantine) == report.quarantined
    lines = len(re.split(rb"\r\n|\r|\n", data))  # Arrow also ends a line at a bare CR
    assert all(2 <= line <= lines for line in report.quarantine["line"])
    with fuzz_engine.connect() as conn:
        after = conn.execute(sa.text("SELECT count(*) FROM cases")).scalar_one()
    assert after - before == report.imported

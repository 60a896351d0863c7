"""The KPI table is one answer: the CLI's output file, the Dashboard page's table and the service result
are identical for the same request on the 60-day demo city."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from app.cli import main
from services.context import ServiceContext
from services.kpi import DashboardRequest, KpiRequest, dashboard, filed_range, kpi_table
from services.users import CreateUser, create_user

APP = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")
PASSWORD = "parity-password-1"


def _page_table(username: str) -> pd.DataFrame:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.text_input[0].input(username)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    at.run()
    at.switch_page("views/dashboard.py").run()
    assert not at.exception, at.exception
    return at.dataframe[0].value


def test_kpi_by_department_is_the_same_in_the_cli_the_page_and_the_service(
    ctx60: ServiceContext, tmp_path: Path
) -> None:
    create_user(ctx60, CreateUser("manager60", "manager", password=PASSWORD))
    span = filed_range(ctx60)
    assert span is not None
    start, end = span  # the page's default range for a city of less than 90 days
    service = kpi_table(ctx60, KpiRequest(by="department", start=start, end=end)).to_frame()
    assert len(service) > 1
    # cases waiting for dispatch (some returned by a department) have no department yet: no score, last
    assert service["score"].dropna().is_monotonic_decreasing

    out = tmp_path / "kpi.parquet"
    args = ["kpi", "--by", "department", "--from", f"{start}", "--to", f"{end}", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_parquet(out), service)

    page = _page_table("manager60")
    pd.testing.assert_frame_equal(page.reset_index(drop=True), service, check_dtype=False)
    # the dashboard's department ranking is the KPI table of the same request
    pd.testing.assert_frame_equal(
        dashboard(ctx60, DashboardRequest(start, end)).departments.to_frame(), service
    )

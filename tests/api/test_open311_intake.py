"""A request posted through the API: one transaction for the case and its request row, visible in the
dispatcher's queue (to verify) and in ``gridpatrol export cases`` with an event naming the key; anonymous
reads limited per client IP."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy.exc import IntegrityError

from api import create_app
from app.cli import main
from cases import repository_api as store
from cases.repository_people import case_events, case_record
from services.context import ServiceContext
from services.queues import QueueRequest, dispatch_queue


def _post(client: httpx.Client, key: str, **extra: str) -> httpx.Response:
    data = {"api_key": key, "service_code": "06010", "lat": "32.012", "long": "120.861",
            "description": "井盖缺失", "phone": "13812345678", **extra}  # fmt: skip
    return client.post("/open311/v2/requests.json", data=data)


def test_case_and_request_row_are_one_transaction(api_store: ServiceContext, api_key: str) -> None:
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    case = {"case_id": "TX1", "source": "wechat", "category_code": "06010", "reported_at": at,
            "actor": "key:wechat-app", "role": "operator", "lat": 32.01, "lon": 120.86}  # fmt: skip
    request = {"token": "tok-1", "case_id": "TX1", "key_id": 1, "received_at": at}
    store.report_with_request(api_store.engine, case, request)
    assert store.request_by_token(api_store.engine, "tok-1") == "TX1"
    # the request row fails (its token is taken): the case written before it in the transaction is gone too
    with pytest.raises(IntegrityError):
        store.report_with_request(api_store.engine, {**case, "case_id": "TX2"}, {**request, "case_id": "TX2"})
    assert case_record(api_store.engine, "TX2").empty
    assert case_events(api_store.engine, "TX2").empty


def test_a_posted_request_is_in_the_dispatch_queue_and_the_export(
    server: str, api_key: str, api_store: ServiceContext, tmp_path: Path
) -> None:
    with httpx.Client(base_url=server) as client:
        answer = _post(client, api_key)
    assert answer.status_code == 200, answer.text
    case_id = answer.json()[0]["service_request_id"]
    queue = dispatch_queue(api_store, QueueRequest()).table
    row = queue[queue["case_id"] == case_id]
    assert len(row) == 1
    assert row["stage"].iloc[0] == "to_verify"
    assert row["status"].iloc[0] == "reported"
    events = case_events(api_store.engine, case_id)
    assert events["actor"].tolist() == ["key:wechat-app"]
    out = tmp_path / "cases.csv"
    result = CliRunner().invoke(main, ["export", "cases", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as f:
        exported = {r["case_id"]: r for r in csv.DictReader(f)}
    assert exported[case_id]["source"] == "wechat"
    assert exported[case_id]["status"] == "reported"


def test_anonymous_reads_are_limited_per_client_ip(serve, api_store: ServiceContext, api_key: str) -> None:
    app = create_app(lambda: api_store, anonymous_per_minute=3)
    with serve(app) as url, httpx.Client(base_url=url) as client:
        codes = [client.get("/open311/v2/services.json").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.get("/open311/v2/requests.json")
        assert refused.status_code == 429
        assert refused.json()[0]["code"] == 429
        assert _post(client, api_key).status_code == 200  # a keyed write has its own (per-key) limit
    assert app.state.rate_limiter.allow_anonymous("10.0.0.9", 3)  # another address has its own bucket

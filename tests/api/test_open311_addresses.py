"""Open311 POST with ``address_string`` and no lat/long: located in the city's address table."""

from __future__ import annotations

from pathlib import Path

import httpx
import sqlalchemy as sa

from cases.models import Case
from services.addresses import AddressImportRequest, import_addresses
from services.context import ServiceContext

V2 = "/open311/v2"
TABLE = "name,address,lat,lon\n,人民路12号,32.0100,120.8600\n南通中学,青年路5号,32.0200,120.8700\n"


def _post(client: httpx.Client, **data: str) -> httpx.Response:
    return client.post(f"{V2}/requests.json", data=data)


def test_address_string_is_located_by_the_address_table(
    server: str, api_key: str, api_store: ServiceContext, tmp_path: Path
) -> None:
    path = tmp_path / "addresses.csv"
    path.write_text(TABLE, encoding="utf-8")
    assert (
        import_addresses(api_store, AddressImportRequest(path, write_quarantine=False)).report.imported == 2
    )
    with httpx.Client(base_url=server) as client:
        response = _post(client, api_key=api_key, service_code="06010", address_string="人民路十二号")
        assert response.status_code == 200, response.text
        [created] = response.json()
        by_name = _post(client, api_key=api_key, service_code="06010", address_string="南通中学")
        assert by_name.status_code == 200, by_name.text
        unknown = _post(client, api_key=api_key, service_code="06010", address_string="火星基地一号")
        assert unknown.status_code == 400
        [error] = unknown.json()
        assert "address table" in error["description"]
        fetched = client.get(f"{V2}/requests/{created['service_request_id']}.json").json()[0]
    assert (fetched["lat"], fetched["long"]) == (32.01, 120.86)
    c = Case.__table__.c
    with api_store.engine.connect() as conn:
        row = conn.execute(
            sa.select(c.lat, c.lon, c.address, c.cell).where(c.case_id == created["service_request_id"])
        ).one()
    assert (row.lat, row.lon, row.address) == (32.01, 120.86, "人民路十二号")
    assert row.cell is not None

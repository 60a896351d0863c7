"""Interop: the ``georeport`` client from PyPI (someone else's code, unchanged) against our server.

The client reads only (services, a service definition, requests with filters, one request), in JSON and in
XML (it parses XML with ``xmltodict``); the POST is made per the spec with httpx, form-encoded and
multipart. Skipped where ``georeport`` is not installed (it is not on the lock yet).
"""

from __future__ import annotations

import httpx
import pytest

georeport = pytest.importorskip("georeport")

V2 = "/open311/v2"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_reads_our_server(server: str, api_key: str, fmt: str) -> None:
    with httpx.Client(base_url=server) as client:
        form = {"api_key": api_key, "service_code": "06010", "lat": "32.02", "long": "120.87"}
        posted = client.post(f"{V2}/requests.{fmt}", data={**form, "description": "form-encoded"})
        assert posted.status_code == 200, posted.text
        multipart = client.post(
            f"{V2}/requests.json",
            data={**form, "description": "multipart"},
            files={"media": ("photo.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg")},
        )
        assert multipart.status_code == 200, multipart.text
        new_id = multipart.json()[0]["service_request_id"]
    reader = georeport.GeoReport(f"{server}{V2}", output_format=fmt)
    services = reader.get_service_list()
    codes = {s["service_code"] for s in services}
    assert {"06010", "01002"} <= codes
    definition = reader.get_service_definition("01002")
    assert definition["service_code"] == "01002"
    requests = reader.get_service_requests(status="open", service_code="06010")
    requests = requests if isinstance(requests, list) else [requests]
    ids = {r["service_request_id"] for r in requests}
    assert "NT0" in ids
    assert new_id in ids
    assert all(r["status"] == "open" for r in requests)
    one = reader.get_service_request(new_id)
    one = one[0] if isinstance(one, list) else one
    assert one["service_request_id"] == new_id
    assert one["description"] == "multipart"
    closed = reader.get_service_requests(service_request_id="NT1")
    closed = closed[0] if isinstance(closed, list) else closed
    assert closed["status"] == "closed"

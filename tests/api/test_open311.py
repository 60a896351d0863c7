"""The Open311 GeoReport v2 server over real HTTP (uvicorn on loopback, httpx as the client)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from api import create_app
from api.ratelimit import RateLimiter
from app.cli import main
from cases.repository_people import case_events
from services.api_keys import NewKey, add_key, revoke_key
from services.context import ServiceContext

V2 = "/open311/v2"
#: A point in the district of ``api_store`` and one far outside the city.
INSIDE = (32.02, 120.87)
OUTSIDE = (31.50, 121.50)


def _xml(response: httpx.Response) -> ET.Element:
    assert response.headers["content-type"].startswith("text/xml")
    return ET.fromstring(response.content)


def test_discovery_and_services_in_json_and_xml(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        found = client.get(f"{V2}/discovery.json").json()
        assert found["endpoints"][0]["url"].endswith("/open311/v2")
        assert "application/json" in found["endpoints"][0]["formats"]
        assert _xml(client.get(f"{V2}/discovery")).find("endpoints/endpoint/type").text == "production"
        services = client.get(f"{V2}/services.json").json()
        by_code = {s["service_code"]: s for s in services}
        assert by_code["01002"]["service_name"] == "污水井盖异常"
        assert by_code["01002"]["group"] == "市政公用设施"
        assert "component" in by_code["01002"]["keywords"]
        assert by_code["01002"]["metadata"] is False
        root = _xml(client.get(f"{V2}/services.xml"))
        assert root.tag == "services"
        assert len(root.findall("service")) == len(services)
        assert _xml(client.get(f"{V2}/services")).find("service/metadata").text == "false"
        definition = client.get(f"{V2}/services/01002.json").json()
        assert definition == {"service_code": "01002", "attributes": []}
        assert _xml(client.get(f"{V2}/services/01002.xml")).find("service_code").text == "01002"
        missing = client.get(f"{V2}/services/99999.json")
        assert missing.status_code == 404
        assert missing.json()[0]["code"] == 404


def test_get_requests_with_the_spec_filters(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        every = client.get(f"{V2}/requests.json").json()
        assert [r["service_request_id"] for r in every] == ["NT0", "NT1"] or {
            r["service_request_id"] for r in every
        } == {"NT0", "NT1"}
        by_id = {r["service_request_id"]: r for r in every}
        assert by_id["NT0"]["status"] == "open"
        assert by_id["NT1"]["status"] == "closed"
        assert by_id["NT1"]["status_notes"] == "cancelled"
        assert by_id["NT0"]["description"] == "case 0 <b>x</b>"
        assert by_id["NT0"]["requested_datetime"].endswith("+08:00")
        assert by_id["NT1"]["updated_datetime"] > by_id["NT1"]["requested_datetime"]
        assert by_id["NT0"]["lat"] == pytest.approx(32.01)
        assert b"<b>" not in client.get(f"{V2}/requests.json").content  # escaped in JSON
        closed = client.get(f"{V2}/requests.json", params={"status": "closed"}).json()
        assert [r["service_request_id"] for r in closed] == ["NT1"]
        by_code = client.get(f"{V2}/requests.json", params={"service_code": "06010"}).json()
        assert [r["service_request_id"] for r in by_code] == ["NT0"]
        old = client.get(
            f"{V2}/requests.json",
            params={"start_date": "2020-01-01T00:00:00+08:00", "end_date": "2020-02-01T00:00:00+08:00"},
        ).json()
        assert old == []
        root = _xml(client.get(f"{V2}/requests", params={"service_request_id": "NT1"}))
        assert root.tag == "service_requests"
        assert root.find("request/service_request_id").text == "NT1"
        assert root.find("request/status").text == "closed"
        one = client.get(f"{V2}/requests/NT0.json").json()
        assert one[0]["service_code"] == "06010"
        assert _xml(client.get(f"{V2}/requests/NT0.xml")).find("request/status").text == "open"
        assert client.get(f"{V2}/requests/NOPE.json").status_code == 404
        bad = client.get(f"{V2}/requests.json", params={"start_date": "yesterday"})
        assert bad.status_code == 400
        assert "start_date" in bad.json()[0]["description"]


def _post(client: httpx.Client, fmt: str = ".json", **data: str) -> httpx.Response:
    return client.post(f"{V2}/requests{fmt}", data=data)


def test_post_a_request_form_encoded(
    server: str, api_key: str, api_store: ServiceContext, tmp_path: Path
) -> None:
    lat, lon = INSIDE
    with httpx.Client(base_url=server) as client:
        response = _post(
            client, api_key=api_key, service_code="06010", lat=str(lat), long=str(lon),
            description="路边暴露垃圾", first_name="San", last_name="Zhang", phone="13812345678",
            email="z@example.org", device_id="dev-1", account_id="acc-9",
            media_url="https://example.org/p.jpg",
        )  # fmt: skip
        assert response.status_code == 200, response.text
        posted = response.json()[0]
        case_id, token = posted["service_request_id"], posted["token"]
        assert posted["account_id"] == "acc-9"
        found = client.get(f"{V2}/requests/{case_id}.json").json()[0]
        assert (found["status"], found["status_notes"], found["service_code"]) == (
            "open",
            "reported",
            "06010",
        )
        assert found["media_url"] == "https://example.org/p.jpg"
        published = json.dumps(found, ensure_ascii=False)
        assert "13812345678" not in published  # the reporter's PII is not published
        assert "z@example.org" not in published
        assert client.get(f"{V2}/tokens/{token}.json").json() == [
            {"service_request_id": case_id, "token": token}
        ]
        xml = _xml(_post(client, fmt="", api_key=api_key, service_code="01002", lat=str(lat), long=str(lon)))
        assert xml.find("request/service_request_id").text.startswith("O311-")
    events = case_events(api_store.engine, case_id)
    assert events["actor"].tolist() == ["key:wechat-app"]
    assert events["to_status"].tolist() == ["reported"]
    out = tmp_path / "cases.csv"
    result = CliRunner().invoke(main, ["export", "cases", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8-sig")
    row = next(line for line in text.splitlines() if line.startswith(case_id))
    assert ",wechat," in row
    assert "138****5678" in row  # the phone is stored, masked on export


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        ({"service_code": "06010", "lat": "32.02", "long": "120.87"}, 403, "api_key"),
        ({"api_key": "not-a-key", "service_code": "06010", "lat": "32.02", "long": "120.87"}, 403, "api_key"),
        ({"service_code": "99999", "lat": "32.02", "long": "120.87"}, 400, "service_code"),
        ({"service_code": "06010", "lat": str(OUTSIDE[0]), "long": str(OUTSIDE[1])}, 400, "outside the city"),
        ({"service_code": "06010"}, 400, "lat and long"),
        ({"service_code": "06010", "address_string": "人民路 1 号"}, 400, "address lookup not available"),
        ({"service_code": "06010", "lat": "north", "long": "120.87"}, 400, "number"),
        (
            {"service_code": "06010", "lat": "32.02", "long": "120.87", "media_url": "javascript:x"},
            400,
            "media_url",
        ),
    ],
)
def test_post_errors_are_the_spec_error_list(
    server: str, api_key: str, data: dict, status: int, words: str
) -> None:
    data = {"api_key": api_key, **data} if "api_key" not in data and status != 403 else data
    with httpx.Client(base_url=server) as client:
        response = _post(client, **data)
        assert response.status_code == status, response.text
        [error] = response.json()
        assert error["code"] == status
        assert words in error["description"]
        xml = _xml(_post(client, fmt=".xml", **data))
        assert xml.tag == "errors"
        assert xml.find("error/code").text == str(status)


def test_a_revoked_key_is_refused_at_once(server: str, api_key: str, api_store: ServiceContext) -> None:
    form = {"api_key": api_key, "service_code": "06010", "lat": "32.02", "long": "120.87"}
    with httpx.Client(base_url=server) as client:
        assert _post(client, **form).status_code == 200
        revoke_key(api_store, "wechat-app")
        refused = _post(client, **form)
        assert refused.status_code == 403
        assert refused.json()[0]["code"] == 403


def test_limits_cors_docs_and_no_stack_traces(server: str, api_key: str) -> None:
    with httpx.Client(base_url=server) as client:
        big = client.post(f"{V2}/requests.json", data={"api_key": api_key, "description": "x" * 100_000})
        assert big.status_code == 413
        assert big.json()[0]["code"] == 413
        cors = client.get(f"{V2}/services.json", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in cors.headers
        docs = client.get("/docs")
        assert docs.status_code == 200
        assert "http" not in docs.text.split("<body>")[0]  # no CDN: nothing loaded from elsewhere
        assert "cdn" not in docs.text.lower()
        assert client.get("/docs/docs.js").status_code == 200
        assert "/open311/v2/requests.{fmt}" in client.get("/openapi.json").json()["paths"]
        assert client.get("/redoc").status_code == 404
        for path in (f"{V2}/requests.json?page=zero", f"{V2}/nothing.json", f"{V2}/services/x.json"):
            response = client.get(path)
            assert response.status_code in (400, 404)
            assert "Traceback" not in response.text
            assert response.json()[0]["code"] == response.status_code
        unknown = client.get(f"{V2}/services.yaml")  # no .json: the error list in XML, the default
        assert unknown.status_code == 404
        assert _xml(unknown).find("error/code").text == "404"


def test_post_multipart_with_a_photo(server: str, api_key: str, api_store: ServiceContext) -> None:
    form = {"api_key": api_key, "service_code": "06010", "lat": "32.02", "long": "120.87"}
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with httpx.Client(base_url=server) as client:
        posted = client.post(f"{V2}/requests.json", data=form, files={"media": ("a.png", png, "image/png")})
        assert posted.status_code == 200, posted.text
        case_id = posted.json()[0]["service_request_id"]
        stored = list((api_store.data_dir / "photos" / case_id).glob("open311-*.png"))
        assert [p.read_bytes() for p in stored] == [png]
        gif = client.post(
            f"{V2}/requests.json",
            data=form,
            files={"media": ("a.png", b"GIF89a" + b"\x00" * 64, "image/png")},
        )
        assert gif.status_code == 400
        assert "JPEG, PNG or WebP" in gif.json()[0]["description"]


def test_raw_utf8_in_a_urlencoded_body_is_read_as_utf8(server: str, api_key: str) -> None:
    body = f"api_key={api_key}&service_code=06010&lat=32.02&long=120.87&description=路边垃圾".encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    with httpx.Client(base_url=server) as client:
        posted = client.post(f"{V2}/requests.json", content=body, headers=headers)
        assert posted.status_code == 200, posted.text
        case_id = posted.json()[0]["service_request_id"]
        assert client.get(f"{V2}/requests/{case_id}.json").json()[0]["description"] == "路边垃圾"


def test_a_key_over_its_rate_is_refused(server: str, api_store: ServiceContext) -> None:
    key = add_key(api_store, NewKey("video-ai", source="video", rate_per_minute=2))[1]
    form = {"api_key": key, "service_code": "06010", "lat": "32.02", "long": "120.87"}
    with httpx.Client(base_url=server) as client:
        codes = [_post(client, **form).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        posted = client.get(f"{V2}/requests.json", params={"service_code": "06010"}).json()
        assert len([r for r in posted if r["service_request_id"].startswith("O311-")]) == 2


def test_the_token_bucket_refills_with_time() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert [limiter.allow("k", 60) for _ in range(61)].count(True) == 60
    now[0] += 1.0  # 60 a minute: one token a second
    assert limiter.allow("k", 60)
    assert not limiter.allow("k", 60)
    assert limiter.allow("other", 60)


def test_an_unexpected_error_is_a_bare_500(serve) -> None:
    def broken() -> ServiceContext:
        raise RuntimeError("secret detail of the server")

    with serve(create_app(broken)) as url, httpx.Client(base_url=url) as client:
        for path in (f"{V2}/services.json", f"{V2}/requests.xml"):
            response = client.get(path)
            assert response.status_code == 500
            assert "secret detail" not in response.text
            assert "Traceback" not in response.text
        assert client.get(f"{V2}/services.json").json() == [{"code": 500, "description": "internal error"}]

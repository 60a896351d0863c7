"""The field API over real HTTP: sign-in tokens, an inspector's tasks, idempotent track uploads."""

from __future__ import annotations

import dataclasses
import datetime as dt

import httpx
import pandas as pd
import pyarrow.parquet as pq

from grid.cells import latlng_to_cells
from services.context import ServiceContext
from services.imports import ImportRequest, import_file
from services.users import CreateUser, create_user

F1 = "/field/v1"
PASSWORD = "field-pass-2026"


def _people(ctx: ServiceContext) -> None:
    """Inspector NT0001 on the cell of case NT0 (32.01, 120.86); a user for them and an operator."""
    import numpy as np

    folder = ctx.data_dir
    (folder / "inspectors.csv").write_text("inspector_id,name,district,active\nNT0001,王一,320602,true\n")
    cell = int(latlng_to_cells(np.array([32.01]), np.array([120.86]), 10)[0])
    (folder / "assignments.csv").write_text(
        f"inspector_id,cell,valid_from\nNT0001,{format(cell, 'x')},2020-01-01T00:00:00+08:00\n"
    )
    for kind in ("inspectors", "assignments"):
        report = import_file(
            ctx, ImportRequest(kind=kind, path=folder / f"{kind}.csv", write_quarantine=False)
        )
        assert report.report.imported == 1, report.report.quarantine
    create_user(ctx, CreateUser("wang.yi", "inspector", PASSWORD, inspector_id="NT0001"))
    create_user(ctx, CreateUser("op.li", "operator", PASSWORD))


def _real_jpeg() -> bytes:
    """A small real JPEG (photos are decoded by the service layer, not only sniffed)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 120, 40)).save(out, format="JPEG")
    return out.getvalue()


def _token(client: httpx.Client, username: str) -> dict[str, str]:
    response = client.post(f"{F1}/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_tokens_and_tasks(server: str, api_store: ServiceContext) -> None:
    _people(api_store)
    with httpx.Client(base_url=server) as client:
        wrong = client.post(f"{F1}/token", data={"username": "wang.yi", "password": "nope-nope"})
        assert wrong.status_code == 401
        assert wrong.json()[0]["code"] == 401
        assert client.get(f"{F1}/tasks").status_code == 401
        assert client.get(f"{F1}/tasks", headers={"Authorization": "Bearer forged"}).status_code == 401
        auth = _token(client, "wang.yi")
        mine = client.get(f"{F1}/tasks", headers=auth).json()
        assert mine["inspector_id"] == "NT0001"
        assert [(t["case_id"], t["task"]) for t in mine["tasks"]] == [("NT0", "verify")]
        operator = _token(client, "op.li")
        assert client.get(f"{F1}/tasks", headers=operator).status_code == 403
        assert client.delete(f"{F1}/token", headers=auth).status_code == 204
        assert client.get(f"{F1}/tasks", headers=auth).status_code == 401  # signed out: refused at once


def test_a_retried_track_upload_stores_its_points_once(server: str, api_store: ServiceContext) -> None:
    _people(api_store)
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=30)
    points = [
        {"ts": (start + dt.timedelta(seconds=5 * k)).isoformat(), "lat": 32.01 + k * 1e-5, "lon": 120.86}
        for k in range(50)
    ]
    with httpx.Client(base_url=server) as client:
        auth = _token(client, "wang.yi")
        first = client.post(
            f"{F1}/tracks", json={"points": points}, headers={**auth, "Idempotency-Key": "b-1"}
        )
        assert first.status_code == 200, first.text
        assert (first.json()["added"], first.json()["replayed"]) == (50, False)
        again = client.post(
            f"{F1}/tracks", json={"points": points}, headers={**auth, "Idempotency-Key": "b-1"}
        )
        assert again.status_code == 200
        assert (again.json()["added"], again.json()["replayed"]) == (50, True)
        other = client.post(
            f"{F1}/tracks", json={"points": points[:10]}, headers={**auth, "Idempotency-Key": "b-1"}
        )
        assert other.status_code == 409
        bad = client.post(f"{F1}/tracks", json={"points": [{"ts": "noon", "lat": 1, "lon": 2}]}, headers=auth)
        assert bad.status_code == 400
        create_user(api_store, CreateUser("sup.zhao", "supervisor", PASSWORD))
        centre = client.get(f"{F1}/positions", headers=_token(client, "sup.zhao"))
        assert centre.status_code == 200, centre.text
        [last] = centre.json()
        assert (last["inspector_id"], last["lat"]) == ("NT0001", points[-1]["lat"])
        assert client.get(f"{F1}/positions", headers=auth).status_code == 403  # not for inspectors
    files = sorted((api_store.data_dir / "tracks").rglob("*.parquet"))
    stored = pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)
    assert len(stored) == 50
    assert set(stored["inspector_id"]) == {"NT0001"}


def test_an_inspector_acts_and_reports_only_in_their_cells(server: str, api_store: ServiceContext) -> None:
    from cases.repository_people import case_events, case_record

    _people(api_store)
    jpeg = _real_jpeg()
    with httpx.Client(base_url=server) as client:
        auth = _token(client, "wang.yi")
        other = client.get(f"{F1}/tasks", params={"inspector_id": "NT0002"}, headers=auth)
        assert other.status_code == 403
        not_mine = client.post(f"{F1}/cases/NT1/verify", data={"note": "x"}, headers=auth)
        assert not_mine.status_code == 403
        gif = {"photo": ("p.jpg", b"GIF89a" + b"\x00" * 64, "image/jpeg")}
        assert client.post(f"{F1}/cases/NT0/verify", files=gif, headers=auth).status_code == 400
        done = client.post(
            f"{F1}/cases/NT0/verify", data={"note": "看到了"}, files={"photo": ("p.jpg", jpeg, "image/jpeg")},
            headers=auth,
        )  # fmt: skip
        assert done.status_code == 200, done.text
        assert done.json() == {"case_id": "NT0", "status": "verified"}
        found = client.post(
            f"{F1}/reports",
            data={"lat": "32.01", "lon": "120.86", "category_code": "06010", "description": "井盖缺失"},
            headers=auth,
        )
        assert found.status_code == 200, found.text
        elsewhere = client.post(
            f"{F1}/reports",
            data={"lat": "32.035", "lon": "120.89", "category_code": "06010", "description": "x"},
            headers=auth,
        )
        assert elsewhere.status_code in (400, 403)
    events = case_events(api_store.engine, "NT0")
    assert events["actor"].iloc[-1] == "NT0001"
    from services.photos import case_photos

    assert len(case_photos(api_store, "NT0").photos) == 1  # the photo is kept with the case (services.photos)
    new = case_record(api_store.engine, found.json()["case_id"])
    assert (new["status"].iloc[0], new["reported_by"].iloc[0]) == ("verified", "NT0001")


def test_my_route_as_gpx_and_geojson(server: str, api_store: ServiceContext) -> None:
    from cases.lifecycle import report_case

    _people(api_store)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for k in range(28):  # four weeks of history: the route's forecast needs whole periods
        report_case(api_store.engine, case_id=f"H{k}", source="hotline", category_code="06010",
                    reported_at=now - dt.timedelta(days=k + 1), actor="op", role="operator",
                    lat=32.01 + (k % 3) * 1e-4, lon=120.86)  # fmt: skip
    with httpx.Client(base_url=server, timeout=60) as client:
        auth = _token(client, "wang.yi")
        gpx = client.get(f"{F1}/route.gpx", headers=auth)
        assert gpx.status_code == 200, gpx.text
        assert gpx.headers["content-type"].startswith("application/gpx+xml")
        assert b"<gpx" in gpx.content
        geojson = client.get(f"{F1}/route.geojson", headers=auth)
        assert geojson.status_code == 200, geojson.text
        assert geojson.json()["type"] == "FeatureCollection"
        assert client.get(f"{F1}/route.kml", headers=auth).status_code == 400
        assert client.get(f"{F1}/route.gpx").status_code == 401


def _gpx(start: dt.datetime, n: int) -> bytes:
    points = "".join(
        f'<trkpt lat="{32.01 + k * 1e-5:.6f}" lon="120.86"><time>'
        f"{(start + dt.timedelta(seconds=10 * k)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time></trkpt>"
        for k in range(n)
    )
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="phone" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><trkseg>{points}</trkseg></trk></gpx>"
    ).encode()


def test_a_gpx_upload_stores_what_the_file_import_stores(
    server: str, api_store: ServiceContext, tmp_path
) -> None:
    from patrol.store import read_days
    from services.imports import TrackImportRequest, import_tracks

    _people(api_store)
    gpx = _gpx(dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1), 20)
    with httpx.Client(base_url=server) as client:
        auth = {**_token(client, "wang.yi"), "Idempotency-Key": "g-1", "Content-Type": "application/gpx+xml"}
        first = client.post(f"{F1}/tracks.gpx", content=gpx, headers=auth)
        assert first.status_code == 200, first.text
        assert (first.json()["added"], first.json()["replayed"]) == (20, False)
        again = client.post(f"{F1}/tracks.gpx", content=gpx, headers=auth)
        assert again.json()["replayed"] is True
        broken = client.post(f"{F1}/tracks.gpx", content=b"<gpx", headers={**auth, "Idempotency-Key": "g-2"})
        assert broken.status_code == 400
    file = tmp_path / "NT0001.gpx"
    file.write_bytes(gpx)
    other = dataclasses.replace(api_store, data_dir=tmp_path / "other")
    import_tracks(other, TrackImportRequest(files=(file,), inspector="NT0001"))
    uploaded = read_days(api_store.data_dir / "tracks")
    imported = read_days(tmp_path / "other" / "tracks")
    pd.testing.assert_frame_equal(uploaded, imported)

"""A GPX upload through the field API and the file import of the same GPX give the same coverage cube."""

from __future__ import annotations

import dataclasses
import datetime as dt

import httpx
import pandas as pd

from patrol.coverage import coverage_cube, reduce_tracks
from patrol.store import read_days
from patrol.tracks import clean_tracks
from services.context import ServiceContext
from services.imports import TrackImportRequest, import_tracks
from tests.api.test_field_api import F1, _people, _token


def _walk(start: dt.datetime, n: int) -> bytes:
    """A walk of ``n`` fixes 10 s apart heading north-east at ~1.4 m/s, across several cells."""
    points = "".join(
        f'<trkpt lat="{32.01 + k * 9e-5:.6f}" lon="{120.86 + k * 6e-5:.6f}"><time>'
        f"{(start + dt.timedelta(seconds=10 * k)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time></trkpt>"
        for k in range(n)
    )
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="phone" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><trkseg>{points}</trkseg></trk></gpx>"
    ).encode()


def _cube(folder, timezone: str) -> pd.DataFrame:
    fine = reduce_tracks(clean_tracks(read_days(folder), timezone=timezone), timezone=timezone)
    return coverage_cube(fine)


def test_gpx_upload_and_file_import_give_the_same_coverage_cube(
    server: str, api_store: ServiceContext, tmp_path
) -> None:
    _people(api_store)
    gpx = _walk(dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2), 120)
    with httpx.Client(base_url=server) as client:
        headers = {**_token(client, "wang.yi"), "Content-Type": "application/gpx+xml"}
        answer = client.post(f"{F1}/tracks.gpx", content=gpx, headers=headers)
        assert answer.status_code == 200, answer.text
    file = tmp_path / "NT0001.gpx"
    file.write_bytes(gpx)
    other = dataclasses.replace(api_store, data_dir=tmp_path / "other")
    import_tracks(other, TrackImportRequest(files=(file,), inspector="NT0001"))
    uploaded = _cube(api_store.data_dir / "tracks", api_store.timezone)
    imported = _cube(tmp_path / "other" / "tracks", api_store.timezone)
    assert len(uploaded) > 3
    assert uploaded["minutes"].sum() > 10
    pd.testing.assert_frame_equal(uploaded, imported)

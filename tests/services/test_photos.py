"""Case photos: real JPEGs with EXIF made with Pillow; GPS and time kept, camera model stripped; files on
disk, not in the store; non-images, oversize images and other departments refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from services import photos as photo_service
from services.context import ServiceContext
from services.errors import NotAllowedError, ServiceError
from services.photos import PhotoUpload, add_photo, case_photos, photo_bytes
from tests.services.casework_util import DEPT, as_role, walk

_MODEL, _MAKE, _GPS, _EXIF = 0x0110, 0x010F, 0x8825, 0x8769


def _jpeg(size: tuple[int, int] = (80, 60), color: str = "red") -> bytes:
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[_MAKE] = "Canon"
    exif[_MODEL] = "Canon EOS Secret"
    exif.get_ifd(_EXIF)[0x9003] = "2025:03:03 09:30:00"  # DateTimeOriginal, local (Asia/Shanghai)
    exif.get_ifd(_EXIF)[0xA431] = "SERIAL-123"  # BodySerialNumber
    gps = exif.get_ifd(_GPS)
    gps.update({1: "N", 2: (32.0, 1.0, 30.0), 3: "E", 4: (120.0, 51.0, 36.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_photo_keeps_time_and_gps_only_and_lives_on_disk(ctx60: ServiceContext) -> None:
    walk(ctx60, "PH-1", "dispatched")
    department = as_role(ctx60, "department", department=DEPT)
    listed = add_photo(department, PhotoUpload("PH-1", _jpeg(), "site.jpg")).to_frame()
    assert len(listed) == 1
    row = listed.iloc[0]
    assert row["lat"] == pytest.approx(32.025, abs=1e-6)
    assert row["lon"] == pytest.approx(120.86, abs=1e-6)
    assert row["taken_at"].isoformat() == "2025-03-03T01:30:00+00:00"
    assert (row["width"], row["height"]) == (80, 60)
    assert row["uploaded_by"] == "department-user"
    path = Path(ctx60.data_dir) / row["file"]
    assert path.is_file()
    assert path.name == f"{row['sha256']}.jpg"
    assert row["file"].startswith("photos/PH-1/")
    served = photo_bytes(as_role(ctx60, "operator"), int(row["photo_id"]))
    assert served.data == path.read_bytes()
    stored = Image.open(io.BytesIO(served.data))
    exif = stored.getexif()
    assert _MODEL not in exif
    assert _MAKE not in exif
    assert 0xA431 not in exif.get_ifd(_EXIF)
    assert exif.get_ifd(_EXIF)[0x9003] == "2025:03:03 09:30:00"
    assert exif.get_ifd(_GPS)[1] == "N"
    assert b"Canon" not in served.data
    assert b"SERIAL-123" not in served.data
    # the same picture again is stored once
    again = add_photo(department, PhotoUpload("PH-1", _jpeg(), "again.jpg")).to_frame()
    assert len(again) == 1
    assert len(case_photos(as_role(ctx60, "supervisor"), "PH-1").to_frame()) == 1


def test_non_images_and_oversize_images_are_refused(ctx60: ServiceContext, monkeypatch) -> None:
    walk(ctx60, "PH-2", "dispatched")
    operator = as_role(ctx60, "operator")
    for data in (b"%PDF-1.4 not an image", b"GIF89a" + b"\0" * 40, b"\xff\xd8\xff\xe0broken"):
        with pytest.raises(ServiceError) as refused:
            add_photo(operator, PhotoUpload("PH-2", data, "x.jpg"))
        assert refused.value.code == "not_an_image"
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    with pytest.raises(ServiceError, match="not JPEG"):
        add_photo(operator, PhotoUpload("PH-2", gif.getvalue(), "x.gif"))
    with pytest.raises(ServiceError) as big:
        add_photo(operator, PhotoUpload("PH-2", b"\0" * (photo_service.MAX_BYTES + 1), "big.jpg"))
    assert big.value.code == "photo_too_large"
    monkeypatch.setattr(photo_service, "MAX_PIXELS", 100)  # a 80×60 photo is over a 100-pixel limit
    with pytest.raises(ServiceError) as many:
        add_photo(operator, PhotoUpload("PH-2", _jpeg(), "wide.jpg"))
    assert many.value.code == "photo_too_large"
    assert case_photos(operator, "PH-2").to_frame().empty


def test_another_departments_user_may_neither_add_nor_see_photos(ctx60: ServiceContext) -> None:
    walk(ctx60, "PH-3", "dispatched")
    photo = add_photo(
        as_role(ctx60, "operator"), PhotoUpload("PH-3", _jpeg(color="blue"), "a.jpg")
    ).to_frame()
    other = as_role(ctx60, "department", department="D-OTHER")
    with pytest.raises(NotAllowedError):
        add_photo(other, PhotoUpload("PH-3", _jpeg(color="green"), "b.jpg"))
    with pytest.raises(NotAllowedError):
        case_photos(other, "PH-3")
    with pytest.raises(NotAllowedError):
        photo_bytes(other, int(photo["photo_id"].iloc[0]))
    with pytest.raises(NotAllowedError):
        photo_bytes(as_role(ctx60, "planner"), int(photo["photo_id"].iloc[0]))
    with pytest.raises(ServiceError, match="no photo"):
        photo_bytes(as_role(ctx60, "operator"), 999_999)


def test_an_action_with_a_photo_keeps_it_as_the_events_evidence(ctx60: ServiceContext) -> None:
    from services.case_view import case_detail
    from services.cases import CaseAction
    from services.photos import act_with_photos

    walk(ctx60, "PH-4", "dispatched")
    department = as_role(ctx60, "department", department=DEPT)
    bad = (PhotoUpload("PH-4", b"not an image", "x.jpg"),)
    with pytest.raises(ServiceError):
        act_with_photos(department, CaseAction("PH-4", action="handle"), bad)
    assert case_detail(ctx60, "PH-4").status == "dispatched"  # nothing recorded without its photo
    done = act_with_photos(
        department,
        CaseAction("PH-4", note="已清理", action="handle"),
        (PhotoUpload("PH-4", _jpeg(), "a.jpg"),),
    )
    assert done.status == "resolved"
    photos = case_photos(department, "PH-4").to_frame()
    assert photos["event_id"].tolist() == [done.transition.event_id]

"""Case photos: validated, size-limited, stripped of metadata, stored on disk and served by scope.

:func:`add_photo` accepts an upload only if Pillow opens and verifies it as a JPEG, PNG or WebP image of at
most :data:`MAX_BYTES` bytes and :data:`MAX_PIXELS` pixels. The image is turned upright (its EXIF
orientation applied) and re-encoded as JPEG with **no metadata but the capture time and the GPS position**
(camera make and model, serial numbers, software, thumbnails, comments, ICC profiles … are dropped); those
two are also kept as columns (``taken_at`` in UTC: an EXIF time without an offset is read in the city's
zone; ``lat``/``lon`` WGS-84 as the device wrote them). The file goes to
``<data dir>/photos/<case_id>/<sha256>.jpg`` (the hash of the stored file), never into the database,
which holds only its row (:mod:`cases.repository_photos`). The same picture uploaded twice to a case is
stored once.

Who may add or see a case's photos: whoever may see the case (:func:`services.case_view.visible_case`);
:func:`photo_bytes` checks it again for every photo it serves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import re
import warnings
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from cases import repository_people, repository_photos
from services.case_view import visible_case
from services.cases import CaseAction, CaseActionResult, act
from services.context import ServiceContext
from services.errors import ServiceError

__all__ = [
    "ALLOWED_FORMATS",
    "MAX_BYTES",
    "MAX_PIXELS",
    "PhotoFile",
    "PhotoList",
    "PhotoUpload",
    "act_with_photos",
    "add_photo",
    "case_photos",
    "photo_bytes",
]

#: Largest upload accepted (bytes).
MAX_BYTES = 10 * 1024 * 1024
#: Largest image accepted (width × height).
MAX_PIXELS = 40_000_000
#: Image formats accepted (as Pillow names them).
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME, _DATETIME_ORIGINAL, _OFFSET_ORIGINAL = 0x0132, 0x9003, 0x9011
_SAFE_CASE_ID = re.compile(r"[^A-Za-z0-9_.-]")


@dataclasses.dataclass(frozen=True)
class PhotoUpload:
    """An uploaded photo of case ``case_id``: the file's bytes and name; ``event_id``: the event it
    documents (a verification, a handling, a check), when known."""

    case_id: str
    data: bytes = dataclasses.field(repr=False)
    filename: str = ""
    event_id: int | None = None


@dataclasses.dataclass(frozen=True)
class PhotoList:
    """Photos of a case (:data:`cases.repository_photos.PHOTO_COLUMNS`)."""

    photos: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.photos.copy()


@dataclasses.dataclass(frozen=True)
class PhotoFile:
    """One stored photo: its row and the JPEG bytes."""

    photo: pd.DataFrame
    data: bytes = dataclasses.field(repr=False)
    content_type: str = "image/jpeg"

    def to_frame(self) -> pd.DataFrame:
        return self.photo.copy()


def _refuse(code: str, message: str, **params: Any) -> ServiceError:
    return ServiceError(code, message, **params)


def _open(data: bytes, filename: str) -> Any:
    """The image, verified, of an accepted format and size; else ``not_an_image`` / ``photo_too_large``."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_BYTES:
        raise _refuse(
            "photo_too_large", f"{filename or 'the photo'} is larger than {MAX_BYTES // 2**20} MB",
            limit_mb=MAX_BYTES // 2**20,
        )  # fmt: skip
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            fmt = probe.format
            width, height = probe.size
            if fmt in ALLOWED_FORMATS and width * height <= MAX_PIXELS:
                probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:  # fmt: skip
        raise _refuse("not_an_image", f"{filename or 'the file'} is not a readable image: {exc}") from exc
    if fmt not in ALLOWED_FORMATS:
        raise _refuse("not_an_image", f"{filename or 'the file'} is {fmt}, not JPEG, PNG or WebP")
    if width * height > MAX_PIXELS:
        raise _refuse(
            "photo_too_large", f"{filename or 'the photo'} has {width}×{height} pixels (limit {MAX_PIXELS})",
            limit_mb=MAX_BYTES // 2**20,
        )  # fmt: skip
    image = Image.open(io.BytesIO(data))  # verify() leaves the image unusable: open it again
    try:
        image.load()
    except (OSError, ValueError) as exc:
        raise _refuse("not_an_image", f"{filename or 'the file'} is a damaged image: {exc}") from exc
    return image


def _degrees(value: Any, ref: Any, negative: str) -> float | None:
    try:
        d, m, s = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    out = d + m / 60 + s / 3600
    return -out if str(ref or "").upper().startswith(negative) else out


def _kept_metadata(image: Any, timezone: str) -> tuple[dict[int, Any], dict[int, Any], dict[str, Any]]:
    """The capture-time tags, the GPS tags and the columns (``taken_at``, ``lat``, ``lon``) of ``image``."""
    exif = image.getexif()
    sub = exif.get_ifd(_EXIF_IFD)
    gps = {k: v for k, v in exif.get_ifd(_GPS_IFD).items() if isinstance(k, int)}
    times = {k: sub[k] for k in (_DATETIME_ORIGINAL, _OFFSET_ORIGINAL) if k in sub}
    raw = sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    if raw and _DATETIME_ORIGINAL not in times:
        times[_DATETIME_ORIGINAL] = raw
    taken_at = None
    if raw:
        try:
            local = dt.datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
            offset = str(sub.get(_OFFSET_ORIGINAL) or "").strip("\x00 ")
            zone: dt.tzinfo = ZoneInfo(timezone)
            if re.fullmatch(r"[+-]\d\d:\d\d", offset):
                sign = -1 if offset[0] == "-" else 1
                zone = dt.timezone(sign * dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
            taken_at = local.replace(tzinfo=zone).astimezone(dt.UTC)
        except ValueError:
            taken_at = None
    lat = _degrees(gps.get(2), gps.get(1), "S") if 2 in gps else None
    lon = _degrees(gps.get(4), gps.get(3), "W") if 4 in gps else None
    if (lat is not None and not -90 <= lat <= 90) or (lon is not None and not -180 <= lon <= 180):
        lat = lon = None
    return times, gps, {"taken_at": taken_at, "lat": lat, "lon": lon}


def _reencode(image: Any, times: dict[int, Any], gps: dict[int, Any]) -> tuple[bytes, int, int]:
    """JPEG bytes of the upright image with only the capture time and GPS in its EXIF."""
    from PIL import Image, ImageOps

    upright = ImageOps.exif_transpose(image)
    if upright.mode not in ("RGB", "L"):
        rgba = upright.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        upright = flat
    exif = Image.Exif()
    if times:
        exif.get_ifd(_EXIF_IFD).update(times)
    if gps:
        exif.get_ifd(_GPS_IFD).update(gps)
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=88, exif=exif.tobytes() if (times or gps) else b"")
    return out.getvalue(), upright.width, upright.height


def add_photo(ctx: ServiceContext, request: PhotoUpload) -> PhotoList:
    """Validate, strip and store a photo of a case the caller may see; returns the case's photos.

    Raises
    ------
    NotAllowedError
        The caller may not see the case.
    ServiceError
        ``case_not_found``, ``not_an_image`` (not a JPEG/PNG/WebP Pillow can read), ``photo_too_large``
        (over :data:`MAX_BYTES` or :data:`MAX_PIXELS`), ``bad_request`` (an event of another case).
    """
    visible_case(ctx, request.case_id, "add a photo to this case")
    if request.event_id is not None:
        events = repository_people.case_events(ctx.engine, request.case_id)
        if int(request.event_id) not in set(events["event_id"].astype(int)):
            raise ServiceError(
                "bad_request", f"event {request.event_id} is not an event of {request.case_id}"
            )
    image = _open(request.data, request.filename)
    times, gps, columns = _kept_metadata(image, ctx.timezone)
    data, width, height = _reencode(image, times, gps)
    digest = hashlib.sha256(data).hexdigest()
    folder = Path("photos") / _SAFE_CASE_ID.sub("_", request.case_id)
    target = Path(ctx.data_dir) / folder / f"{digest}.jpg"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(target)
    repository_photos.add_photo_row(
        ctx.engine,
        case_id=request.case_id,
        event_id=request.event_id,
        file=(folder / target.name).as_posix(),
        sha256=digest,
        content_type="image/jpeg",
        width=width,
        height=height,
        uploaded_by=ctx.actor.inspector_id or ctx.actor.username,
        uploaded_at=dt.datetime.now(dt.UTC),
        **columns,
    )
    return PhotoList(repository_photos.case_photo_rows(ctx.engine, request.case_id))


def case_photos(ctx: ServiceContext, case_id: str) -> PhotoList:
    """The photos of a case the caller may see (rows only; the bytes: :func:`photo_bytes`)."""
    visible_case(ctx, case_id, "see the photos of this case")
    return PhotoList(repository_photos.case_photo_rows(ctx.engine, case_id))


def photo_bytes(ctx: ServiceContext, photo_id: int) -> PhotoFile:
    """The stored JPEG of photo ``photo_id``, only for a caller who may see its case.

    Raises
    ------
    NotAllowedError
        The caller may not see the photo's case.
    ServiceError
        ``photo_not_found`` (no such photo, or its file is gone).
    """
    row = repository_photos.photo_row(ctx.engine, photo_id)
    if row.empty:
        raise ServiceError("photo_not_found", f"there is no photo {photo_id}", photo_id=photo_id)
    visible_case(ctx, str(row["case_id"].iloc[0]), "see the photos of this case")
    root = Path(ctx.data_dir).resolve()
    path = (root / str(row["file"].iloc[0])).resolve()
    if root not in path.parents or not path.is_file():
        raise ServiceError("photo_not_found", f"the file of photo {photo_id} is missing", photo_id=photo_id)
    return PhotoFile(row, path.read_bytes(), str(row["content_type"].iloc[0]))


def act_with_photos(
    ctx: ServiceContext, request: CaseAction, photos: tuple[PhotoUpload, ...] = ()
) -> CaseActionResult:
    """:func:`services.cases.act`, then the photos stored as evidence of the event it wrote (a verification,
    a handling, a check). Every photo is validated first: a bad photo refuses the whole request, so that
    no action is recorded without the photos that came with it.

    Raises
    ------
    NotAllowedError, ServiceError
        As :func:`services.cases.act` and :func:`add_photo`.
    """
    visible_case(ctx, request.case_id, f"{request.action} this case")
    for photo in photos:
        _open(photo.data, photo.filename)
    done = act(ctx, request)
    event_id = done.transition.event_id if done.transition is not None else None
    for photo in photos:
        add_photo(ctx, dataclasses.replace(photo, case_id=request.case_id, event_id=event_id))
    return done

"""``gridpatrol demo-live``: replay one simulated day of the demo city through the HTTP API, in accelerated
time, so a user watching the app sees the day unfold (new cases in the queues, inspectors moving).

The day is read from the demo folder's files (``<data dir>/geo/demo``: ``cases/cases.parquet`` and
``tracks/day=YYYY-MM-DD/part.parquet``, written by :mod:`sim`) and moved, by whole days, to today:

* citizens' reports (every source but ``patrol``) are POSTed to Open311 (``/open311/v2/requests.json``)
  with a demo API key (``demo-live-<time>``, source ``wechat``, created for the run, revoked after it);
* patrol finds are reported through the field API (``/field/v1/reports``) by the inspector who found them;
* inspectors' positions are uploaded through the field API (``/field/v1/tracks``) in batches of
  :attr:`LiveRequest.batch_minutes` of simulated time, each with its idempotency key.

Each inspector signs in as ``live.<inspector id>`` (an inspector account created, or given a new password,
for the run). An event of simulated local time *t* is sent at ``(t - start) / speed`` seconds after the
start (late events are sent at once: nothing is skipped); times posted by the devices (track fixes) are the
simulated ones moved to today. Refused requests (e.g. a find outside the inspector's cells today) are
counted, not fatal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from services import api_keys
from services.context import ServiceContext
from services.errors import ServiceError
from services.users import ADMIN_ROLES

__all__ = ["LiveRequest", "LiveResult", "replay_day"]


@dataclasses.dataclass(frozen=True)
class LiveRequest:
    """What to replay and where.

    ``base_url``: the API (e.g. ``http://127.0.0.1:8000``); ``day``: the simulated day (None: the last day
    with tracks); ``speed``: simulated seconds per real second; ``from_hour`` / ``hours``: the part of the
    day replayed (local time); ``demo_dir``: the demo folder (None: ``<data dir>/geo/demo``).
    """

    base_url: str
    day: dt.date | None = None
    speed: float = 60.0
    from_hour: float = 0.0
    hours: float = 24.0
    batch_minutes: float = 5.0
    demo_dir: Path | None = None


@dataclasses.dataclass(frozen=True)
class LiveResult:
    """What was sent: requests by kind (``open311``, ``find``, ``track``), how many were accepted, the
    track points accepted, the day replayed and the wall-clock seconds taken."""

    day: dt.date
    sent: dict[str, int]
    accepted: dict[str, int]
    points: int
    seconds: float
    case_ids: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        kinds = sorted(self.sent)
        return pd.DataFrame(
            {
                "kind": kinds,
                "sent": [self.sent[k] for k in kinds],
                "accepted": [self.accepted[k] for k in kinds],
            }
        )


def _demo_dir(ctx: ServiceContext, request: LiveRequest) -> Path:
    folder = request.demo_dir or ctx.data_dir / "geo" / "demo"
    if not (folder / "cases" / "cases.parquet").exists():
        raise ServiceError("demo_not_found", f"no simulated demo city in {folder} (gridpatrol demo-data)")
    return folder


def _days(folder: Path) -> list[dt.date]:
    return sorted(dt.date.fromisoformat(p.name[4:]) for p in (folder / "tracks").glob("day=*"))


def _events(ctx: ServiceContext, request: LiveRequest, folder: Path, day: dt.date) -> pd.DataFrame:
    """The day's events (``offset_s`` of simulated time from the start, ``kind``, ``payload``), in order."""
    zone = ZoneInfo(ctx.timezone)
    start = pd.Timestamp(dt.datetime.combine(day, dt.time(), zone)) + pd.Timedelta(hours=request.from_hour)
    end = start + pd.Timedelta(hours=request.hours)
    today = pd.Timestamp(dt.datetime.combine(dt.datetime.now(zone).date(), dt.time(), zone))
    shift = pd.Timedelta(days=(today.date() - day).days)
    cases = pd.read_parquet(folder / "cases" / "cases.parquet")
    cases = cases[(cases["reported_at"] >= start) & (cases["reported_at"] < end)]
    rows: list[tuple[float, str, Any]] = []
    for case in cases.itertuples(index=False):
        offset = (case.reported_at - start).total_seconds()
        rows.append((offset, "find" if case.source == "patrol" else "open311", case._asdict()))
    part = folder / "tracks" / f"day={day.isoformat()}" / "part.parquet"
    if part.exists():
        tracks = pd.read_parquet(part)
        tracks = tracks[(tracks["ts"] >= start) & (tracks["ts"] < end)]
        window = ((tracks["ts"] - start).dt.total_seconds() // (request.batch_minutes * 60)).astype(int)
        for (inspector, k), batch in tracks.groupby([tracks["inspector_id"], window], sort=True):
            points = [
                {"ts": (t + shift).isoformat(), "lat": float(a), "lon": float(o), "accuracy_m": _num(acc)}
                for t, a, o, acc in zip(
                    batch["ts"], batch["lat"], batch["lon"], batch["accuracy_m"], strict=True
                )
            ]
            offset = (k + 1) * request.batch_minutes * 60
            rows.append((offset, "track", {"inspector_id": inspector, "window": int(k), "points": points}))
    rows.sort(key=lambda r: r[0])
    return pd.DataFrame(rows, columns=["offset_s", "kind", "payload"])


def _num(value: Any) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _accounts(ctx: ServiceContext, inspectors: list[str]) -> dict[str, tuple[str, str]]:
    """``inspector id → (username, password)`` of the run's inspector accounts."""
    from services.users import CreateUser, PasswordReset, create_user, reset_password

    out = {}
    for inspector in inspectors:
        name, password = f"live.{inspector.lower()}", secrets.token_urlsafe(12)
        try:
            create_user(ctx, CreateUser(name, "inspector", password, inspector_id=inspector))
        except ServiceError:  # the account exists from an earlier run
            reset_password(ctx, PasswordReset(name, password))
        out[inspector] = (name, password)
    return out


def replay_day(
    ctx: ServiceContext, request: LiveRequest, *, progress: Callable[[str], None] | None = None
) -> LiveResult:
    """Replay the day through the API at ``request.base_url`` (administrator or the system). Raises
    ``demo_not_found`` (no demo folder), ``day_not_simulated``, ``bad_request`` (speed not positive)."""
    import httpx

    ctx.require("replay the demo day", *ADMIN_ROLES)
    if not request.speed > 0:
        raise ServiceError("bad_request", "speed must be positive")
    folder = _demo_dir(ctx, request)
    days = _days(folder)
    day = request.day or (days[-1] if days else None)
    if day is None or day not in days:
        raise ServiceError("day_not_simulated", f"day {day} is not in the demo data ({folder})")
    events = _events(ctx, request, folder, day)
    name = f"demo-live-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}-{secrets.token_hex(2)}"
    key = api_keys.add_key(ctx, api_keys.NewKey(name, source="wechat", rate_per_minute=1_000_000))[1]
    inspectors = sorted(
        {e["inspector_id"] for e in events["payload"] if "points" in e}
        | {e["reported_by"] for e in events["payload"] if isinstance(e.get("reported_by"), str)}
    )
    accounts = _accounts(ctx, inspectors)
    sent = {"open311": 0, "find": 0, "track": 0}
    accepted = dict.fromkeys(sent, 0)
    points, case_ids = 0, []
    t0 = time.monotonic()
    try:
        with httpx.Client(base_url=request.base_url, timeout=30) as client:
            tokens: dict[str, dict[str, str]] = {}

            def auth(inspector: str) -> dict[str, str]:
                if inspector not in tokens:
                    user, password = accounts[inspector]
                    answer = client.post("/field/v1/token", data={"username": user, "password": password})
                    tokens[inspector] = {"Authorization": f"Bearer {answer.json().get('token', '')}"}
                return tokens[inspector]

            for event in events.itertuples(index=False):
                time.sleep(max(0.0, t0 + event.offset_s / request.speed - time.monotonic()))
                answer = _send(client, event.kind, event.payload, key, auth, day)
                sent[event.kind] += 1
                if answer.status_code == 200:
                    accepted[event.kind] += 1
                    body = answer.json()
                    if event.kind == "track":
                        points += int(body.get("added", 0))
                    else:
                        case_ids.append(
                            body[0]["service_request_id"] if event.kind == "open311" else body["case_id"]
                        )
                if progress is not None and sum(sent.values()) % 50 == 0:
                    progress(f"{sum(sent.values())}/{len(events)} requests sent")
    finally:
        api_keys.revoke_key(ctx, name)
    return LiveResult(day, sent, accepted, points, time.monotonic() - t0, tuple(case_ids))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _send(client: Any, kind: str, payload: dict, key: str, auth: Callable, day: dt.date) -> Any:
    if kind == "open311":
        data = {
            "api_key": key,
            "service_code": payload["category_code"],
            "lat": repr(float(payload["lat"])),
            "long": repr(float(payload["lon"])),
            "description": _text(payload.get("description")),
        }
        if isinstance(payload.get("reporter_phone"), str):
            data["phone"] = payload["reporter_phone"]
        return client.post("/open311/v2/requests.json", data=data)
    if kind == "find":
        data = {
            "lat": float(payload["lat"]),
            "lon": float(payload["lon"]),
            "category_code": payload["category_code"],
            "description": _text(payload.get("description")) or "巡查发现",
        }
        return client.post("/field/v1/reports", data=data, headers=auth(str(payload["reported_by"])))
    headers = {**auth(payload["inspector_id"]), "Idempotency-Key": f"live-{day}-{payload['window']}"}
    return client.post("/field/v1/tracks", json={"points": payload["points"]}, headers=headers)

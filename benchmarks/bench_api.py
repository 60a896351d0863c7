"""Load on loopback: Open311 POSTs at a fixed rate plus inspectors' track uploads, against ``gridpatrol api``.

The server runs as its own process (``python -m app.cli api``) on a fresh SQLite store (and PostgreSQL
with ``GRIDPATROL_BENCH_PG_URL`` or ``GRIDPATROL_TEST_PG_URL``, a throwaway database whose schema is
dropped first) with one district.
The load is open-loop (request *i* is sent at ``i / rate`` seconds, whatever the answers), from a thread
pool, for a bounded time, then stops: requests whose time comes after the end are not sent (``not_sent``).
Afterwards the store is counted: every POST answered 200 must be exactly one case (nothing lost, nothing
doubled) and every point of an upload answered 200 exactly one stored point (each round of an inspector
carries its own fixes). Rows: requests, seconds, achieved rate, p50 / p99 latency, errors, lost and
duplicated items, and the server's CPU milliseconds per request (user + system, from ``/proc``: the
number that matters on a loaded machine, where wall-clock rates are only indicative).

Usage: ``python -m benchmarks api`` (60 s at 200 POST/s + 80 inspectors every 10 s) or ``--quick`` (10 s at
50 POST/s + 8 inspectors).
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BOX = [[120.84, 32.00], [120.90, 32.00], [120.90, 32.04], [120.84, 32.04], [120.84, 32.00]]
PASSWORD = "bench-pass-2026"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(folder: Path, url: str, inspectors: int) -> tuple[str, list[str]]:
    """Migrate the store, add the district, an API key, the inspectors and their users."""
    from cases.db import init_db, make_engine
    from grid.config import load_city_config
    from services.api_keys import NewKey, add_key
    from services.context import ServiceContext
    from services.imports import ImportRequest, import_file
    from services.users import CreateUser, create_user

    engine = make_engine(url)
    if engine.dialect.name == "postgresql":  # a throwaway database: start from an empty schema
        import sqlalchemy as sa

        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    init_db(engine)
    ctx = ServiceContext(engine=engine, config=load_city_config(), data_dir=folder)
    area = folder / "district.geojson"
    feature = {"type": "Feature", "properties": {"id": "320602", "name": "district"},
               "geometry": {"type": "Polygon", "coordinates": [BOX]}}  # fmt: skip
    area.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    import_file(ctx, ImportRequest(kind="areas", path=area, level="district", write_quarantine=False))
    key = add_key(ctx, NewKey("bench", source="wechat", rate_per_minute=10_000_000))[1]
    ids = [f"B{k:03d}" for k in range(inspectors)]
    rows = "\n".join(f"{i},inspector {i},320602,true" for i in ids)
    (folder / "inspectors.csv").write_text(f"inspector_id,name,district,active\n{rows}\n", encoding="utf-8")
    import_file(ctx, ImportRequest(kind="inspectors", path=folder / "inspectors.csv", write_quarantine=False))
    for i in ids:
        create_user(ctx, CreateUser(f"u{i.lower()}", "inspector", PASSWORD, inspector_id=i))
    engine.dispose()
    return key, ids


def _start(folder: Path, url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "GRIDPATROL_DATA_DIR": str(folder), "GRIDPATROL_DB_URL": url,
           "PYTHONPATH": str(REPO), "NO_PROXY": "127.0.0.1"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "api", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the API server did not start")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def _load(base: str, key: str, ids: list[str], rate: float, seconds: float, every_s: float) -> dict:
    import httpx

    rng = np.random.default_rng(7)
    n_posts = int(rate * seconds)
    lat = rng.uniform(32.001, 32.039, n_posts)
    lon = rng.uniform(120.841, 120.899, n_posts)
    latencies: list[float] = []
    statuses: list[int] = []
    skipped: list[int] = []
    uploads = {"ok": 0, "points": 0, "added": 0, "errors": 0, "latencies": []}
    wall0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    lock = threading.Lock()
    local = threading.local()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, timeout=30)
        return local.client

    def post(i: int) -> None:
        time.sleep(max(0.0, t0 + i / rate - time.monotonic()))
        if time.monotonic() > t0 + seconds:  # bounded: what the server could not take in time is not sent
            with lock:
                skipped.append(i)
            return
        form = {"api_key": key, "service_code": "06010", "lat": f"{lat[i]:.6f}", "long": f"{lon[i]:.6f}",
                "description": f"bench {i}", "phone": "13812345678"}  # fmt: skip
        start = time.monotonic()
        try:
            status = client().post("/open311/v2/requests.json", data=form).status_code
        except httpx.HTTPError:
            status = 0
        with lock:
            latencies.append(time.monotonic() - start)
            statuses.append(status)

    def inspector(k: int, token: str) -> None:
        rounds = int(seconds // every_s)
        for r in range(rounds):
            time.sleep(max(0.0, t0 + (k / len(ids) + r) * every_s - time.monotonic()))
            at = wall0 + dt.timedelta(seconds=r * every_s)  # each round its own fixes, whatever the delays
            points = [{"ts": (at + dt.timedelta(seconds=5 * j)).isoformat(), "lat": 32.01 + k * 1e-4,
                       "lon": 120.86 + j * 1e-5} for j in range(int(every_s // 5))]  # fmt: skip
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"{ids[k]}-{r}"}
            start = time.monotonic()
            try:
                response = client().post("/field/v1/tracks", json={"points": points}, headers=headers)
                ok = response.status_code == 200
                added = response.json()["added"] if ok else 0
            except httpx.HTTPError:
                ok, added = False, 0
            with lock:
                uploads["latencies"].append(time.monotonic() - start)
                if ok:
                    uploads["ok"] += 1
                    uploads["points"] += len(points)
                    uploads["added"] += added
                else:
                    uploads["errors"] += 1

    with httpx.Client(base_url=base, timeout=30) as c:
        tokens = [
            c.post("/field/v1/token", data={"username": f"u{i.lower()}", "password": PASSWORD}).json()[
                "token"
            ]
            for i in ids
        ]
        # warm-up, not counted: the server imports its modules lazily on first use (seconds without .pyc)
        c.post(
            "/open311/v2/requests.json",
            data={"api_key": key, "service_code": "06010", "lat": "1", "long": "1"},
        )
        c.get("/open311/v2/requests.json")
        c.get("/field/v1/positions", headers={"Authorization": f"Bearer {tokens[0]}"})
    workers = max(16, int(rate * 0.2) + len(ids))
    t0 = time.monotonic() + 1.0
    with cf.ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(inspector, k, t) for k, t in enumerate(tokens)]
        futures += [pool.submit(post, i) for i in range(n_posts)]
        for f in futures:
            f.result()
    wall = time.monotonic() - t0
    return {
        "latencies": latencies,
        "statuses": statuses,
        "uploads": uploads,
        "wall": wall,
        "skipped": len(skipped),
    }


def _count(url: str, folder: Path) -> tuple[int, int, int]:
    """Cases, distinct case ids from the API, and stored track points."""
    import sqlalchemy as sa

    from cases.db import make_engine
    from patrol.store import read_days

    engine = make_engine(url)
    with engine.connect() as conn:
        cases = conn.execute(sa.text("SELECT count(*) FROM cases WHERE case_id LIKE 'O311-%'")).scalar()
        requests = conn.execute(sa.text("SELECT count(DISTINCT case_id) FROM api_requests")).scalar()
    engine.dispose()
    return int(cases), int(requests), len(read_days(folder / "tracks"))


def run(quick: bool = False) -> list[dict]:
    rate, seconds, inspectors = (50.0, 10.0, 8) if quick else (200.0, 60.0, 80)
    stores = [("sqlite", None)]
    pg_url = os.environ.get("GRIDPATROL_BENCH_PG_URL") or os.environ.get("GRIDPATROL_TEST_PG_URL")
    if pg_url:  # a throwaway database: its schema is dropped first
        stores.append(("postgresql", pg_url))
    rows = []
    for name, pg_url in stores:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            url = pg_url or f"sqlite:///{folder / 'gridpatrol.db'}"
            key, ids = _prepare(folder, url, inspectors)
            port = _free_port()
            proc = _start(folder, url, port)
            try:
                cpu0 = _cpu_seconds(proc.pid)
                done = _load(f"http://127.0.0.1:{port}", key, ids, rate, seconds, 10.0)
                cpu = _cpu_seconds(proc.pid) - cpu0
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            cases, requests, points = _count(url, folder)
        ok = sum(s == 200 for s in done["statuses"])
        n_uploads = done["uploads"]["ok"] + done["uploads"]["errors"]
        lat_ms = np.array(done["latencies"]) * 1000
        up_ms = np.array(done["uploads"]["latencies"] or [np.nan]) * 1000
        rows.append({
            "benchmark": "open311 POST load", "subject": name, "n": len(done["statuses"]),
            "seconds": done["wall"], "per_s": ok / done["wall"], "target_per_s": rate,
            "p50_ms": float(np.percentile(lat_ms, 50)), "p99_ms": float(np.percentile(lat_ms, 99)),
            "errors": len(done["statuses"]) - ok, "lost": max(0, ok - cases),
            "duplicated": max(0, cases - ok), "not_sent": done["skipped"], "requests_rows": requests,
            "server_cpu_ms_per_request": 1000 * cpu / max(1, len(done["statuses"]) + n_uploads),
        })  # fmt: skip
        rows.append({
            "benchmark": "field track uploads", "subject": name,
            "n": done["uploads"]["ok"] + done["uploads"]["errors"], "seconds": done["wall"],
            "per_s": done["uploads"]["ok"] / done["wall"], "inspectors": inspectors,
            "p50_ms": float(np.nanpercentile(up_ms, 50)), "p99_ms": float(np.nanpercentile(up_ms, 99)),
            "errors": done["uploads"]["errors"], "points_sent": done["uploads"]["points"],
            "lost": max(0, done["uploads"]["points"] - points),
            "duplicated": max(0, points - done["uploads"]["points"]),
        })  # fmt: skip
    return rows

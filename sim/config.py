"""Every knob of the demo-city simulator, with its default, in one frozen dataclass.

The defaults reproduce the press figures quoted for Nantong's 12319 hotline (DOMAIN.md §5: ~600 cases a
day, 80 inspectors, on-time closure 93.5 %, closure 99.5 %, satisfaction 99.8 %) on a ~100 km² city
around 32.0°N 120.86°E. Category codes are GB/T 47678.5-2026 matter codes (DOMAIN.md §2.3).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from grid.config import DEFAULT_TIMEZONE

CATEGORY_STANDARD = "GB/T 47678.5-2026"
SOURCES = ("patrol", "hotline", "wechat", "video", "other")

#: (code, name, kind, department key, annual share of cases). Shares are normalised to 1.
DEFAULT_CATEGORY_MIX: tuple[tuple[str, str, str, str, float], ...] = (
    ("07001", "非法小广告", "event", "CG", 0.150),
    ("06010", "暴露垃圾", "event", "HW", 0.130),
    ("09009", "机动车乱停放", "event", "JJ", 0.100),
    ("09006", "占道经营", "event", "CG", 0.085),
    ("09001", "无照经营游商", "event", "CG", 0.065),
    ("09005", "店外经营", "event", "CG", 0.055),
    ("06036", "乱堆杂物", "event", "CG", 0.050),
    ("06012", "道路不洁", "event", "HW", 0.045),
    ("09010", "非机动车乱停放", "event", "CG", 0.040),
    ("06011", "积存垃圾渣土", "event", "HW", 0.030),
    ("06042", "垃圾站(箱)满溢", "event", "HW", 0.030),
    ("08005", "施工废弃料", "event", "ZJ", 0.030),
    ("06001", "私搭乱建", "event", "CG", 0.025),
    ("06045", "非法占绿毁绿", "event", "YL", 0.020),
    ("06017", "绿地脏乱", "event", "YL", 0.020),
    ("07003", "违规户外广告", "event", "CG", 0.020),
    ("08004", "工地扬尘", "event", "ZJ", 0.015),
    ("06029", "露天烧烤", "event", "CG", 0.015),
    ("06027", "油烟污染", "event", "CG", 0.010),
    ("06007", "沿街晾挂", "event", "CG", 0.010),
    ("06013", "道路破损", "event", "SZ", 0.010),
    ("01002", "污水井盖异常", "component", "SW", 0.010),
    ("01003", "雨水井盖异常", "component", "SZ", 0.005),
    ("01037", "路灯异常", "component", "SZ", 0.010),
    ("10001", "道路积雪、结冰", "event", "SZ", 0.005),
)

#: Department keys → names (prefixed with the district name in the departments table).
DEFAULT_DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("CG", "城市管理综合行政执法局"),
    ("HW", "环境卫生管理处"),
    ("YL", "园林绿化管理处"),
    ("SZ", "市政设施管理处"),
    ("ZJ", "住房和城乡建设局"),
    ("JJ", "公安交警大队"),
    ("SW", "水务局"),
)

#: Share of the cases of each source (patrol finds come from the tracks; the rest from public reports).
DEFAULT_SOURCE_SHARES: tuple[tuple[str, float], ...] = (
    ("patrol", 0.45),
    ("hotline", 0.30),
    ("wechat", 0.15),
    ("video", 0.08),
    ("other", 0.02),
)

#: Relative case intensity Monday … Sunday (normalised to mean 1); public holidays count as Sunday.
DEFAULT_WEEKLY_PROFILE: tuple[float, ...] = (1.12, 1.08, 1.06, 1.06, 1.10, 0.82, 0.76)

#: Categories with near-repeat contagion: (code, branching ratio, mean delay days, spatial sigma m).
DEFAULT_CONTAGION: tuple[tuple[str, float, float, float], ...] = (
    ("07001", 0.30, 2.0, 120.0),
    ("06010", 0.20, 1.5, 100.0),
    ("08005", 0.25, 3.0, 150.0),
    ("06036", 0.15, 3.0, 100.0),
)

#: Transient problem sites (:mod:`sim.episodes`): (kind, profile, min days, max days, footprint radius m,
#: cases a week per site, ((code, share of that code's cases coming from such sites), ...)). The shares are
#: the part of each category that is site-bound and temporary in a mid-size city: construction waste and
#: dust come almost only from works sites, most of them short jobs (the long sites are the planted
#: construction hot spots); muck piles and clutter half from dumping spots until they are cleared; road-
#: occupying vendors largely from seasonal pitches; broken covers, lamps and road surfaces are reported
#: repeatedly until repaired. Overall ≈ 15 % of all cases at the default mix.
DEFAULT_EPISODES: tuple[tuple[str, str, int, int, float, float, tuple[tuple[str, float], ...]], ...] = (
    (
        "construction",
        "flat",
        28,
        84,
        120.0,
        6.0,
        (("08005", 0.6), ("08004", 0.6), ("06011", 0.2), ("06012", 0.2)),
    ),
    ("dumping", "growing", 14, 42, 0.0, 4.0, (("06036", 0.3), ("06011", 0.2), ("06010", 0.1))),
    (
        "vending",
        "flat",
        42,
        112,
        120.0,
        8.0,
        (("09006", 0.4), ("09001", 0.2), ("06029", 0.4), ("06027", 0.3)),
    ),
    ("facility", "flat", 7, 21, 0.0, 2.5, (("01002", 0.6), ("01003", 0.6), ("01037", 0.6), ("06013", 0.5))),
)


@dataclass(frozen=True)
class DemoConfig:
    """Configuration of the demo city; every field has a default (the one-year Nantong-like city).

    Parameters
    ----------
    seed
        Seed of the single ``np.random.Generator`` passed down through the simulator.
    days
        Number of simulated days starting at ``start``.
    start
        First simulated day (local date in ``timezone``). 2025 is fully covered by ``chinese_calendar``.
    cases_per_day
        Mean number of cases per day over the whole period (all sources).
    n_inspectors
        Number of grid inspectors (城管监督员); each gets a contiguous beat inside one subdistrict.
    area_km2
        Approximate city area in km².
    center_lat, center_lon
        WGS-84 centre of the city (Nantong's urban core by default).
    episodes
        Transient problem sites (:data:`DEFAULT_EPISODES`, :mod:`sim.episodes`); ``()`` for none.
    """

    seed: int = 7
    days: int = 365
    start: dt.date = dt.date(2025, 1, 1)
    cases_per_day: float = 600.0
    n_inspectors: int = 80
    area_km2: float = 100.0
    center_lat: float = 32.0
    center_lon: float = 120.86
    timezone: str = DEFAULT_TIMEZONE
    h3_res: int = 10
    # geography
    n_districts: int = 4
    n_subdistricts: int = 20
    n_communities: int = 100
    block_min_m: float = 80.0
    block_max_m: float = 300.0
    arterial_every: int = 5
    unit_grid_m2: float = 10_000.0
    # cases
    category_mix: tuple[tuple[str, str, str, str, float], ...] = DEFAULT_CATEGORY_MIX
    category_standard: str = CATEGORY_STANDARD
    source_shares: tuple[tuple[str, float], ...] = DEFAULT_SOURCE_SHARES
    weekly_profile: tuple[float, ...] = DEFAULT_WEEKLY_PROFILE
    contagion: tuple[tuple[str, float, float, float], ...] = DEFAULT_CONTAGION
    departments: tuple[tuple[str, str], ...] = DEFAULT_DEPARTMENTS
    episodes: tuple[tuple[str, str, int, int, float, float, tuple[tuple[str, float], ...]], ...] = (
        DEFAULT_EPISODES
    )
    # lifecycle targets (DOMAIN §3.3 definitions)
    on_time_rate: float = 0.935
    closure_rate: float = 0.995
    satisfaction_rate: float = 0.998
    cancel_rate: float = 0.02
    rework_rate: float = 0.03
    urgent_share: float = 0.05
    callback_share: float = 0.8
    # patrol
    shift_hours: tuple[tuple[str, str], ...] = (("08:00", "12:00"), ("13:30", "17:30"))
    walk_speed_kmh: tuple[float, float] = (4.0, 5.0)
    fix_interval_s: int = 5
    gps_accuracy_m: tuple[float, float] = (5.0, 15.0)
    outlier_rate: float = 0.004
    gap_rate_per_hour: float = 0.6
    idle_stops_per_hour: float = 0.8
    row_group_size: int = 131_072
    gpx_day_index: int = 1
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        _check_positive(self, ("days", "cases_per_day", "n_inspectors", "area_km2"))
        if not 0.5 < sum(s for _, s in self.source_shares) < 1.5:
            msg = f"source_shares must sum to about 1, got {sum(s for _, s in self.source_shares):.3f}"
            raise ValueError(msg)
        bad = [s for s, _ in self.source_shares if s not in SOURCES]
        if bad:
            msg = f"source_shares has unknown sources {bad}; allowed: {list(SOURCES)}"
            raise ValueError(msg)
        if len(self.weekly_profile) != 7:
            msg = f"weekly_profile needs 7 values (Monday … Sunday), got {len(self.weekly_profile)}"
            raise ValueError(msg)
        for name in ("on_time_rate", "closure_rate", "satisfaction_rate"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                msg = f"{name} must be in (0, 1], got {value}"
                raise ValueError(msg)
        if self.on_time_rate > self.closure_rate:
            msg = f"on_time_rate ({self.on_time_rate}) cannot exceed closure_rate ({self.closure_rate})"
            raise ValueError(msg)

    # ---- derived views -------------------------------------------------------------------------
    @property
    def category_codes(self) -> tuple[str, ...]:
        """Category codes in mix order."""
        return tuple(c[0] for c in self.category_mix)

    @property
    def category_shares(self) -> np.ndarray:
        """Annual share of each category (normalised to 1), in ``category_codes`` order."""
        shares = np.array([c[4] for c in self.category_mix], dtype=float)
        return shares / shares.sum()

    @property
    def source_share_map(self) -> dict[str, float]:
        """Source → share, normalised to 1."""
        total = sum(s for _, s in self.source_shares)
        return {k: v / total for k, v in self.source_shares}

    @property
    def end(self) -> dt.date:
        """Last simulated day (inclusive)."""
        return self.start + dt.timedelta(days=self.days - 1)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (dates as ISO strings)."""
        out = dataclasses.asdict(self)
        out["start"] = self.start.isoformat()
        out.pop("extra", None)
        return out


def first_day(days: int, end: dt.date | None = None, timezone: str = DEFAULT_TIMEZONE) -> dt.date:
    """The first of ``days`` simulated days ending on ``end`` (default: today in ``timezone``)."""
    if end is None:
        end = dt.datetime.now(ZoneInfo(timezone)).date()
    return end - dt.timedelta(days=days - 1)


def _check_positive(cfg: DemoConfig, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(cfg, name)
        if not value > 0:
            msg = f"DemoConfig.{name} must be > 0, got {value!r}"
            raise ValueError(msg)

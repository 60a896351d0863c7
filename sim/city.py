"""The simulator's result: :class:`DemoCity` (everything one run produced) and the case columns it writes.

Below both :mod:`sim.run` (which builds a city) and :mod:`sim.outputs` (which writes one), so that each
imports it at the top and neither imports the other's caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cases.models import CASE_CONTRACT_COLUMNS
from sim.config import DemoConfig
from sim.geography import Geography
from sim.intensity import Intensity
from sim.people import People
from sim.routes import Route
from sim.tracks import TrackResult

CASE_COLUMNS = CASE_CONTRACT_COLUMNS


@dataclass
class DemoCity:
    """Everything the simulator produced (in memory, except the track points, which are on disk)."""

    config: DemoConfig
    geography: Geography
    people: People
    intensity: Intensity
    routes: list[Route]
    problems: pd.DataFrame
    tracks: TrackResult
    cases: pd.DataFrame
    events: pd.DataFrame
    rates: dict[str, float]
    timings: dict[str, float] = field(default_factory=dict)

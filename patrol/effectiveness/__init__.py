"""Patrol effectiveness: inspectors' tracks joined with cases — who found what, what was walked past.

Everything reads **cell visits** (:func:`cell_visits`): the coverage module's visits (runs of one session's
densified track pieces in one cell, :func:`patrol.coverage.track_pieces`) with their entry and exit times.
A visit table is the coverage cube before it is summed into periods (summing a day's visits per inspector,
cell and day gives :func:`patrol.coverage.reduce_tracks` exactly), about 30k rows per day for 80 inspectors
against 430k fixes, and it is all the joins need: the raw fixes are read again only for the integrity check
of patrol reports (:func:`reporter_track_check`).

* :func:`attribute_cases` — for every case, the inspector last present in its cell (ring 0) and in its
  ``k``-ring within ``window_h`` hours before the report, and how long before; for patrol finds, whether the
  reporter was among them. One interval join: visits sorted by (cell, entry) with a running maximum of the
  exit time, queried by ``searchsorted`` — no loop per case.
* :func:`missed_problems` / :func:`missed_summary` — citizen reports (hotline, WeChat) in cells an inspector
  passed through within ``window_h`` hours before the report: problems the patrol walked past.
* :func:`discovery_rates` — 主动发现率 (patrol finds / all cases) per cell, subdistrict, inspector or
  category, with patrol hours and km, finds per hour and per km, and the expected problems there.
* :func:`expected_problems`, :func:`allocation_gap`, :func:`allocation_index` — expected problems vs patrol
  minutes per cell (the allocation-gap map) and the share of patrol time that would have to move.
* :func:`response_times` / :func:`response_summary` — report → on-site verification (核实) and handling →
  on-site re-check (核查) from the case events, in working hours, against time limits.

Times are UTC; hours of day are in the city's zone.

Modules: :mod:`~patrol.effectiveness.visits` (track I/O → cell visits),
:mod:`~patrol.effectiveness.attribution` (interval join, misses),
:mod:`~patrol.effectiveness.integrity` (reporter's track check),
:mod:`~patrol.effectiveness.discovery`, :mod:`~patrol.effectiveness.allocation` (forecast vs patrol time),
:mod:`~patrol.effectiveness.response` and :mod:`~patrol.effectiveness.table` (all of them per group); this
package re-exports their public names.
"""

from __future__ import annotations

from patrol.effectiveness.allocation import allocation_gap, allocation_index, expected_problems
from patrol.effectiveness.attribution import (
    ATTRIBUTION_COLUMNS,
    CITIZEN_SOURCES,
    DEFAULT_WINDOW_H,
    attribute_cases,
    missed_problems,
    missed_summary,
)
from patrol.effectiveness.discovery import GROUPS, discovery_rates
from patrol.effectiveness.integrity import reporter_track_check
from patrol.effectiveness.response import (
    DEFAULT_CHECK_LIMIT_H,
    DEFAULT_VERIFY_LIMIT_H,
    RESPONSE_COLUMNS,
    response_summary,
    response_times,
)
from patrol.effectiveness.table import effectiveness_table
from patrol.effectiveness.visits import VISIT_COLUMNS, cell_visits, visits_from_store

__all__ = [
    "ATTRIBUTION_COLUMNS",
    "CITIZEN_SOURCES",
    "DEFAULT_CHECK_LIMIT_H",
    "DEFAULT_VERIFY_LIMIT_H",
    "DEFAULT_WINDOW_H",
    "GROUPS",
    "RESPONSE_COLUMNS",
    "VISIT_COLUMNS",
    "allocation_gap",
    "allocation_index",
    "attribute_cases",
    "cell_visits",
    "discovery_rates",
    "effectiveness_table",
    "expected_problems",
    "missed_problems",
    "missed_summary",
    "reporter_track_check",
    "response_summary",
    "response_times",
    "visits_from_store",
]

"""Concurrent writers lose no change: 20 threads × 500 transitions on random cases, SQLite and PostgreSQL.

Each writer repeatedly picks a random case, reads its status and version, picks a random action that status
allows (never ``check_pass``, ``close`` or ``cancel``, so no case reaches an end and every case keeps
moving; those three are tested in ``test_lifecycle.py``) and applies it with ``expected_version``; on a
conflict (:class:`~cases.lifecycle.StaleCaseError`) it re-reads and decides again (``retry_stale``). With 40
cases and 20 writers, conflicts are frequent. At the end every case's history must be a chain of allowed
transitions ending in the case's status, its version must be 1 + the number of transitions, and the events
must be exactly the 10,000 successful transitions the writers counted — a lost update would break one of
these.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.lifecycle import (
    TRANSITIONS,
    StaleCaseError,
    allowed_actions,
    history_problems,
    load_events,
    load_lifecycle_frame,
    report_case,
    retry_stale,
    transition,
)
from cases.models import Case

N_WRITERS = 20
PER_WRITER = 500
N_CASES = 40
T0 = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)
_ENDING = ("check_pass", "close", "cancel", "mediate")
_READ = sa.select(Case.status, Case.version, Case.deadline_at).where(Case.case_id == sa.bindparam("case_id"))


def _writer(engine: Engine, seed: int, done: Counter, conflicts: Counter, errors: list) -> None:
    rng = random.Random(seed)

    def step(case_id: str) -> str:
        with engine.connect() as conn:
            status, version, due = conn.execute(_READ, {"case_id": case_id}).one()
        actions = [a for a in allowed_actions(status) if a not in _ENDING]
        action = rng.choice(actions)
        role = TRANSITIONS[action].roles[0]
        extra: dict = {}
        if action == "dispatch":
            extra["department"] = rng.choice(["D1-HW", "D1-CG", "D2-SZ"])
        if action == "request_extension":
            extra["deadline"] = due + dt.timedelta(hours=rng.randint(1, 48))
        try:
            transition(engine, case_id, action, f"w{seed}", role, None, None, version, **extra)
        except StaleCaseError:
            conflicts[seed] += 1
            raise
        return action

    try:
        for _ in range(PER_WRITER):
            case_id = f"K{rng.randrange(N_CASES):03d}"
            retry_stale(lambda c=case_id: step(c), attempts=200, backoff_s=0.001)
            done[seed] += 1
    except Exception as exc:  # reported to the main thread, which fails the test
        errors.append(exc)


@pytest.mark.slow  # 10,000 transitions with ~2,000 conflicts: ~10 s on SQLite, more on PostgreSQL
@pytest.mark.filterwarnings("ignore:chinese_calendar has no holiday table")  # deadlines run into next year
def test_twenty_writers_lose_nothing(store_engine: Engine) -> None:
    engine = store_engine
    for k in range(N_CASES):
        report_case(engine, case_id=f"K{k:03d}", source="patrol", category_code="06010", reported_at=T0,
                    actor="I01", role="inspector", urgency="normal")  # fmt: skip
    done: Counter = Counter()
    conflicts: Counter = Counter()
    errors: list = []
    threads = [
        threading.Thread(target=_writer, args=(engine, seed, done, conflicts, errors))
        for seed in range(N_WRITERS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(done.values()) == N_WRITERS * PER_WRITER
    events = load_events(engine)
    cases = load_lifecycle_frame(engine)
    opening = events["action"].eq("report")
    assert int(opening.sum()) == 2 * N_CASES  # None → reported → verified per patrol find
    moves = events[~opening]
    # every successful transition wrote exactly one event, and no event exists without a transition
    assert len(moves) == N_WRITERS * PER_WRITER
    assert Counter(moves["actor"].str.removeprefix("w").astype(int)) == done
    # each case's version counts its transitions: no update was applied on top of a stale read
    per_case = moves.groupby("case_id").size().reindex(cases["case_id"], fill_value=0).to_numpy()
    with engine.connect() as conn:
        versions = pd.Series(dict(conn.execute(sa.select(Case.case_id, Case.version)).all()))
    assert (versions.reindex(cases["case_id"]).to_numpy() == 1 + per_case).all()
    problems = history_problems(events, cases)
    assert problems.empty, problems.head(20).to_string()
    assert set(cases["status"]) <= set(TRANSITIONS_TARGETS)
    assert sum(conflicts.values()) > 0  # the writers really collided (else the test proves nothing)
    print(f"{engine.dialect.name}: {len(moves)} transitions, {sum(conflicts.values())} conflicts retried")


TRANSITIONS_TARGETS = {t.target for t in TRANSITIONS.values()}

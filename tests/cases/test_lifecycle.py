"""cases.lifecycle: every transition and role checked, happy paths, rework, extension, suspension, events."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cases.calendar import default_calendar
from cases.db import init_db, make_engine
from cases.lifecycle import (
    ACTIONS,
    ROLES,
    STATUSES,
    TRANSITIONS,
    CaseNotFoundError,
    InvalidTransitionError,
    RoleNotAllowedError,
    StaleCaseError,
    allowed_actions,
    history_problems,
    load_events,
    load_lifecycle_frame,
    report_case,
    retry_stale,
    transition,
)
from cases.models import Case, CaseEvent

SH = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=SH)  # a Monday, working time
DEPT = "D1-HW"


@pytest.fixture(scope="module")
def one_per_status(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, dict[str, str]]]:
    """One migrated SQLite store holding one case in each status (refused actions change nothing, so the
    ~270 parametrised refusals can share them)."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('lifecycle') / 'lc.db'}")
    init_db(engine)
    cases = {status: _new(engine, f"in-{status}") for status in STATUSES}
    for status, case in cases.items():
        _drive_to(engine, case, status)
    yield engine, cases
    engine.dispose()


def _n_events(engine: Engine, case_id: str) -> int:
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id)
        return conn.execute(query).scalar_one()


def _at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _new(engine: Engine, case_id: str = "C1", *, role: str = "operator", code: str = "06010") -> str:
    report_case(
        engine,
        case_id=case_id,
        source="hotline" if role == "operator" else "patrol",
        category_code=code,
        reported_at=T0,
        actor="op1" if role == "operator" else "I01",
        role=role,
        lat=32.0,
        lon=120.86,
        urgency="normal",
    )
    return case_id


#: The actor's role for each action on the happy path (the first role the table allows).
ROLE_OF = {a: t.roles[0] for a, t in TRANSITIONS.items()}


def _do(engine: Engine, case_id: str, action: str, minutes: float, **kw):
    return transition(engine, case_id, action, f"{ROLE_OF[action]}-x", ROLE_OF[action], _at(minutes), **kw)


def _status(engine: Engine, case_id: str) -> tuple[str, int]:
    with engine.connect() as conn:
        row = conn.execute(sa.select(Case.status, Case.version).where(Case.case_id == case_id)).one()
    return row.status, row.version


def _drive_to(engine: Engine, case_id: str, status: str) -> None:
    """Move a fresh public report to ``status`` along the shortest path."""
    paths = {
        "reported": [],
        "verified": ["verify"],
        "cancelled": ["verify", "cancel"],
        "registered": ["verify", "register"],
        "dispatched": ["verify", "register", "dispatch"],
        "resolved": ["verify", "register", "dispatch", "handle"],
        "checked": ["verify", "register", "dispatch", "handle", "check_pass"],
        "closed": ["verify", "register", "dispatch", "handle", "check_pass", "close"],
        "extension_requested": ["verify", "register", "dispatch", "request_extension"],
        "suspension_requested": ["verify", "register", "dispatch", "request_suspension"],
        "suspended": ["verify", "register", "dispatch", "request_suspension", "approve_suspension"],
    }
    for k, action in enumerate(paths[status]):
        extra = {"department": DEPT} if action == "dispatch" else {}
        if action == "request_extension":
            extra = {"deadline": _at(60 * 24 * 3)}
        _do(engine, case_id, action, 10 * (k + 1), **extra)
    assert _status(engine, case_id)[0] == status


def test_happy_path_writes_every_event_and_time(sqlite_engine: Engine) -> None:
    case = _new(sqlite_engine)
    steps = [
        ("verify", 5),
        ("register", 10),
        ("dispatch", 15),
        ("handle", 60),
        ("check_pass", 90),
        ("close", 100),
    ]
    versions = []
    for action, minute in steps:
        result = _do(
            sqlite_engine, case, action, minute, **({"department": DEPT} if action == "dispatch" else {})
        )
        versions.append(result.version)
    assert versions == [2, 3, 4, 5, 6, 7]
    frame = load_lifecycle_frame(sqlite_engine).set_index("case_id")
    row = frame.loc[case]
    assert row["status"] == "closed"
    assert row["department"] == DEPT
    assert row["registered_at"] == pd.Timestamp(_at(10))
    assert row["dispatched_at"] == pd.Timestamp(_at(15))
    assert row["resolved_at"] == pd.Timestamp(_at(60))
    assert row["verified_at"] == pd.Timestamp(_at(90))
    assert row["closed_at"] == pd.Timestamp(_at(100))
    # 暴露垃圾 06010 normal: 4 working hours from Mon 09:15 → 13:30 + 0:45 … = Mon 14:45 (lunch 12:00–13:30)
    assert row["deadline_at"] == pd.Timestamp(dt.datetime(2025, 3, 3, 14, 45, tzinfo=SH))
    events = load_events(sqlite_engine)
    assert events["to_status"].tolist() == [
        "reported", "verified", "registered", "dispatched", "resolved", "checked", "closed",
    ]  # fmt: skip
    assert events["action"].tolist() == ["report", *(a for a, _ in steps)]
    assert events["role"].tolist() == ["operator", *(ROLE_OF[a] for a, _ in steps)]
    assert events["actor"].iloc[3] == "dispatcher-x"
    assert events["deadline_at"].iloc[3] == pd.Timestamp(dt.datetime(2025, 3, 3, 14, 45, tzinfo=SH))
    assert history_problems(events, frame.reset_index()).empty


def test_patrol_report_is_verified_at_once(sqlite_engine: Engine) -> None:
    case = _new(sqlite_engine, role="inspector")
    assert _status(sqlite_engine, case) == ("verified", 1)
    events = load_events(sqlite_engine)
    assert list(zip(events["from_status"].fillna("-"), events["to_status"], strict=True)) == [
        ("-", "reported"),
        ("reported", "verified"),
    ]
    with pytest.raises(RoleNotAllowedError):
        report_case(sqlite_engine, case_id="X", source="other", category_code="1", reported_at=T0,
                    actor="d", role="dispatcher")  # fmt: skip


@pytest.mark.parametrize(("status", "action"), [
    (s, a) for s, a in itertools.product(STATUSES, ACTIONS) if s not in TRANSITIONS[a].sources
])  # fmt: skip
def test_every_invalid_transition_is_refused(one_per_status, status: str, action: str) -> None:
    engine, cases = one_per_status
    case = cases[status]
    before, n_events = _status(engine, case), _n_events(engine, case)
    with pytest.raises(InvalidTransitionError, match=f"is '{status}': cannot {action}"):
        _do(engine, case, action, 500, department=DEPT, deadline=_at(60 * 24 * 30))
    assert (_status(engine, case), _n_events(engine, case)) == (before, n_events)


@pytest.mark.parametrize(("action", "role"), [
    (a, r) for a, r in itertools.product(ACTIONS, (*ROLES, "planner", "manager", "admin"))
    if r not in TRANSITIONS[a].roles
])  # fmt: skip
def test_every_role_violation_is_refused(one_per_status, action: str, role: str) -> None:
    engine, cases = one_per_status
    case = cases[TRANSITIONS[action].sources[0]]  # the status allows the action: only the role is wrong
    before, n_events = _status(engine, case), _n_events(engine, case)
    with pytest.raises(RoleNotAllowedError, match=f"role '{role}' may not {action}"):
        transition(
            engine, case, action, "someone", role, _at(500), department=DEPT, deadline=_at(60 * 24 * 30)
        )
    assert (_status(engine, case), _n_events(engine, case)) == (before, n_events)


def test_each_action_has_one_role_and_every_status_is_reachable() -> None:
    shared = {"reopen", "mediate"}  # the centre's operator or supervisor (回访返工, 和谐调解)
    assert all(len(t.roles) == 1 for a, t in TRANSITIONS.items() if a not in shared)
    assert all(TRANSITIONS[a].roles == ("operator", "supervisor") for a in shared)
    targets = {t.target for t in TRANSITIONS.values()} | {"reported"}
    assert targets == set(STATUSES)
    assert allowed_actions("closed") == ["reopen"]
    assert allowed_actions("cancelled") == []
    assert allowed_actions("dispatched", "department") == [
        "return", "handle", "request_extension", "request_suspension",
    ]  # fmt: skip


def test_rework_goes_back_to_dispatched_keeping_the_deadline(sqlite_engine: Engine) -> None:
    case = _new(sqlite_engine)
    _drive_to(sqlite_engine, case, "resolved")
    due = load_lifecycle_frame(sqlite_engine)["deadline_at"].iloc[0]
    _do(sqlite_engine, case, "check_fail", 100, note="垃圾未清运干净")
    row = load_lifecycle_frame(sqlite_engine).iloc[0]
    assert row["status"] == "dispatched"
    assert pd.isna(row["resolved_at"])
    assert row["deadline_at"] == due
    _do(sqlite_engine, case, "handle", 120)
    _do(sqlite_engine, case, "check_pass", 130)
    _do(sqlite_engine, case, "close", 140)
    events = load_events(sqlite_engine)
    rework = events[events["action"] == "check_fail"]
    assert rework[["from_status", "to_status"]].values.tolist() == [["resolved", "dispatched"]]
    assert history_problems(events, load_lifecycle_frame(sqlite_engine)).empty


def test_return_to_dispatcher_and_redispatch(sqlite_engine: Engine) -> None:
    case = _new(sqlite_engine)
    _drive_to(sqlite_engine, case, "dispatched")
    _do(sqlite_engine, case, "return", 50, note="非本部门职责")
    row = load_lifecycle_frame(sqlite_engine).iloc[0]
    assert row["status"] == "registered"
    assert pd.isna(row["department"])
    assert pd.isna(row["deadline_at"])
    with pytest.raises(InvalidTransitionError, match="needs the `department`"):
        _do(sqlite_engine, case, "dispatch", 60)
    result = _do(sqlite_engine, case, "dispatch", 60, department="D1-CG")
    assert result.to_status == "dispatched"
    assert load_lifecycle_frame(sqlite_engine)["department"].iloc[0] == "D1-CG"


def test_extension_needs_approval_and_moves_the_deadline(sqlite_engine: Engine) -> None:
    case = _new(sqlite_engine)
    _drive_to(sqlite_engine, case, "dispatched")
    due = load_lifecycle_frame(sqlite_engine)["deadline_at"].iloc[0]
    with pytest.raises(InvalidTransitionError, match="needs the new `deadline`"):
        _do(sqlite_engine, case, "request_extension", 40)
    with pytest.raises(InvalidTransitionError, match="later than"):
        _do(
            sqlite_engine, case, "request_extension", 40, deadline=due.to_pydatetime() - dt.timedelta(hours=1)
        )
    wanted = due.to_pydatetime() + dt.timedelta(days=2)
    _do(sqlite_engine, case, "request_extension", 40, deadline=wanted)
    # the request alone does not move the deadline; the department cannot handle while it waits
    assert load_lifecycle_frame(sqlite_engine)["deadline_at"].iloc[0] == due
    with pytest.raises(InvalidTransitionError):
        _do(sqlite_engine, case, "handle", 45)
    _do(sqlite_engine, case, "reject_extension", 50)
    assert load_lifecycle_frame(sqlite_engine)["deadline_at"].iloc[0] == due
    _do(sqlite_engine, case, "request_extension", 55, deadline=wanted)
    result = _do(sqlite_engine, case, "approve_extension", 60)  # takes the requested deadline
    assert result.deadline_at == wanted
    assert load_lifecycle_frame(sqlite_engine)["deadline_at"].iloc[0] == pd.Timestamp(wanted)
    events = load_events(sqlite_engine)
    assert events["action"].tolist()[-4:] == [
        "request_extension", "reject_extension", "request_extension", "approve_extension",
    ]  # fmt: skip
    assert events["deadline_at"].iloc[-1] == pd.Timestamp(wanted)


def test_suspension_parks_the_case_and_resume_moves_the_deadline(sqlite_engine: Engine) -> None:
    case = _new(sqlite_engine)
    _drive_to(sqlite_engine, case, "dispatched")  # dispatched Mon 09:30, due Mon 15:00 (4 working h)
    due = load_lifecycle_frame(sqlite_engine)["deadline_at"].iloc[0]
    _do(sqlite_engine, case, "request_suspension", 60, note="需专项资金")
    _do(sqlite_engine, case, "reject_suspension", 61)
    _do(sqlite_engine, case, "request_suspension", 62)
    _do(sqlite_engine, case, "approve_suspension", 90)  # parked Mon 10:30, 3 working h left
    row = load_lifecycle_frame(sqlite_engine).iloc[0]
    assert row["status"] == "suspended"
    assert row["suspended_at"] == pd.Timestamp(_at(90))
    with pytest.raises(InvalidTransitionError):
        _do(sqlite_engine, case, "handle", 100)
    resume = dt.datetime(2025, 3, 5, 9, 0, tzinfo=SH)  # Wednesday 09:00
    result = transition(sqlite_engine, case, "resume", "chief", "supervisor", resume)
    left = default_calendar().working_time_between(pd.Timestamp(_at(90)), due)[0]
    assert left == pytest.approx(3.0)
    assert result.deadline_at == dt.datetime(2025, 3, 5, 12, 0, tzinfo=SH)  # 09:00 + 3 working h
    row = load_lifecycle_frame(sqlite_engine).iloc[0]
    assert row["status"] == "dispatched"
    assert pd.isna(row["suspended_at"])


def test_expected_version_and_stale_writes(sqlite_engine: Engine) -> None:
    case = _new(sqlite_engine)
    _do(sqlite_engine, case, "verify", 5, expected_version=1)
    with pytest.raises(StaleCaseError, match="version 2, not 1"):
        _do(sqlite_engine, case, "register", 10, expected_version=1)
    assert _status(sqlite_engine, case) == ("verified", 2)
    calls = []

    def step():
        calls.append(1)
        if len(calls) < 3:
            raise StaleCaseError("simulated conflict")
        return _do(sqlite_engine, case, "register", 10, expected_version=_status(sqlite_engine, case)[1])

    assert retry_stale(step).version == 3
    assert len(calls) == 3
    with pytest.raises(StaleCaseError):
        retry_stale(lambda: _do(sqlite_engine, case, "dispatch", 20, expected_version=1), attempts=2)


def test_unknown_case_action_time_order_and_naive_times(sqlite_engine: Engine) -> None:
    case = _new(sqlite_engine)
    with pytest.raises(CaseNotFoundError):
        _do(sqlite_engine, "nope", "verify", 5)
    with pytest.raises(InvalidTransitionError, match="unknown action"):
        transition(sqlite_engine, case, "teleport", "x", "supervisor", _at(5))
    with pytest.raises(InvalidTransitionError, match="precedes"):
        _do(sqlite_engine, case, "verify", -5)
    with pytest.raises(InvalidTransitionError, match="tz-aware"):
        transition(sqlite_engine, case, "verify", "I01", "inspector", dt.datetime(2025, 3, 3, 10))


def test_session_joins_the_callers_transaction(sqlite_engine: Engine) -> None:
    case = _new(sqlite_engine)
    with Session(sqlite_engine) as session:
        cached = session.get(Case, case)
        assert cached.status == "reported"
        transition(session, case, "verify", "I01", "inspector", _at(5))
        assert cached.status == "verified"  # expired and reloaded inside the same transaction
        session.rollback()
    assert _status(sqlite_engine, case) == ("reported", 1)  # rolled back with the caller


def test_history_problems_finds_broken_histories(sqlite_engine: Engine) -> None:
    case = _new(sqlite_engine)
    _drive_to(sqlite_engine, case, "dispatched")
    events = load_events(sqlite_engine)
    cases = load_lifecycle_frame(sqlite_engine)
    assert history_problems(events, cases).empty
    bad = events.copy()
    bad.loc[3, "from_status"] = "resolved"  # registered → dispatched rewritten as resolved → dispatched
    problems = history_problems(bad, cases.assign(status="closed"))
    assert set(problems["problem"]) == {"broken_chain", "status_mismatch"}
    skip = events.drop(index=2).reset_index(drop=True)  # verified → registered lost
    assert set(history_problems(skip, cases)["problem"]) == {"broken_chain"}
    jump = events.copy()
    jump.loc[3, "from_status"] = "verified"  # verified → dispatched is no transition (and breaks the chain)
    assert set(history_problems(jump, cases)["problem"]) == {"broken_chain", "not_a_transition"}


def test_reopen_after_closure_sets_a_new_deadline_and_mediation_closes(sqlite_engine: Engine) -> None:
    case = _new(sqlite_engine)
    _drive_to(sqlite_engine, case, "closed")
    done = transition(sqlite_engine, case, "reopen", "op1", "operator", _at(200), note="回访不满意")
    assert (done.from_status, done.to_status) == ("closed", "dispatched")
    row = load_lifecycle_frame(sqlite_engine).iloc[0]
    assert pd.isna(row["closed_at"])
    assert pd.isna(row["resolved_at"])
    assert row["deadline_at"] > pd.Timestamp(_at(200))
    mediated = transition(sqlite_engine, case, "mediate", "sup1", "supervisor", _at(300))
    assert mediated.to_status == "closed"
    row = load_lifecycle_frame(sqlite_engine).iloc[0]
    assert row["closed_at"] == pd.Timestamp(_at(300))
    events = load_events(sqlite_engine)
    assert events["action"].tolist()[-2:] == ["reopen", "mediate"]
    assert history_problems(events, load_lifecycle_frame(sqlite_engine)).empty

"""One import at a time per store: a second import waits for the first instead of failing (issue #25).

Two imports into one SQLite file would otherwise race for its write lock, and the loser fails with
"database is locked" after the busy timeout (30 s) — possibly half-way through reading a large file.
:func:`import_lock` is held around a whole import:

- SQLite: an exclusive ``flock`` on ``<database file>.import-lock`` (next to the database; released by the
  operating system when the process ends, even when it is killed);
- PostgreSQL: a session advisory lock (``pg_advisory_lock``) on a connection of its own, released when the
  import ends or its connection closes.

When the lock is taken, ``on_wait()`` is called once (the command prints "waiting for another import …",
the page shows it) and the import then blocks until the first one ends. An in-memory database has no
other importer and takes no lock.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["ADVISORY_KEY", "import_lock", "lock_path"]

#: The PostgreSQL advisory lock key of imports (any constant bigint; "GPIMPORT" in ASCII, truncated).
ADVISORY_KEY = 0x4750494D504F5254


def lock_path(engine: Engine) -> Path | None:
    """The lock file of a SQLite store (``<database>.import-lock``); None for other or in-memory stores."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    path = Path(database)
    return path.with_name(path.name + ".import-lock")


@contextlib.contextmanager
def _file_lock(path: Path, on_wait: Callable[[], None] | None) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _advisory_lock(engine: Engine, on_wait: Callable[[], None] | None) -> Iterator[None]:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        key = {"k": ADVISORY_KEY}
        if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), key).scalar():
            if on_wait is not None:
                on_wait()
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), key)
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), key)


@contextlib.contextmanager
def import_lock(engine: Engine, *, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the store's import lock for the ``with`` block; ``on_wait()`` is called once if another
    import holds it (this one then waits for it to finish)."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, on_wait):
            yield
        return
    path = lock_path(engine)
    if path is None or os.name == "nt":  # Windows has no flock: imports there are not serialized
        yield
        return
    with _file_lock(path, on_wait):
        yield

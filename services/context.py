"""What every service call carries: the store, the city configuration, the data folder and who asks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy.engine import Engine

from cases.db import make_engine, require_current_schema
from grid.config import CityConfig, data_dir, load_city_config
from services.errors import NotAllowedError


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who asks: a signed-in user (``role`` one of :data:`cases.users.ROLES`; ``inspector_id`` for an
    inspector, ``district`` for a district-scoped user), or the system (``role='system'``: a command run by
    the administrator on the server)."""

    username: str
    role: str
    inspector_id: str | None = None
    department: str | None = None
    district: str | None = None


SYSTEM = Actor(username="system", role="system")


@dataclasses.dataclass(frozen=True)
class ServiceContext:
    """The store (``engine``), the city configuration, the data folder and the caller (``actor``)."""

    engine: Engine
    config: CityConfig
    data_dir: Path
    actor: Actor = SYSTEM

    @property
    def timezone(self) -> str:
        """The city's zone (:attr:`grid.config.CityConfig.timezone`)."""
        return self.config.timezone

    def tracks_root(self) -> Path | None:
        """The track store: ``<data dir>/tracks``, else the demo city's ``<data dir>/geo/demo/tracks``."""
        for candidate in (self.data_dir / "tracks", self.data_dir / "geo" / "demo" / "tracks"):
            if candidate.is_dir():
                return candidate
        return None

    def as_actor(self, actor: Actor) -> ServiceContext:
        """The same context for another caller."""
        return dataclasses.replace(self, actor=actor)

    def require(self, operation: str, *roles: str) -> Actor:
        """The caller if their role is one of ``roles`` (the system may do anything); else NotAllowedError."""
        if self.actor.role == "system" or self.actor.role in roles:
            return self.actor
        raise NotAllowedError(operation, self.actor.role)


def open_context(
    db_url: str | None = None,
    *,
    engine: Engine | None = None,
    config: CityConfig | None = None,
    actor: Actor = SYSTEM,
) -> ServiceContext:
    """A context on the configured store (``GRIDPATROL_DB_URL`` or the data folder's SQLite) and city
    configuration (:func:`grid.config.load_city_config`).

    Raises :class:`cases.db.SchemaOutOfDateError` (a RuntimeError saying "run `gridpatrol init`") when the
    store is empty or on an older schema: nothing here migrates."""
    # Migrations run only in ``gridpatrol init``: a store on an old schema is refused with that advice
    # (:class:`cases.db.SchemaOutOfDateError`).
    return ServiceContext(
        engine=require_current_schema(engine if engine is not None else make_engine(db_url)),
        config=config if config is not None else load_city_config(),
        data_dir=data_dir(),
        actor=actor,
    )

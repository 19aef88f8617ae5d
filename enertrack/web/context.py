"""What the web app's callbacks and routes reach through the Flask app, never a module global."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from enertrack.broker import Provisioner
from enertrack.config import Settings
from enertrack.db import transaction
from enertrack.store.base import TimeseriesStore

EXTENSION = "enertrack"


@dataclass
class AppServices:
    """Settings, the users/nodes database, the time-series store and the broker's accounts of one app instance."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: TimeseriesStore
    provisioner: Provisioner
    extra: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with transaction(self.sessions) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads only."""
        with self.sessions() as session:
            yield session


def services() -> AppServices:
    """The current app's services (inside a request or app context)."""
    return current_app.extensions[EXTENSION]

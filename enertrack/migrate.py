"""Alembic migrations run programmatically (what `enertrack db upgrade` does)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from enertrack.checkout import require_checkout


def alembic_config() -> Config:
    """Alembic config pointing at the repository's migrations/ folder."""
    root = require_checkout()
    cfg = Config(str(root / "alembic.ini"))
    cfg.set_main_option("script_location", str(root / "migrations"))
    cfg.attributes["configure_logging"] = False
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the users-and-nodes schema to revision (head by default)."""
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

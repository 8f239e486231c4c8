"""Schema migrations through Alembic, run from Python (no ``alembic.ini`` needed).

:func:`upgrade` is idempotent and safe when several processes start at once: the whole upgrade
runs in one transaction that first takes a lock (PostgreSQL: an advisory transaction lock;
SQLite: ``BEGIN IMMEDIATE``), so the second process waits and then finds the schema at head.
Both engines have transactional DDL, so a failed upgrade leaves the previous schema intact.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .db import Database

__all__ = ["MIGRATIONS_DIR", "alembic_config", "current_revision", "head_revision", "upgrade"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_MIGRATION_LOCK = "aftersale_kit:migrate"


def alembic_config(database: Database | None = None) -> Config:
    """An Alembic config for the shipped migrations (usable with ``alembic.command``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database is not None:
        config.set_main_option(
            "sqlalchemy.url",
            database.engine.url.render_as_string(hide_password=False).replace("%", "%%"),
        )
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(database: Database) -> str | None:
    """The revision the database is at; ``None`` for an empty database."""
    with database.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(database: Database, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (default: the newest). Harmless when already there."""
    config = alembic_config(database)
    with database.write() as conn:
        database.lock(conn, _MIGRATION_LOCK)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)

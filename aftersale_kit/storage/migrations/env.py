"""Alembic environment of the store. Run through :func:`aftersale_kit.storage.migrate.upgrade`.

The caller passes an open connection in ``config.attributes["connection"]`` (already inside the
transaction that holds the migration lock); without one, the URL in ``sqlalchemy.url`` is opened.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from aftersale_kit.storage.db import create_database
from aftersale_kit.storage.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=metadata,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    database = create_database(config.get_main_option("sqlalchemy.url"))
    try:
        with database.write() as conn:
            _run(conn)
    finally:
        database.dispose()


_main()

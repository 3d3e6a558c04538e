"""Schema changes through Alembic, on the service's own async engine."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import projections.models  # noqa: F401  (defines the read tables)
from events.tables import metadata as log_metadata
from projections.framework import checkpoint_metadata
from projections.models.metadata import read_metadata

# What the migrations must produce; tests/test_migrations.py checks that they do.
target_metadata = [log_metadata, checkpoint_metadata, read_metadata]


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", "service:migrations")
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to `revision` (the latest by default)."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the database back to `revision`."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(_config(sync), revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )

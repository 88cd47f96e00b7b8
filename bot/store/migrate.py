"""Apply the Alembic migrations that ship inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number: instances starting together take turns instead of racing to create tables.
MIGRATION_LOCK = 7_314_002


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built in code so no alembic.ini has to be found at run time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> list[str]:
    """Bring the database to ``revision``; the revisions this applied, oldest first (none: it was there)."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        return await connection.run_sync(lambda sync: _upgrade(sync, revision))


def _upgrade(connection: Connection, revision: str) -> list[str]:
    config = alembic_config(connection)
    before = MigrationContext.configure(connection).get_current_revision()
    command.upgrade(config, revision)
    after = MigrationContext.configure(connection).get_current_revision()
    if after == before:
        return []
    applied = ScriptDirectory.from_config(config).iterate_revisions(after, before)
    return [script.revision for script in reversed(list(applied))]

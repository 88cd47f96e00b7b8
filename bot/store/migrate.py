"""Apply the Alembic migrations that ship inside the package."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import DatabaseUnusable, database_problem

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
    """Bring the database to ``revision``; the revisions this applied, oldest first (none: it was there).
    DatabaseUnusable when it can't be reached or opened."""
    _openable(engine)
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            return await connection.run_sync(lambda sync: _upgrade(sync, revision))
    except Exception as exc:
        raise unusable(engine, exc) from exc


def _upgrade(connection: Connection, revision: str) -> list[str]:
    config = alembic_config(connection)
    before = MigrationContext.configure(connection).get_current_revision()
    command.upgrade(config, revision)
    after = MigrationContext.configure(connection).get_current_revision()
    if after == before:
        return []
    applied = ScriptDirectory.from_config(config).iterate_revisions(after, before)
    return [script.revision for script in reversed(list(applied))]


async def pending_migrations(engine: AsyncEngine) -> list[str]:
    """The migrations not yet applied, oldest first; DatabaseUnusable when it can't be reached or opened."""
    _openable(engine)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_heads()
            )
    except Exception as exc:
        raise unusable(engine, exc) from exc
    script = ScriptDirectory.from_config(alembic_config())
    applied = {rev.revision for head in current for rev in script.iterate_revisions(head, "base")}
    return [rev.revision for rev in reversed(list(script.walk_revisions())) if rev.revision not in applied]


def _openable(engine: AsyncEngine) -> None:
    """A SQLite file leavebot can't create or write is said before connecting (aiosqlite's worker thread
    outlives a failed connection and would print its own traceback at exit)."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return
    file = Path(path)
    writable = os.access(file, os.W_OK) if file.exists() else os.access(file.parent, os.W_OK | os.X_OK)
    if not writable:
        shown = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnusable(
            f"database {shown}: can't open the SQLite file (does its directory exist, and may leavebot write there?)"
        )


def unusable(engine: AsyncEngine, exc: Exception) -> Exception:
    """``exc`` as DatabaseUnusable naming the database (its password hidden), or as it is when it is a bug."""
    problem = database_problem(exc)
    if problem is None:
        return exc
    return DatabaseUnusable(f"database {engine.url.render_as_string(hide_password=True)}: {problem}")

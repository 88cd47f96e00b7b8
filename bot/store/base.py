"""The engine, and what every part of the store shares: short sessions and insert-once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite waits for locks instead of failing, and enforces foreign keys."""
    if not url.startswith("sqlite"):
        return create_async_engine(url, pool_pre_ping=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL survives a crash of the process (what a restart is); only a power cut may lose the
        # last commits. It saves an fsync per commit, the largest cost of the work after an ack.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


class StoreBase:
    """The engine, sessions and the one insert-once helper every part of the store shares."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose objects stay readable after commit."""
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            yield session

    async def close(self) -> None:
        """Dispose of the connection pool."""
        await self.engine.dispose()

    async def _insert_once(self, row: Any) -> bool:
        """Insert a row; False when its unique key exists already."""
        async with self.session() as session:
            session.add(row)
            try:
                await session.commit()
            except IntegrityError:
                return False
        return True

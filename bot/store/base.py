"""The engine, and what every part of the store shares: short sessions and insert-once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

_BACKGROUND: ContextVar[bool] = ContextVar("leavebot_background", default=False)
_IN_TURN: ContextVar[bool] = ContextVar("leavebot_in_turn", default=False)  # a session of its holds the turn


def in_background() -> None:
    """Mark what the running task does from now on (and the tasks it starts) as work nobody waits on:
    the work after acks, the job loop, sync passes, webhook events."""
    _BACKGROUND.set(True)


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
        # SQLite has one writer, and a writer that finds it taken sleeps 1-100 ms between tries: under load
        # an ack's one insert waited 30 ms (p50), 670 ms (p99) behind the work after earlier acks. So that
        # work takes turns here, one session at a time, and lets an ack's write go first.
        self._queued = engine.dialect.name == "sqlite"
        self._turn = asyncio.Lock()
        self._acks_writing = 0
        self._no_ack_writing = asyncio.Event()
        self._no_ack_writing.set()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose objects stay readable after commit."""
        if not (self._queued and _BACKGROUND.get()) or _IN_TURN.get():
            async with AsyncSession(self.engine, expire_on_commit=False) as session:
                yield session
            return
        async with self._turn:
            await self._no_ack_writing.wait()
            token = _IN_TURN.set(True)
            try:
                async with AsyncSession(self.engine, expire_on_commit=False) as session:
                    yield session
            finally:
                _IN_TURN.reset(token)

    @asynccontextmanager
    async def before_the_ack(self) -> AsyncIterator[None]:
        """Around a write Slack's ack waits for: work nobody waits on starts no session meanwhile."""
        self._acks_writing += 1
        self._no_ack_writing.clear()
        try:
            yield
        finally:
            self._acks_writing -= 1
            if not self._acks_writing:
                self._no_ack_writing.set()

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

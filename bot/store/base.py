"""The engine, and what every part of the store shares: short sessions and insert-once."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
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
        # an ack's one insert waited 30 ms (p50), 670 ms (p99) behind the work after earlier acks and beside
        # other acks. So here sessions take turns, an ack's write before any waiting work nobody waits on.
        self._turns = _Turns() if engine.dialect.name == "sqlite" else None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose objects stay readable after commit."""
        if self._turns is None or not _BACKGROUND.get() or _IN_TURN.get():
            async with AsyncSession(self.engine, expire_on_commit=False) as session:
                yield session
            return
        async with self._turns.turn(ack=False), AsyncSession(self.engine, expire_on_commit=False) as session:
            yield session

    @asynccontextmanager
    async def before_the_ack(self) -> AsyncIterator[None]:
        """Around a write Slack's ack waits for: it goes before any work nobody waits on that is waiting."""
        if self._turns is None:
            yield
            return
        async with self._turns.turn(ack=True):
            yield

    async def close(self) -> None:
        """Dispose of the connection pool."""
        await self.engine.dispose()

    def _insert_new(self, table: Table, rows: list[dict[str, Any]]) -> Any:
        """INSERT of ``rows`` that skips those whose primary key exists (ON CONFLICT DO NOTHING)."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table).values(rows).on_conflict_do_nothing()

    async def _insert_once(self, row: Any) -> bool:
        """Insert a row; False when its unique key exists already."""
        async with self.session() as session:
            session.add(row)
            try:
                await session.commit()
            except IntegrityError:
                return False
        return True


class _Turns:
    """One session at a time in this process (SQLite's one writer), acks' writes before background work's.

    The turn is handed to the next waiter (the first ack waiting, else the first other) as it is given
    back, and only that waiter is woken: under load hundreds of sessions wait, and waking them all at
    every release (a condition's ``notify_all``) cost more CPU than the sessions themselves.
    """

    def __init__(self) -> None:
        self._taken = False
        self._acks: deque[asyncio.Future[None]] = deque()
        self._others: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def turn(self, *, ack: bool) -> AsyncIterator[None]:
        """Wait for the turn (an ack's only behind the session under way), hold it meanwhile."""
        if self._taken or self._acks or (not ack and self._others):
            handed = asyncio.get_running_loop().create_future()
            (self._acks if ack else self._others).append(handed)
            try:
                await handed
            except asyncio.CancelledError:
                if handed.done() and not handed.cancelled():  # handed over as we were cancelled: pass it on
                    self._hand_over()
                raise
        else:
            self._taken = True
        token = _IN_TURN.set(True)  # a session opened inside this one (same task) is part of the turn
        try:
            yield
        finally:
            _IN_TURN.reset(token)
            self._hand_over()

    def _hand_over(self) -> None:
        """Give the turn to the next waiter still waiting (it stays taken), else free it."""
        for waiting in (self._acks, self._others):
            while waiting:
                handed = waiting.popleft()
                if not handed.done():  # a cancelled waiter's future is done: skipped
                    handed.set_result(None)
                    return
        self._taken = False


class InsertedTogether:
    """Rows that many tasks insert at about the same moment, committed together: under load each waits for
    one commit instead of taking its turn for its own. ``insert_new`` inserts a batch and returns the keys
    it inserted (those that were new); ``key`` is a row's key."""

    MAX_BATCH = 200

    def __init__(
        self, insert_new: Callable[[list[Any]], Awaitable[set[Hashable]]], key: Callable[[Any], Hashable]
    ) -> None:
        self._insert_new, self._key = insert_new, key
        self._waiting: list[tuple[Any, asyncio.Future[bool]]] = []
        self._inserting: asyncio.Task[None] | None = None

    async def insert(self, row: Any) -> bool:
        """Insert ``row`` with the others waiting; False when its key existed (or came earlier in the batch)."""
        inserted = asyncio.get_running_loop().create_future()
        self._waiting.append((row, inserted))
        if self._inserting is None:
            self._inserting = asyncio.create_task(self._insert_all())
        return await inserted

    async def _insert_all(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self.MAX_BATCH], self._waiting[self.MAX_BATCH :]
                try:
                    new = await self._insert_new([row for row, _ in batch])
                except Exception as exc:
                    for _, inserted in batch:
                        if not inserted.done():
                            inserted.set_exception(exc)
                    continue
                for row, inserted in batch:
                    key = self._key(row)
                    if not inserted.done():
                        inserted.set_result(key in new)
                    new.discard(key)  # a second row of the same key in one batch was not inserted
        finally:
            self._inserting = None

"""SQLite's one writer, shared in turns: an ack's write goes before waiting background work, each waiter is
handed the turn in order, and a waiter cancelled while waiting never keeps the others waiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.store import Store, create_engine, in_background, upgrade


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    """A migrated SQLite store (turns exist only there: PostgreSQL has many writers)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/leavebot.db")
    await upgrade(engine)
    yield Store(engine)
    await engine.dispose()


async def test_an_acks_write_goes_first_and_background_work_follows_in_order(sqlite_store: Store) -> None:
    """While a background session holds the turn, an ack arriving last still writes before the five
    background sessions waiting; those follow in the order they asked, and a cancelled one is skipped."""
    order: list[str] = []
    release = asyncio.Event()

    async def background(name: str, *, hold: bool = False) -> None:
        in_background()
        async with sqlite_store.session() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            if hold:
                await release.wait()
            order.append(name)

    async def ack() -> None:
        async with sqlite_store.before_the_ack(), sqlite_store.session() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            order.append("ack")

    holder = asyncio.create_task(background("holder", hold=True))
    await asyncio.sleep(0.05)  # the holder has the turn
    waiting = [asyncio.create_task(background(f"bg{i}")) for i in range(5)]
    await asyncio.sleep(0)
    acking = asyncio.create_task(ack())
    await asyncio.sleep(0)
    waiting[2].cancel()
    release.set()
    await asyncio.wait_for(asyncio.gather(holder, acking, *waiting, return_exceptions=True), 10)
    assert order == ["holder", "ack", "bg0", "bg1", "bg3", "bg4"]

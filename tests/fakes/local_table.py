"""The local provider's HR system is leavebot's own `local_leave` table: changed here the way an operator
would outside Slack (a script or a SQL console on the database), with no call through the bot.

The same four methods the HR fakes have (``book_by_itself``, ``move_by_itself``, ``remove_by_itself``,
``decide_by_itself``), run synchronously on the SQLite file, so a test reads the same for every provider.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from bot.store import create_engine
from providers.local import LocalProvider


class LocalTable:
    """The `local_leave` table of one SQLite database, and the local provider reading it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        return None

    def provider(self, approvers: str) -> LocalProvider:
        """The local provider on this database, its engine disposed when it is closed."""
        return _OwnEngine(LocalProvider.Config(approvers=approvers), engine=create_engine(self.url))

    @property
    def url(self) -> str:
        return f"sqlite+aiosqlite:///{self.path}"

    def book_by_itself(self, email: str, day: date) -> str:
        """An approved whole day for the person with ``email``, inserted into the table; returns its id."""
        row = (
            email,
            email.split("@")[0].title(),
            email,
            day,
            day,
            "AM",
            "PM",
            "Annual Leave",
            "",
            "approved",
        )
        with closing(sqlite3.connect(self.path)) as db, db:
            cursor = db.execute(
                "INSERT INTO local_leave (person_id, person_name, person_email, start_date, end_date,"
                " start_part, end_part, leave_type, reason, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*(str(v) for v in row), datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")),
            )
            return str(cursor.lastrowid)

    def move_by_itself(self, booking_id: str, day: date) -> None:
        """The booking's dates become the whole of ``day``."""
        self._run(
            "UPDATE local_leave SET start_date = ?, end_date = ? WHERE id = ?", str(day), str(day), booking_id
        )

    def decide_by_itself(self, booking_id: str, *, approve: bool) -> None:
        """The booking approved or declined in the table."""
        self._run(
            "UPDATE local_leave SET status = ? WHERE id = ?",
            "approved" if approve else "declined",
            booking_id,
        )

    def remove_by_itself(self, booking_id: str) -> None:
        """The booking's row deleted."""
        self._run("DELETE FROM local_leave WHERE id = ?", booking_id)

    def _run(self, sql: str, *values: str) -> None:
        with closing(sqlite3.connect(self.path)) as db, db:
            assert db.execute(sql, values).rowcount == 1


class _OwnEngine(LocalProvider):
    """The local provider that disposes of its engine when closed (the bot's would be disposed by the bot)."""

    async def aclose(self) -> None:
        await self.engine.dispose()

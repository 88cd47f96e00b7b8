"""Slack users as leavebot knows them, and the Slack deliveries it has handled."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.store.base import StoreBase
from bot.store.tables import (
    SlackDelivery,
    SlackUser,
    now,
)

# Bound parameters per IN (...) query: well under SQLite's 32,766 and PostgreSQL's 32,767.
EMAILS_PER_QUERY = 5000


class PeopleRows(StoreBase):
    """Slack users and deliveries."""

    async def first_delivery(self, *, key: str) -> bool:
        """Record a delivery; False when it was seen before (a Slack retry)."""
        return await self._insert_once(SlackDelivery(key=key))

    async def forget_deliveries(self, *, before: datetime) -> None:
        """Drop delivery records older than any retry Slack could still send."""
        async with self.session() as session:
            await session.exec(delete(SlackDelivery).where(col(SlackDelivery.received_at) < before))
            await session.commit()

    async def slack_user(self, *, slack_user_id: str) -> SlackUser | None:
        """A Slack user seen before."""
        async with self.session() as session:
            return await session.get(SlackUser, slack_user_id)

    async def slack_user_by_email(self, *, email: str) -> SlackUser | None:
        """A Slack user seen before, found by e-mail."""
        async with self.session() as session:
            query = select(SlackUser).where(col(SlackUser.email) == email.lower())
            return (await session.exec(query)).first()

    async def slack_users_by_emails(self, *, emails: Collection[str]) -> dict[str, SlackUser]:
        """Slack users seen before, by lower-cased e-mail: one query per few thousand addresses."""
        wanted = sorted({e.lower() for e in emails})
        found: dict[str, SlackUser] = {}
        async with self.session() as session:
            for start in range(0, len(wanted), EMAILS_PER_QUERY):
                chunk = wanted[start : start + EMAILS_PER_QUERY]
                query = select(SlackUser).where(col(SlackUser.email).in_(chunk))
                found.update((u.email, u) for u in (await session.exec(query)).all() if u.email)
        return found

    async def slack_zones(self) -> dict[str, str]:
        """Every Slack user's time zone that Slack told us, by user id."""
        query = select(SlackUser.slack_user_id, SlackUser.tz).where(col(SlackUser.tz).is_not(None))
        async with self.session() as session:
            return {user_id: tz for user_id, tz in (await session.exec(query)).all() if tz}

    async def save_slack_user(self, *, user: SlackUser) -> SlackUser:
        """Insert or refresh a Slack user."""
        user.updated_at = now()
        for attempt in (1, 2):
            async with self.session() as session:
                merged = await session.merge(user)
                try:
                    await session.commit()
                except IntegrityError:
                    # Another task inserted the same user between our read and our insert: update it instead.
                    if attempt == 2:
                        raise
                    continue
                return merged
        raise AssertionError("unreachable")

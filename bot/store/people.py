"""Slack users as leavebot knows them, and the Slack deliveries it has handled."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.store.base import InsertedTogether, StoreBase
from bot.store.tables import (
    SlackDelivery,
    SlackUser,
    now,
)

# An accepted delivery begun this often without ending is given up, and its user told: its work may be what
# kills instances. Every start of a crash loop begins it once more, so this is more than a few restarts.
MAX_DELIVERY_TRIES = 5

# Bound parameters per IN (...) query: well under SQLite's 32,766 and PostgreSQL's 32,767.
EMAILS_PER_QUERY = 5000


class PeopleRows(StoreBase):
    """Slack users and deliveries."""

    async def first_delivery(self, *, key: str) -> bool:
        """Record a delivery; False when it was seen before (a Slack retry)."""
        return await self._insert_once(SlackDelivery(key=key))

    async def delivery_seen(self, *, key: str) -> bool:
        """True once a delivery was recorded (or accepted): a retry of it has nothing left to do."""
        async with self.session() as session:
            return await session.get(SlackDelivery, key) is not None

    async def accept_delivery(self, *, key: str, work: str, body: dict[str, Any], lease: timedelta) -> bool:
        """Store a delivery with the work it asks for, leased to the caller; False when it was seen before.

        The payload is kept without Slack's verification token: the work never needs it.
        """
        payload = json.dumps({k: v for k, v in body.items() if k != "token"})
        row = SlackDelivery(key=key, work=work, body=payload, attempts=1, lease_until=now() + lease)
        return await self._accepting.insert(row.model_dump())

    @cached_property
    def _accepting(self) -> InsertedTogether:
        """Deliveries accepted by concurrent acks, inserted in one statement and one commit."""
        return InsertedTogether(self._accept_all, key=lambda row: row["key"])

    async def _accept_all(self, rows: list[dict[str, Any]]) -> set[Any]:
        statement = self._insert_new(SlackDelivery.__table__, rows).returning(SlackDelivery.__table__.c.key)
        async with self.before_the_ack(), self.session() as session:
            inserted = set((await session.exec(statement)).scalars())  # type: ignore[call-overload]
            await session.commit()
        return inserted

    async def renew_deliveries(self, *, keys: Collection[str], lease: timedelta) -> None:
        """Extend the leases of accepted deliveries whose work is still running here."""
        await self._set_deliveries(keys, lease_until=now() + lease)

    async def release_deliveries(self, *, keys: Collection[str]) -> None:
        """Give up the leases of unfinished work (a stopping instance): the next to look resumes it."""
        await self._set_deliveries(keys, lease_until=now())

    async def finish_delivery(self, *, key: str) -> None:
        """An accepted delivery's work is over (done, or its failure told to the user)."""
        await self._set_deliveries([key], done_at=now(), lease_until=None)

    async def claim_abandoned_deliveries(self, *, lease: timedelta, limit: int = 20) -> list[SlackDelivery]:
        """Accepted deliveries whose instance died before their work was over, each leased to the caller.

        One begun ``MAX_DELIVERY_TRIES`` times already is left alone: its work may be what kills instances.
        """
        moment = now()
        return await self._take_abandoned(
            col(SlackDelivery.attempts) < MAX_DELIVERY_TRIES,
            change=lambda row: {"lease_until": moment + lease, "attempts": row.attempts + 1},
            limit=limit,
        )

    async def give_up_deliveries(self, *, limit: int = 20) -> list[SlackDelivery]:
        """Abandoned deliveries begun ``MAX_DELIVERY_TRIES`` times, each closed once, for the caller to tell."""
        moment = now()
        return await self._take_abandoned(
            col(SlackDelivery.attempts) >= MAX_DELIVERY_TRIES,
            change=lambda _: {"done_at": moment, "lease_until": None},
            limit=limit,
        )

    async def _take_abandoned(
        self, *where: Any, change: Callable[[SlackDelivery], dict[str, Any]], limit: int
    ) -> list[SlackDelivery]:
        """Abandoned deliveries matching ``where``, each changed once by whichever instance gets there first."""
        abandoned = (
            col(SlackDelivery.work).is_not(None),
            col(SlackDelivery.done_at).is_(None),
            col(SlackDelivery.lease_until) <= now(),
            *where,
        )
        query = select(SlackDelivery).where(*abandoned).limit(limit).with_for_update(skip_locked=True)
        taken = []
        async with self.session() as session:
            for row in (await session.exec(query)).all():
                take = (
                    update(SlackDelivery)
                    .where(col(SlackDelivery.key) == row.key, *abandoned)
                    .values(**change(row))
                    .execution_options(synchronize_session=False)  # the database decides, not the session
                )
                if (await session.exec(take)).rowcount:  # type: ignore[call-overload]
                    taken.append(row)
            await session.commit()
        return taken

    async def _set_deliveries(self, keys: Collection[str], **values: Any) -> None:
        if not keys:
            return
        query = update(SlackDelivery).where(
            col(SlackDelivery.key).in_(list(keys)), col(SlackDelivery.done_at).is_(None)
        )
        async with self.session() as session:
            await session.exec(query.values(**values))  # type: ignore[call-overload]
            await session.commit()

    async def forget_deliveries(self, *, before: datetime) -> None:
        """Drop delivery records older than any retry Slack could still send, but not work still owed."""
        settled = or_(
            col(SlackDelivery.work).is_(None),
            col(SlackDelivery.done_at).is_not(None),
        )
        query = delete(SlackDelivery).where(col(SlackDelivery.received_at) < before, settled)
        async with self.session() as session:
            await session.exec(query)
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

    async def slack_locales(self) -> dict[str, str]:
        """Every Slack user's locale that Slack told us, by user id."""
        query = select(SlackUser.slack_user_id, SlackUser.locale).where(col(SlackUser.locale).is_not(None))
        async with self.session() as session:
            return {user_id: locale for user_id, locale in (await session.exec(query)).all() if locale}

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

"""Each leave's status period: planned from the leave, its start and its end each claimed once across instances."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.store.away_tables import AwayPeriod
from bot.store.base import StoreBase
from bot.store.tables import LeaveRequest, MirroredAbsence, SlackUser, now


class AwayRows(StoreBase):
    """The status periods of the people who connected."""

    async def leave_between(
        self, *, provider: str, start: date, end: date, people: Collection[SlackUser]
    ) -> tuple[list[MirroredAbsence], list[LeaveRequest]]:
        """What the mirror and the bot's own requests hold of these people's leave touching ``start``..``end``
        (every status: a request cancelled here may still show approved in the mirror until the next pass)."""
        ids = [p.slack_user_id for p in people]
        emails = [p.email for p in people if p.email]
        persons = [p.person_id for p in people if p.person_id]
        mirror = select(MirroredAbsence).where(
            col(MirroredAbsence.provider) == provider,
            col(MirroredAbsence.start_date) <= end,
            col(MirroredAbsence.end_date) >= start,
            col(MirroredAbsence.gone_since).is_(None),
            or_(
                col(MirroredAbsence.person_slack_id).in_(ids),
                col(MirroredAbsence.person_email).in_(emails),
                col(MirroredAbsence.person_id).in_(persons),
            ),
        )
        requests = select(LeaveRequest).where(
            col(LeaveRequest.provider) == provider,
            col(LeaveRequest.start_date) <= end,
            col(LeaveRequest.end_date) >= start,
            col(LeaveRequest.requester_slack_id).in_(ids),
        )
        async with self.session() as session:
            return list(await session.exec(mirror)), list(await session.exec(requests))

    async def slack_users(self, *, slack_user_ids: Collection[str]) -> list[SlackUser]:
        """The stored Slack users among these ids."""
        query = select(SlackUser).where(col(SlackUser.slack_user_id).in_(list(slack_user_ids)))
        async with self.session() as session:
            return list(await session.exec(query))

    async def periods(self, *, slack_user_ids: Collection[str] | None = None) -> list[AwayPeriod]:
        """The periods not over yet (of these people)."""
        query = select(AwayPeriod).where(col(AwayPeriod.phase) != "over")
        if slack_user_ids is not None:
            query = query.where(col(AwayPeriod.slack_user_id).in_(list(slack_user_ids)))
        async with self.session() as session:
            return list(await session.exec(query))

    async def plan_period(self, *, period: AwayPeriod) -> bool:
        """Store a period planned from the leave, once under its key; False when it was there already."""
        return await self._insert_once(period)

    async def hand_over(self, *, old_key: str, period: AwayPeriod) -> bool:
        """The leave of a period under way grew or shrank but starts as it did (a booking right after it, a
        date change): ``period`` takes its place, away already, with the status it gave back at the end and
        its snooze; its new words are set at once (its start is due). False when another instance did it."""
        async with self.session() as session:
            old = await session.get(AwayPeriod, old_key)
            if old is None or old.phase != "away":
                return False
            for name in ("prev_text", "prev_emoji", "prev_expiration", "set_emoji", "snoozed_on"):
                setattr(period, name, getattr(old, name))
            gone = delete(AwayPeriod).where(col(AwayPeriod.key) == old_key, col(AwayPeriod.phase) == "away")
            if not (await session.exec(gone)).rowcount:  # type: ignore[call-overload]
                return False
            session.add(period)  # planned: its start sets the new words, keeping what it had before
            try:
                await session.commit()
            except IntegrityError:
                return False
        return True

    async def drop_planned(self, *, keys: Collection[str]) -> None:
        """Forget periods that never began (their leave was cancelled or moved first)."""
        if not keys:
            return
        query = delete(AwayPeriod).where(
            col(AwayPeriod.key).in_(list(keys)), col(AwayPeriod.phase) == "planned"
        )
        async with self.session() as session:
            await session.exec(query)  # type: ignore[call-overload]
            await session.commit()

    async def end_early(self, *, keys: Collection[str], at: datetime) -> None:
        """The leave of these periods was cancelled or moved while away: their end is due ``at`` (now)."""
        if not keys:
            return
        query = (
            update(AwayPeriod)
            .where(
                col(AwayPeriod.key).in_(list(keys)),
                col(AwayPeriod.phase) == "away",
                col(AwayPeriod.end_at) > at,
            )
            .values(end_at=at, ended_early=True, updated_at=now())
        )
        async with self.session() as session:
            await session.exec(query)  # type: ignore[call-overload]
            await session.commit()

    async def due_periods(
        self, *, moment: datetime, slack_user_ids: Collection[str] | None = None, limit: int = 50
    ) -> list[AwayPeriod]:
        """Periods (of these people) with something due at ``moment`` whose lease is free: a start, a day's
        snooze or an end."""
        query = (
            select(AwayPeriod)
            .where(
                col(AwayPeriod.phase) != "over",
                col(AwayPeriod.start_at) <= moment,
                or_(col(AwayPeriod.lease_until).is_(None), col(AwayPeriod.lease_until) < moment),
            )
            .order_by(col(AwayPeriod.start_at))
            .limit(limit)
        )
        if slack_user_ids is not None:
            query = query.where(col(AwayPeriod.slack_user_id).in_(list(slack_user_ids)))
        async with self.session() as session:
            return list(await session.exec(query))

    async def claim_period(self, *, key: str, phase: str, lease: timedelta) -> bool:
        """Lease one period in ``phase`` to this caller: True for one instance at a time."""
        moment = now()
        query = (
            update(AwayPeriod)
            .where(
                col(AwayPeriod.key) == key,
                col(AwayPeriod.phase) == phase,
                or_(col(AwayPeriod.lease_until).is_(None), col(AwayPeriod.lease_until) < moment),
            )
            .values(lease_until=moment + lease)
        )
        async with self.session() as session:
            taken = (await session.exec(query)).rowcount  # type: ignore[call-overload]
            await session.commit()
        return bool(taken)

    async def settle_period(self, *, key: str, lease_until: datetime | None = None, **values: Any) -> None:
        """Record what the holder of a period's lease did, and hand the lease back (or keep it to ``lease_until``,
        a Retry-After)."""
        query = (
            update(AwayPeriod)
            .where(col(AwayPeriod.key) == key)
            .values(lease_until=lease_until, updated_at=now(), **values)
        )
        async with self.session() as session:
            await session.exec(query)  # type: ignore[call-overload]
            await session.commit()

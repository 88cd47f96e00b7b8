"""Calendar feeds: each person's secret links, and what a feed shows (the mirror and leavebot's own requests)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.store.base import StoreBase
from bot.store.tables import ApprovalCard, CalendarFeed, FeedEvent, LeaveRequest, MirroredAbsence, now


def secret_hash(secret: str) -> str:
    """The SHA-256 of a feed secret, as stored and looked up."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    """A fresh feed secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


class FeedRows(StoreBase):
    """Feed links and the rows feeds are built from."""

    async def feed_of(self, *, slack_user_id: str, kind: str, department: str | None = None) -> CalendarFeed:
        """Someone's feed of ``kind``, made on first asking; a department feed follows their department."""
        async with self.session() as session:
            query = select(CalendarFeed).where(
                col(CalendarFeed.slack_user_id) == slack_user_id, col(CalendarFeed.kind) == kind
            )
            row = (await session.exec(query)).first()
            if row is not None:
                if row.department != department:
                    row.department = department
                    session.add(row)
                    await session.commit()
                return row
            secret = new_secret()
            row = CalendarFeed(
                slack_user_id=slack_user_id,
                kind=kind,
                secret=secret,
                secret_hash=secret_hash(secret),
                department=department,
            )
            session.add(row)
            try:
                await session.commit()
                return row
            except IntegrityError:  # made by another instance meanwhile
                await session.rollback()
        return await self.feed_of(slack_user_id=slack_user_id, kind=kind, department=department)

    async def rotate_feed(self, *, slack_user_id: str, kind: str) -> bool:
        """Give someone's feed a new secret (the old link stops working); False when they had none."""
        secret = new_secret()
        query = (
            update(CalendarFeed)
            .where(col(CalendarFeed.slack_user_id) == slack_user_id, col(CalendarFeed.kind) == kind)
            .values(secret=secret, secret_hash=secret_hash(secret))
        )
        async with self.session() as session:
            changed = (await session.exec(query)).rowcount  # type: ignore[call-overload]
            await session.commit()
        return bool(changed)

    async def feed_by_secret(self, *, secret: str) -> CalendarFeed | None:
        """The feed a secret opens, or None; one indexed lookup by hash, then a constant-time comparison."""
        wanted = secret_hash(secret)
        async with self.session() as session:
            row = (
                await session.exec(select(CalendarFeed).where(col(CalendarFeed.secret_hash) == wanted))
            ).first()
        if row is None or not hmac.compare_digest(row.secret_hash, wanted):
            return None
        return row

    async def revise_events(self, *, fingerprints: Mapping[str, str]) -> dict[str, tuple[int, datetime]]:
        """Each event's (SEQUENCE, last change): a new one is 0 and now; one whose fingerprint differs is
        one higher and now; an unchanged one keeps both, so its feed's bytes and ETag stay the same."""
        uids = sorted(fingerprints)
        moment = now()
        try:
            async with self.session() as session:
                for chunk in (uids[i : i + 500] for i in range(0, len(uids), 500)):
                    held = {
                        row.uid: row
                        for row in await session.exec(select(FeedEvent).where(col(FeedEvent.uid).in_(chunk)))
                    }
                    for uid in chunk:
                        row = held.get(uid)
                        if row is None:
                            session.add(FeedEvent(uid=uid, fingerprint=fingerprints[uid], changed_at=moment))
                        elif row.fingerprint != fingerprints[uid]:
                            # Compare-and-set: two instances serving the same change bump it once.
                            await session.exec(  # type: ignore[call-overload]
                                update(FeedEvent)
                                .where(
                                    col(FeedEvent.uid) == uid, col(FeedEvent.fingerprint) == row.fingerprint
                                )
                                .values(
                                    fingerprint=fingerprints[uid],
                                    sequence=row.sequence + 1,
                                    changed_at=moment,
                                )
                            )
                await session.commit()
        except IntegrityError:  # another instance saw a new event first: again, now that its row is there
            return await self.revise_events(fingerprints=fingerprints)
        async with self.session() as session:
            rows = [
                row
                for chunk in (uids[i : i + 500] for i in range(0, len(uids), 500))
                for row in await session.exec(select(FeedEvent).where(col(FeedEvent.uid).in_(chunk)))
            ]
        return {row.uid: (row.sequence, row.changed_at) for row in rows}

    async def mirror_rows(self, *, provider: str, since: date) -> list[MirroredAbsence]:
        """The mirror's bookings ending on or after ``since`` that the last pass still listed."""
        query = select(MirroredAbsence).where(
            col(MirroredAbsence.provider) == provider,
            col(MirroredAbsence.end_date) >= since,
            col(MirroredAbsence.gone_since).is_(None),
        )
        async with self.session() as session:
            return list((await session.exec(query)).all())

    async def department_of(self, *, provider: str, person_id: str) -> str | None:
        """A person's department as their latest mirrored booking says; None where it says none."""
        query = (
            select(MirroredAbsence.department)
            .where(
                col(MirroredAbsence.provider) == provider,
                col(MirroredAbsence.person_id) == person_id,
                col(MirroredAbsence.department).is_not(None),
            )
            .order_by(col(MirroredAbsence.start_date).desc())
            .limit(1)
        )
        async with self.session() as session:
            return (await session.exec(query)).first()

    async def requests_since(self, *, provider: str, since: date) -> list[LeaveRequest]:
        """leavebot's own requests with this provider ending on or after ``since``."""
        query = select(LeaveRequest).where(
            col(LeaveRequest.provider) == provider, col(LeaveRequest.end_date) >= since
        )
        async with self.session() as session:
            return list((await session.exec(query)).all())

    async def is_approver(self, *, slack_user_id: str) -> bool:
        """True once someone has been asked to approve a request."""
        query = select(ApprovalCard.id).where(col(ApprovalCard.approver_slack_id) == slack_user_id).limit(1)
        async with self.session() as session:
            return (await session.exec(query)).first() is not None

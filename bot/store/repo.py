"""The store: every read and write of the bot's tables, each in its own short transaction.

Everything that must happen once across instances is decided here by the
database (unique keys and conditional updates), never by a process-local lock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.tables import (
    ApprovalCard,
    AuditEntry,
    Delegation,
    DigestPost,
    LeaveRequest,
    OutboxJob,
    ProviderEvent,
    Reminder,
    SlackDelivery,
    SlackUser,
    now,
)

# Bound parameters per IN (...) query: well under SQLite's 32,766 and PostgreSQL's 32,767.
EMAILS_PER_QUERY = 5000


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


class Store:
    """The bot's database."""

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

    # Slack deliveries

    async def first_delivery(self, *, key: str) -> bool:
        """Record a delivery; False when it was seen before (a Slack retry)."""
        return await self._insert_once(SlackDelivery(key=key))

    async def forget_deliveries(self, *, before: datetime) -> None:
        """Drop delivery records older than any retry Slack could still send."""
        async with self.session() as session:
            await session.exec(delete(SlackDelivery).where(col(SlackDelivery.received_at) < before))
            await session.commit()

    # People

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

    # Requests

    async def create_request(self, *, request: LeaveRequest) -> tuple[LeaveRequest, bool]:
        """Insert a request under its idempotency key; (row, False) if the key was used already."""
        if await self._insert_once(request):
            return request, True
        existing = await self.request_by_key(key=request.idempotency_key)
        assert existing is not None
        return existing, False

    async def request(self, *, request_id: int) -> LeaveRequest | None:
        """A request by id."""
        async with self.session() as session:
            return await session.get(LeaveRequest, request_id)

    async def request_by_key(self, *, key: str) -> LeaveRequest | None:
        """A request by idempotency key."""
        async with self.session() as session:
            query = select(LeaveRequest).where(col(LeaveRequest.idempotency_key) == key)
            return (await session.exec(query)).first()

    async def move_request(
        self, *, request_id: int, from_status: Sequence[str], to_status: str, **values: Any
    ) -> bool:
        """Compare-and-set a request's status; True only for the one caller that moved it."""
        query = (
            update(LeaveRequest)
            .where(col(LeaveRequest.id) == request_id, col(LeaveRequest.status).in_(list(from_status)))
            .values(status=to_status, updated_at=now(), **values)
        )
        async with self.session() as session:
            moved = (await session.exec(query)).rowcount  # type: ignore[call-overload]
            await session.commit()
        return bool(moved)

    async def requests_of(self, *, slack_user_id: str, since: date) -> list[LeaveRequest]:
        """A requester's requests ending on or after ``since``, soonest first."""
        query = (
            select(LeaveRequest)
            .where(col(LeaveRequest.requester_slack_id) == slack_user_id, col(LeaveRequest.end_date) >= since)
            .order_by(col(LeaveRequest.start_date))
        )
        async with self.session() as session:
            return list((await session.exec(query)).all())

    async def pending_for_approver(self, *, slack_user_id: str) -> list[LeaveRequest]:
        """Requests waiting for this approver."""
        query = (
            select(LeaveRequest)
            .join(ApprovalCard, col(ApprovalCard.request_id) == col(LeaveRequest.id))
            .where(
                col(ApprovalCard.approver_slack_id) == slack_user_id, col(LeaveRequest.status) == "pending"
            )
            .order_by(col(LeaveRequest.start_date))
        )
        async with self.session() as session:
            return list((await session.exec(query)).all())

    async def request_by_booking(self, *, provider: str, booking_id: str) -> LeaveRequest | None:
        """The request a provider's booking belongs to."""
        query = select(LeaveRequest).where(
            col(LeaveRequest.provider) == provider, col(LeaveRequest.booking_id) == booking_id
        )
        async with self.session() as session:
            return (await session.exec(query.order_by(col(LeaveRequest.id)))).first()

    async def count_requests(self, *, provider: str, status: str, since: datetime) -> int:
        """How many of a provider's requests created since ``since`` are in ``status``."""
        query = select(func.count()).where(
            col(LeaveRequest.provider) == provider,
            col(LeaveRequest.status) == status,
            col(LeaveRequest.created_at) >= since,
        )
        async with self.session() as session:
            return int((await session.exec(query)).one())

    async def set_provider_state(
        self,
        *,
        request_id: int,
        seen_status: str,
        seen_updated_at: datetime | None,
        status: str,
        updated_at: datetime,
        **values: Any,
    ) -> bool:
        """Record the provider's state of a request if it is still as seen; False if it moved meanwhile."""
        seen = col(LeaveRequest.provider_updated_at)
        query = (
            update(LeaveRequest)
            .where(
                col(LeaveRequest.id) == request_id,
                col(LeaveRequest.status) == seen_status,
                seen.is_(None) if seen_updated_at is None else seen == seen_updated_at,
            )
            .values(status=status, provider_updated_at=updated_at, updated_at=now(), **values)
        )
        async with self.session() as session:
            moved = (await session.exec(query)).rowcount  # type: ignore[call-overload]
            await session.commit()
        return bool(moved)

    # Provider webhook events

    async def first_provider_event(self, *, key: str) -> bool:
        """Record a provider event; False when it was seen before (a redelivery)."""
        return await self._insert_once(ProviderEvent(key=key))

    async def release_provider_event(self, *, key: str) -> None:
        """Forget one event whose handling failed, so a retry can handle it."""
        async with self.session() as session:
            await session.exec(delete(ProviderEvent).where(col(ProviderEvent.key) == key))
            await session.commit()

    async def forget_provider_events(self, *, before: datetime) -> None:
        """Drop event records older than any redelivery the provider could still send."""
        async with self.session() as session:
            await session.exec(delete(ProviderEvent).where(col(ProviderEvent.received_at) < before))
            await session.commit()

    # Approval cards

    async def add_approvers(
        self, *, request_id: int, slack_user_ids: Sequence[str], note: str | None = None
    ) -> None:
        """Record who may decide a request (idempotent); ``note`` says why they were asked."""
        for slack_user_id in slack_user_ids:
            await self._insert_once(
                ApprovalCard(request_id=request_id, approver_slack_id=slack_user_id, note=note)
            )

    async def cards(self, *, request_id: int) -> list[ApprovalCard]:
        """The approvers of a request and where their messages are."""
        query = select(ApprovalCard).where(col(ApprovalCard.request_id) == request_id)
        async with self.session() as session:
            return list((await session.exec(query.order_by(col(ApprovalCard.id)))).all())

    async def set_card_message(self, *, card_id: int, channel: str, ts: str) -> None:
        """Remember where an approver's message was posted."""
        query = update(ApprovalCard).where(col(ApprovalCard.id) == card_id).values(channel=channel, ts=ts)
        async with self.session() as session:
            await session.exec(query)
            await session.commit()

    # Audit

    async def audit(self, *, request_id: int, actor: str, action: str, detail: str = "") -> None:
        """Append one line to the audit log."""
        async with self.session() as session:
            session.add(AuditEntry(request_id=request_id, actor=actor, action=action, detail=detail))
            await session.commit()

    async def audit_log(self, *, request_id: int) -> list[AuditEntry]:
        """A request's audit trail, oldest first."""
        query = (
            select(AuditEntry).where(col(AuditEntry.request_id) == request_id).order_by(col(AuditEntry.id))
        )
        async with self.session() as session:
            return list((await session.exec(query)).all())

    # Digest

    async def claim_digest(self, *, channel: str, day: date, stale_after: timedelta) -> bool:
        """Claim a channel's digest for a day; False if posted, or claimed recently by someone else."""
        if await self._insert_once(DigestPost(channel=channel, day=day)):
            return True
        # A claim that was never marked posted (its instance died) may be taken over once it is stale.
        query = (
            update(DigestPost)
            .where(
                col(DigestPost.channel) == channel,
                col(DigestPost.day) == day,
                col(DigestPost.posted).is_(False),
                col(DigestPost.claimed_at) < now() - stale_after,
            )
            .values(claimed_at=now())
        )
        async with self.session() as session:
            moved = (await session.exec(query)).rowcount  # type: ignore[call-overload]
            await session.commit()
        return bool(moved)

    async def digest_posted(self, *, channel: str, day: date, ts: str | None) -> None:
        """Mark a claimed digest as done: posted at ``ts``, or None when there was nothing to post."""
        query = (
            update(DigestPost)
            .where(col(DigestPost.channel) == channel, col(DigestPost.day) == day)
            .values(posted=True, ts=ts)
        )
        async with self.session() as session:
            await session.exec(query)
            await session.commit()

    async def release_digest(self, *, channel: str, day: date) -> None:
        """Give a claim back after a failed post, so the next attempt can retry it."""
        query = delete(DigestPost).where(
            col(DigestPost.channel) == channel, col(DigestPost.day) == day, col(DigestPost.posted).is_(False)
        )
        async with self.session() as session:
            await session.exec(query)
            await session.commit()

    # The outbox: provider calls owed

    async def enqueue(self, *, job: OutboxJob, lease: timedelta) -> OutboxJob:
        """Store a job already leased to its caller, who tries it at once."""
        job.lease_until = now() + lease
        async with self.session() as session:
            session.add(job)
            await session.commit()
        return job

    async def claim_due(self, *, lease: timedelta, limit: int = 20) -> list[OutboxJob]:
        """Jobs due now whose lease is free or ran out, each leased to this caller by a conditional update."""
        moment = now()
        free = or_(col(OutboxJob.lease_until).is_(None), col(OutboxJob.lease_until) < moment)
        query = (
            select(OutboxJob)
            .where(col(OutboxJob.result).is_(None), col(OutboxJob.due_at) <= moment, free)
            .order_by(col(OutboxJob.due_at))
            .limit(limit)
        )
        claimed = []
        async with self.session() as session:
            for job in (await session.exec(query)).all():
                taken = (
                    update(OutboxJob)
                    .where(col(OutboxJob.id) == job.id, col(OutboxJob.result).is_(None), free)
                    .values(lease_until=moment + lease)
                    .execution_options(synchronize_session=False)  # the database decides, not the session
                )
                if (await session.exec(taken)).rowcount:  # type: ignore[call-overload]
                    claimed.append(job)
                await session.commit()
        return claimed

    async def retry_job(self, *, job_id: int, attempts: int, due_at: datetime, error: str) -> None:
        """Put a job back in the queue after a failed try."""
        query = (
            update(OutboxJob)
            .where(col(OutboxJob.id) == job_id)
            .values(attempts=attempts, due_at=due_at, lease_until=None, last_error=error)
        )
        async with self.session() as session:
            await session.exec(query)  # type: ignore[call-overload]
            await session.commit()

    async def finish_job(self, *, job_id: int, result: str, attempts: int, error: str = "") -> None:
        """Close a job: done, failed (the provider refused) or gave up (it never answered)."""
        query = (
            update(OutboxJob)
            .where(col(OutboxJob.id) == job_id)
            .values(result=result, attempts=attempts, last_error=error, lease_until=None, finished_at=now())
        )
        async with self.session() as session:
            await session.exec(query)  # type: ignore[call-overload]
            await session.commit()

    async def jobs(self, *, request_id: int | None = None) -> list[OutboxJob]:
        """Outbox jobs, oldest first (of one request, when given)."""
        query = select(OutboxJob).order_by(col(OutboxJob.id))
        if request_id is not None:
            query = query.where(col(OutboxJob.request_id) == request_id)
        async with self.session() as session:
            return list((await session.exec(query)).all())

    # Reminders and delegates

    async def schedule_reminder(self, *, request_id: int, due_at: datetime) -> None:
        """Start reminding a request's approvers from ``due_at`` (once per request: later calls change nothing)."""
        await self._insert_once(Reminder(request_id=request_id, due_at=due_at))

    async def due_reminders(self, *, moment: datetime) -> list[Reminder]:
        """Reminders due at ``moment`` of requests still pending."""
        query = (
            select(Reminder)
            .join(LeaveRequest, col(LeaveRequest.id) == col(Reminder.request_id))
            .where(
                col(Reminder.done).is_(False),
                col(Reminder.due_at) <= moment,
                col(LeaveRequest.status) == "pending",
            )
            .order_by(col(Reminder.due_at))
        )
        async with self.session() as session:
            return list((await session.exec(query)).all())

    async def claim_reminder(self, *, request_id: int, moment: datetime, next_due: datetime) -> bool:
        """Claim the reminder due at ``moment`` by moving it to ``next_due``; True for the one caller that moved it."""
        query = (
            update(Reminder)
            .where(
                col(Reminder.request_id) == request_id,
                col(Reminder.done).is_(False),
                col(Reminder.due_at) <= moment,
            )
            .values(due_at=next_due)
        )
        async with self.session() as session:
            moved = (await session.exec(query)).rowcount  # type: ignore[call-overload]
            await session.commit()
        return bool(moved)

    async def reminder_sent(self, *, request_id: int, sent: int, done: bool = False) -> None:
        """Count a reminder sent (by the caller that claimed it); ``done`` stops them."""
        query = update(Reminder).where(col(Reminder.request_id) == request_id).values(sent=sent, done=done)
        async with self.session() as session:
            await session.exec(query)  # type: ignore[call-overload]
            await session.commit()

    async def reminder(self, *, request_id: int) -> Reminder | None:
        """A request's reminders."""
        async with self.session() as session:
            return await session.get(Reminder, request_id)

    async def set_delegation(
        self, *, approver_slack_id: str, delegate_slack_id: str, until: date | None
    ) -> None:
        """Send an approver's cards to their delegate until ``until`` (replacing any delegate before)."""
        row = Delegation(
            approver_slack_id=approver_slack_id, delegate_slack_id=delegate_slack_id, until=until
        )
        for attempt in (1, 2):
            async with self.session() as session:
                await session.merge(row)
                try:
                    await session.commit()
                    return
                except IntegrityError:  # set at the same moment elsewhere: the merge now finds it
                    if attempt == 2:
                        raise

    async def clear_delegation(self, *, approver_slack_id: str) -> bool:
        """Stop delegating; False when there was no delegate."""
        query = delete(Delegation).where(col(Delegation.approver_slack_id) == approver_slack_id)
        async with self.session() as session:
            removed = (await session.exec(query)).rowcount  # type: ignore[call-overload]
            await session.commit()
        return bool(removed)

    async def delegation(self, *, approver_slack_id: str, on: date) -> Delegation | None:
        """An approver's delegate on the day ``on``, if they have one then."""
        async with self.session() as session:
            row = await session.get(Delegation, approver_slack_id)
        return row if row is not None and (row.until is None or row.until >= on) else None

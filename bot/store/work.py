"""Work claimed once across instances: outbox jobs, digests, reminders, provider events; and delegations."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import RequestState
from bot.store.base import StoreBase
from bot.store.tables import (
    Delegation,
    DigestPost,
    LeaveRequest,
    OutboxJob,
    ProviderEvent,
    Reminder,
    now,
)

# The due time of a job paused until leavebot starts again (Slack refused its token): never due before.
PAUSED = datetime(9999, 1, 1, tzinfo=UTC)


class WorkRows(StoreBase):
    """Outbox jobs, digest posts, reminders, delegations and provider events."""

    async def enqueue(self, *, job: OutboxJob, lease: timedelta) -> OutboxJob:
        """Store a job already leased to its caller, who tries it at once."""
        job.lease_until = now() + lease
        async with self.session() as session:
            session.add(job)
            await session.commit()
        return job

    async def enqueue_steps(self, *, jobs: Sequence[OutboxJob], lease: timedelta) -> list[OutboxJob]:
        """Store each step once under its key, leased to the caller; the ones stored by this call.

        A step already stored (its job was repeated after a crash) is left to whoever holds it.
        """
        async with self.session() as session:
            stored = await self._insert_steps(session, jobs, lease)
            await session.commit()
        return stored

    async def _insert_steps(
        self, session: AsyncSession, jobs: Sequence[OutboxJob], lease: timedelta
    ) -> list[OutboxJob]:
        """One INSERT of every step whose key is new, in the caller's transaction; those it stored, with their ids."""
        if not jobs:
            return []
        lease_until = now() + lease
        for job in jobs:
            job.lease_until = lease_until
        table = OutboxJob.__table__  # type: ignore[attr-defined]
        rows = [job.model_dump(exclude={"id"}) for job in jobs]
        statement = self._insert_new(table, rows).returning(table.c.key, table.c.id)
        ids = dict((await session.exec(statement)).all())  # type: ignore[call-overload]
        stored = []
        for job in jobs:
            if job.key in ids:  # a key twice in one call: only its first job is stored
                job.id = ids.pop(job.key)
                stored.append(job)
        return stored

    async def claim_due(
        self, *, lease: timedelta, limit: int = 20, request_id: int | None = None, stalled: bool = False
    ) -> list[OutboxJob]:
        """Jobs due now whose lease is free or ran out, each leased to this caller; of one request, when
        given; only those whose owner died (a lease that ran out, not one waiting for a retry) if ``stalled``.

        PostgreSQL skips the rows another instance is claiming (``FOR UPDATE SKIP LOCKED``); on
        SQLite, which has one writer at a time, the conditional update alone decides.
        """
        moment = now()
        ran_out = col(OutboxJob.lease_until) < moment
        free = ran_out if stalled else or_(col(OutboxJob.lease_until).is_(None), ran_out)
        query = select(OutboxJob).where(
            col(OutboxJob.result).is_(None), col(OutboxJob.due_at) <= moment, free
        )
        if request_id is not None:
            query = query.where(col(OutboxJob.request_id) == request_id)
        query = query.order_by(col(OutboxJob.due_at)).limit(limit).with_for_update(skip_locked=True)
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

    async def renew_leases(self, *, job_ids: Collection[int], lease: timedelta) -> None:
        """Extend the leases of jobs this instance is still working on (its heartbeat)."""
        if not job_ids:
            return
        query = (
            update(OutboxJob)
            .where(col(OutboxJob.id).in_(list(job_ids)), col(OutboxJob.result).is_(None))
            .values(lease_until=now() + lease)
        )
        async with self.session() as session:
            await session.exec(query)  # type: ignore[call-overload]
            await session.commit()

    async def release_leases(self, *, job_ids: Collection[int]) -> None:
        """Give up the leases of unfinished jobs (a stopping instance), so any instance takes them at once."""
        if not job_ids:
            return
        query = (
            update(OutboxJob)
            .where(col(OutboxJob.id).in_(list(job_ids)), col(OutboxJob.result).is_(None))
            .values(lease_until=None)
        )
        async with self.session() as session:
            await session.exec(query)  # type: ignore[call-overload]
            await session.commit()

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

    async def pause_job(self, *, job_id: int, error: str) -> None:
        """Put a job back untried and uncounted, not due until ``unpause_jobs``."""
        query = (
            update(OutboxJob)
            .where(col(OutboxJob.id) == job_id)
            .values(due_at=PAUSED, lease_until=None, last_error=error)
        )
        async with self.session() as session:
            await session.exec(query)  # type: ignore[call-overload]
            await session.commit()

    async def unpause_jobs(self) -> int:
        """Make the paused jobs (``PAUSED``) due now; how many there were."""
        query = (
            update(OutboxJob)
            .where(col(OutboxJob.result).is_(None), col(OutboxJob.due_at) >= PAUSED)
            .values(due_at=now())
        )
        async with self.session() as session:
            resumed = (await session.exec(query)).rowcount  # type: ignore[call-overload]
            await session.commit()
        return int(resumed)

    async def finish_job(
        self,
        *,
        job_id: int,
        result: str,
        attempts: int,
        error: str = "",
        steps: Sequence[OutboxJob] = (),
        lease: timedelta | None = None,
    ) -> list[OutboxJob]:
        """Close a job: done, failed (the provider refused) or gave up (it never answered).

        ``steps`` (what follows a job done) are stored in the same transaction, leased to the caller for
        ``lease``: a job is never closed without them; the ones stored by this call are returned.
        """
        query = (
            update(OutboxJob)
            .where(col(OutboxJob.id) == job_id)
            .values(result=result, attempts=attempts, last_error=error, lease_until=None, finished_at=now())
        )
        async with self.session() as session:
            stored = await self._insert_steps(session, steps, lease or timedelta(0))
            await session.exec(query)  # type: ignore[call-overload]
            await session.commit()
        return stored

    async def jobs(
        self, *, request_id: int | None = None, kinds: Collection[str] | None = None
    ) -> list[OutboxJob]:
        """Outbox jobs, oldest first (of one request, of these kinds, when given)."""
        query = select(OutboxJob).order_by(col(OutboxJob.id))
        if request_id is not None:
            query = query.where(col(OutboxJob.request_id) == request_id)
        if kinds is not None:
            query = query.where(col(OutboxJob.kind).in_(list(kinds)))
        async with self.session() as session:
            return list((await session.exec(query)).all())

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
                col(LeaveRequest.status) == RequestState.PENDING,
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

    async def delegations(self, *, approver_slack_ids: Collection[str], on: date) -> dict[str, Delegation]:
        """The delegates of these approvers on the day ``on``, by approver (one query for all)."""
        query = select(Delegation).where(col(Delegation.approver_slack_id).in_(list(approver_slack_ids)))
        async with self.session() as session:
            rows = (await session.exec(query)).all()
        return {r.approver_slack_id: r for r in rows if r.until is None or r.until >= on}

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

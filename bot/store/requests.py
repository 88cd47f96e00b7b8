"""Leave requests, their approval cards and their audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.domain import RequestState
from bot.store.base import StoreBase
from bot.store.tables import (
    ApprovalCard,
    AuditEntry,
    LeaveRequest,
    OutboxJob,
    now,
)


class RequestRows(StoreBase):
    """Requests, cards and the audit log."""

    async def create_request(
        self, *, request: LeaveRequest, job: OutboxJob | None = None, lease: timedelta | None = None
    ) -> tuple[LeaveRequest, bool]:
        """Insert a request under its idempotency key; (row, False) if the key was used already.

        ``job`` (the request's first outbox job, leased to the caller for ``lease``) is stored in the
        same transaction: a request in flight always has the job that will finish it.
        """
        async with self.session() as session:
            session.add(request)
            try:
                await session.flush()
                if job is not None:
                    session.add(_leased(job, request.id, lease))
                await session.commit()
                return request, True
            except IntegrityError:
                await session.rollback()
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
        self,
        *,
        request_id: int,
        from_status: Sequence[str],
        to_status: str,
        job: OutboxJob | None = None,
        lease: timedelta | None = None,
        **values: Any,
    ) -> bool:
        """Compare-and-set a request's status; True only for the one caller that moved it.

        ``job`` is stored, leased to that caller, in the same transaction as the move.
        """
        query = (
            update(LeaveRequest)
            .where(col(LeaveRequest.id) == request_id, col(LeaveRequest.status).in_(list(from_status)))
            .values(status=to_status, updated_at=now(), **values)
        )
        async with self.session() as session:
            moved = bool((await session.exec(query)).rowcount)  # type: ignore[call-overload]
            if moved and job is not None:
                session.add(_leased(job, request_id, lease))
            await session.commit()
        return moved

    async def requests_of(self, *, slack_user_id: str, since: date) -> list[LeaveRequest]:
        """A requester's requests ending on or after ``since``, soonest first."""
        query = (
            select(LeaveRequest)
            .where(col(LeaveRequest.requester_slack_id) == slack_user_id, col(LeaveRequest.end_date) >= since)
            .order_by(col(LeaveRequest.start_date))
        )
        async with self.session() as session:
            return list((await session.exec(query)).all())

    async def requests(
        self, *, statuses: Sequence[str] = (), email: str | None = None, limit: int = 200
    ) -> list[LeaveRequest]:
        """Requests, newest first: only those in ``statuses`` (any when empty), of the requester ``email``."""
        query = select(LeaveRequest).order_by(col(LeaveRequest.id).desc()).limit(limit)
        if statuses:
            query = query.where(col(LeaveRequest.status).in_(list(statuses)))
        if email:
            query = query.where(func.lower(col(LeaveRequest.requester_email)) == email.lower())
        async with self.session() as session:
            return list((await session.exec(query)).all())

    async def pending_for_approver(
        self, *, slack_user_id: str, limit: int | None = None
    ) -> list[LeaveRequest]:
        """Requests waiting for this approver, soonest first (the first ``limit`` of them)."""
        query = (
            select(LeaveRequest)
            .join(ApprovalCard, col(ApprovalCard.request_id) == col(LeaveRequest.id))
            .where(*self._waiting_for(slack_user_id))
            .order_by(col(LeaveRequest.start_date))
            .limit(limit)
        )
        async with self.session() as session:
            return list((await session.exec(query)).all())

    async def count_pending_for_approver(self, *, slack_user_id: str) -> int:
        """How many requests wait for this approver."""
        query = (
            select(func.count())
            .select_from(LeaveRequest)
            .join(ApprovalCard, col(ApprovalCard.request_id) == col(LeaveRequest.id))
            .where(*self._waiting_for(slack_user_id))
        )
        async with self.session() as session:
            return (await session.exec(query)).one()

    @staticmethod
    def _waiting_for(slack_user_id: str) -> tuple[Any, ...]:
        return (
            col(ApprovalCard.approver_slack_id) == slack_user_id,
            col(LeaveRequest.status) == RequestState.PENDING,
        )

    async def held_pending(self, *, provider: str, start: date, end: date) -> list[LeaveRequest]:
        """Pending requests the bot holds (not booked at the provider) touching ``start``..``end``."""
        query = select(LeaveRequest).where(
            col(LeaveRequest.provider) == provider,
            col(LeaveRequest.status).in_([RequestState.PENDING, RequestState.DECIDING]),
            col(LeaveRequest.booking_id).is_(None),
            col(LeaveRequest.start_date) <= end,
            col(LeaveRequest.end_date) >= start,
        )
        async with self.session() as session:
            return list(await session.exec(query))

    async def waiting_bookings(self, *, provider: str, start: date, end: date) -> list[LeaveRequest]:
        """Requests booked at the provider and still waiting for a decision, touching ``start``..``end``."""
        query = select(LeaveRequest).where(
            col(LeaveRequest.provider) == provider,
            col(LeaveRequest.status).in_([RequestState.PENDING, RequestState.DECIDING]),
            col(LeaveRequest.booking_id).is_not(None),
            col(LeaveRequest.start_date) <= end,
            col(LeaveRequest.end_date) >= start,
        )
        async with self.session() as session:
            return list(await session.exec(query))

    async def last_pending_day(self, *, provider: str) -> date | None:
        """The last day of the provider's bookings still waiting for a decision; None if there are none."""
        query = select(func.max(col(LeaveRequest.end_date))).where(
            col(LeaveRequest.provider) == provider,
            col(LeaveRequest.status).in_([RequestState.PENDING, RequestState.DECIDING]),
            col(LeaveRequest.booking_id).is_not(None),
        )
        async with self.session() as session:
            return (await session.exec(query)).one()  # type: ignore[call-overload,no-any-return]

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

    async def add_approvers(
        self, *, request_id: int, slack_user_ids: Sequence[str], note: str | None = None
    ) -> None:
        """Record who may decide a request (idempotent); ``note`` says why they were asked."""
        if not slack_user_ids:
            return
        rows = [{"request_id": request_id, "approver_slack_id": a, "note": note} for a in slack_user_ids]
        async with self.session() as session:  # one statement for all, skipping approvers already there
            await session.exec(self._insert_new(ApprovalCard.__table__, rows))  # type: ignore[call-overload]
            await session.commit()

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


def _leased(job: OutboxJob, request_id: int | None, lease: timedelta | None) -> OutboxJob:
    """``job`` of ``request_id``, leased to its caller (who tries it at once) for ``lease``."""
    assert request_id is not None and lease is not None
    job.request_id = request_id
    job.lease_until = now() + lease
    return job

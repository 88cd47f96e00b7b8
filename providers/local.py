"""The built-in provider: leave kept in the bot's own database, approvers from configuration."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import NoDecode
from sqlalchemy import DateTime, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field as Column
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from providers.approver_table import configured, parse_approvers, person_for
from providers.base import Capabilities, LeaveProvider
from providers.errors import ProviderError, ProviderNotFound, ProviderRejected
from providers.models import (
    Absence,
    Booking,
    BookingState,
    HolidayRequest,
    LeaveSpan,
    LeaveType,
    Outcome,
    Person,
    Status,
    part_from_text,
    part_to_text,
)

NOON, DAY = 12 * 60, 24 * 60  # minutes: where a half day ends or begins, and a whole day's end


class LocalLeave(SQLModel, table=True):
    """One booking held by the local provider."""

    __tablename__ = "local_leave"

    id: int | None = Column(default=None, primary_key=True)
    person_id: str = Column(index=True)
    person_name: str
    person_email: str | None = None
    start_date: date = Column(index=True)
    end_date: date = Column(index=True)
    start_part: str
    end_part: str
    leave_type: str | None = None
    reason: str = ""
    status: str = Column(default=Status.PENDING.value, index=True)
    created_at: datetime = Column(sa_type=DateTime(timezone=True), default_factory=lambda: datetime.now(UTC))


class LocalProvider(LeaveProvider):
    """Leave kept in leavebot's database: the bot works with no HR system at all."""

    name = "local"
    display_name = "leavebot"
    approvers_setting = "LOCAL_APPROVERS"
    decides_elsewhere = False
    capabilities = Capabilities()

    class Config(LeaveProvider.Config):
        """``LOCAL_APPROVERS`` maps people (e-mail or Slack id) to approvers; ``*`` is everyone else.

        ``LOCAL_ESCALATION``, in the same form, names who is asked when those approvers do not answer.
        """

        # NoDecode: operators write these as plain text, not JSON (see parse_approvers).
        approvers: Annotated[dict[str, list[str]], NoDecode] = Field(default_factory=dict)
        escalation: Annotated[dict[str, list[str]], NoDecode] = Field(default_factory=dict)
        leave_types: Annotated[list[str], NoDecode] = Field(
            default_factory=lambda: ["Annual Leave", "Sick Leave", "Other"]
        )

        @field_validator("approvers", "escalation", mode="before")
        @classmethod
        def _read_approvers(cls, value: Any) -> dict[str, list[str]]:
            return parse_approvers(value)

        @field_validator("leave_types", mode="before")
        @classmethod
        def _read_leave_types(cls, value: Any) -> Any:
            return [t.strip() for t in value.split(",") if t.strip()] if isinstance(value, str) else value

    config: Config

    def __init__(self, config: BaseModel | None = None, *, engine: AsyncEngine | None = None) -> None:
        super().__init__(config)
        self._engine = engine  # the bot's database, injected: the interface knows no storage

    @property
    def engine(self) -> AsyncEngine:
        """The database the bookings live in."""
        if self._engine is None:
            raise ProviderError("the local provider needs the bot's database", provider=self.name)
        return self._engine

    async def find_person(self, email: str) -> Person:
        """Everyone with an e-mail address is a person here."""
        address = email.strip().lower()
        if "@" not in address:
            raise ProviderNotFound(f"{email!r} is not an e-mail address", provider=self.name)
        return person_for(address)

    async def leave_types(self) -> list[LeaveType]:
        """The configured leave types; ids are their positions, stable across restarts."""
        return [LeaveType(id=str(i), name=n) for i, n in enumerate(self.config.leave_types, start=1)]

    async def submit(self, request: HolidayRequest) -> Booking:
        """Store the request as pending; ProviderRejected, naming it, if it overlaps the person's own leave.

        The booking ``request.replaces`` (a change of dates) is no overlap: it is withdrawn next.
        """
        person = request.requester
        if clash := await self._overlapping(request):
            raise ProviderRejected(
                f"You already have {clash.status.value} leave for {clash.describe()}, which overlaps "
                f"{request.describe()}. Cancel or change that one first (`/leave mine`).",
                provider=self.name,
            )
        row = LocalLeave(
            person_id=person.id,
            person_name=person.name,
            person_email=person.email,
            start_date=request.start_date,
            end_date=request.end_date,
            start_part=part_to_text(request.start),
            end_part=part_to_text(request.end),
            leave_type=request.leave_type.name if request.leave_type else None,
            reason=request.reason,
        )
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            session.add(row)
            await session.commit()
        return Booking(id=str(row.id), status=Status.PENDING)

    async def _overlapping(self, request: HolidayRequest) -> Absence | None:
        """The person's first pending or approved booking sharing any time with ``request``."""
        query = select(LocalLeave).where(
            col(LocalLeave.person_id) == request.requester.id,
            col(LocalLeave.status).in_([Status.PENDING.value, Status.APPROVED.value]),
            LocalLeave.start_date <= request.end_date,
            LocalLeave.end_date >= request.start_date,
        )
        async with AsyncSession(self.engine) as session:
            rows = (await session.exec(query.order_by(col(LocalLeave.start_date)))).all()
        held = (_absence(row) for row in rows if str(row.id) != request.replaces)
        return next((a for a in held if overlap(a, request)), None)

    async def absences(self, start: date, end: date) -> list[Absence]:
        """Every booking overlapping the range, whatever its status."""
        query = select(LocalLeave).where(LocalLeave.start_date <= end, LocalLeave.end_date >= start)
        async with AsyncSession(self.engine) as session:
            rows = (await session.exec(query.order_by(col(LocalLeave.start_date), col(LocalLeave.id)))).all()
        return [_absence(row) for row in rows]

    async def booking(self, booking_id: str) -> BookingState:
        """One booking as the table holds it; ProviderNotFound once its row is gone (deleted outside leavebot)."""
        row = None
        if booking_id.isdigit():
            async with AsyncSession(self.engine) as session:
                row = await session.get(LocalLeave, int(booking_id))
        if row is None:
            raise ProviderNotFound(f"no booking {booking_id}", provider=self.name)
        return BookingState(absence=_absence(row))

    async def approve(self, booking_id: str) -> Outcome:
        """Pending → approved, once."""
        return await self._move(booking_id, {Status.PENDING}, Status.APPROVED)

    async def decline(self, booking_id: str, reason: str) -> Outcome:
        """Pending → declined, once."""
        return await self._move(booking_id, {Status.PENDING}, Status.DECLINED)

    async def cancel(self, booking_id: str) -> Outcome:
        """Pending or approved → cancelled."""
        return await self._move(booking_id, {Status.PENDING, Status.APPROVED}, Status.CANCELLED)

    async def approvers(self, person: Person) -> list[Person]:
        """Approvers configured for the person's e-mail or Slack id, else the default ones."""
        return configured(self.config.approvers, person)

    async def escalation_approvers(self, person: Person) -> list[Person]:
        """Who ``LOCAL_ESCALATION`` names for the person, else its default."""
        return configured(self.config.escalation, person)

    async def _move(self, booking_id: str, sources: set[Status], target: Status) -> Outcome:
        # A conditional update: of two approvers clicking at once, exactly one moves the row.
        if not booking_id.isdigit():
            raise ProviderNotFound(f"no booking {booking_id}", provider=self.name)
        query = (
            update(LocalLeave)
            .where(col(LocalLeave.id) == int(booking_id), col(LocalLeave.status).in_(list(sources)))
            .values(status=target.value)
        )
        async with AsyncSession(self.engine) as session:
            moved = (await session.exec(query)).rowcount
            await session.commit()
            if moved:
                return Outcome(status=target)
            row = await session.get(LocalLeave, int(booking_id))
        if row is None:
            raise ProviderNotFound(f"no booking {booking_id}", provider=self.name)
        return Outcome(status=Status(row.status), already_actioned=True)


def overlap(a: LeaveSpan, b: LeaveSpan) -> bool:
    """True when two bookings share any time: a morning and an afternoon of one day do not, nor 9–12 and 13–15."""
    return _moment(a, start=True) < _moment(b, start=False) and _moment(b, start=True) < _moment(
        a, start=False
    )


def _moment(span: LeaveSpan, *, start: bool) -> tuple[date, int]:
    """Where a booking starts or ends, as (day, minute): a morning ends and an afternoon starts at noon."""
    part = span.start if start else span.end
    minute = (
        part if isinstance(part, int) else {"AM": 0 if start else NOON, "PM": NOON if start else DAY}[part]
    )
    return (span.start_date if start else span.end_date), minute


def _absence(row: LocalLeave) -> Absence:
    return Absence(
        id=str(row.id),
        person=Person(id=row.person_id, name=row.person_name, email=row.person_email),
        start_date=row.start_date,
        end_date=row.end_date,
        start=part_from_text(row.start_part),
        end=part_from_text(row.end_part),
        status=Status(row.status),
        leave_type=row.leave_type,
    )


__all__ = ["LocalLeave", "LocalProvider", "parse_approvers"]

"""The bot's own tables; nothing here knows Slack's API or any provider's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from providers.models import Absence, LeaveSpan, Person, Status, part_from_text, part_to_text


def now() -> datetime:
    """The current time, timezone-aware (stored as such on PostgreSQL)."""
    return datetime.now(UTC)


def timestamp(**kwargs: Any) -> Any:
    """A timezone-aware timestamp column."""
    return Field(sa_type=DateTime(timezone=True), **kwargs)  # type: ignore[call-overload]


class SlackUser(SQLModel, table=True):
    """A Slack user and the provider person found by their e-mail address."""

    __tablename__ = "slack_user"

    slack_user_id: str = Field(primary_key=True)
    email: str | None = Field(default=None, index=True)
    name: str
    tz: str | None = None
    locale: str | None = None  # Slack's (en-US, en-GB…): how numeric dates are read and dates written
    person_id: str | None = None
    updated_at: datetime = timestamp(default_factory=now)


class LeaveRequest(SQLModel, table=True):
    """Every request the bot handled, from submission to decision."""

    __tablename__ = "leave_request"

    id: int | None = Field(default=None, primary_key=True)
    # The Submit button's draft id or the modal's view id: a retry or double click finds this row.
    idempotency_key: str = Field(unique=True)
    provider: str
    booking_id: str | None = Field(default=None, index=True)
    status: str = Field(index=True)
    requester_slack_id: str | None = Field(default=None, index=True)
    requester_person_id: str
    requester_name: str
    requester_email: str | None = None
    start_date: date
    end_date: date
    start_part: str
    end_part: str
    leave_type_id: str | None = None
    leave_type_name: str | None = None
    reason: str = ""
    # The pending request this one changes the dates of: withdrawn once this one is accepted, so the
    # HR system is told it is no overlap.
    replaces_request_id: int | None = None
    decided_by: str | None = None
    decline_reason: str | None = None
    created_at: datetime = timestamp(default_factory=now)
    updated_at: datetime = timestamp(default_factory=now)
    # When the provider last changed the booking, as its webhooks report it: an older event is
    # ignored. None after the bot itself changed it (then no event may move it backwards).
    provider_updated_at: datetime | None = timestamp(default=None)

    @property
    def requester(self) -> Person:
        """Who asked, as the provider knows them."""
        return Person(
            id=self.requester_person_id,
            name=self.requester_name,
            email=self.requester_email,
            slack_user_id=self.requester_slack_id,
        )

    def as_absence(self) -> Absence:
        """The request as an absence (a pending one the bot holds, shown beside the HR system's)."""
        return Absence(
            id=self.booking_id or f"request:{self.id}",
            person=self.requester,
            status=Status(self.status) if self.status in set(Status) else Status.PENDING,
            leave_type=self.leave_type_name,
            **self.span.model_dump(),
        )

    @property
    def span(self) -> LeaveSpan:
        """The dates and parts of the request, as the normalized model."""
        return LeaveSpan(
            start_date=self.start_date,
            end_date=self.end_date,
            start=part_from_text(self.start_part),
            end=part_from_text(self.end_part),
        )


class ApprovalCard(SQLModel, table=True):
    """One approver of a request, and where their copy of the approval message is."""

    __tablename__ = "approval_card"
    __table_args__ = (UniqueConstraint("request_id", "approver_slack_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="leave_request.id", index=True)
    approver_slack_id: str
    channel: str | None = None
    ts: str | None = None
    # Why this approver was asked besides the provider naming them (escalated, a delegate), shown on their card.
    note: str | None = None


class SlackDelivery(SQLModel, table=True):
    """A Slack delivery already handled (event id or trigger id), so retries are dropped.

    A delivery whose work changes leave (a submission, a decision, a cancel) is *accepted* before its ack:
    stored with its ``work`` and ``body`` and leased to the instance doing it. Should that instance die
    after the ack, the lease runs out and any instance resumes the work from the body.
    """

    __tablename__ = "slack_delivery"

    key: str = Field(primary_key=True)
    received_at: datetime = timestamp(default_factory=now)
    work: str | None = None  # which resumable work (bot.listeners), for an accepted delivery
    body: str = ""  # the delivery's payload (JSON), all its work needs
    attempts: int = 0  # tries begun: a delivery that keeps killing its instance is given up
    lease_until: datetime | None = timestamp(default=None, index=True)
    done_at: datetime | None = timestamp(default=None)


class ProviderEvent(SQLModel, table=True):
    """A provider webhook event already handled (``<provider>:<event id>``), so redeliveries are dropped."""

    __tablename__ = "provider_event"

    key: str = Field(primary_key=True)
    received_at: datetime = timestamp(default_factory=now, index=True)


class AuditEntry(SQLModel, table=True):
    """Who did what to which request, and when."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="leave_request.id", index=True)
    actor: str
    action: str
    detail: str = ""
    at: datetime = timestamp(default_factory=now)


class DigestPost(SQLModel, table=True):
    """The claim on one channel's digest for one day: posted once, however many instances run."""

    __tablename__ = "digest_post"

    channel: str = Field(primary_key=True)
    day: date = Field(primary_key=True)
    posted: bool = False
    ts: str | None = None
    claimed_at: datetime = timestamp(default_factory=now)


class OutboxJob(SQLModel, table=True):
    """Work the bot owes, stored before it is tried: a provider call (submit, approve, decline, cancel),
    or one Slack step that follows it (post the cards, edit them, tell the requester…).

    The first try happens at once; while the provider or Slack is down or rate-limits, the job waits for
    ``due_at`` and any instance may claim it by setting ``lease_until`` in a conditional update. Its
    owner renews the lease while it works: a lease that ran out means its instance died, and the job is
    tried again. A step is stored once under its ``key``, however often the job before it is repeated.
    """

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="leave_request.id", index=True)
    kind: str
    key: str | None = Field(
        default=None, unique=True, index=True
    )  # a step's: the job it follows and what it does
    payload: str = ""  # what a step needs besides its request (JSON): a card's line, a message
    actor: str | None = None  # the Slack user who asked for it, told when it finally works or fails
    reason: str = ""
    revert_to: str = ""  # the request's status if the call fails for good
    revert_decided_by: str | None = None  # and who had decided it then
    attempts: int = 0
    due_at: datetime = timestamp(default_factory=now, index=True)
    lease_until: datetime | None = timestamp(default=None)
    last_error: str = ""
    result: str | None = Field(default=None, index=True)  # None while owed; then done, failed or gave up
    created_at: datetime = timestamp(default_factory=now)
    finished_at: datetime | None = timestamp(default=None)


class Reminder(SQLModel, table=True):
    """The reminders of one pending request: how many were sent, and from when the next is due.

    Any instance may send the next one: it claims the day's reminder by moving ``due_at`` to the
    next day in a conditional update, so each is sent at most once, however many instances run.
    """

    __tablename__ = "reminder"

    request_id: int = Field(foreign_key="leave_request.id", primary_key=True)
    sent: int = 0
    due_at: datetime = timestamp(index=True)
    done: bool = False  # escalated, or the request was decided or cancelled: nothing more to send


class Delegation(SQLModel, table=True):
    """An approver's stand-in: their cards go to ``delegate_slack_id`` until ``until`` (inclusive; None: until turned off)."""

    __tablename__ = "delegation"

    approver_slack_id: str = Field(primary_key=True)
    delegate_slack_id: str
    until: date | None = None
    created_at: datetime = timestamp(default_factory=now)


class MirroredAbsence(SQLModel, table=True):
    """One booking as the HR system held it at the last sync pass: what every reader of absences reads.

    ``gone_since`` marks a booking a pass no longer listed: hidden at once, and announced as deleted
    only by a full pass that does not find it elsewhere (a near pass cannot tell deleted from moved).
    """

    __tablename__ = "absence_mirror"

    provider: str = Field(primary_key=True)
    booking_id: str = Field(primary_key=True)
    person_id: str
    person_name: str
    person_email: str | None = None
    person_slack_id: str | None = None
    department: str | None = None
    start_date: date = Field(index=True)
    end_date: date = Field(index=True)
    start_part: str
    end_part: str
    leave_type: str | None = None
    status: str
    last_seen: datetime = timestamp(default_factory=now)
    gone_since: datetime | None = timestamp(default=None)

    @classmethod
    def of(cls, provider: str, absence: Absence, seen: datetime) -> MirroredAbsence:
        """The row for an absence a pass listed."""
        person = absence.person
        return cls(
            provider=provider,
            booking_id=absence.id,
            person_id=person.id,
            person_name=person.name,
            person_email=person.email,
            person_slack_id=person.slack_user_id,
            department=person.department,
            start_date=absence.start_date,
            end_date=absence.end_date,
            start_part=part_to_text(absence.start),
            end_part=part_to_text(absence.end),
            leave_type=absence.leave_type,
            status=str(absence.status),
            last_seen=seen,
        )

    @property
    def absence(self) -> Absence:
        """The normalized absence."""
        return Absence(
            id=self.booking_id,
            person=Person(
                id=self.person_id,
                name=self.person_name,
                email=self.person_email,
                slack_user_id=self.person_slack_id,
                department=self.department,
            ),
            status=Status(self.status),
            leave_type=self.leave_type,
            start_date=self.start_date,
            end_date=self.end_date,
            start=part_from_text(self.start_part),
            end=part_from_text(self.end_part),
        )

    def same_as(self, other: MirroredAbsence) -> bool:
        """True when nothing a reader shows differs."""
        fields = ("person_id", "start_date", "end_date", "start_part", "end_part", "leave_type", "status")
        return all(getattr(self, f) == getattr(other, f) for f in fields)


class SyncState(SQLModel, table=True):
    """Where the sync of one provider's absences stands; its lease lets one instance sync at a time."""

    __tablename__ = "sync_state"

    provider: str = Field(primary_key=True)
    lease_until: datetime | None = timestamp(default=None)
    near_at: datetime | None = timestamp(default=None)  # the last good pass of the next days
    full_at: datetime | None = timestamp(default=None)  # the last good pass of the whole window
    window_start: date | None = None  # the whole window at the last full pass
    window_end: date | None = None


class CalendarFeed(SQLModel, table=True):
    """One person's secret link to a calendar feed: their own leave, their department's or the company's.

    Found by ``secret_hash`` (SHA-256 of the secret): the lookup never compares the secret itself byte by
    byte. Rotating replaces the secret, so the old link finds nothing.
    """

    __tablename__ = "calendar_feed"
    __table_args__ = (UniqueConstraint("slack_user_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    slack_user_id: str
    kind: str  # "mine", "department" or "company"
    secret: str
    secret_hash: str = Field(unique=True, index=True)
    department: str | None = None  # a department feed's department, as last known
    created_at: datetime = timestamp(default_factory=now)


class FeedEvent(SQLModel, table=True):
    """The revision of one calendar event as feeds last showed it: its SEQUENCE and DTSTAMP / LAST-MODIFIED.

    Kept by content (``fingerprint``) rather than bumped by every writer of requests and the mirror: an
    event's sequence rises exactly when what a calendar shows of it changes, whichever source it came from.
    """

    __tablename__ = "feed_event"

    uid: str = Field(primary_key=True)
    fingerprint: str
    sequence: int = 0
    changed_at: datetime = timestamp(default_factory=now)

"""What each provider call in the outbox does to a leave request: the call by job kind and approval mode,
the request's new state, and the Slack steps that tell everyone once it went through or failed for good."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.domain import JobKind, JobResult, RequestState
from bot.errors import UserError, friendly, passing
from bot.services.deps import Deps
from bot.services.slack_steps import step
from bot.store.tables import LeaveRequest, OutboxJob
from bot.views import requests as views
from providers.errors import ProviderError
from providers.models import Booking, HolidayRequest, LeaveType, Outcome, Status, part_from_text

log = logging.getLogger(__name__)

Values = dict[str, object]  # columns of the request set with its new state
ProviderCall = Callable[[OutboxJob, LeaveRequest, bool], Awaitable[tuple[Outcome, Values]]]


class RequestJobs:
    """The outbox's handler for leave requests: submit, approve, decline and cancel."""

    def __init__(self, deps: Deps, *, away: bool = False) -> None:
        self.deps = deps
        self.away = away  # statuses follow leave: a decision or cancellation updates the requester's at once
        self.calls: dict[JobKind, ProviderCall] = {
            JobKind.SUBMIT: self._book,
            JobKind.APPROVE: self._approve,
            JobKind.DECLINE: self._decline,
            JobKind.CANCEL: self._cancel,
        }

    def retryable(self, error: Exception) -> bool:
        """The HR system down, slow or rate-limiting: worth another try later."""
        return passing(error)

    async def perform(self, job: OutboxJob, *, first_try: bool) -> None:
        """The provider call of one job, and the request's new state; nothing else (Slack comes after).

        Safe to repeat: a job whose request already left the in-flight state was done by a try that
        stopped before it could close the job.
        """
        request = await self.deps.request(job.request_id)
        if not RequestState(request.status).in_flight:
            return
        kind = JobKind(job.kind)
        if kind is JobKind.SUBMIT:
            request = await self._resolved(request)
        outcome, values = await self.calls[kind](job, request, first_try)
        values["provider_updated_at"] = None  # the bot's own change: no event goes behind it
        if outcome.already_actioned:  # someone decided first at the provider: name them, not the clicker
            values["decided_by"] = await self.deps.people.slack_id_for(outcome.decided_by)
        if outcome.status == Status.DECLINED:  # a cancel's reason is what replaced it, not a decline's
            values["decline_reason"] = (job.reason if kind is JobKind.DECLINE else "") or None
        await self.deps.store.move_request(
            request_id=job.request_id,
            from_status=[_in_flight(kind)],
            to_status=RequestState.of(outcome.status),
            **values,
        )
        action = "already decided in the HR system" if outcome.already_actioned else kind.audit
        await self.deps.store.audit(
            request_id=job.request_id,
            actor=job.actor or request.requester_person_id,
            action=action,
            detail=job.reason,
        )

    async def _resolved(self, request: LeaveRequest) -> LeaveRequest:
        """The request with what the HR system could not say when it was stored (down, and this instance
        cold): who the requester is there, and the named leave type's id. UserError if either is unknown."""
        values: Values = {}
        if not request.requester_person_id and request.requester_slack_id:
            person = await self.deps.people.person_for(request.requester_slack_id)
            values |= {"requester_person_id": person.id, "requester_name": person.name}
            values["requester_email"] = person.email
        if request.leave_type_id is None and request.leave_type_name:
            leave_type = pick_leave_type(await self.deps.provider.leave_types(), request.leave_type_name)
            values |= (
                {"leave_type_id": leave_type.id, "leave_type_name": leave_type.name} if leave_type else {}
            )
        if not values:
            return request
        state = request.status
        await self.deps.store.move_request(
            request_id=request.id or 0, from_status=[state], to_status=state, **values
        )
        return await self.deps.request(request.id)

    async def _book(self, job: OutboxJob, request: LeaveRequest, first_try: bool) -> tuple[Outcome, Values]:
        if self.deps.bot_kept and job.kind == JobKind.SUBMIT:  # nothing is booked before an approval
            await self._validate(request)
            return Outcome(status=Status.PENDING), {}
        # A try after the first may follow one whose answer never came back (a timeout, a crash).
        booking = None if first_try else await self._booked_already(request)
        booking = booking or await self.deps.provider.submit(await self._to_book(request))
        return Outcome(status=booking.status), {"booking_id": booking.id}

    async def _to_book(self, request: LeaveRequest) -> HolidayRequest:
        """The request as the provider is asked to book it, naming the booking it replaces (a change)."""
        wanted = holiday_request(request)
        if request.replaces_request_id is None:
            return wanted
        old = await self.deps.store.request(request_id=request.replaces_request_id)
        return wanted.model_copy(update={"replaces": old.booking_id if old else None})

    async def _validate(self, request: LeaveRequest) -> None:
        """Ask the provider whether it could book the request; a refusal is heard now, not at approval.

        Not reaching the provider is no reason to refuse: the approval books it, and hears any refusal then.
        """
        try:
            await self.deps.provider.validate(await self._to_book(request))
        except ProviderError as exc:
            if not passing(exc):
                raise
            log.warning(
                "could not validate request %s with %s: %s", request.id, self.deps.provider.display_name, exc
            )

    async def _approve(
        self, job: OutboxJob, request: LeaveRequest, first_try: bool
    ) -> tuple[Outcome, Values]:
        if self.deps.bot_kept:  # nothing was booked until now
            return await self._book(job, request, first_try)
        return await self.deps.provider.approve(request.booking_id or ""), {}

    async def _decline(
        self, job: OutboxJob, request: LeaveRequest, first_try: bool
    ) -> tuple[Outcome, Values]:
        if self.deps.bot_kept:  # nothing was booked: nothing to tell the provider
            return Outcome(status=Status.DECLINED), {}
        return await self.deps.provider.decline(request.booking_id or "", job.reason), {}

    async def _cancel(self, job: OutboxJob, request: LeaveRequest, first_try: bool) -> tuple[Outcome, Values]:
        if request.booking_id is None and self.deps.bot_kept:  # leave still only in our database
            return Outcome(status=Status.CANCELLED), {}
        return await self.deps.provider.cancel(request.booking_id or ""), {}

    async def _booked_already(self, request: LeaveRequest) -> Booking | None:
        """The booking an earlier try made although its answer never came back (a timeout after the work).

        Booking again would double it, or be refused as overlapping; so a retry first looks for a
        booking of exactly this span that no other request holds, and adopts it.
        """
        wanted, provider = request.span, self.deps.provider
        for absence in await provider.absences_of(request.requester, wanted.start_date, wanted.end_date):
            same = (absence.start_date, absence.start, absence.end_date, absence.end) == (
                wanted.start_date,
                wanted.start,
                wanted.end_date,
                wanted.end,
            )
            live = absence.status in (Status.PENDING, Status.APPROVED)
            if (
                same
                and live
                and not await self.deps.store.request_by_booking(
                    provider=provider.name, booking_id=absence.id
                )
            ):
                log.info("request %s: adopting booking %s made by an earlier try", request.id, absence.id)
                return Booking(id=absence.id, status=absence.status)
        return None

    async def done(self, job: OutboxJob, *, inline: bool) -> list[OutboxJob]:
        """The Slack steps after a job went through: cards, the requester, Homes; and whoever waited for it."""
        kind = JobKind(job.kind)
        told = job.attempts > 0 and job.actor  # they were told it was queued: now it went through
        # A first-try submit needs nothing of the request to name its step (unless it was approved at once and
        # a status may be due): no read.
        read = kind is not JobKind.SUBMIT or told or self.away
        request = await self.deps.request(job.request_id) if read else None
        if kind is JobKind.SUBMIT:
            steps = [step(JobKind.ASK_APPROVERS, job, note=job.reason)]
        else:
            assert request is not None
            replaced = (
                kind is JobKind.CANCEL and bool(job.reason) and request.status == RequestState.CANCELLED
            )
            steps = [
                step(JobKind.REFRESH_CARDS, job, line=views.replaced_line(job.reason) if replaced else "")
            ]
            if kind is not JobKind.CANCEL:
                steps.append(step(JobKind.TELL_REQUESTER, job))
            elif (
                request.status == RequestState.CANCELLED and not replaced
            ):  # a replaced one's new card tells them
                steps.append(step(JobKind.TELL_APPROVERS_CANCELLED, job))
            steps.append(step(JobKind.REFRESH_HOMES, job))
        if self.away and (
            kind is not JobKind.SUBMIT or (request and request.status == RequestState.APPROVED)
        ):
            steps.append(step(JobKind.AWAY_STATUS, job))
        if told:
            assert request is not None
            steps.append(step(JobKind.TELL_ACTOR, job, text=_outcome_text(job, request)))
        return steps

    async def revert(self, job: OutboxJob, result: JobResult) -> None:
        """Put a request back as it was before a job that was refused or given up."""
        await self.deps.store.move_request(
            request_id=job.request_id,
            from_status=[_in_flight(JobKind(job.kind))],
            to_status=job.revert_to,
            decided_by=job.revert_decided_by,
        )
        await self.deps.store.audit(
            request_id=job.request_id, actor=job.actor or "", action=f"{job.kind} {result}"
        )

    async def failed(self, job: OutboxJob, error: Exception) -> list[OutboxJob]:
        """A job retried in the background failed for good: approvers see the card again, the actor is told."""
        request = await self.deps.request(job.request_id)
        steps = []
        if job.kind != JobKind.SUBMIT:
            steps = [step(JobKind.REFRESH_CARDS, job), step(JobKind.REFRESH_HOMES, job)]
        if job.actor:
            steps.append(step(JobKind.TELL_ACTOR, job, text=_outcome_text(job, request, failed=error)))
        return steps


def _outcome_text(job: OutboxJob, request: LeaveRequest, *, failed: Exception | None = None) -> str:
    """What whoever asked for a queued job is told of how it ended."""
    what, when = JobKind(job.kind).what, request.span.describe()
    if failed is None:
        return f"✅ The HR system is answering again: your {what} for {when} went through."
    if passing(failed):
        return (
            f"⚠️ The HR system did not answer for too long, so your {what} for {when} was not sent. "
            "Nothing changed there: please try again later."
        )
    return f"⚠️ Your {what} for {when} could not be sent. {friendly(failed)}"


def pick_leave_type(types: list[LeaveType], name: str | None) -> LeaveType | None:
    """The leave type called ``name`` (any case), the first when none is named; UserError for a name not there."""
    if name is None:
        return types[0] if types else None
    match = next((t for t in types if t.name.lower() == name.lower()), None)
    if match is None:
        choices = ", ".join(t.name for t in types)
        raise UserError(f"“{name}” is not a type of leave here. Choose one of: {choices}.")
    return match


def holiday_request(row: LeaveRequest) -> HolidayRequest:
    """A stored request as the provider is asked to book it."""
    leave_type = (
        LeaveType(id=row.leave_type_id, name=row.leave_type_name or "") if row.leave_type_id else None
    )
    return HolidayRequest(
        requester=row.requester,
        start_date=row.start_date,
        end_date=row.end_date,
        start=part_from_text(row.start_part),
        end=part_from_text(row.end_part),
        leave_type=leave_type,
        reason=row.reason,
    )


def _in_flight(kind: JobKind) -> RequestState:
    """The state a request is in while a job of this kind is out."""
    return RequestState.SUBMITTING if kind is JobKind.SUBMIT else RequestState.DECIDING

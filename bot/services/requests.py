"""Submit a request, decide it, tell everyone: the one path every surface (Slack, CLI) goes through."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import NotAnApprover, UserError, friendly
from bot.services.context import CardContext, card_context
from bot.services.home import refresh_homes
from bot.services.outbox import (
    APPROVE,
    AUDIT,
    CANCEL,
    DECLINE,
    DONE,
    GAVE_UP,
    REFUSED,
    SUBMIT,
    WHAT,
    RetryPolicy,
    transient,
)
from bot.services.people import People
from bot.services.reminders import schedule_reminders, stand_ins, tell_approvers_cancelled
from bot.services.whos_off import DigestPlan
from bot.store import Store
from bot.store.tables import ApprovalCard, LeaveRequest, OutboxJob, now
from bot.views import requests as views
from providers.base import ApprovalMode, LeaveProvider
from providers.errors import ProviderError, ProviderRejected
from providers.models import (
    Booking,
    BookingEvent,
    Decision,
    Draft,
    HolidayRequest,
    LeaveType,
    Outcome,
    Person,
    Status,
    part_from_text,
    part_to_text,
)

log = logging.getLogger(__name__)

SUBMITTING, FAILED, DECIDING = "submitting", "failed", "deciding"
LEAVE_TYPES_TTL = 300.0  # seconds; leave types rarely change and the modal must open within 3 s
SETTLE_FOR = 10.0  # seconds a provider event waits for a submission or decision in flight to finish
RECENT_SUBMISSION = timedelta(minutes=2)  # an older 'submitting' row died with its instance
# Where a booking is in its life; with no provider time stored, an event may not move it backwards.
STAGE: dict[str, int] = {Status.PENDING: 0, Status.APPROVED: 1, Status.DECLINED: 1, Status.CANCELLED: 2}


@dataclass(frozen=True)
class Submitted:
    """A submitted request; ``duplicate`` when this key had been submitted before, ``queued`` when
    the provider could not be reached and the outbox will send it."""

    request: LeaveRequest
    approvers: list[str]
    duplicate: bool = False
    queued: bool = False


@dataclass(frozen=True)
class Decided:
    """A decision; ``acted`` is False when someone had decided already (the request shows who),
    ``queued`` when the provider could not be reached and the outbox will send it."""

    request: LeaveRequest
    acted: bool
    queued: bool = False


@dataclass(frozen=True)
class Changed:
    """A change of dates: the new request as submitted, and the old one as it stands after.

    ``withdrawn`` is the old one's cancel, None where it was not tried (the new one only queued, or
    a duplicate) or was refused: ``refused`` then says why, and the old one still stands.
    """

    new: Submitted
    old: LeaveRequest
    withdrawn: Decided | None = None
    refused: ProviderError | None = None


class LeaveService:
    """Requests and decisions, against one provider, one store and (optionally) Slack."""

    def __init__(
        self,
        *,
        provider: LeaveProvider,
        store: Store,
        slack: AsyncWebClient | None,
        zone: tzinfo = UTC,
        retry: RetryPolicy | None = None,
        plan: DigestPlan | None = None,
    ) -> None:
        self.provider = provider
        self.store = store
        self.slack = slack
        self.zone = zone  # the company's time zone: what "today" is in the App Home
        self.retry = retry or RetryPolicy()  # how long the outbox keeps trying a provider that is down
        # The company calendar and the team's limit, for the approval card's context.
        self.plan = plan or DigestPlan(routes={})
        self.people = People(store=store, provider=provider, slack=slack)
        self._leave_types: tuple[float, list[LeaveType]] = (0.0, [])

    async def leave_types(self) -> list[LeaveType]:
        """The provider's leave types, cached for a few minutes."""
        fetched_at, types = self._leave_types
        if time.monotonic() - fetched_at > LEAVE_TYPES_TTL:
            types = await self.provider.leave_types()
            self._leave_types = (time.monotonic(), types)
        return types

    async def warm_up(self) -> None:
        """Fill the caches read before an ack: leave types (so a typed request can name one) and time zones."""
        await self.people.remember_zones()
        try:
            await self.leave_types()
        except ProviderError as exc:
            log.warning("could not read leave types from %s at start: %s", self.provider.display_name, exc)

    @property
    def bot_kept(self) -> bool:
        """True where the bot holds requests until approved, and books them only then."""
        return self.provider.capabilities.approval is ApprovalMode.BOT

    def cached_leave_types(self) -> list[LeaveType]:
        """The leave types fetched last, without any I/O (for work done before the ack)."""
        return self._leave_types[1]

    async def submit(
        self,
        *,
        draft: Draft,
        key: str,
        slack_user_id: str | None = None,
        person: Person | None = None,
        note: str | None = None,
    ) -> Submitted:
        """Send a request to the provider once per ``key``, then ask its approvers (``note`` on their cards)."""
        if person is None:
            assert slack_user_id is not None
            person = await self.people.person_for(slack_user_id)
        leave_type = await self._leave_type(draft.leave_type)
        row, created = await self.store.create_request(
            request=self._row(draft, key, person, slack_user_id, leave_type)
        )
        retry = not created and await self.store.move_request(
            request_id=row.id, from_status=[FAILED], to_status=SUBMITTING
        )
        if not created and not retry:
            return Submitted(
                row, [card.approver_slack_id for card in await self.store.cards(request_id=row.id)], True
            )
        assert row.id is not None
        if self.bot_kept:  # nothing is booked until an approver approves; a refusal is heard now
            await self._validate(row)
            await self.store.move_request(
                request_id=row.id, from_status=[SUBMITTING], to_status=Status.PENDING
            )
            await self.store.audit(request_id=row.id, actor=slack_user_id or person.id, action="submitted")
            return Submitted(await self._reload(row.id), await self._ask_approvers(row.id, note=note))
        job = OutboxJob(request_id=row.id, kind=SUBMIT, actor=slack_user_id, revert_to=FAILED)
        if not await self._attempt(job):
            return Submitted(await self._reload(row.id), [], queued=True)
        return Submitted(await self._reload(row.id), await self._ask_approvers(row.id, note=note))

    async def _validate(self, row: LeaveRequest) -> None:
        """Ask the provider whether it could book the request; not reaching it is no reason to refuse."""
        try:
            await self.provider.validate(_holiday_request(row))
        except ProviderError as exc:
            if not transient(exc):
                await self.store.move_request(
                    request_id=row.id or 0, from_status=[SUBMITTING], to_status=FAILED
                )
                raise
            log.warning("could not validate request %s with %s: %s", row.id, self.provider.display_name, exc)

    async def _ask_approvers(self, request_id: int, *, note: str | None = None) -> list[str]:
        """Record the requester's approvers and DM each a card (``note`` on top) while the request is pending."""
        row = await self._reload(request_id)
        approvers = await self._approvers(row.requester)
        await self.store.add_approvers(request_id=request_id, slack_user_ids=approvers, note=note)
        row = await self._reload(request_id)
        if row.status == Status.PENDING:
            await schedule_reminders(self, row)
            await self._post_cards(row)
        await refresh_homes(self, row)
        return approvers

    async def _leave_type(self, name: str | None) -> LeaveType | None:
        types = await self.leave_types()
        if name is None:
            return types[0] if types else None
        match = next((t for t in types if t.name.lower() == name.lower()), None)
        if match is None:
            choices = ", ".join(t.name for t in types)
            raise UserError(f"“{name}” is not a type of leave here. Choose one of: {choices}.")
        return match

    def _row(
        self, draft: Draft, key: str, person: Person, slack_user_id: str | None, leave_type: LeaveType | None
    ) -> LeaveRequest:
        return LeaveRequest(
            idempotency_key=key,
            provider=self.provider.name,
            status=SUBMITTING,
            requester_slack_id=slack_user_id,
            requester_person_id=person.id,
            requester_name=person.name,
            requester_email=person.email,
            start_date=draft.start_date,
            end_date=draft.end_date,
            start_part=part_to_text(draft.start),
            end_part=part_to_text(draft.end),
            leave_type_id=leave_type.id if leave_type else None,
            leave_type_name=leave_type.name if leave_type else None,
            reason=draft.reason,
        )

    async def _approvers(self, person: Person) -> list[str]:
        """Slack ids of the person's approvers, never the person themself."""
        found = [await self.people.slack_id_for(p) for p in await self.provider.approvers(person)]
        unique = dict.fromkeys(i for i in found if i and i != person.slack_user_id)
        return list(unique)

    async def _reload(self, request_id: int | None) -> LeaveRequest:
        assert request_id is not None
        row = await self.store.request(request_id=request_id)
        if row is None:
            raise UserError("That leave request no longer exists.")
        return row

    async def _post_cards(self, request: LeaveRequest) -> None:
        """DM each approver their own copy of the card, remembering where it went."""
        if self.slack is None:
            return
        unposted = [card for card in await self.store.cards(request_id=request.id) if not card.ts]
        cards = await stand_ins(self, request, unposted)  # an approver away: their delegate instead
        about = await card_context(self, request) if cards else None  # once for every approver
        for card in cards:
            answer = await self.slack.chat_postMessage(
                channel=card.approver_slack_id,
                text=views.card_fallback(request),
                blocks=await self.card_blocks(request, card, about),
            )
            await self.store.set_card_message(card_id=card.id, channel=answer["channel"], ts=answer["ts"])

    async def card_blocks(
        self, request: LeaveRequest, card: ApprovalCard, about: CardContext | None, *, line: str = ""
    ) -> views.Blocks:
        """One approver's card, in their time zone, saying why they were asked (and ``line``: a reminder)."""
        note = " · ".join(n for n in (line, card.note) if n) or None
        times = await self._times_for(request, card.approver_slack_id)
        return views.approval_card(request, about, times, note=note)

    async def authorise(self, *, request_id: int, slack_user_id: str) -> LeaveRequest:
        """The request, if ``slack_user_id`` is one of its approvers; NotAnApprover otherwise."""
        request = await self._reload(request_id)
        approvers = {card.approver_slack_id for card in await self.store.cards(request_id=request_id)}
        if slack_user_id not in approvers:
            raise NotAnApprover("Only an approver of this request can approve or decline it.")
        return request

    async def decide(
        self, *, request_id: int, slack_user_id: str, decision: Decision, reason: str = ""
    ) -> Decided:
        """Approve or decline once, however many clicks arrive; then update every card and tell the requester."""
        request = await self.authorise(request_id=request_id, slack_user_id=slack_user_id)
        claimed = await self.store.move_request(
            request_id=request_id, from_status=[Status.PENDING], to_status=DECIDING, decided_by=slack_user_id
        )
        if not claimed:
            return Decided(request, acted=False)
        kind = APPROVE if decision is Decision.APPROVE else DECLINE
        job = OutboxJob(
            request_id=request_id, kind=kind, actor=slack_user_id, reason=reason, revert_to=Status.PENDING
        )
        done = await self._attempt(job)
        return Decided(await self._reload(request_id), acted=True, queued=not done)

    async def cancel(self, *, request_id: int, slack_user_id: str, replaced_by: str = "") -> Decided:
        """Withdraw one's own pending or approved leave, once; then update every card and Home.

        ``acted`` is False when the request was no longer pending or approved (the request says why).
        With ``replaced_by`` (the dates of the request replacing it) only pending leave is withdrawn,
        and its cards say what replaced it instead of each approver getting a DM.
        """
        request = await self._reload(request_id)
        if request.requester_slack_id != slack_user_id:
            raise UserError("You can only cancel your own leave.")
        was = request.status
        allowed = (Status.PENDING,) if replaced_by else (Status.PENDING, Status.APPROVED)
        # The same in-flight state as a decision: an approver's click (or a provider event) waits for it.
        claimed = was in allowed and await self.store.move_request(
            request_id=request_id, from_status=[was], to_status=DECIDING, decided_by=slack_user_id
        )
        if not claimed:
            return Decided(await self._reload(request_id), acted=False)
        job = OutboxJob(
            request_id=request_id,
            kind=CANCEL,
            actor=slack_user_id,
            reason=replaced_by,  # kept with the job: a cancel sent later by the outbox still says it
            revert_to=was,
            revert_decided_by=request.decided_by,
        )
        done = await self._attempt(job)
        return Decided(await self._reload(request_id), acted=True, queued=not done)

    async def draft_to_change(self, *, request_id: int, slack_user_id: str) -> Draft:
        """One's own pending request as a draft, to pre-fill the Change modal; UserError otherwise."""
        old = await self._changeable(request_id, slack_user_id)
        return Draft(
            start_date=old.start_date,
            end_date=old.end_date,
            start=part_from_text(old.start_part),
            end=part_from_text(old.end_part),
            leave_type=old.leave_type_name,
            reason=old.reason,
        )

    async def change(self, *, request_id: int, draft: Draft, key: str, slack_user_id: str) -> Changed:
        """Change the dates of one's own pending request: submit ``draft``, then withdraw the old one.

        The old request is withdrawn only once the provider accepted the new one, so a refusal or an
        outage never leaves the requester with neither: a refusal raises UserError with the old one
        untouched; a new request only queued by the outbox leaves the old one standing.
        """
        old = await self._changeable(request_id, slack_user_id)
        try:
            new = await self.submit(
                draft=draft, key=key, slack_user_id=slack_user_id, note=views.changes_note(old)
            )
        except ProviderRejected as exc:
            raise UserError(views.change_refused(friendly(exc), old, draft)) from exc
        accepted = new.request.status in (Status.PENDING, Status.APPROVED)
        if new.queued or new.duplicate or not accepted:  # a duplicate: its first submission withdrew it
            return Changed(new, await self._reload(request_id))
        await self.store.audit(
            request_id=new.request.id or 0,
            actor=slack_user_id,
            action="changes",
            detail=f"request {request_id}",
        )
        try:
            cancelled = await self.cancel(
                request_id=request_id, slack_user_id=slack_user_id, replaced_by=new.request.span.describe()
            )
        except ProviderError as exc:  # refused: it was put back as it was, and still stands
            return Changed(new, await self._reload(request_id), refused=exc)
        return Changed(new, cancelled.request, cancelled)

    async def _changeable(self, request_id: int, slack_user_id: str) -> LeaveRequest:
        """The request, if it is the user's own and still pending; a UserError saying why not otherwise."""
        request = await self._reload(request_id)
        if request.requester_slack_id != slack_user_id:
            raise UserError("You can only change your own leave.")
        if request.status != Status.PENDING:
            raise UserError(views.not_changeable(request))
        return request

    # The outbox: every provider call that changes a booking is stored first, then tried

    async def _attempt(self, job: OutboxJob) -> bool:
        """Store ``job`` and try it at once: True when done, False when it waits in the outbox for a retry.

        A refusal (not a passing failure) puts the request back as it was and is raised to the caller.
        """
        job = await self.store.enqueue(job=job, lease=self.retry.lease)
        return await self._try(job, inline=True)

    async def retry_due(self) -> int:
        """Try the outbox jobs that are due (the background loop calls this); how many were tried."""
        jobs = await self.store.claim_due(lease=self.retry.lease)
        for job in jobs:
            try:
                await self._try(job, inline=False)
            except Exception:  # one job's failure must not hold up the others; it was reported already
                log.exception("outbox job %s (%s of request %s) failed", job.id, job.kind, job.request_id)
        return len(jobs)

    async def _try(self, job: OutboxJob, *, inline: bool) -> bool:
        assert job.id is not None
        attempts = job.attempts + 1
        try:
            await self._perform(job)
        except ProviderError as exc:
            if transient(exc) and attempts < self.retry.tries:
                due = now() + self.retry.delay(attempts, exc)
                await self.store.retry_job(job_id=job.id, attempts=attempts, due_at=due, error=exc.message)
                log.warning("%s of request %s queued: %s", job.kind, job.request_id, exc.message)
                return False
            request = await self._revert(job)
            result = GAVE_UP if transient(exc) else REFUSED
            await self.store.finish_job(job_id=job.id, result=result, attempts=attempts, error=exc.message)
            await self.store.audit(
                request_id=job.request_id, actor=job.actor or "", action=f"{job.kind} {result}"
            )
            if inline:
                raise
            await self._tell_actor(job, request, failed=exc)
            return False
        await self.store.finish_job(job_id=job.id, result=DONE, attempts=attempts)
        if (
            not inline or job.kind != SUBMIT
        ):  # the people waiting were told it was queued: now it went through
            await self._announce_job(job)
        return True

    async def _perform(self, job: OutboxJob) -> None:
        """The provider call of one job, and the request's new state; nothing else (Slack comes after).

        Safe to repeat: a job whose request already left the in-flight state was done by a try that
        stopped before it could close the job.
        """
        request = await self._reload(job.request_id)
        if request.status not in (SUBMITTING, DECIDING):
            return
        values: dict[str, object] = {
            "provider_updated_at": None
        }  # the bot's own change: no event goes behind it
        if job.kind == SUBMIT or (self.bot_kept and job.kind == APPROVE):
            booking = await self._booked_already(request) if job.attempts else None
            booking = booking or await self.provider.submit(_holiday_request(request))
            outcome, values["booking_id"] = Outcome(status=booking.status), booking.id
        elif self.bot_kept and job.kind == DECLINE:  # nothing was booked: nothing to tell the provider
            outcome = Outcome(status=Status.DECLINED)
        elif job.kind == APPROVE:
            outcome = await self.provider.approve(request.booking_id or "")
        elif job.kind == DECLINE:
            outcome = await self.provider.decline(request.booking_id or "", job.reason)
        elif request.booking_id is None and self.bot_kept:  # a cancel of leave still only in our database
            outcome = Outcome(status=Status.CANCELLED)
        else:
            outcome = await self.provider.cancel(request.booking_id or "")
        if outcome.already_actioned:  # someone decided first at the provider: name them, not the clicker
            values["decided_by"] = await self._slack_id_of(outcome.decided_by)
        if outcome.status == Status.DECLINED:  # a cancel's reason is what replaced it, not a decline's
            values["decline_reason"] = (job.reason if job.kind == DECLINE else "") or None
        in_flight = SUBMITTING if job.kind == SUBMIT else DECIDING
        await self.store.move_request(
            request_id=job.request_id, from_status=[in_flight], to_status=outcome.status.value, **values
        )
        action = "already decided in the HR system" if outcome.already_actioned else AUDIT[job.kind]
        await self.store.audit(
            request_id=job.request_id,
            actor=job.actor or request.requester_person_id,
            action=action,
            detail=job.reason,
        )

    async def _booked_already(self, request: LeaveRequest) -> Booking | None:
        """The booking an earlier try made although its answer never came back (a timeout after the work).

        Booking again would double it, or be refused as overlapping; so a retry first looks for a
        booking of exactly this span that no other request holds, and adopts it.
        """
        wanted = request.span
        person = request.requester
        for absence in await self.provider.absences_of(person, wanted.start_date, wanted.end_date):
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
                and not await self.store.request_by_booking(
                    provider=self.provider.name, booking_id=absence.id
                )
            ):
                log.info("request %s: adopting booking %s made by an earlier try", request.id, absence.id)
                return Booking(id=absence.id, status=absence.status)
        return None

    async def _revert(self, job: OutboxJob) -> LeaveRequest:
        """Put a request back as it was before a job that failed for good."""
        in_flight = SUBMITTING if job.kind == SUBMIT else DECIDING
        await self.store.move_request(
            request_id=job.request_id,
            from_status=[in_flight],
            to_status=job.revert_to,
            decided_by=job.revert_decided_by,
        )
        return await self._reload(job.request_id)

    async def _announce_job(self, job: OutboxJob) -> None:
        """After a job was done: cards, the requester, Homes; and the one who waited for a queued job."""
        request = await self._reload(job.request_id)
        if job.kind == SUBMIT:
            await self._ask_approvers(job.request_id)
        else:
            replaced = job.kind == CANCEL and bool(job.reason) and request.status == Status.CANCELLED
            await self.refresh_cards(request, line=views.replaced_line(job.reason) if replaced else "")
            if job.kind != CANCEL:
                await self._tell_requester(request)
            elif request.status == Status.CANCELLED and not replaced:  # a replaced one's new card tells them
                await tell_approvers_cancelled(self, request)
            await refresh_homes(self, request)
        if job.attempts > 0:
            await self._tell_actor(job, request)

    async def _tell_actor(
        self, job: OutboxJob, request: LeaveRequest, *, failed: ProviderError | None = None
    ) -> None:
        """Tell whoever asked for a queued job how it ended (approvers see the card again if it failed)."""
        what, when = WHAT[job.kind], request.span.describe()
        if failed is None:
            text = f"✅ The HR system is answering again: your {what} for {when} went through."
        elif transient(failed):
            text = (
                f"⚠️ The HR system did not answer for too long, so your {what} for {when} was not sent. "
                "Nothing changed there: please try again later."
            )
        else:
            text = f"⚠️ Your {what} for {when} could not be sent. {friendly(failed)}"
        if failed is not None and job.kind != SUBMIT:
            await self.refresh_cards(request)
            await refresh_homes(self, request)
        if self.slack is not None and job.actor:
            await self.slack.chat_postMessage(channel=job.actor, text=text)

    async def refresh_cards(self, request: LeaveRequest, *, line: str = "") -> None:
        """Edit every approver's copy in place to show the request as it stands (``line`` on top)."""
        if self.slack is None:
            return
        cards = [card for card in await self.store.cards(request_id=request.id) if card.channel and card.ts]
        about = await card_context(self, request) if cards else None  # once for every approver
        for card in cards:
            assert card.channel is not None and card.ts is not None
            try:
                await self.slack.chat_update(
                    channel=card.channel,
                    ts=card.ts,
                    text=views.card_fallback(request),
                    blocks=await self.card_blocks(request, card, about, line=line),
                )
            except SlackApiError as exc:
                # One approver's deleted message must not stop the others' from being updated.
                log.warning("could not update approval card %s: %s", card.id, exc.response.get("error"))

    def today_known(self, slack_user_id: str | None) -> date:
        """Today where this person is, as far as remembered, else in the company's zone: no I/O, for an ack."""
        zone = self.people.remembered_zone(slack_user_id) if slack_user_id else None
        return datetime.now(zone or self.zone).date()

    async def today_for(self, slack_user_id: str | None) -> date:
        """Today where this person is (their Slack time zone), else in the company's; no Slack call."""
        zone = await self.people.zone_of(slack_user_id, ask_slack=False) if slack_user_id else None
        return datetime.now(zone or self.zone).date()

    async def _times_for(self, request: LeaveRequest, viewer: str) -> str | None:
        """An hourly request's times in the approver's own zone, when it is not the requester's."""
        if not request.span.is_hourly or not request.requester_slack_id:
            return None
        booked_in = await self.people.zone_of(request.requester_slack_id)
        return views.times_elsewhere(request.span, booked_in, await self.people.zone_of(viewer))

    async def _tell_requester(self, request: LeaveRequest) -> None:
        if self.slack is not None and request.requester_slack_id:
            await self.slack.chat_postMessage(
                channel=request.requester_slack_id, text=views.requester_outcome(request)
            )

    async def _slack_id_of(self, person: Person | None) -> str | None:
        return await self.people.slack_id_for(person) if person is not None else None

    async def apply_event(self, event: BookingEvent) -> LeaveRequest | None:
        """Apply a change made at the provider (a webhook): once per event, never over a newer state.

        A decision taken in the HR system updates every approval card and tells the requester; a
        booking made outside Slack becomes a request row, so it shows in the App Home.
        """
        key = f"{self.provider.name}:{event.event_id}"
        if not await self.store.first_provider_event(key=key):
            return None
        try:
            return await self._apply_event(event)
        except BaseException:
            await self.store.release_provider_event(key=key)  # not handled: a retry may handle it
            raise

    async def _apply_event(self, event: BookingEvent) -> LeaveRequest | None:
        for _ in range(5):  # another event about the same booking may move it between read and write
            request = await self._settled_request(event.booking.id)
            if request is None:
                request, created = await self._record_outside_booking(event)
                if created:
                    return request
                continue
            if not _newer(event, request):
                return request
            if await self._set_provider_state(request, event):
                return await self._announce(request, event)
        log.warning(
            "gave up applying %s event %s: the request kept moving", self.provider.name, event.event_id
        )
        return None

    async def _settled_request(self, booking_id: str) -> LeaveRequest | None:
        """The request of a booking, once no submission or decision is in flight for it."""
        deadline = time.monotonic() + SETTLE_FOR
        while True:
            request = await self.store.request_by_booking(provider=self.provider.name, booking_id=booking_id)
            if request is not None:
                in_flight = request.status in (SUBMITTING, DECIDING)
            else:  # our own submission may not have stored its booking id yet
                since = now() - RECENT_SUBMISSION
                in_flight = bool(
                    await self.store.count_requests(
                        provider=self.provider.name, status=SUBMITTING, since=since
                    )
                )
            if not in_flight or time.monotonic() > deadline:
                return request
            await asyncio.sleep(0.1)

    async def _set_provider_state(self, request: LeaveRequest, event: BookingEvent) -> bool:
        status = event.booking.status
        values = {}
        if status != request.status:
            decided = status != Status.PENDING
            values = {
                "decided_by": await self._slack_id_of(event.actor) if decided else None,
                "decline_reason": event.decline_reason if decided else None,
            }
        assert request.id is not None
        return await self.store.set_provider_state(
            request_id=request.id,
            seen_status=request.status,
            seen_updated_at=request.provider_updated_at,
            status=status.value,
            updated_at=event.updated_at,
            **values,
        )

    async def _announce(self, before: LeaveRequest, event: BookingEvent) -> LeaveRequest:
        """After an event moved a request: audit, edit every card, tell the requester (not of their own act)."""
        request = await self._reload(before.id)
        if request.status == before.status:
            return request
        actor = event.actor
        assert request.id is not None
        await self.store.audit(
            request_id=request.id,
            actor=request.decided_by or (actor.name if actor else self.provider.name),
            action=f"{request.status} in {self.provider.display_name}",
            detail=request.decline_reason or "",
        )
        await self.refresh_cards(request)
        if request.status != Status.PENDING and not (actor and actor.id == request.requester_person_id):
            await self._tell_requester(request)
        await refresh_homes(self, request)
        return request

    async def _record_outside_booking(self, event: BookingEvent) -> tuple[LeaveRequest, bool]:
        """A booking made in the HR system itself, as a request row (its approvers may see it in the App Home)."""
        booking, status = event.booking, event.booking.status
        person = booking.person
        slack_id = await self.people.slack_id_for(person)
        decided = status != Status.PENDING
        row, created = await self.store.create_request(
            request=LeaveRequest(
                idempotency_key=f"{self.provider.name}:booking:{booking.id}",
                provider=self.provider.name,
                booking_id=booking.id,
                status=status.value,
                requester_slack_id=slack_id,
                requester_person_id=person.id,
                requester_name=person.name,
                requester_email=person.email,
                start_date=booking.start_date,
                end_date=booking.end_date,
                start_part=part_to_text(booking.start),
                end_part=part_to_text(booking.end),
                leave_type_name=booking.leave_type,
                reason=event.reason,
                decided_by=await self._slack_id_of(event.actor) if decided else None,
                decline_reason=event.decline_reason if decided else None,
                provider_updated_at=event.updated_at,
            )
        )
        if created:
            assert row.id is not None
            actor = event.actor.name if event.actor else self.provider.name
            await self.store.audit(
                request_id=row.id, actor=actor, action=f"{status} in {self.provider.display_name}"
            )
            if status == Status.PENDING:
                requester = person.model_copy(update={"slack_user_id": slack_id})
                await self.store.add_approvers(
                    request_id=row.id, slack_user_ids=await self._approvers(requester)
                )
            await refresh_homes(self, row)
        return row, created

    async def upcoming_of(
        self, slack_user_id: str, *, today: date
    ) -> tuple[list[LeaveRequest], list[LeaveRequest]]:
        """A user's own upcoming requests, and the requests waiting for their decision."""
        mine = await self.store.requests_of(slack_user_id=slack_user_id, since=today)
        return mine, await self.store.pending_for_approver(slack_user_id=slack_user_id)


def _holiday_request(row: LeaveRequest) -> HolidayRequest:
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


def _newer(event: BookingEvent, request: LeaveRequest) -> bool:
    """True when the event may change the request: it is newer than what we hold."""
    held = request.provider_updated_at
    if held is not None:
        # SQLite hands back naive datetimes even for timezone-aware columns; they were stored in UTC.
        return event.updated_at > (held if held.tzinfo else held.replace(tzinfo=UTC))
    return STAGE[event.booking.status] >= STAGE.get(request.status, 0)

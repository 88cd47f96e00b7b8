"""A leave request's life as people ask for it: submit, decide, cancel, change — once per click, however
many arrive, on any instance. The provider calls go through the outbox; cards and DMs through ``Cards``."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot import logs
from bot.domain import LIVE, JobKind, JobResult, NoApprover, RequestState
from bot.errors import NotAnApprover, UserError, friendly, passing
from bot.parsing import reads_day_first
from bot.services.cards import Cards
from bot.services.deps import Deps
from bot.services.outbox import Outbox
from bot.services.request_jobs import pick_leave_type
from bot.store.tables import LeaveRequest, OutboxJob
from bot.views import requests as views
from providers.errors import ProviderError, ProviderRejected
from providers.models import Decision, Draft, LeaveType, Person, part_from_text, part_to_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submitted:
    """A submitted request; ``duplicate`` when this key had been submitted before, ``queued`` when
    the provider could not be reached and the outbox will send it.

    ``approvers`` are those whose card was posted; ``asked`` is False while the step that asks them
    waits in the outbox (Slack, or the HR system asked who approves, did not answer). ``no_approver``
    says why the requester had no approver of their own (the card went up a level, or to nobody).
    """

    request: LeaveRequest
    approvers: list[str]
    duplicate: bool = False
    queued: bool = False
    asked: bool = True
    held: bool = False  # leavebot holds the approval: nothing is booked in the HR system before it
    hr: str = ""  # the HR system's name
    no_approver: NoApprover | None = None
    type_note: str = ""  # which leave type it went in as, and why, when the requester chose none
    month_first: bool = False  # the requester writes dates month first (en-US)


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


class Requests:
    """Submit, decide, cancel and change leave requests against one provider."""

    def __init__(self, deps: Deps, *, cards: Cards, outbox: Outbox) -> None:
        self.deps = deps
        self.cards = cards
        self.outbox = outbox

    async def leave_types(self) -> list[LeaveType]:
        """The provider's leave types, cached for a few minutes."""
        return await self.deps.leave_types()

    def cached_leave_types(self) -> list[LeaveType]:
        """The leave types fetched last, without any I/O (for work done before the ack)."""
        return self.deps.cached_leave_types()

    def types_known(self) -> bool:
        """True once the provider's leave types were listed (however long ago): no I/O."""
        return self.deps.types_known()

    async def submit(
        self,
        *,
        draft: Draft,
        key: str,
        slack_user_id: str | None = None,
        person: Person | None = None,
        note: str | None = None,
        replaces: int | None = None,
        typeless: bool = False,
    ) -> Submitted:
        """Send a request to the provider once per ``key``, then ask its approvers (``note`` on their cards).

        ``replaces`` is the pending request whose dates this one changes: the provider is told it is no overlap.
        ``typeless``: the requester could not choose a leave type (the HR system's were not known when they
        asked), so the confirmation names the one it goes in as.
        """
        if person is None:
            assert slack_user_id is not None
            person = await self._requester(slack_user_id)
        leave_type, type_note = await self._leave_type(draft.leave_type, typeless=typeless)
        store, lease = self.deps.store, self.outbox.policy.lease
        # The request and the job that sends it are stored together: nothing in flight is ever orphaned.
        job = OutboxJob(
            kind=JobKind.SUBMIT, actor=slack_user_id, reason=note or "", revert_to=RequestState.FAILED
        )
        row = self._row(draft, key, person, slack_user_id, leave_type)
        row.replaces_request_id = replaces
        row, created = await store.create_request(request=row, job=job, lease=lease)
        logs.remember(request=row.id)
        retry = not created and await store.move_request(
            request_id=row.id or 0,
            from_status=[RequestState.FAILED],
            to_status=RequestState.SUBMITTING,
            job=job,
            lease=lease,
        )
        if not created and not retry:
            await self.outbox.resume(row.id)  # a press again resumes what a dead instance left
            return await self._submitted(row.id or 0, duplicate=True)
        month_first = self._month_first(slack_user_id)
        if not await self.outbox.run(job):
            return Submitted(
                await self.deps.request(row.id), [], queued=True, type_note=type_note, month_first=month_first
            )
        return await self._submitted(row.id or 0, type_note=type_note, month_first=month_first)

    def _month_first(self, slack_user_id: str | None) -> bool:
        """True for a requester whose Slack locale (remembered once their person was found) writes month first."""
        locale = self.deps.people.remembered_locale(slack_user_id) if slack_user_id else None
        return not reads_day_first(locale)

    async def _submitted(
        self, request_id: int, *, duplicate: bool = False, type_note: str = "", month_first: bool = False
    ) -> Submitted:
        """The request as it stands after its approvers were asked (or not yet: the step waits)."""
        asks = await self.deps.store.jobs(request_id=request_id, kinds=[JobKind.ASK_APPROVERS])
        approvers, lacking = await self.cards.asked(request_id)
        return Submitted(
            await self.deps.request(request_id),
            approvers,
            duplicate=duplicate,
            asked=any(job.result == JobResult.DONE for job in asks),
            held=self.deps.holds_approval,
            hr=self.deps.provider.display_name,
            no_approver=lacking,
            type_note=type_note,
            month_first=month_first,
        )

    async def _requester(self, slack_user_id: str) -> Person:
        """The requester in the HR system; while it cannot say (down, this instance cold), a person still
        to be found, whom the job that sends the request looks up first (``RequestJobs``)."""
        try:
            return await self.deps.people.person_for(slack_user_id)
        except Exception as exc:  # the HR system (or Slack, asked for the e-mail) down or slow
            if not passing(exc):
                raise
            return Person(id="", name="", slack_user_id=slack_user_id)

    async def _leave_type(self, name: str | None, *, typeless: bool) -> tuple[LeaveType | None, str]:
        """The leave type asked for; while the HR system cannot list them, its name alone (the job that
        sends the request finds it), or none named: the HR system's default. With it, what the requester
        is told of it when they named none (never a type put in silently)."""
        hr = self.deps.provider.display_name
        try:
            types = await self.leave_types()
        except ProviderError as exc:
            if not passing(exc):
                raise
            known = LeaveType(id="", name=name) if name else None
            return known, "" if name else views.types_unknown_line(hr, submitted=True)
        chosen = pick_leave_type(types, name)
        told = chosen is not None and not name and typeless
        return chosen, views.default_type_line(chosen.name, hr) if told and chosen else ""

    def _row(
        self, draft: Draft, key: str, person: Person, slack_user_id: str | None, leave_type: LeaveType | None
    ) -> LeaveRequest:
        return LeaveRequest(
            idempotency_key=key,
            provider=self.deps.provider.name,
            status=RequestState.SUBMITTING,
            requester_slack_id=slack_user_id,
            requester_person_id=person.id,
            requester_name=person.name,
            requester_email=person.email,
            start_date=draft.start_date,
            end_date=draft.end_date,
            start_part=part_to_text(draft.start),
            end_part=part_to_text(draft.end),
            leave_type_id=(leave_type.id or None) if leave_type else None,
            leave_type_name=leave_type.name if leave_type else None,
            reason=draft.reason,
        )

    async def authorise(self, *, request_id: int, slack_user_id: str) -> LeaveRequest:
        """The request, if ``slack_user_id`` is one of its approvers; NotAnApprover otherwise."""
        request = await self.deps.request(request_id)
        approvers = {card.approver_slack_id for card in await self.deps.store.cards(request_id=request_id)}
        if slack_user_id not in approvers:
            raise NotAnApprover("Only an approver of this request can approve or decline it.")
        return request

    async def decide(
        self, *, request_id: int, slack_user_id: str, decision: Decision, reason: str = ""
    ) -> Decided:
        """Approve or decline once, however many clicks arrive; then update every card and tell the requester."""
        logs.remember(request=request_id)
        request = await self.authorise(request_id=request_id, slack_user_id=slack_user_id)
        kind = JobKind.APPROVE if decision is Decision.APPROVE else JobKind.DECLINE
        job = OutboxJob(kind=kind, actor=slack_user_id, reason=reason, revert_to=RequestState.PENDING)
        claimed = await self.deps.store.move_request(
            request_id=request_id,
            from_status=[RequestState.PENDING],
            to_status=RequestState.DECIDING,
            decided_by=slack_user_id,
            job=job,
            lease=self.outbox.policy.lease,
        )
        if not claimed:
            return Decided(await self._resumed(request), acted=False)
        done = await self.outbox.run(job)
        return Decided(await self.deps.request(request_id), acted=True, queued=not done)

    async def _resumed(self, request: LeaveRequest) -> LeaveRequest:
        """A request someone else claimed, after resuming its work if the instance doing it died."""
        if RequestState(request.status).in_flight:
            await self.outbox.resume(request.id)
            return await self.deps.request(request.id)
        return request

    async def cancel(
        self,
        *,
        request_id: int,
        slack_user_id: str,
        replaced_by: str = "",
        email: str | None = None,
        approvers_may: bool = False,
    ) -> Decided:
        """Withdraw one's own pending or approved leave, once; then update every card and Home.

        ``acted`` is False when the request was no longer pending or approved (the request says why).
        With ``replaced_by`` (the dates of the request replacing it) only pending leave is withdrawn,
        and its cards say what replaced it instead of each approver getting a DM. ``email`` also
        names the requester (a request made from the shell has no Slack id); with ``approvers_may``
        (the admin CLI) an approver of the request may cancel it too.
        """
        logs.remember(request=request_id)
        request = await self.deps.request(request_id)
        await self._may_cancel(request, slack_user_id, email=email, approvers_may=approvers_may)
        was = request.status
        allowed = (RequestState.PENDING,) if replaced_by else LIVE
        # The same in-flight state as a decision: an approver's click (or a provider event) waits for it.
        job = OutboxJob(
            kind=JobKind.CANCEL,
            actor=slack_user_id,
            reason=replaced_by,  # kept with the job: a cancel sent later by the outbox still says it
            revert_to=was,
            revert_decided_by=request.decided_by,
        )
        claimed = was in allowed and await self.deps.store.move_request(
            request_id=request_id,
            from_status=[was],
            to_status=RequestState.DECIDING,
            decided_by=slack_user_id,
            job=job,
            lease=self.outbox.policy.lease,
        )
        if not claimed:
            return Decided(await self._resumed(await self.deps.request(request_id)), acted=False)
        done = await self.outbox.run(job)
        return Decided(await self.deps.request(request_id), acted=True, queued=not done)

    async def _may_cancel(
        self, request: LeaveRequest, slack_user_id: str, *, email: str | None, approvers_may: bool
    ) -> None:
        """UserError unless the user is the requester or, when ``approvers_may``, one of its approvers."""
        by_email = bool(email) and (request.requester_email or "").lower() == (email or "").lower()
        if request.requester_slack_id == slack_user_id or by_email:
            return
        if not approvers_may:
            raise UserError("You can only cancel your own leave.")
        approvers = {
            card.approver_slack_id for card in await self.deps.store.cards(request_id=request.id or 0)
        }
        if slack_user_id not in approvers:
            raise NotAnApprover("Only the requester or an approver of this request can cancel it.")

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

    async def change(
        self, *, request_id: int, draft: Draft, key: str, slack_user_id: str, typeless: bool = False
    ) -> Changed:
        """Change the dates of one's own pending request: submit ``draft``, then withdraw the old one.

        The old request is withdrawn only once the provider accepted the new one, so a refusal or an
        outage never leaves the requester with neither: a refusal raises UserError with the old one
        untouched; a new request only queued by the outbox leaves the old one standing.
        """
        old = await self._changeable(request_id, slack_user_id)
        try:
            new = await self.submit(
                draft=draft,
                key=key,
                slack_user_id=slack_user_id,
                note=views.changes_note(old),
                replaces=request_id,
                typeless=typeless,
            )
        except ProviderRejected as exc:
            raise UserError(views.change_refused(friendly(exc), old, draft)) from exc
        accepted = new.request.status in LIVE
        if new.queued or new.duplicate or not accepted:  # a duplicate: its first submission withdrew it
            return Changed(new, await self.deps.request(request_id))
        await self.deps.store.audit(
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
            return Changed(new, await self.deps.request(request_id), refused=exc)
        return Changed(new, cancelled.request, cancelled)

    async def _changeable(self, request_id: int, slack_user_id: str) -> LeaveRequest:
        """The request, if it is the user's own and still pending; a UserError saying why not otherwise."""
        request = await self.deps.request(request_id)
        if request.requester_slack_id != slack_user_id:
            raise UserError("You can only change your own leave.")
        if request.status != RequestState.PENDING:
            raise UserError(views.not_changeable(request))
        return request

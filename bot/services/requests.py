"""Submit a request, decide it, tell everyone: the one path every surface (Slack, CLI) goes through."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import NotAnApprover, UserError
from bot.services.people import People
from bot.store import Store
from bot.store.tables import LeaveRequest
from bot.views import requests as views
from providers.base import LeaveProvider
from providers.errors import ProviderError
from providers.models import Decision, Draft, HolidayRequest, LeaveType, Person, Status, part_to_text

log = logging.getLogger(__name__)

SUBMITTING, FAILED, DECIDING = "submitting", "failed", "deciding"
LEAVE_TYPES_TTL = 300.0  # seconds; leave types rarely change and the modal must open within 3 s


@dataclass(frozen=True)
class Submitted:
    """A submitted request; ``duplicate`` when this key had been submitted before."""

    request: LeaveRequest
    approvers: list[str]
    duplicate: bool = False


@dataclass(frozen=True)
class Decided:
    """A decision; ``acted`` is False when someone had decided already (the request shows who)."""

    request: LeaveRequest
    acted: bool


class LeaveService:
    """Requests and decisions, against one provider, one store and (optionally) Slack."""

    def __init__(self, *, provider: LeaveProvider, store: Store, slack: AsyncWebClient | None) -> None:
        self.provider = provider
        self.store = store
        self.slack = slack
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
        """Fill the leave-type cache at start, so the first typed request can name a type."""
        try:
            await self.leave_types()
        except ProviderError as exc:
            log.warning("could not read leave types from %s at start: %s", self.provider.display_name, exc)

    def cached_leave_types(self) -> list[LeaveType]:
        """The leave types fetched last, without any I/O (for work done before the ack)."""
        return self._leave_types[1]

    async def submit(
        self, *, draft: Draft, key: str, slack_user_id: str | None = None, person: Person | None = None
    ) -> Submitted:
        """Send a request to the provider once per ``key``, then ask its approvers."""
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
        request = HolidayRequest(
            requester=person,
            start_date=draft.start_date,
            end_date=draft.end_date,
            start=draft.start,
            end=draft.end,
            leave_type=leave_type,
            reason=draft.reason,
        )
        try:
            booking = await self.provider.submit(request)
        except ProviderError:
            await self.store.move_request(request_id=row.id, from_status=[SUBMITTING], to_status=FAILED)
            raise
        await self.store.move_request(
            request_id=row.id, from_status=[SUBMITTING], to_status=booking.status.value, booking_id=booking.id
        )
        await self.store.audit(request_id=row.id, actor=slack_user_id or person.id, action="submitted")
        approvers = await self._approvers(person)
        await self.store.add_approvers(request_id=row.id, slack_user_ids=approvers)
        row = await self._reload(row.id)
        if row.status == Status.PENDING:
            await self._post_cards(row)
        return Submitted(row, approvers)

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
        for card in await self.store.cards(request_id=request.id):
            if card.ts:
                continue
            answer = await self.slack.chat_postMessage(
                channel=card.approver_slack_id,
                text=views.card_fallback(request),
                blocks=views.approval_card(request),
            )
            await self.store.set_card_message(card_id=card.id, channel=answer["channel"], ts=answer["ts"])

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
        try:
            if decision is Decision.APPROVE:
                outcome = await self.provider.approve(request.booking_id or "")
            else:
                outcome = await self.provider.decline(request.booking_id or "", reason)
        except ProviderError:
            await self.store.move_request(
                request_id=request_id, from_status=[DECIDING], to_status=Status.PENDING, decided_by=None
            )
            raise
        await self.store.move_request(
            request_id=request_id,
            from_status=[DECIDING],
            to_status=outcome.status.value,
            decline_reason=(reason or None) if outcome.status == Status.DECLINED else None,
        )
        action = "already decided in the HR system" if outcome.already_actioned else decision.value
        await self.store.audit(request_id=request_id, actor=slack_user_id, action=action, detail=reason)
        request = await self._reload(request_id)
        await self.refresh_cards(request)
        await self._tell_requester(request)
        return Decided(request, acted=True)

    async def refresh_cards(self, request: LeaveRequest) -> None:
        """Edit every approver's copy in place to show the request as it stands."""
        if self.slack is None:
            return
        for card in await self.store.cards(request_id=request.id):
            if not (card.channel and card.ts):
                continue
            try:
                await self.slack.chat_update(
                    channel=card.channel,
                    ts=card.ts,
                    text=views.card_fallback(request),
                    blocks=views.approval_card(request),
                )
            except SlackApiError as exc:
                # One approver's deleted message must not stop the others' from being updated.
                log.warning("could not update approval card %s: %s", card.id, exc.response.get("error"))

    async def _tell_requester(self, request: LeaveRequest) -> None:
        if self.slack is not None and request.requester_slack_id:
            await self.slack.chat_postMessage(
                channel=request.requester_slack_id, text=views.requester_outcome(request)
            )

    async def upcoming_of(
        self, slack_user_id: str, *, today: date
    ) -> tuple[list[LeaveRequest], list[LeaveRequest]]:
        """A user's own upcoming requests, and the requests waiting for their decision."""
        mine = await self.store.requests_of(slack_user_id=slack_user_id, since=today)
        return mine, await self.store.pending_for_approver(slack_user_id=slack_user_id)

"""Changes made in the HR system (webhooks, and what a sync pass observes) applied to the requests the bot
holds: each event once, never over a newer state, and everyone who sees the request told."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta

from bot.domain import STAGE, RequestState
from bot.services.cards import Cards
from bot.services.deps import Deps
from bot.services.home import Homes
from bot.store.tables import LeaveRequest, now
from providers.models import Absence, BookingEvent, LeaveSpan, Status, part_to_text

log = logging.getLogger(__name__)

SETTLE_FOR = 10.0  # seconds a provider event waits for a submission or decision in flight to finish
RECENT_SUBMISSION = timedelta(minutes=2)  # an older 'submitting' row died with its instance


class ProviderEvents:
    """Applies what happened to bookings inside the HR system."""

    def __init__(
        self,
        deps: Deps,
        *,
        cards: Cards,
        homes: Homes,
        moved: Callable[[str | None], Awaitable[None]] | None = None,
    ) -> None:
        self.deps = deps
        self.cards = cards
        self.homes = homes
        self.moved = moved  # the requester's Slack status follows a change at once (``AwayStatus.refresh``)

    async def apply_event(self, event: BookingEvent, *, observed: bool = False) -> LeaveRequest | None:
        """Apply a change made at the provider: once per event, never over a newer state.

        A decision taken in the HR system updates every approval card and tells the requester; a
        booking made outside Slack becomes a request row, so it shows in the App Home. An ``observed``
        change (a sync pass saw it; the HR system gave no time) may move a request forward, never back.
        """
        key = f"{self.deps.provider.name}:{event.event_id}"
        if not await self.deps.store.first_provider_event(key=key):
            return None
        try:
            if not observed:
                await self.deps.store.mirror_one(provider=self.deps.provider.name, absence=event.booking)
            return await self._apply_event(event, observed)
        except BaseException:
            await self.deps.store.release_provider_event(key=key)  # not handled: a retry may handle it
            raise

    async def _apply_event(self, event: BookingEvent, observed: bool) -> LeaveRequest | None:
        for _ in range(5):  # another event about the same booking may move it between read and write
            request = await self._settled_request(event.booking.id)
            if request is None:
                request, created = await self._record_outside_booking(event, observed)
                if created:
                    return request
                continue
            if not _moves(event, request, observed):
                return request
            if await self._set_provider_state(request, event, observed):
                return await self._announce(request, event)
        log.warning(
            "gave up applying %s event %s: the request kept moving", self.deps.provider.name, event.event_id
        )
        return None

    async def _settled_request(self, booking_id: str) -> LeaveRequest | None:
        """The request of a booking, once no submission or decision is in flight for it."""
        deadline = time.monotonic() + SETTLE_FOR
        while True:
            request = await self.deps.store.request_by_booking(
                provider=self.deps.provider.name, booking_id=booking_id
            )
            if request is not None:
                in_flight = RequestState(request.status).in_flight
            else:  # our own submission may not have stored its booking id yet
                since = now() - RECENT_SUBMISSION
                in_flight = bool(
                    await self.deps.store.count_requests(
                        provider=self.deps.provider.name, status=RequestState.SUBMITTING, since=since
                    )
                )
            if not in_flight or time.monotonic() > deadline:
                return request
            await asyncio.sleep(0.1)

    async def _set_provider_state(self, request: LeaveRequest, event: BookingEvent, observed: bool) -> bool:
        booking, status = event.booking, event.booking.status
        values: dict[str, object] = {}
        if _span_of(booking) != request.span:  # dates changed in the HR system
            values |= {
                "start_date": booking.start_date,
                "end_date": booking.end_date,
                "start_part": part_to_text(booking.start),
                "end_part": part_to_text(booking.end),
            }
        if status != request.status:
            decided = status != Status.PENDING
            values |= {
                "decided_by": await self.deps.people.slack_id_for(event.actor) if decided else None,
                "decline_reason": event.decline_reason if decided else None,
            }
        assert request.id is not None
        return await self.deps.store.set_provider_state(
            request_id=request.id,
            seen_status=request.status,
            seen_updated_at=request.provider_updated_at,
            status=RequestState.of(status),
            # An observation carries no provider time: keep the one held, so no later event is refused.
            updated_at=request.provider_updated_at if observed else event.updated_at,
            **values,
        )

    async def _announce(self, before: LeaveRequest, event: BookingEvent) -> LeaveRequest:
        """After an event moved a request: audit, edit every card, tell the requester (not of their own act)."""
        request = await self.deps.request(before.id)
        if request.status == before.status and request.span == before.span:
            return request
        actor = event.actor
        assert request.id is not None
        await self.deps.store.audit(
            request_id=request.id,
            actor=request.decided_by or (actor.name if actor else self.deps.provider.name),
            action=f"{request.status} in {self.deps.provider.display_name}"
            if request.status != before.status
            else f"dates changed in {self.deps.provider.display_name}",
            detail=request.decline_reason or "",
        )
        await self.cards.refresh(request)
        moved = request.status != before.status and request.status != RequestState.PENDING
        if moved and not (actor and actor.id == request.requester_person_id):
            await self.cards.tell_requester(request)
        await self.homes.refresh(request)
        if self.moved:
            await self.moved(request.requester_slack_id)
        return request

    async def _record_outside_booking(self, event: BookingEvent, observed: bool) -> tuple[LeaveRequest, bool]:
        """A booking made in the HR system itself, as a request row (its approvers may see it in the App Home)."""
        booking, status = event.booking, event.booking.status
        person = booking.person
        slack_id = await self.deps.people.slack_id_for(person)
        decided = status != Status.PENDING
        row, created = await self.deps.store.create_request(
            request=LeaveRequest(
                idempotency_key=f"{self.deps.provider.name}:booking:{booking.id}",
                provider=self.deps.provider.name,
                booking_id=booking.id,
                status=RequestState.of(status),
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
                decided_by=await self.deps.people.slack_id_for(event.actor) if decided else None,
                decline_reason=event.decline_reason if decided else None,
                provider_updated_at=None if observed else event.updated_at,
            )
        )
        if created:
            assert row.id is not None
            actor = event.actor.name if event.actor else self.deps.provider.name
            await self.deps.store.audit(
                request_id=row.id, actor=actor, action=f"{status} in {self.deps.provider.display_name}"
            )
            if status == Status.PENDING:
                requester = person.model_copy(update={"slack_user_id": slack_id})
                await self.deps.store.add_approvers(
                    request_id=row.id, slack_user_ids=await self.cards.approvers_of(requester)
                )
            await self.homes.refresh(row)
        return row, created


def _moves(event: BookingEvent, request: LeaveRequest, observed: bool) -> bool:
    """True when the event may change the request: it is newer than what we hold (an observation: not behind it)."""
    held = request.provider_updated_at
    if observed:
        if _span_of(event.booking) != request.span:
            return True
    elif held is not None:
        # SQLite hands back naive datetimes even for timezone-aware columns; they were stored in UTC.
        return event.updated_at > (held if held.tzinfo else held.replace(tzinfo=UTC))
    return STAGE[RequestState.of(event.booking.status)] >= STAGE.get(RequestState(request.status), 0)


def _span_of(absence: Absence) -> LeaveSpan:
    return LeaveSpan(
        start_date=absence.start_date, end_date=absence.end_date, start=absence.start, end=absence.end
    )

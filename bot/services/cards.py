"""Approval cards: who is asked, each approver's own copy posted, edited in place, or posted again.

The one implementation behind every card a request gets: when it is made, when anything happens to it
(a decision, a cancellation, a change in the HR system), when a reminder or escalation goes out.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.domain import CardContext, NoApprover, RequestState
from bot.errors import passing
from bot.parsing import reads_day_first
from bot.services.calendar import next_day
from bot.services.context import card_context
from bot.services.delegates import Delegates
from bot.services.deps import Deps
from bot.services.home import Homes
from bot.store.tables import ApprovalCard, LeaveRequest, now
from bot.views import reminders as reminder_views
from bot.views import requests as views
from bot.views.blocks import Blocks
from providers.models import Person

log = logging.getLogger(__name__)

NO_APPROVER = "no approver"  # the audit action of a request whose requester has no approver in Slack


class Cards:
    """Every approver's card of a request, and the DMs that go with them."""

    def __init__(
        self, deps: Deps, *, delegates: Delegates, homes: Homes, escalate_to: str | None = None
    ) -> None:
        self.deps = deps
        self.delegates = delegates
        self.homes = homes
        self.escalate_to = escalate_to  # ESCALATION_APPROVER: asked for whoever has no approver

    async def approvers_of(self, person: Person) -> list[str]:
        """Slack ids of the person's approvers, never the person themself."""
        found = await self.deps.people.slack_ids_for(await self.deps.provider.approvers(person))
        return list(dict.fromkeys(i for i in found if i and i != person.slack_user_id))

    def no_approver(self) -> NoApprover:
        """Where the approvers of the provider in use come from, and who can add one, in words."""
        provider = self.deps.provider
        held, hr, field = self.deps.holds_approval, provider.display_name, provider.approvers_field
        also = "set ESCALATION_APPROVER (asked for anyone without an approver)"
        if setting := provider.approvers_setting:
            return NoApprover(
                f"in {setting}", f"whoever runs leavebot can add you to {setting}, or {also}", held
            )
        where = f"in {hr}" + (f" ({field})" if field else "")
        fixer = (
            f"your {hr} admin can set {field or 'your approver there'}, or whoever runs leavebot can {also}"
        )
        return NoApprover(where, fixer, held)

    async def ask_approvers(self, request_id: int, *, note: str | None = None) -> list[str]:
        """Record the requester's approvers and DM each a card (``note`` on top) while the request is pending.

        Someone with no approver in Slack goes to the next one up (the provider's escalation, else
        ESCALATION_APPROVER), with a card saying why. With nobody at all, a request leavebot holds is
        withdrawn (nothing waits for nobody; the requester is told who can fix it); one the HR system
        holds stays there for its admins. The request's reminders start the next day.
        """
        store = self.deps.store
        row = await self.deps.request(request_id)
        approvers = await self.approvers_of(row.requester)
        if not approvers and self.deps.slack is not None:
            approvers = await self.delegates.next_approvers(row, exclude=[], fallback=self.escalate_to)
            name = f"<@{row.requester_slack_id}>" if row.requester_slack_id else row.requester_name
            note = views.stand_in_note(name, self.no_approver()) if approvers else note
            await store.audit(
                request_id=request_id, actor="leavebot", action=NO_APPROVER, detail=", ".join(approvers)
            )
        await store.add_approvers(request_id=request_id, slack_user_ids=approvers, note=note)
        row = await self.deps.request(request_id)
        if not approvers and self.deps.slack is not None and self.deps.holds_approval:
            await self._withdraw(row)
            row = await self.deps.request(request_id)
        elif row.status == RequestState.PENDING:
            await store.schedule_reminder(request_id=request_id, due_at=next_day(now(), self.deps.zone))
            await self.post(row)
        await self.homes.refresh(row)
        return approvers

    async def _withdraw(self, request: LeaveRequest) -> None:
        """Withdraw a pending request nobody can decide (only leavebot could)."""
        moved = await self.deps.store.move_request(
            request_id=request.id or 0, from_status=[RequestState.PENDING], to_status=RequestState.CANCELLED
        )
        if moved and request.booking_id and not self.deps.bot_kept:
            # The local provider's booking is a row in leavebot's own database, not an HR system's that
            # could be down: no outbox job is needed to take it back.
            await self.deps.provider.cancel(request.booking_id)

    async def asked(self, request_id: int) -> tuple[list[str], NoApprover | None]:
        """Who has the request's card, and, where the requester had no approver of their own, why."""
        store = self.deps.store
        posted = [card.approver_slack_id for card in await store.cards(request_id=request_id) if card.ts]
        lacking = any(entry.action == NO_APPROVER for entry in await store.audit_log(request_id=request_id))
        return posted, self.no_approver() if lacking else None

    async def tell_asked(self, request_id: int) -> None:
        """DM the requester who has their request now: asking the approvers went through only on a retry,
        after they were told it had not yet."""
        request = await self.deps.request(request_id)
        if self.deps.slack is None or not request.requester_slack_id:
            return
        approvers, lacking = await self.asked(request_id)
        text = views.asked_text(
            request,
            approvers,
            no=lacking,
            held=self.deps.holds_approval,
            hr=self.deps.provider.display_name,
        )
        await self.deps.slack.chat_postMessage(channel=request.requester_slack_id, text=text)

    async def post(self, request: LeaveRequest) -> None:
        """DM each approver not yet sent one their own copy of the card, remembering where it went."""
        slack = self.deps.slack
        if slack is None:
            return
        unposted = [card for card in await self.deps.store.cards(request_id=request.id) if not card.ts]
        cards = await self.delegates.stand_ins(request, unposted)  # an approver away: their delegate instead
        about = await card_context(self.deps, request) if cards else None  # once for every approver
        for card in cards:
            answer = await slack.chat_postMessage(
                channel=card.approver_slack_id,
                text=views.card_fallback(request),
                blocks=await self.blocks(request, card, about),
            )
            await self.deps.store.set_card_message(
                card_id=card.id, channel=answer["channel"], ts=answer["ts"]
            )

    async def refresh(self, request: LeaveRequest, *, line: str = "") -> None:
        """Edit every approver's copy in place to show the request as it stands (``line`` on top)."""
        slack = self.deps.slack
        if slack is None:
            return
        cards = [c for c in await self.deps.store.cards(request_id=request.id) if c.channel and c.ts]
        about = await card_context(self.deps, request) if cards else None  # once for every approver
        passing_failure: SlackApiError | None = None
        for card in cards:
            assert card.channel is not None and card.ts is not None
            try:
                await slack.chat_update(
                    channel=card.channel,
                    ts=card.ts,
                    text=views.card_fallback(request),
                    blocks=await self.blocks(request, card, about, line=line),
                )
            except SlackApiError as exc:
                # One approver's card must not stop the others' from being updated. A deleted one stays
                # as it is; Slack down is raised once all were tried, so the outbox edits them again.
                log.warning("could not update approval card %s: %s", card.id, exc.response.get("error"))
                if passing(exc):
                    passing_failure = passing_failure or exc
        if passing_failure is not None:
            raise passing_failure

    async def repost(self, request: LeaveRequest, *, line: str) -> None:
        """Post each approver's card again, ``line`` on top, and remove the old copy: one live card each."""
        slack, store = self.deps.slack, self.deps.store
        if slack is None:
            return
        posted = [card for card in await store.cards(request_id=request.id) if card.channel and card.ts]
        about = await card_context(self.deps, request) if posted else None
        for card in posted:
            answer = await slack.chat_postMessage(
                channel=card.approver_slack_id,
                text=f"⏰ {views.card_fallback(request)}",
                blocks=await self.blocks(request, card, about, line=line),
            )
            assert card.id is not None and card.channel is not None
            await store.set_card_message(card_id=card.id, channel=answer["channel"], ts=answer["ts"])
            try:
                await slack.chat_delete(channel=card.channel, ts=card.ts)
            except SlackApiError as exc:  # the approver deleted it already: the new copy is what counts
                log.info("could not remove the old card %s: %s", card.id, exc.response.get("error"))
        latest = await store.request(request_id=request.id)
        if latest is not None and latest.status != RequestState.PENDING:  # decided while we posted: show it
            await self.refresh(latest)

    async def blocks(
        self, request: LeaveRequest, card: ApprovalCard, about: CardContext | None, *, line: str = ""
    ) -> Blocks:
        """One approver's card, in their time zone, saying why they were asked (and ``line``: a reminder)."""
        note = " · ".join(n for n in (line, card.note) if n) or None
        return views.approval_card(
            request, about, await self._times_for(request, card.approver_slack_id), note=note
        )

    async def _times_for(self, request: LeaveRequest, viewer: str) -> str | None:
        """An hourly request's times in the approver's own zone, when it is not the requester's."""
        if not request.span.is_hourly or not request.requester_slack_id:
            return None
        people = self.deps.people
        booked_in = await people.zone_of(request.requester_slack_id)
        return views.times_elsewhere(request.span, booked_in, await people.zone_of(viewer))

    async def tell_requester(self, request: LeaveRequest) -> None:
        """DM the requester how their request ended (found by e-mail for a request made from the shell)."""
        if self.deps.slack is None:
            return
        slack_id = request.requester_slack_id or await self.deps.people.slack_id_for(request.requester)
        if slack_id:
            month_first = not reads_day_first(await self.deps.people.locale_of(slack_id))
            text = views.requester_outcome(request, month_first=month_first)
            await self.deps.slack.chat_postMessage(channel=slack_id, text=text)

    async def tell_approvers_cancelled(self, request: LeaveRequest) -> None:
        """DM every approver who got a card that the requester withdrew the leave (the card shows it too)."""
        if self.deps.slack is None:
            return
        for card in await self.deps.store.cards(request_id=request.id):
            if card.ts:
                await self.deps.slack.chat_postMessage(
                    channel=card.approver_slack_id, text=reminder_views.cancelled_for_approver(request)
                )

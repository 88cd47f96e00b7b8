"""Reminders of pending requests, escalation when nobody answers, and delegates for approvers who are away.

A request's reminders are one row in the store, created when its cards go out. From the next day
on, at REMINDER_TIME on each working day, one instance claims the day's reminder by moving the
row's ``due_at`` to the next day (a conditional update: sent once, however many instances run, and
at most one a day); the claimer then reposts each approver's card with a reminder on top. After
REMINDER_LIMIT reminders, the next claim escalates instead: the next approver (the provider's
``escalation_approvers``, else ESCALATION_APPROVER) is added and gets a card, and the requester is
told where their request stands. A request decided or cancelled is never picked again.

An instance that dies between its claim and its post loses that day's reminder: never a double one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time

from bot.config import Settings
from bot.domain import RequestState
from bot.services.calendar import next_day
from bot.services.cards import Cards
from bot.services.delegates import Delegates
from bot.services.deps import Deps
from bot.services.home import Homes
from bot.store.tables import LeaveRequest, Reminder
from bot.views import reminders as views
from providers.errors import ProviderError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReminderPlan:
    """When reminders go out, how many before escalating, and to whom when the provider names nobody."""

    at: time = time(10, 0)
    limit: int = 3
    escalate_to: str | None = None  # an e-mail address or a Slack user id

    @classmethod
    def from_settings(cls, settings: Settings) -> ReminderPlan:
        """REMINDER_TIME, REMINDER_LIMIT, ESCALATION_APPROVER."""
        return cls(
            at=settings.reminder_time,
            limit=settings.reminder_limit,
            escalate_to=settings.escalation_approver,
        )


class Reminders:
    """The daily reminders of pending requests, and escalation once they are used up."""

    def __init__(self, deps: Deps, *, cards: Cards, delegates: Delegates, homes: Homes) -> None:
        self.deps = deps
        self.cards = cards
        self.delegates = delegates
        self.homes = homes

    async def send(self, plan: ReminderPlan, moment: datetime) -> int:
        """Send the reminders (or escalations) due at ``moment``, each claimed once; how many this call sent."""
        deps, store = self.deps, self.deps.store
        local = moment.astimezone(deps.zone)
        if local.time() < plan.at or local.weekday() not in deps.plan.days:
            return 0
        claimed = [
            reminder
            for reminder in await store.due_reminders(moment=moment)
            if await store.claim_reminder(
                request_id=reminder.request_id, moment=moment, next_due=next_day(moment, deps.zone)
            )
        ]
        if not claimed or not await self._working_day(local.date()):
            return 0
        for reminder in claimed:
            try:
                await self._remind_or_escalate(plan, reminder)
            except Exception:  # one request's failure must not hold up the others' reminders
                log.exception("could not remind the approvers of request %s", reminder.request_id)
        return len(claimed)

    async def _working_day(self, day: date) -> bool:
        """False on a public holiday; a provider that cannot say is no reason to drop the day's reminders."""
        try:
            calendar = await self.deps.calendar(day)
        except ProviderError as exc:
            log.warning("could not read public holidays for the reminders of %s: %s", day, exc)
            return True
        if not calendar.is_workday(day):
            log.info("no reminders on %s: a public holiday", day)
        return calendar.is_workday(day)

    async def _remind_or_escalate(self, plan: ReminderPlan, reminder: Reminder) -> None:
        store = self.deps.store
        request = await store.request(request_id=reminder.request_id)
        if request is None or request.status != RequestState.PENDING:  # decided since it was read
            await store.reminder_sent(request_id=reminder.request_id, sent=reminder.sent, done=True)
            return
        if reminder.sent < plan.limit:
            sent = reminder.sent + 1
            # Counted before posting: a crash in between loses this reminder, it never sends it twice.
            await store.reminder_sent(request_id=reminder.request_id, sent=sent)
            await self.cards.repost(request, line=views.reminder_line(sent, plan.limit))
        else:
            await store.reminder_sent(request_id=reminder.request_id, sent=reminder.sent, done=True)
            await self.escalate(plan, request, reminder.sent)

    async def escalate(self, plan: ReminderPlan, request: LeaveRequest, reminders: int) -> None:
        """Add the next approver (with a card saying why) and tell the requester where the request stands."""
        store, slack = self.deps.store, self.deps.slack
        assert request.id is not None
        cards = await store.cards(request_id=request.id)
        waiting = [card.approver_slack_id for card in cards if card.ts]
        asked = await self.delegates.next_approvers(
            request, exclude=[card.approver_slack_id for card in cards], fallback=plan.escalate_to
        )
        if asked:
            await store.add_approvers(
                request_id=request.id, slack_user_ids=asked, note=views.escalated_note(reminders)
            )
            await self.cards.post(request)
            await self.homes.refresh(request)
            await store.audit(
                request_id=request.id, actor="leavebot", action="escalated", detail=", ".join(asked)
            )
        if slack is not None and request.requester_slack_id:
            await slack.chat_postMessage(
                channel=request.requester_slack_id,
                text=views.escalated_text(request, waiting, reminders, asked),
            )

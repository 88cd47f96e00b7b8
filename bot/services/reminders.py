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
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.errors import UserError
from bot.services.context import card_context, shared_absences
from bot.services.home import refresh_homes
from bot.services.whos_off import work_calendar
from bot.store.tables import ApprovalCard, LeaveRequest, Reminder, now
from bot.views import reminders as views
from bot.views.requests import card_fallback
from providers.errors import ProviderError
from providers.models import Person, Status

if TYPE_CHECKING:
    from bot.services.requests import LeaveService

log = logging.getLogger(__name__)

SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


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


def next_day(moment: datetime, zone: tzinfo) -> datetime:
    """The start of the day after ``moment`` in ``zone``, in UTC: when the next reminder may be claimed."""
    local = moment.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(local, time(0), zone).astimezone(UTC)


async def schedule_reminders(service: LeaveService, request: LeaveRequest) -> None:
    """Remind the approvers of a request whose cards just went out, from the next day on."""
    assert request.id is not None
    await service.store.schedule_reminder(request_id=request.id, due_at=next_day(now(), service.zone))


async def send_reminders(service: LeaveService, plan: ReminderPlan, moment: datetime) -> int:
    """Send the reminders (or escalations) due at ``moment``, each claimed once; how many this call sent."""
    local = moment.astimezone(service.zone)
    if local.time() < plan.at or local.weekday() not in service.plan.days:
        return 0
    claimed = [
        reminder
        for reminder in await service.store.due_reminders(moment=moment)
        if await service.store.claim_reminder(
            request_id=reminder.request_id, moment=moment, next_due=next_day(moment, service.zone)
        )
    ]
    if not claimed or not await _working_day(service, local.date()):
        return 0
    for reminder in claimed:
        try:
            await _remind_or_escalate(service, plan, reminder)
        except Exception:  # one request's failure must not hold up the others' reminders
            log.exception("could not remind the approvers of request %s", reminder.request_id)
    return len(claimed)


async def _working_day(service: LeaveService, day: date) -> bool:
    """False on a public holiday; a provider that cannot say is no reason to drop the day's reminders."""
    try:
        calendar = await work_calendar(service, service.plan, day)
    except ProviderError as exc:
        log.warning("could not read public holidays for the reminders of %s: %s", day, exc)
        return True
    if not calendar.is_workday(day):
        log.info("no reminders on %s: a public holiday", day)
    return calendar.is_workday(day)


async def _remind_or_escalate(service: LeaveService, plan: ReminderPlan, reminder: Reminder) -> None:
    request = await service.store.request(request_id=reminder.request_id)
    if request is None or request.status != Status.PENDING:  # decided since it was read
        await service.store.reminder_sent(request_id=reminder.request_id, sent=reminder.sent, done=True)
        return
    if reminder.sent < plan.limit:
        sent = reminder.sent + 1
        # Counted before posting: a crash in between loses this reminder, it never sends it twice.
        await service.store.reminder_sent(request_id=reminder.request_id, sent=sent)
        await remind(service, request, views.reminder_line(sent, plan.limit))
    else:
        await service.store.reminder_sent(request_id=reminder.request_id, sent=reminder.sent, done=True)
        await escalate(service, plan, request, reminder.sent)


async def remind(service: LeaveService, request: LeaveRequest, line: str) -> None:
    """Post each approver's card again, ``line`` on top, and remove the old copy: one live card each."""
    if service.slack is None:
        return
    posted = [card for card in await service.store.cards(request_id=request.id) if card.channel and card.ts]
    about = await card_context(service, request) if posted else None
    for card in posted:
        answer = await service.slack.chat_postMessage(
            channel=card.approver_slack_id,
            text=f"⏰ {card_fallback(request)}",
            blocks=await service.card_blocks(request, card, about, line=line),
        )
        assert card.id is not None and card.channel is not None
        await service.store.set_card_message(card_id=card.id, channel=answer["channel"], ts=answer["ts"])
        try:
            await service.slack.chat_delete(channel=card.channel, ts=card.ts)
        except SlackApiError as exc:  # the approver deleted it already: the new copy is what counts
            log.info("could not remove the old card %s: %s", card.id, exc.response.get("error"))
    latest = await service.store.request(request_id=request.id)
    if latest is not None and latest.status != Status.PENDING:  # decided while we posted: show it
        await service.refresh_cards(latest)


async def escalate(service: LeaveService, plan: ReminderPlan, request: LeaveRequest, reminders: int) -> None:
    """Add the next approver (with a card saying why) and tell the requester where the request stands."""
    assert request.id is not None
    cards = await service.store.cards(request_id=request.id)
    waiting = [card.approver_slack_id for card in cards if card.ts]
    asked = await next_approvers(
        service, request, exclude=[card.approver_slack_id for card in cards], fallback=plan.escalate_to
    )
    if asked:
        await service.store.add_approvers(
            request_id=request.id, slack_user_ids=asked, note=views.escalated_note(reminders)
        )
        await service._post_cards(request)
        await refresh_homes(service, request)
        await service.store.audit(
            request_id=request.id, actor="leavebot", action="escalated", detail=", ".join(asked)
        )
    if service.slack is not None and request.requester_slack_id:
        await service.slack.chat_postMessage(
            channel=request.requester_slack_id,
            text=views.escalated_text(request, waiting, reminders, asked),
        )


async def next_approvers(
    service: LeaveService, request: LeaveRequest, *, exclude: Sequence[str], fallback: str | None = None
) -> list[str]:
    """Slack ids of who to ask next about the requester's leave: the provider's choice, else ``fallback``."""
    requester = request.requester
    try:
        people = await service.provider.escalation_approvers(requester)
    except ProviderError as exc:
        log.warning("could not read who approves after the approvers of request %s: %s", request.id, exc)
        people = []
    if not people and fallback:
        people = [_person(fallback)]
    found = [await service.people.slack_id_for(person) for person in people]
    skip = {*exclude, request.requester_slack_id}
    return list(dict.fromkeys(i for i in found if i and i not in skip))


async def tell_approvers_cancelled(service: LeaveService, request: LeaveRequest) -> None:
    """DM every approver who got a card that the requester withdrew the leave (the card shows it too)."""
    if service.slack is None:
        return
    for card in await service.store.cards(request_id=request.id):
        if card.ts:
            await service.slack.chat_postMessage(
                channel=card.approver_slack_id, text=views.cancelled_for_approver(request)
            )


# -- delegates ------------------------------------------------------------------------------------


async def stand_ins(
    service: LeaveService, request: LeaveRequest, cards: Sequence[ApprovalCard]
) -> list[ApprovalCard]:
    """The cards to post: an approver off today or with a delegate is replaced by their delegate.

    The delegate is the one the approver chose (`/leave delegate`), else the provider's next
    approver; they become an approver of the request, and their card says why. An approver with
    nobody to stand in gets their card as usual.
    """
    if not cards:
        return []
    assert request.id is not None
    today = datetime.now(service.zone).date()
    approvers = [card.approver_slack_id for card in await service.store.cards(request_id=request.id)]
    away = set()
    for card in cards:
        approver = card.approver_slack_id
        delegation = await service.store.delegation(approver_slack_id=approver, on=today)
        off_until = None if delegation else await _off_until(service, approver, today)
        if delegation is None and off_until is None:
            continue
        if delegation is not None:
            delegates = [delegation.delegate_slack_id]
        else:
            delegates = await next_approvers(service, request, exclude=approvers)
        delegate = next((d for d in delegates if d not in (approver, request.requester_slack_id)), None)
        if delegate is None:
            continue
        until = delegation.until if delegation else None
        note = views.delegate_note(approver, off_until=off_until, until=until)
        await service.store.add_approvers(request_id=request.id, slack_user_ids=[delegate], note=note)
        await service.store.audit(
            request_id=request.id,
            actor="leavebot",
            action="sent to a delegate",
            detail=f"{approver} → {delegate}",
        )
        away.add(approver)
    unposted = [card for card in await service.store.cards(request_id=request.id) if not card.ts]
    return [card for card in unposted if card.approver_slack_id not in away]


async def _off_until(service: LeaveService, slack_user_id: str, today: date) -> date | None:
    """The last day of the approver's approved leave covering today, if they are off."""
    try:
        person = await service.people.person_for(slack_user_id)
        # One listing of the day serves every card being posted at the time (see shared_absences).
        absences = [a for a in await shared_absences(service, today, today) if a.person.id == person.id]
    except (UserError, ProviderError) as exc:  # not knowing is not being off: the card goes to them
        log.info("could not tell whether %s is off today: %s", slack_user_id, exc)
        return None
    ends = [a.end_date for a in absences if a.status == Status.APPROVED and a.covers(today)]
    return max(ends, default=None)


async def set_delegate(
    service: LeaveService, *, approver: str, delegate: str | None, until: date | None, today: date
) -> str:
    """Start (or, with no ``delegate``, stop) sending an approver's cards to a delegate; what to tell them."""
    if delegate is None:
        await service.store.clear_delegation(approver_slack_id=approver)
        return views.delegation_text(None, None)
    if delegate == approver:
        raise UserError("You can't be your own delegate: name someone else, or type `/leave delegate off`.")
    if until is not None and until < today:
        raise UserError(f"{views.day(until)} has passed: name a day from today on.")
    await service.store.set_delegation(approver_slack_id=approver, delegate_slack_id=delegate, until=until)
    return views.delegation_text(delegate, until)


async def current_delegate(service: LeaveService, *, approver: str, today: date) -> str:
    """Who an approver's cards go to now, in words."""
    delegation = await service.store.delegation(approver_slack_id=approver, on=today)
    if delegation is None:
        return views.delegation_text(None, None)
    return views.delegation_text(delegation.delegate_slack_id, delegation.until)


def _person(key: str) -> Person:
    """ESCALATION_APPROVER as a person: a Slack user id, or an e-mail address."""
    key = key.strip()
    if SLACK_USER_ID.match(key):
        return Person(id=key, name=key, slack_user_id=key)
    return Person(id=key, name=key.split("@")[0], email=key.lower())

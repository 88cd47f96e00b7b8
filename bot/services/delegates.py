"""Who stands in for an approver: the delegate they chose (`/leave delegate`), or, while they are off,
the provider's next approver; and who is asked next when nobody answers."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import date, datetime

from bot.errors import UserError
from bot.services.deps import Deps
from bot.store.tables import ApprovalCard, LeaveRequest
from bot.views import reminders as views
from providers.errors import ProviderError
from providers.models import Absence, Person, Status

log = logging.getLogger(__name__)

SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class Delegates:
    """Approvers' stand-ins and the next approvers of a request."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def stand_ins(self, request: LeaveRequest, cards: Sequence[ApprovalCard]) -> list[ApprovalCard]:
        """The cards to post: an approver off today or with a delegate is replaced by their delegate.

        The delegate is the one the approver chose (`/leave delegate`), else the provider's next
        approver; they become an approver of the request, and their card says why. An approver with
        nobody to stand in gets their card as usual.
        """
        if not cards:
            return []
        store = self.deps.store
        assert request.id is not None
        today = datetime.now(self.deps.zone).date()
        # One read each for every card: the delegations, and (only if someone has none) today's absences.
        delegations = await store.delegations(
            approver_slack_ids=[c.approver_slack_id for c in cards], on=today
        )
        lacking = [c.approver_slack_id for c in cards if c.approver_slack_id not in delegations]
        off_today = await self._off_today(today) if lacking else []
        off = {a: await self._off_until(a, today, off_today) for a in lacking}
        # Who was asked before any stand-in: read only when an approver is off and needs the next one.
        needed = any(off.values())
        approvers = [c.approver_slack_id for c in await store.cards(request_id=request.id)] if needed else []
        away = set()
        for card in cards:
            approver = card.approver_slack_id
            delegation, off_until = delegations.get(approver), off.get(approver)
            if delegation is None and off_until is None:
                continue
            if delegation is not None:
                delegates = [delegation.delegate_slack_id]
            else:
                delegates = await self.next_approvers(request, exclude=approvers)
            delegate = next((d for d in delegates if d not in (approver, request.requester_slack_id)), None)
            if delegate is None:
                continue
            until = delegation.until if delegation else None
            note = views.delegate_note(approver, off_until=off_until, until=until)
            await store.add_approvers(request_id=request.id, slack_user_ids=[delegate], note=note)
            await store.audit(
                request_id=request.id,
                actor="leavebot",
                action="sent to a delegate",
                detail=f"{approver} → {delegate}",
            )
            away.add(approver)
        if not away:  # nobody stood in: the cards asked about are the ones to post, as they were read
            return list(cards)
        unposted = [card for card in await store.cards(request_id=request.id) if not card.ts]
        return [card for card in unposted if card.approver_slack_id not in away]

    async def next_approvers(
        self, request: LeaveRequest, *, exclude: Sequence[str], fallback: str | None = None
    ) -> list[str]:
        """Slack ids of who to ask next about the requester's leave: the provider's choice, else ``fallback``."""
        try:
            people = await self.deps.provider.escalation_approvers(request.requester)
        except ProviderError as exc:
            log.warning("could not read who approves after the approvers of request %s: %s", request.id, exc)
            people = []
        if not people and fallback:
            people = [_person(fallback)]
        found = [await self.deps.people.slack_id_for(person) for person in people]
        skip = {*exclude, request.requester_slack_id}
        return list(dict.fromkeys(i for i in found if i and i not in skip))

    async def _off_today(self, today: date) -> list[Absence]:
        """Everyone's absences today: one listing serves every card being posted (see Deps.absences)."""
        try:
            return await self.deps.absences(today, today)
        except (
            UserError,
            ProviderError,
        ) as exc:  # not knowing is not being off: the cards go to their approvers
            log.info("could not tell who is off today: %s", exc)
            return []

    async def _off_until(self, slack_user_id: str, today: date, off_today: list[Absence]) -> date | None:
        """The last day of the approver's approved leave covering today, if they are off."""
        if not off_today:
            return None  # nobody is off: no need to know who the approver is in the HR system
        try:
            person = await self.deps.people.person_for(slack_user_id)
        except (UserError, ProviderError) as exc:  # not knowing is not being off: the card goes to them
            log.info("could not tell whether %s is off today: %s", slack_user_id, exc)
            return None
        absences = [a for a in off_today if a.person.id == person.id]
        ends = [a.end_date for a in absences if a.status == Status.APPROVED and a.covers(today)]
        return max(ends, default=None)

    async def set_delegate(
        self, *, approver: str, delegate: str | None, until: date | None, today: date
    ) -> str:
        """Start (or, with no ``delegate``, stop) sending an approver's cards to a delegate; what to tell them."""
        store = self.deps.store
        if delegate is None:
            await store.clear_delegation(approver_slack_id=approver)
            return views.delegation_text(None, None)
        if delegate == approver:
            raise UserError(
                "You can't be your own delegate: name someone else, or type `/leave delegate off`."
            )
        if until is not None and until < today:
            raise UserError(f"{views.day(until)} has passed: name a day from today on.")
        await store.set_delegation(approver_slack_id=approver, delegate_slack_id=delegate, until=until)
        return views.delegation_text(delegate, until)

    async def current_delegate(self, *, approver: str, today: date) -> str:
        """Who an approver's cards go to now, in words."""
        delegation = await self.deps.store.delegation(approver_slack_id=approver, on=today)
        if delegation is None:
            return views.delegation_text(None, None)
        return views.delegation_text(delegation.delegate_slack_id, delegation.until)


def _person(key: str) -> Person:
    """ESCALATION_APPROVER as a person: a Slack user id, or an e-mail address."""
    key = key.strip()
    if SLACK_USER_ID.match(key):
        return Person(id=key, name=key, slack_user_id=key)
    return Person(id=key, name=key.split("@")[0], email=key.lower())

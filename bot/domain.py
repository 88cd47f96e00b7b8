"""The bot's own vocabulary, shared by services, views and the store: request states, job kinds, card context.

Nothing here does I/O or knows Slack; every other layer may import it, and it imports only
``providers.models``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from providers.models import Balance, Status

# Display limits: what a card or a listing names before it says "…and N others".
COLLEAGUES = 10  # colleagues named on a card
CROWDED_DAYS = 5  # days named in the team limit's warning


class RequestState(enum.StrEnum):
    """Where a leave request is: the provider's states, and the bot's own while work is in flight."""

    SUBMITTING = "submitting"  # being sent to the provider (or queued for it)
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    FAILED = "failed"  # the provider refused it, or never answered: nothing is booked
    DECIDING = "deciding"  # a decision or cancellation is being sent

    @classmethod
    def of(cls, status: Status) -> RequestState:
        """The state of a request whose booking the provider reports as ``status``."""
        return cls(status.value)

    @property
    def in_flight(self) -> bool:
        """True while the bot is sending something to the provider for this request."""
        return self in (RequestState.SUBMITTING, RequestState.DECIDING)


LIVE = (RequestState.PENDING, RequestState.APPROVED)  # leave that stands: it may be cancelled
# Where a booking is in its life; with no provider time stored, an event may not move it backwards.
STAGE = {
    RequestState.PENDING: 0,
    RequestState.APPROVED: 1,
    RequestState.DECLINED: 1,
    RequestState.CANCELLED: 2,
}


class JobKind(enum.StrEnum):
    """Work stored in the outbox before it is tried: a provider call the bot owes, or a Slack step after one."""

    SUBMIT = "submit"
    APPROVE = "approve"
    DECLINE = "decline"
    CANCEL = "cancel"
    # The Slack steps that follow a provider call, each done, retried or given up on its own.
    ASK_APPROVERS = "ask approvers"  # record the approvers and post their cards
    REFRESH_CARDS = "refresh cards"
    TELL_REQUESTER = "tell requester"
    TELL_APPROVERS_CANCELLED = "tell approvers cancelled"
    REFRESH_HOMES = "refresh homes"
    TELL_ACTOR = "tell actor"  # how a queued job ended, to whoever asked for it
    AWAY_STATUS = "away status"  # the requester's Slack status and DND in step with the request, at once

    @property
    def what(self) -> str:
        """What a provider call is called when its requester or approver is told about it."""
        return {"submit": "request", "approve": "approval", "decline": "decline", "cancel": "cancellation"}[
            self
        ]

    @property
    def audit(self) -> str:
        """What the audit log says when the provider call went through."""
        return "submitted" if self is JobKind.SUBMIT else self.value


PROVIDER_CALLS = frozenset({JobKind.SUBMIT, JobKind.APPROVE, JobKind.DECLINE, JobKind.CANCEL})


class JobResult(enum.StrEnum):
    """How an outbox job ended."""

    DONE = "done"
    REFUSED = "refused"
    GAVE_UP = "gave up"


# -- the approval card's context ------------------------------------------------------------------


@dataclass(frozen=True)
class NoApprover:
    """Why nobody in Slack approves someone, and who can change that, in words for them."""

    where: str  # 'in LOCAL_APPROVERS', 'in WhosOff (the user's Approver)'
    fixer: str  # 'whoever runs leavebot can add you to LOCAL_APPROVERS, or set ESCALATION_APPROVER …'
    held: bool  # leavebot holds the approval: nothing is booked in the HR system until one


@dataclass(frozen=True)
class Cost:
    """What the request takes: working days (halves count 0.5), or hours for an hourly booking."""

    amount: float
    unit: str  # "days" or "hours"
    holidays: Sequence[str] = ()  # public holidays inside the request, not counted


@dataclass(frozen=True)
class Colleague:
    """Someone of the requester's team off (or asking to be) during the request."""

    name: str  # a Slack mention, or their escaped name
    days: str  # their absence in words
    pending: bool


@dataclass(frozen=True)
class Crowded:
    """A day on which approving puts more of the team off than the limit allows."""

    day: date
    off: int  # the requester included


@dataclass(frozen=True)
class Team:
    """The requester's team during the request: who else is off, and its limit."""

    name: str | None  # the department; None: everyone (the provider knows no departments)
    colleagues: Sequence[Colleague]
    limit: int | None = None
    crowded: Sequence[Crowded] = ()
    unnamed: int = 0  # colleagues off beyond those named


@dataclass(frozen=True)
class CardContext:
    """Everything the card adds to the request itself; a part left as None is not shown."""

    cost: Cost | None = None
    balance: Balance | None = None
    team: Team | None = None

    @property
    def balance_after(self) -> float | None:
        """The balance once this request is taken, where the balance and the cost share a unit."""
        if self.balance is None or self.cost is None or self.balance.unit != self.cost.unit:
            return None
        return self.balance.remaining - self.cost.amount

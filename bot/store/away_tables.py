"""The tables of "while you're away": people's Slack user tokens, OAuth states, and each leave's status period."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.store.tables import now, timestamp


class UserToken(SQLModel, table=True):
    """A Slack user token someone granted so their status and DND follow their leave; encrypted (Fernet)."""

    __tablename__ = "slack_user_token"

    slack_user_id: str = Field(primary_key=True)
    team_id: str | None = None
    token: str  # the Fernet token of the xoxp- token, never the token itself
    scopes: str = ""
    connected_at: datetime = timestamp(default_factory=now)


class OAuthState(SQLModel, table=True):
    """One OAuth ``state`` handed out: consumed (deleted) by the first callback that brings it back."""

    __tablename__ = "oauth_state"

    nonce: str = Field(primary_key=True)
    slack_user_id: str
    expires_at: datetime = timestamp(index=True)


class AwayPeriod(SQLModel, table=True):
    """One stretch of someone's approved leave, as their Slack status shows it: planned, away, then over.

    The start and the end are each claimed once across instances (a conditional update of ``lease_until``,
    then of ``phase``), so a status is set once and restored once however many instances run.
    ``key`` names the booking(s) and the times: a date change is a new period; the old one ends, or, when
    the new one is under way too (leave grown, shrunk or joined to more), hands over to it (``hand_over``).
    """

    __tablename__ = "away_period"

    key: str = Field(primary_key=True)
    slack_user_id: str = Field(index=True)
    booking_id: str
    start_at: datetime = timestamp(index=True)
    end_at: datetime = timestamp(index=True)
    zone: str = "UTC"
    status_text: str = ""
    phase: str = Field(default="planned", index=True)  # planned, away, over
    lease_until: datetime | None = timestamp(default=None)
    snoozed_on: str | None = None  # the last local day (ISO) whose Do Not Disturb snooze was set
    prev_text: str = ""
    prev_emoji: str = ""
    prev_expiration: int = 0
    set_emoji: str = ""
    ended_early: bool = False  # cancelled, or moved, while away: restored at once
    updated_at: datetime = timestamp(default_factory=now)

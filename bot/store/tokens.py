"""People's Slack user tokens (stored encrypted: the store never sees one in the clear) and OAuth states."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import col, select

from bot.store.away_tables import AwayPeriod, OAuthState, UserToken
from bot.store.base import StoreBase
from bot.store.tables import now


class TokenRows(StoreBase):
    """User tokens and the OAuth states that lead to them."""

    async def issue_state(self, *, nonce: str, slack_user_id: str, lifetime: timedelta) -> datetime:
        """Store a state handed out to ``slack_user_id``; when it expires. Expired ones are forgotten."""
        moment = now()
        async with self.session() as session:
            await session.exec(delete(OAuthState).where(col(OAuthState.expires_at) < moment))  # type: ignore[call-overload]
            session.add(OAuthState(nonce=nonce, slack_user_id=slack_user_id, expires_at=moment + lifetime))
            await session.commit()
        return moment + lifetime

    async def consume_state(self, *, nonce: str, slack_user_id: str) -> bool:
        """True once for a live state of this user; False if unknown, expired or already used."""
        query = delete(OAuthState).where(
            col(OAuthState.nonce) == nonce,
            col(OAuthState.slack_user_id) == slack_user_id,
            col(OAuthState.expires_at) > now(),
        )
        async with self.session() as session:
            taken = (await session.exec(query)).rowcount  # type: ignore[call-overload]
            await session.commit()
        return bool(taken)

    async def save_token(self, *, slack_user_id: str, team_id: str | None, token: str, scopes: str) -> None:
        """Keep (or replace) someone's encrypted user token."""
        async with self.session() as session:
            await session.merge(
                UserToken(slack_user_id=slack_user_id, team_id=team_id, token=token, scopes=scopes)
            )
            await session.commit()

    async def user_token(self, *, slack_user_id: str) -> UserToken | None:
        """Someone's encrypted token, if they connected."""
        async with self.session() as session:
            return await session.get(UserToken, slack_user_id)

    async def user_tokens(self) -> list[UserToken]:
        """Everyone connected."""
        async with self.session() as session:
            return list(await session.exec(select(UserToken)))

    async def count_user_tokens(self) -> int:
        """How many people connected."""
        async with self.session() as session:
            return int((await session.exec(select(func.count()).select_from(UserToken))).one())

    async def delete_tokens(self, *, slack_user_ids: list[str] | None = None) -> int:
        """Forget these people's tokens and their status periods (None: everyone's); how many tokens went."""
        tokens, periods = delete(UserToken), delete(AwayPeriod)
        if slack_user_ids is not None:
            tokens = tokens.where(col(UserToken.slack_user_id).in_(slack_user_ids))
            periods = periods.where(col(AwayPeriod.slack_user_id).in_(slack_user_ids))
        async with self.session() as session:
            gone = (await session.exec(tokens)).rowcount  # type: ignore[call-overload]
            await session.exec(periods)  # type: ignore[call-overload]
            await session.commit()
        return int(gone)

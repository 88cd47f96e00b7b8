"""away status: Slack user tokens (encrypted), OAuth states, and each leave's status period

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-04 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "slack_user_token",
        sa.Column("slack_user_id", TEXT(), nullable=False),
        sa.Column("team_id", TEXT(), nullable=True),
        sa.Column("token", TEXT(), nullable=False),
        sa.Column("scopes", TEXT(), nullable=False),
        sa.Column("connected_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("slack_user_id"),
    )
    op.create_table(
        "oauth_state",
        sa.Column("nonce", TEXT(), nullable=False),
        sa.Column("slack_user_id", TEXT(), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )
    op.create_index("ix_oauth_state_expires_at", "oauth_state", ["expires_at"])
    op.create_table(
        "away_period",
        sa.Column("key", TEXT(), nullable=False),
        sa.Column("slack_user_id", TEXT(), nullable=False),
        sa.Column("booking_id", TEXT(), nullable=False),
        sa.Column("start_at", WHEN, nullable=False),
        sa.Column("end_at", WHEN, nullable=False),
        sa.Column("zone", TEXT(), nullable=False),
        sa.Column("status_text", TEXT(), nullable=False),
        sa.Column("phase", TEXT(), nullable=False),
        sa.Column("lease_until", WHEN, nullable=True),
        sa.Column("snoozed_on", TEXT(), nullable=True),
        sa.Column("prev_text", TEXT(), nullable=False),
        sa.Column("prev_emoji", TEXT(), nullable=False),
        sa.Column("prev_expiration", sa.Integer(), nullable=False),
        sa.Column("set_emoji", TEXT(), nullable=False),
        sa.Column("ended_early", sa.Boolean(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    for column in ("slack_user_id", "start_at", "end_at", "phase"):
        op.create_index(f"ix_away_period_{column}", "away_period", [column])


def downgrade() -> None:
    for column in ("slack_user_id", "start_at", "end_at", "phase"):
        op.drop_index(f"ix_away_period_{column}", table_name="away_period")
    op.drop_table("away_period")
    op.drop_index("ix_oauth_state_expires_at", table_name="oauth_state")
    op.drop_table("oauth_state")
    op.drop_table("slack_user_token")

"""calendar feeds: each person's secret links to their own, their department's and the company's leave

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", TEXT(), nullable=False),
        sa.Column("kind", TEXT(), nullable=False),
        sa.Column("secret", TEXT(), nullable=False),
        sa.Column("secret_hash", TEXT(), nullable=False),
        sa.Column("department", TEXT(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slack_user_id", "kind"),
    )
    op.create_index("ix_calendar_feed_secret_hash", "calendar_feed", ["secret_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_calendar_feed_secret_hash", table_name="calendar_feed")
    op.drop_table("calendar_feed")

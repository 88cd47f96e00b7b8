"""absence mirror: the HR system's bookings as the last sync pass saw them, and where each provider's sync stands

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "absence_mirror",
        sa.Column("provider", TEXT(), nullable=False),
        sa.Column("booking_id", TEXT(), nullable=False),
        sa.Column("person_id", TEXT(), nullable=False),
        sa.Column("person_name", TEXT(), nullable=False),
        sa.Column("person_email", TEXT(), nullable=True),
        sa.Column("person_slack_id", TEXT(), nullable=True),
        sa.Column("department", TEXT(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("start_part", TEXT(), nullable=False),
        sa.Column("end_part", TEXT(), nullable=False),
        sa.Column("leave_type", TEXT(), nullable=True),
        sa.Column("status", TEXT(), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gone_since", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("provider", "booking_id"),
    )
    op.create_index("ix_absence_mirror_start_date", "absence_mirror", ["start_date"])
    op.create_index("ix_absence_mirror_end_date", "absence_mirror", ["end_date"])
    op.create_table(
        "sync_state",
        sa.Column("provider", TEXT(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("near_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("full_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_start", sa.Date(), nullable=True),
        sa.Column("window_end", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("provider"),
    )


def downgrade() -> None:
    op.drop_table("sync_state")
    op.drop_index("ix_absence_mirror_end_date", table_name="absence_mirror")
    op.drop_index("ix_absence_mirror_start_date", table_name="absence_mirror")
    op.drop_table("absence_mirror")

"""provider events: webhook de-duplication, provider_updated_at, bookings looked up by id

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_event",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("provider_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provider_event_received_at"), ["received_at"], unique=False)

    with op.batch_alter_table("leave_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provider_updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_leave_request_booking_id"), ["booking_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("leave_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leave_request_booking_id"))
        batch_op.drop_column("provider_updated_at")

    with op.batch_alter_table("provider_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_event_received_at"))

    op.drop_table("provider_event")

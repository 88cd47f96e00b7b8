"""accepted deliveries: a Slack click or submission that changes leave is stored with its body before the ack,
leased to the instance doing its work, so an instance that dies after the ack loses nothing

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("slack_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("work", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(
            sa.Column("body", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_slack_delivery_lease_until"), ["lease_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("slack_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_delivery_lease_until"))
        for column in ("done_at", "lease_until", "attempts", "body", "work"):
            batch_op.drop_column(column)

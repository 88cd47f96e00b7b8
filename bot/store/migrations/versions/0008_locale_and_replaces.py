"""Slack users' locale (numeric dates and how dates are written), and which request a change replaces

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 15:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("slack_user") as batch_op:
        batch_op.add_column(sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table("leave_request") as batch_op:
        batch_op.add_column(sa.Column("replaces_request_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leave_request") as batch_op:
        batch_op.drop_column("replaces_request_id")
    with op.batch_alter_table("slack_user") as batch_op:
        batch_op.drop_column("locale")

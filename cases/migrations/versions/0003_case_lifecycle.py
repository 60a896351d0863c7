"""Case lifecycle: events record the action, the actor's role and the deadline they set; cases record 挂账.

``case_events.action`` (``dispatch``, ``check_fail`` …, see :mod:`cases.lifecycle`), ``case_events.role``
(inspector, operator, dispatcher, department, supervisor) and ``case_events.deadline_at`` (the deadline a
dispatch, extension request/approval or resume sets) are nullable, so histories written before this
revision (and the simulator's) stay valid. ``cases.suspended_at`` is the time a suspension (挂账) was
approved, NULL while the case is not parked.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_events") as batch_op:
        batch_op.add_column(sa.Column("action", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("role", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("deadline_at", cases.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("cases") as batch_op:
        batch_op.add_column(sa.Column("suspended_at", cases.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_column("suspended_at")
    with op.batch_alter_table("case_events") as batch_op:
        batch_op.drop_column("deadline_at")
        batch_op.drop_column("role")
        batch_op.drop_column("action")

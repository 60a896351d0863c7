"""Users scoped to a district (二级平台) and server-side web sessions.

``users.district`` is the ``area_id`` of a district (level ``district``) for a district-scoped user (a
district platform, 二级平台): NULL for city-wide accounts. It is a plain string like
``inspectors.district`` (no foreign key), so that re-importing the area layer does not fail on it.

``web_sessions`` holds one row per browser sign-in: the SHA-256 of the session token (the token lives only
in the browser's signed cookie), the user, the role it was granted under (a role change ends it), when it
began, was last seen and expires, when it was revoked (logout, role change, deactivation, password reset)
and the browser's user agent.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("district", sa.String(length=64), nullable=True))
    op.create_table(
        "web_sessions",
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", cases.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", cases.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", cases.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", cases.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("user_agent", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], name=op.f("fk_web_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("session_hash", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_user_id"))
    op.drop_table("web_sessions")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("district")

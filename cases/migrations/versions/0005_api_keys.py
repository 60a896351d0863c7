"""API keys of HTTP clients, what each Open311 POST carried besides its case, field-device tokens and
idempotency records.

``api_keys`` holds a client's name, the SHA-256 of its key (the key itself is shown once and never
stored), the case source its reports get (``wechat``, ``other``, ``video`` …), its role, its rate limit and
``revoked_at`` (a revoked key is refused at once). ``api_requests`` holds, per case posted through Open311,
the token, the key, the device and account ids, the reporter's name and e-mail (PII), the media URL and the
uploaded photo's file. ``api_tokens`` holds the SHA-256 of each signed-in device's bearer token (the field
API) with its user and expiry; ``api_idempotency`` the answer to each write sent with an idempotency key.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("rate_per_minute", sa.Integer(), nullable=False),
        sa.Column("created_at", cases.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", cases.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "source IN ('hotline', 'patrol', 'wechat', 'video', 'other')", name=op.f("ck_api_keys_source")
        ),
        sa.CheckConstraint(
            "role IN ('inspector', 'operator', 'dispatcher', 'department', 'supervisor', 'planner', 'manager', 'admin')",
            name=op.f("ck_api_keys_role"),
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
    )
    op.create_table(
        "api_requests",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("received_at", cases.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("device_id", sa.String(length=200), nullable=True),
        sa.Column("account_id", sa.String(length=200), nullable=True),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("media_url", sa.String(length=2000), nullable=True),
        sa.Column("media_file", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.case_id"], name=op.f("fk_api_requests_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.key_id"], name=op.f("fk_api_requests_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_api_requests")),
        sa.UniqueConstraint("case_id", name=op.f("uq_api_requests_case_id")),
    )
    with op.batch_alter_table("api_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_requests_key_id"), ["key_id"], unique=False)
    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", cases.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", cases.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", cases.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], name=op.f("fk_api_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_api_tokens")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)
    op.create_table(
        "api_idempotency",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", cases.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username", "idempotency_key", name=op.f("pk_api_idempotency")),
    )


def downgrade() -> None:
    op.drop_table("api_idempotency")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))
    op.drop_table("api_tokens")
    with op.batch_alter_table("api_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_requests_key_id"))
    op.drop_table("api_requests")
    op.drop_table("api_keys")

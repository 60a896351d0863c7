"""Callbacks (回访), mediation (和谐调解) and case photos.

``case_photos`` holds one row per photo of a case: the file's path relative to the data folder (the image
itself is never stored in the database), its SHA-256, type and size, the capture time and GPS position
kept from its metadata (everything else is stripped when it is re-encoded), who uploaded it and when, and
the event it documents (nullable). ``case_callbacks`` holds each callback to the reporter of a closed case:
when, by which operator, reached or not, satisfied or not (NULL when not reached) and a note.
``case_mediations`` holds the parties and the agreement of each case closed by mediation.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _case_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["case_id"], ["cases.case_id"], name=op.f(f"fk_{table}_case_id_cases"))


def _case_index(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_case_id"), ["case_id"], unique=False)


def upgrade() -> None:
    op.create_table(
        "case_photos",
        sa.Column("photo_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("file", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("taken_at", cases.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", cases.types.UTCDateTime(timezone=True), nullable=False),
        _case_fk("case_photos"),
        sa.ForeignKeyConstraint(
            ["event_id"], ["case_events.event_id"], name=op.f("fk_case_photos_event_id_case_events")
        ),
        sa.PrimaryKeyConstraint("photo_id", name=op.f("pk_case_photos")),
    )
    _case_index("case_photos")
    op.create_table(
        "case_callbacks",
        sa.Column("callback_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("at", cases.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _case_fk("case_callbacks"),
        sa.PrimaryKeyConstraint("callback_id", name=op.f("pk_case_callbacks")),
    )
    _case_index("case_callbacks")
    op.create_table(
        "case_mediations",
        sa.Column("mediation_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("at", cases.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("parties", sa.Text(), nullable=False),
        sa.Column("agreement", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        _case_fk("case_mediations"),
        sa.PrimaryKeyConstraint("mediation_id", name=op.f("pk_case_mediations")),
    )
    _case_index("case_mediations")


def downgrade() -> None:
    for table in ("case_mediations", "case_callbacks", "case_photos"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_case_id"))
        op.drop_table(table)

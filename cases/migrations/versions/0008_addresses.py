"""The city's address / POI table for address lookup, and calls merged into an existing case.

``addresses`` holds one address or point of interest per row: its ``name`` (POI or building, may be null),
the ``address`` text as written, its ``normalized`` form (:func:`cases.addresses.normalize_address`, used for
matching), ``kind`` (address | poi), WGS-84 ``lat``/``lon`` with the res-10 H3 ``cell``, the coordinate
system of its source and the source file's name (a normalized address + name stored already is a
duplicate: re-importing a file adds nothing).
``case_merges`` records a hotline call an operator merged into an existing case instead of filing a
second one (who called, when, what they said); the case's status does not change.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "addresses",
        sa.Column("address_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("normalized", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column("source_crs", sa.String(length=64), nullable=False),
        sa.Column("source_file", sa.String(length=500), nullable=True),
        sa.CheckConstraint("kind IN ('address', 'poi')", name=op.f("ck_addresses_kind")),
        sa.PrimaryKeyConstraint("address_id", name=op.f("pk_addresses")),
    )
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_addresses_normalized"), ["normalized"], unique=False)
        batch_op.create_index(batch_op.f("ix_addresses_source_file"), ["source_file"], unique=False)
    op.create_table(
        "case_merges",
        sa.Column("merge_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("at", cases.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("reporter_name", sa.String(length=200), nullable=True),
        sa.Column("reporter_phone", sa.String(length=32), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.case_id"], name=op.f("fk_case_merges_case_id_cases")),
        sa.PrimaryKeyConstraint("merge_id", name=op.f("pk_case_merges")),
    )
    with op.batch_alter_table("case_merges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_merges_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_merges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_merges_case_id"))
    op.drop_table("case_merges")
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_addresses_source_file"))
        batch_op.drop_index(batch_op.f("ix_addresses_normalized"))
    op.drop_table("addresses")

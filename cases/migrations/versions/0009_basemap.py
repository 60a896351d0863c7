"""The city's base map layers (streets, water) drawn under every map offline.

``basemap_features`` holds one simplified feature per row (WGS-84 WKB): its ``kind`` (street, water, green,
railway, other), an optional ``subkind`` (the OSM tag value or the file's class) and ``name``, the
coordinate system of its source and the source file's name (re-importing a file replaces its rows).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "basemap_features",
        sa.Column("feature_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subkind", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("geometry_wkb", sa.LargeBinary(), nullable=False),
        sa.Column("source_crs", sa.String(length=8), nullable=False),
        sa.Column("source_file", sa.String(length=500), nullable=False),
        sa.CheckConstraint(
            "kind IN ('green', 'water', 'railway', 'street', 'other')", name=op.f("ck_basemap_features_kind")
        ),
        sa.PrimaryKeyConstraint("feature_id", name=op.f("pk_basemap_features")),
    )
    with op.batch_alter_table("basemap_features", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_basemap_features_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_basemap_features_source_file"), ["source_file"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("basemap_features", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_basemap_features_source_file"))
        batch_op.drop_index(batch_op.f("ix_basemap_features_kind"))
    op.drop_table("basemap_features")

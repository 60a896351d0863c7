"""Areas gain the unit_grid level (official 14/15-digit unit grids, 单元网格).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_OLD = "level IN ('city', 'district', 'subdistrict', 'community')"
_NEW = "level IN ('city', 'district', 'subdistrict', 'community', 'unit_grid')"


def _replace_check(condition: str) -> None:
    # batch mode rebuilds the table on SQLite, which cannot alter a CHECK constraint in place
    with op.batch_alter_table("areas") as batch_op:
        batch_op.drop_constraint(op.f("ck_areas_level"), type_="check")
        batch_op.create_check_constraint("level", condition)


def upgrade() -> None:
    _replace_check(_NEW)


def downgrade() -> None:
    op.execute("DELETE FROM areas WHERE level = 'unit_grid'")
    _replace_check(_OLD)

"""Status lists allocated at random: the map of handed-out indexes and the reasons
recorded with set bits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # batch_alter_table: SQLite cannot ALTER most things in place; for added nullable
    # columns it emits plain ALTER TABLE ADD COLUMN on both backends.
    with op.batch_alter_table("status_lists") as batch:
        batch.add_column(sa.Column("allocated", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("reasons", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("status_lists") as batch:
        batch.drop_column("reasons")
        batch.drop_column("allocated")

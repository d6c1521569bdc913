"""Credentials are found by passport through their unique constraint alone.

``uq_credentials_passport_id_access_group_format`` begins with ``passport_id``, so it
answers every query by passport (and the foreign key's checks) that
``ix_credentials_passport_id`` answered. The second index only cost four more random
index writes per passport issued, and its pages.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_credentials_passport_id", table_name="credentials")


def downgrade() -> None:
    op.create_index("ix_credentials_passport_id", "credentials", ["passport_id"])

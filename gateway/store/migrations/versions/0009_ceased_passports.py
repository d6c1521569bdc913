"""Passports that ceased to exist (Art. 77(8)): the status ``ceased``, the date the
battery was recycled, and who recorded it when; and the version of each status list, so
that a verifier can tell from one number whether the list it holds decoded is current
(a revocation is then visible on the very next verification).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Written out here rather than imported from the models (see 0001): a migration states
# the schema of its own revision.
TIMESTAMP = sa.DateTime(timezone=True)
NAME = "ck_passports_status"
EARLIER = ("active", "revoked", "suspended", "superseded")


def _one_of(values: tuple[str, ...]) -> str:
    return f"status IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    # batch_alter_table: SQLite cannot alter a CHECK constraint in place, so the table is
    # copied with the new one; PostgreSQL drops and adds the constraint.
    with op.batch_alter_table("passports") as batch:
        batch.add_column(sa.Column("ceased_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("ceased_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("ceased_by", sa.String(length=255), nullable=True))
        batch.drop_constraint(NAME, type_="check")
        batch.create_check_constraint(NAME, _one_of((*EARLIER, "ceased")))
    with op.batch_alter_table("status_lists") as batch:
        batch.add_column(
            sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("status_lists") as batch:
        batch.drop_column("version")
    # Refused by the database while a ceased passport is stored: a downgrade never
    # rewrites a passport's history.
    with op.batch_alter_table("passports") as batch:
        batch.drop_constraint(NAME, type_="check")
        batch.create_check_constraint(NAME, _one_of(EARLIER))
        batch.drop_column("ceased_by")
        batch.drop_column("ceased_at")
        batch.drop_column("ceased_on")

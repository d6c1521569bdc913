"""Credentials by Annex XIII point: the sections annex-xiii-1 to annex-xiii-4 beside
the three earlier access groups.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Written out here rather than imported from the models (see 0001): a migration states
# the schema of its own revision.
NAME = "ck_credentials_access_group"
EARLIER = ("public", "legitimate_interest", "authorities")
SECTIONS = ("annex-xiii-1", "annex-xiii-2", "annex-xiii-3", "annex-xiii-4")


def _one_of(values: tuple[str, ...]) -> str:
    return f"access_group IN ({', '.join(repr(v) for v in values)})"


def _replace_check(values: tuple[str, ...]) -> None:
    # batch_alter_table: SQLite cannot alter a CHECK constraint in place, so the table is
    # copied with the new one (named CHECK constraints are carried over by reflection);
    # PostgreSQL drops and adds the constraint.
    with op.batch_alter_table("credentials") as batch:
        batch.drop_constraint(NAME, type_="check")
        batch.create_check_constraint(NAME, _one_of(values))


def upgrade() -> None:
    _replace_check(SECTIONS + EARLIER)


def downgrade() -> None:
    # Refused by the database while credentials of a section are stored: a downgrade
    # never deletes issued credentials.
    _replace_check(EARLIER)

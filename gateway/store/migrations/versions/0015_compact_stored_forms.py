"""Compact stored gap reports: the templates they share.

A stored gap report keeps what is specific to its record; what every report of one
mapping table, catalog and battery category says alike is kept once in
``gap_report_templates`` under the SHA-256 of its content
(``gateway.store.gap_reports``). Reports stored before are read as they are.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# Written out here rather than imported from the models (see 0001).
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "gap_report_templates",
        sa.Column("id", sa.String(length=71), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gap_report_templates"),
    )


def downgrade() -> None:
    # Reports stored in the compact form are written out whole first, so that they
    # still read without their templates; the form is the store's own, so its reader is
    # used rather than a copy of it.
    from sqlalchemy.orm import Session

    from gateway.store.gap_reports import PACKED, unpack

    bind = op.get_bind()
    passports = sa.table("passports", sa.column("id", sa.String()), sa.column("gaps", JSON))
    session = Session(bind=bind)
    for passport_id, gaps in bind.execute(sa.select(passports.c.id, passports.c.gaps)).all():
        if isinstance(gaps, dict) and PACKED in gaps:
            bind.execute(
                passports.update()
                .where(passports.c.id == passport_id)
                .values(gaps=unpack(session, gaps))
            )
    session.close()
    op.drop_table("gap_report_templates")

"""Retention periods per tenant and purges.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Written out here rather than imported from the models (see 0001).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "retention_policies",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("records_years", sa.Integer(), nullable=False),
        sa.Column("audit_years", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.String(length=255), nullable=False),
        sa.Column("set_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("records_years >= 8", name="ck_retention_policies_records_years"),
        sa.CheckConstraint("audit_years >= 8", name="ck_retention_policies_audit_years"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_retention_policies_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_retention_policies"),
    )
    with op.batch_alter_table("passports") as batch:
        batch.add_column(sa.Column("record_purged_at", TIMESTAMP, nullable=True))
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("purged_at", TIMESTAMP, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("purged_at")
    with op.batch_alter_table("passports") as batch:
        batch.drop_column("record_purged_at")
    op.drop_table("retention_policies")

"""Unique product identifiers per passport and UPI schemes per tenant.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Written out here rather than imported from the models (see 0001).
TIMESTAMP = sa.DateTime(timezone=True)
SCHEMES = "scheme IN ('gs1-digital-link', 'iec-61406')"


def upgrade() -> None:
    op.create_table(
        "upi_schemes",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=16), nullable=False),
        sa.Column("domain", sa.String(length=70), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(SCHEMES, name="ck_upi_schemes_scheme"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_upi_schemes_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_upi_schemes"),
    )
    op.create_table(
        "unique_product_identifiers",
        sa.Column("battery_code", sa.String(length=24), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=16), nullable=False),
        sa.Column("uri", sa.String(length=70), nullable=False),
        sa.Column("path", sa.String(length=70), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(SCHEMES, name="ck_unique_product_identifiers_scheme"),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_unique_product_identifiers_tenant_id_tenants",
        ),
        sa.PrimaryKeyConstraint("battery_code", name="pk_unique_product_identifiers"),
        sa.UniqueConstraint("uri", name="uq_unique_product_identifiers_uri"),
        sa.UniqueConstraint("path", name="uq_unique_product_identifiers_path"),
    )
    op.create_index(
        "ix_unique_product_identifiers_tenant_id", "unique_product_identifiers", ["tenant_id"]
    )


def downgrade() -> None:
    op.drop_index(
        "ix_unique_product_identifiers_tenant_id", table_name="unique_product_identifiers"
    )
    op.drop_table("unique_product_identifiers")
    op.drop_table("upi_schemes")

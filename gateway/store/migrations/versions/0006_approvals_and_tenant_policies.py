"""Export approvals for BMS health data and tenant policies that tighten the shipped data policy.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Written out here rather than imported from the models (see 0001).
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
KINDS = ("security_assessment", "standard_contract_filing", "certification", "exemption")


def upgrade() -> None:
    op.create_table(
        "export_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("authority", sa.String(length=200), nullable=False),
        sa.Column("categories", JSON, nullable=False),
        sa.Column("valid_from", TIMESTAMP, nullable=False),
        sa.Column("valid_until", TIMESTAMP, nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("added_by", sa.String(length=255), nullable=False),
        sa.Column("added_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.Column("revoked_by", sa.String(length=255), nullable=True),
        sa.CheckConstraint(
            f"kind IN ({', '.join(repr(k) for k in KINDS)})", name="ck_export_approvals_kind"
        ),
        sa.CheckConstraint("valid_until > valid_from", name="ck_export_approvals_validity"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_export_approvals_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_export_approvals"),
        sa.UniqueConstraint(
            "tenant_id", "kind", "reference", name="uq_export_approvals_tenant_id_kind_reference"
        ),
    )
    op.create_index("ix_export_approvals_tenant_id", "export_approvals", ["tenant_id"])
    op.create_table(
        "tenant_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("base", sa.String(length=64), nullable=False),
        sa.Column("rules", JSON, nullable=False),
        sa.Column("set_by", sa.String(length=255), nullable=False),
        sa.Column("set_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_tenant_policies_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tenant_policies"),
        sa.UniqueConstraint("tenant_id", "version", name="uq_tenant_policies_tenant_id_version"),
    )
    op.create_index("ix_tenant_policies_tenant_id", "tenant_policies", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_tenant_policies_tenant_id", table_name="tenant_policies")
    op.drop_table("tenant_policies")
    op.drop_index("ix_export_approvals_tenant_id", table_name="export_approvals")
    op.drop_table("export_approvals")

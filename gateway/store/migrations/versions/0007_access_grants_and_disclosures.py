"""Who may read which Annex XIII point: access tables, access grants and the disclosure log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Written out here rather than imported from the models (see 0001).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "access_tables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("table", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("added_by", sa.String(length=255), nullable=False),
        sa.Column("added_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_tables"),
        sa.UniqueConstraint("name", "version", name="uq_access_tables_name_version"),
    )
    op.create_table(
        "access_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("grantee_tenant_id", sa.Integer(), nullable=True),
        sa.Column("grantee_key_id", sa.Integer(), nullable=True),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("passport_id", sa.String(length=512), nullable=True),
        sa.Column("batch", sa.String(length=64), nullable=True),
        sa.Column("points", sa.String(length=8), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("valid_from", TIMESTAMP, nullable=False),
        sa.Column("valid_until", TIMESTAMP, nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.Column("revoked_by", sa.String(length=255), nullable=True),
        sa.Column("revoke_reason", sa.String(length=1000), nullable=True),
        sa.CheckConstraint("scope IN ('passport', 'batch', 'all')", name="ck_access_grants_scope"),
        sa.CheckConstraint(
            "purpose IN ('dismantling_repair_remanufacturing', "
            "'independent_aggregator_energy_market')",
            name="ck_access_grants_purpose",
        ),
        sa.CheckConstraint(
            "(grantee_tenant_id IS NULL AND grantee_key_id IS NOT NULL) OR "
            "(grantee_tenant_id IS NOT NULL AND grantee_key_id IS NULL)",
            name="ck_access_grants_one_grantee",
        ),
        sa.CheckConstraint(
            "(scope = 'passport' AND passport_id IS NOT NULL AND batch IS NULL) OR "
            "(scope = 'batch' AND batch IS NOT NULL AND passport_id IS NULL) OR "
            "(scope = 'all' AND passport_id IS NULL AND batch IS NULL)",
            name="ck_access_grants_scope_target",
        ),
        sa.CheckConstraint("valid_until > valid_from", name="ck_access_grants_validity"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_access_grants_tenant_id_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["grantee_tenant_id"],
            ["tenants.id"],
            name="fk_access_grants_grantee_tenant_id_tenants",
        ),
        sa.ForeignKeyConstraint(
            ["grantee_key_id"], ["api_keys.id"], name="fk_access_grants_grantee_key_id_api_keys"
        ),
        sa.ForeignKeyConstraint(
            ["passport_id"], ["passports.id"], name="fk_access_grants_passport_id_passports"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_access_grants"),
    )
    op.create_index("ix_access_grants_tenant_id", "access_grants", ["tenant_id"])
    op.create_index("ix_access_grants_grantee_tenant_id", "access_grants", ["grantee_tenant_id"])
    op.create_index("ix_access_grants_grantee_key_id", "access_grants", ["grantee_key_id"])
    op.create_table(
        "disclosures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("passport_id", sa.String(length=512), nullable=False),
        sa.Column("reader_tenant_id", sa.Integer(), nullable=False),
        sa.Column("reader_key_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("points", sa.String(length=8), nullable=False),
        sa.Column("basis", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "channel IN ('api', 'page', 'evidence', 'download')", name="ck_disclosures_channel"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_disclosures_tenant_id_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["passport_id"], ["passports.id"], name="fk_disclosures_passport_id_passports"
        ),
        sa.ForeignKeyConstraint(
            ["reader_tenant_id"], ["tenants.id"], name="fk_disclosures_reader_tenant_id_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["reader_key_id"], ["api_keys.id"], name="fk_disclosures_reader_key_id_api_keys"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_disclosures"),
    )
    op.create_index("ix_disclosures_tenant_at", "disclosures", ["tenant_id", "at"])
    op.create_index("ix_disclosures_passport_id", "disclosures", ["passport_id"])


def downgrade() -> None:
    op.drop_index("ix_disclosures_passport_id", table_name="disclosures")
    op.drop_index("ix_disclosures_tenant_at", table_name="disclosures")
    op.drop_table("disclosures")
    op.drop_index("ix_access_grants_grantee_key_id", table_name="access_grants")
    op.drop_index("ix_access_grants_grantee_tenant_id", table_name="access_grants")
    op.drop_index("ix_access_grants_tenant_id", table_name="access_grants")
    op.drop_table("access_grants")
    op.drop_table("access_tables")

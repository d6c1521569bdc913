"""Initial schema: tenants, API keys, passports, credentials, status lists, mapping
versions, audit events.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Written out here rather than imported from the models: a migration must keep
# describing the schema of its own revision after the models move on.
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
        sa.UniqueConstraint("name", name="uq_tenants_name"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "role IN ('exporter', 'editor', 'importer', 'authority', 'admin')",
            name="ck_api_keys_role",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_api_keys_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
    )
    op.create_index("ix_api_keys_prefix", "api_keys", ["prefix"])
    op.create_index("ix_api_keys_tenant_id", "api_keys", ["tenant_id"])

    op.create_table(
        "status_lists",
        sa.Column("id", sa.String(length=512), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("issuer", sa.String(length=512), nullable=False),
        sa.Column("bitstring", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("next_index", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "purpose IN ('revocation', 'suspension')", name="ck_status_lists_purpose"
        ),
        sa.CheckConstraint(
            "next_index >= 0 AND next_index <= size", name="ck_status_lists_next_index"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_status_lists"),
    )
    op.create_index("ix_status_lists_issuer", "status_lists", ["issuer"])

    op.create_table(
        "passports",
        sa.Column("id", sa.String(length=512), nullable=False),
        sa.Column("battery_code", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("superseded_by", sa.String(length=512), nullable=True),
        sa.Column("predecessor_id", sa.String(length=512), nullable=True),
        sa.Column("mapping_set", sa.String(length=100), nullable=False),
        sa.Column("mapping_version", sa.String(length=64), nullable=False),
        sa.Column("mapping_hash", sa.String(length=128), nullable=False),
        sa.Column("record_sha256", sa.String(length=64), nullable=False),
        sa.Column("record", JSON, nullable=False),
        sa.Column("gaps", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'revoked', 'suspended', 'superseded')",
            name="ck_passports_status",
        ),
        sa.ForeignKeyConstraint(
            ["predecessor_id"], ["passports.id"], name="fk_passports_predecessor_id_passports"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_passports_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_passports"),
        sa.UniqueConstraint(
            "tenant_id", "idempotency_key", name="uq_passports_tenant_id_idempotency_key"
        ),
    )
    op.create_index("ix_passports_battery_code", "passports", ["battery_code"])
    op.create_index("ix_passports_predecessor_id", "passports", ["predecessor_id"])
    op.create_index("ix_passports_tenant_created", "passports", ["tenant_id", "created_at"])

    op.create_table(
        "credentials",
        sa.Column("id", sa.String(length=512), nullable=False),
        sa.Column("passport_id", sa.String(length=512), nullable=False),
        sa.Column("access_group", sa.String(length=32), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status_list_id", sa.String(length=512), nullable=True),
        sa.Column("status_index", sa.Integer(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "access_group IN ('public', 'legitimate_interest', 'authorities')",
            name="ck_credentials_access_group",
        ),
        sa.CheckConstraint("format IN ('di', 'jwt')", name="ck_credentials_format"),
        sa.ForeignKeyConstraint(
            ["passport_id"], ["passports.id"], name="fk_credentials_passport_id_passports"
        ),
        sa.ForeignKeyConstraint(
            ["status_list_id"],
            ["status_lists.id"],
            name="fk_credentials_status_list_id_status_lists",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_credentials"),
        sa.UniqueConstraint(
            "passport_id",
            "access_group",
            "format",
            name="uq_credentials_passport_id_access_group_format",
        ),
        sa.UniqueConstraint(
            "status_list_id", "status_index", name="uq_credentials_status_list_id_status_index"
        ),
    )
    op.create_index("ix_credentials_passport_id", "credentials", ["passport_id"])

    op.create_table(
        "mapping_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mapping_set", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content_hash", sa.String(length=128), nullable=True),
        sa.Column("table", sa.Text(), nullable=False),
        sa.Column("base_version", sa.String(length=64), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("published_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'deprecated')", name="ck_mapping_versions_status"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_mapping_versions"),
        sa.UniqueConstraint(
            "mapping_set", "version", name="uq_mapping_versions_mapping_set_version"
        ),
    )

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=512), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
        sa.UniqueConstraint("hash", name="uq_audit_events_hash"),
    )
    op.create_index("ix_audit_events_action", "audit_events", ["action"])
    op.create_index("ix_audit_events_subject", "audit_events", ["subject"])


def downgrade() -> None:
    for table in (
        "audit_events",
        "mapping_versions",
        "credentials",
        "passports",
        "status_lists",
        "api_keys",
        "tenants",
    ):
        op.drop_table(table)

"""EU registry readiness: tenants' registration defaults and recorded registrations.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Written out here rather than imported from the models (see 0001).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "registry_profiles",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("economic_operator_id", sa.String(length=70), nullable=True),
        sa.Column("facility_id", sa.String(length=70), nullable=True),
        sa.Column("commodity_code", sa.String(length=10), nullable=True),
        sa.Column("backup_url_base", sa.String(length=400), nullable=True),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_registry_profiles_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_registry_profiles"),
    )
    op.create_table(
        "registry_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("passport_id", sa.String(length=512), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.String(length=200), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("proof_file_name", sa.String(length=255), nullable=False),
        sa.Column("proof_sha256", sa.String(length=64), nullable=False),
        sa.Column("proof", sa.LargeBinary(), nullable=True),
        sa.Column("registered_at", TIMESTAMP, nullable=False),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["passport_id"],
            ["passports.id"],
            name="fk_registry_registrations_passport_id_passports",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_registry_registrations_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_registry_registrations"),
        sa.UniqueConstraint(
            "tenant_id",
            "registration_id",
            name="uq_registry_registrations_tenant_id_registration_id",
        ),
        sa.UniqueConstraint(
            "passport_id",
            "content_sha256",
            name="uq_registry_registrations_passport_id_content_sha256",
        ),
    )
    op.create_index(
        "ix_registry_registrations_passport_id", "registry_registrations", ["passport_id"]
    )
    op.create_index("ix_registry_registrations_tenant_id", "registry_registrations", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_registry_registrations_tenant_id", table_name="registry_registrations")
    op.drop_index("ix_registry_registrations_passport_id", table_name="registry_registrations")
    op.drop_table("registry_registrations")
    op.drop_table("registry_profiles")
